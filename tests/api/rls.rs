//! PostgreSQL's row-level security, the second wall behind the queries' own filters: the
//! server's role owns nothing, every table of a user's rows has policies keyed on
//! `hypernet.viewer`, and the server's pool sets that from the task's scope.

use hypernet::db::{Scope, within};
use sea_orm::sqlx::{self, Connection, PgConnection};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::fixtures;
use crate::helpers::{SERVER_ROLE, TestApp};

/// Tables that hold users' rows (directly, or through the row they belong to).
const USER_TABLES: [&str; 13] = [
    "users",
    "media",
    "albums",
    "integrations",
    "integration_secrets",
    "tags",
    "links",
    "refresh_tokens",
    "audit_log",
    "upload_sessions",
    "upload_chunks",
    "changes",
    "change_heads",
];

/// Counts originals (thumbnails come and go in the background).
const ORIGINALS: &str =
    "SELECT count(*) FROM (SELECT * FROM media WHERE source_type IS DISTINCT FROM 'variant') m";

/// The first number of the first row.
async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn uuid_of(app: &TestApp, sql: &str) -> String {
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.backend(), sql.to_string()))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<uuid::Uuid>(0).unwrap().to_string()
}

/// Ann's library: a photo in an album, a link, an upload session, an integration.
async fn ann_and_bob(app: &TestApp) -> (String, String) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let photo = app
        .upload_ok(&ann.access_token, "a.jpg", fixtures::jpeg(8, 8, None))
        .await;
    let media = photo["id"].as_str().unwrap().to_string();
    let album = app.create_album(&ann.access_token, "Ann's").await;
    app.add_to_album(&ann.access_token, &album, std::slice::from_ref(&media))
        .await;
    app.ok(
        "mutation { createTag(input: { name: \"Ann's\" }) { tag { id } } }",
        json!({}),
        &ann.access_token,
    )
    .await;
    let begun = app
        .ok(
            "mutation($input: BeginUploadInput!) { beginUpload(input: $input) {
               upload { uploadUrl } } }",
            json!({ "input": { "filename": "b.jpg", "size": 10, "sha256": "0".repeat(64) } }),
            &ann.access_token,
        )
        .await;
    // Half of it, so that the session has a chunk.
    let res = app
        .client
        .patch(
            app.url(
                begun["beginUpload"]["upload"]["uploadUrl"]
                    .as_str()
                    .unwrap(),
            ),
        )
        .bearer_auth(&ann.access_token)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(vec![0u8; 5])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    app.ok(
        "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) {
           integration { id } } }",
        json!({ "input": { "integrationType": "photo_cloud", "name": "C",
                           "credentials": { "accessToken": "secret" } } }),
        &ann.access_token,
    )
    .await;
    app.upload_ok(&bob.access_token, "b.jpg", fixtures::jpeg(9, 9, None))
        .await;
    let ann_id = uuid_of(app, "SELECT id FROM users WHERE email = 'ann@example.com'").await;
    let bob_id = uuid_of(app, "SELECT id FROM users WHERE email = 'bob@example.com'").await;
    (ann_id, bob_id)
}

#[tokio::test]
async fn the_servers_role_owns_nothing_and_every_users_table_is_behind_policies() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        return; // row-level security is PostgreSQL's
    }
    let role = app
        .sql_i64(&format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = '{SERVER_ROLE}'
             AND NOT rolsuper AND NOT rolbypassrls"
        ))
        .await;
    assert_eq!(
        role, 1,
        "the server's role is neither superuser nor above RLS"
    );
    let owned = app
        .sql_i64(&format!(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = '{SERVER_ROLE}'"
        ))
        .await;
    assert_eq!(owned, 0, "the server's role owns no table, view or index");
    // Every table with a `user_id` column is among those listed, and each has its policies,
    // enabled and forced on the owner too.
    let with_user_id = app
        .strings(
            "SELECT DISTINCT c.table_name::text FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND c.column_name = 'user_id'
         AND t.table_type = 'BASE TABLE' ORDER BY 1",
        )
        .await;
    for table in &with_user_id {
        assert!(
            USER_TABLES.contains(&table.as_str()),
            "{table} has no policy listed here"
        );
    }
    for table in USER_TABLES {
        let guarded = app
            .sql_i64(&format!(
                "SELECT count(*) FROM pg_class WHERE oid = 'public.{table}'::regclass
                 AND relrowsecurity AND relforcerowsecurity
                 AND EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'public.{table}'::regclass)"
            ))
            .await;
        assert_eq!(
            guarded, 1,
            "{table} is not behind forced row-level security"
        );
    }
    // The migrations' record is the owner's alone; a refusal is an internal error, not a
    // busy server.
    let err = app
        .pool
        .execute_unprepared("SELECT count(*) FROM seaql_migrations")
        .await
        .expect_err("the server's role cannot read the migrations");
    let err = hypernet::error::AppError::from(err);
    assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
}

#[tokio::test]
async fn a_raw_query_as_the_servers_role_sees_only_the_viewers_rows() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        return;
    }
    let (ann, bob) = ann_and_bob(&app).await;
    let mut conn = PgConnection::connect(&app.database_url).await.unwrap();
    let ann_rows = |table: &str| {
        let column = if table == "users" { "id" } else { "user_id" };
        format!("SELECT count(*) FROM {table} WHERE {column} = '{ann}'")
    };
    let owned = [
        "users",
        "media",
        "albums",
        "links",
        "integrations",
        "tags",
        "changes",
        "change_heads",
        "upload_sessions",
        "refresh_tokens",
        "audit_log",
    ];

    // No viewer set: nobody's rows, not even through the views.
    for table in owned {
        assert_eq!(
            count(&mut conn, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    for view in ["album_media", "media_sources", "user_storage"] {
        assert_eq!(
            count(&mut conn, &format!("SELECT count(*) FROM {view}")).await,
            0,
            "{view}"
        );
    }

    // Bob as the viewer: none of Ann's rows, by any table, even asked for by her id.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET hypernet.viewer = '{bob}'"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    for table in owned {
        assert_eq!(
            count(&mut conn, &ann_rows(table)).await,
            0,
            "{table} shows Ann's rows to Bob"
        );
    }
    for table in ["integration_secrets", "upload_chunks"] {
        assert_eq!(
            count(&mut conn, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM album_media").await,
        0
    );
    // ... while his own are there (the wall is not simply closed).
    assert_eq!(
        count(&mut conn, &format!("{ORIGINALS} WHERE true")).await,
        1
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM users").await, 1);
    // He cannot write into her library, nor change or delete her rows.
    let insert = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO albums (user_id, name) VALUES ('{ann}', 'planted')"
    )))
    .execute(&mut conn)
    .await;
    assert!(insert.is_err(), "a row for Ann was written as Bob");
    for sql in [
        format!("UPDATE albums SET name = 'taken' WHERE user_id = '{ann}'"),
        format!("DELETE FROM media WHERE user_id = '{ann}'"),
        format!("UPDATE users SET storage_quota = 0 WHERE id = '{ann}'"),
    ] {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 0, "{sql}");
    }
    // The one question asked across users answers without showing the row.
    let hash = uuid_hash(&app, &ann).await;
    let in_use: bool = sqlx::query_scalar("SELECT hypernet_hash_in_use($1)")
        .bind(&hash)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(in_use);
    let unknown: bool = sqlx::query_scalar("SELECT hypernet_hash_in_use($1)")
        .bind("f".repeat(64))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!unknown);
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM media WHERE hash = '{hash}'")
        )
        .await,
        0
    );

    // Ann as the viewer sees her rows in every one of them (so each count above could have
    // failed).
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET hypernet.viewer = '{ann}'"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    for table in owned {
        assert!(count(&mut conn, &ann_rows(table)).await > 0, "{table}");
    }
    for table in [
        "integration_secrets",
        "upload_chunks",
        "album_media",
        "user_storage",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert!(count(&mut conn, &sql).await > 0, "{table}");
    }
    conn.close().await.unwrap();
}

async fn uuid_hash(app: &TestApp, user: &str) -> String {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.backend(),
            format!("SELECT hash FROM media WHERE user_id = '{user}'"),
        ))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<String>(0).unwrap()
}

/// The server's pool sets each statement's viewer from the task's scope, whatever the
/// connection it takes last served: one connection, switched between users, between a
/// statement and a transaction, and back.
#[tokio::test]
async fn the_pool_gives_every_statement_its_tasks_viewer() {
    let app = TestApp::spawn_with(|c| c.db_max_connections = 1).await;
    if !app.is_postgres() {
        return;
    }
    let (ann, bob) = ann_and_bob(&app).await;
    let pool = app.pool.clone();
    let mine = format!("{ORIGINALS} WHERE user_id = '{ann}'");
    let count = |sql: String| {
        let pool = pool.clone();
        async move {
            let row = pool
                .query_one_raw(Statement::from_string(sea_orm::DbBackend::Postgres, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        within(Scope::User(ann.parse().unwrap()), count(mine.clone())).await,
        1
    );
    assert_eq!(
        within(Scope::User(bob.parse().unwrap()), count(mine.clone())).await,
        0
    );
    assert_eq!(within(Scope::Anonymous, count(mine.clone())).await, 0);
    assert_eq!(count(mine.clone()).await, 0, "no scope is nobody's");
    assert_eq!(
        within(Scope::User(ann.parse().unwrap()), count(mine.clone())).await,
        1
    );
    // A transaction of Bob's on the connection Ann's statement just used.
    let in_txn = within(Scope::User(bob.parse().unwrap()), async {
        let txn = pool.begin().await.unwrap();
        let row = txn
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                mine.clone(),
            ))
            .await
            .unwrap()
            .unwrap();
        txn.commit().await.unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    })
    .await;
    assert_eq!(in_txn, 0);
    // Its setting ended with it: Ann's next statement sees hers, Bob's next sees none.
    assert_eq!(
        within(Scope::User(ann.parse().unwrap()), count(mine.clone())).await,
        1
    );
    assert_eq!(
        within(Scope::User(bob.parse().unwrap()), count(mine.clone())).await,
        0
    );
    assert_eq!(within(Scope::System, count(mine.clone())).await, 1);
}

/// The `SET`s of the viewer, as `/metrics` counts them.
async fn viewer_switches(app: &TestApp) -> u64 {
    app.metric("hypernet_db_viewer_switches_total").await
}

/// Requests of two users, alternating.
async fn alternate(app: &TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    for _ in 0..3 {
        for user in [&ann, &bob] {
            app.ok(
                "{ viewer { albums(first: 1) { totalCount } } }",
                json!({}),
                &user.access_token,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn the_viewer_is_set_only_where_row_security_applies() {
    let app = TestApp::spawn_with(|c| c.db_max_connections = 1).await;
    alternate(&app).await;
    let switches = viewer_switches(&app).await;
    if !app.is_postgres() {
        assert_eq!(switches, 0, "SQLite has nothing to set");
        return;
    }
    // One connection serving two users in turn: set at least once per turn.
    assert!(switches >= 6, "{switches}");

    // The same server connected as the owner (a superuser, above the policies) sets nothing.
    let owner_url = app.owner_database_url.clone();
    let above = app
        .spawn_beside(|c| {
            c.database_url = Some(owner_url);
            c.owner_database_url = None;
        })
        .await;
    let token = above.register("carl@example.com").await.access_token;
    above
        .ok(
            "{ viewer { albums(first: 1) { totalCount } } }",
            json!({}),
            &token,
        )
        .await;
    assert_eq!(viewer_switches(&above).await, 0);
}
