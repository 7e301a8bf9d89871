//! The GraphQL SDL snapshot, the migration round trip, and the database objects of the schema.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::TestApp;

#[test]
fn schema_graphql_matches_the_server() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let sdl = hypernet::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

const TABLES: [&str; 17] = [
    "upload_chunks",
    "upload_sessions",
    "users",
    "media",
    "albums",
    "integrations",
    "integration_secrets",
    "links",
    "refresh_tokens",
    "audit_log",
    "login_throttle",
    "persisted_documents",
    "tags",
    "changes",
    "change_heads",
    "leases",
    "blob_deletions",
];
const VIEWS: [&str; 3] = ["album_media", "media_sources", "user_storage"];

async fn relations(app: &TestApp) -> Vec<String> {
    let sql = match app.backend() {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'
             AND table_name <> 'seaql_migrations' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')
             AND name NOT IN ('seaql_migrations') AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    app.strings(sql).await
}

#[tokio::test]
async fn migrations_round_trip() {
    let app = TestApp::spawn().await;
    let mut expected: Vec<String> = TABLES
        .iter()
        .chain(VIEWS.iter())
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(relations(&app).await, expected);

    // Migrations run on SeaORM's own pool, as `hypernet migrate` runs them.
    let orm = sea_orm::Database::connect(&app.owner_database_url)
        .await
        .unwrap();
    Migrator::down(&orm, None).await.unwrap();
    assert!(
        relations(&app).await.is_empty(),
        "down --all removes everything"
    );
    if app.is_postgres() {
        let functions = app
            .strings(
            "SELECT proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
        )
        .await;
        assert!(functions.is_empty(), "{functions:?}");
    }

    Migrator::up(&orm, None).await.unwrap();
    // As `hypernet migrate up` does: the server's role gets the new tables' rows.
    let config = hypernet::config::Config {
        database_url: Some(app.database_url.clone()),
        owner_database_url: Some(app.owner_database_url.clone()),
        ..hypernet::config::Config::defaults()
    };
    hypernet::db::grant_server_role(&orm, &config)
        .await
        .unwrap();
    orm.close().await.unwrap();
    assert_eq!(relations(&app).await, expected);
    // The server works on the re-created schema.
    app.register("again@example.com").await;
}

#[tokio::test]
async fn seed_statements_run_unchanged() {
    let app = TestApp::spawn().await;
    app.sql(
        "INSERT INTO users (email, password_hash, display_name)
         VALUES ('test@example.com', 'hashed-password', 'Test User');
         INSERT INTO media (user_id, filename, media_type, mime_type, size, file_path, hash)
         VALUES ((SELECT id FROM users WHERE email = 'test@example.com'), 'test-photo.jpg', 'photo',
                 'image/jpeg', 1024000, 'users/.../media/2026/02/test.jpg', 'abcd1234...');
         INSERT INTO albums (user_id, name)
         VALUES ((SELECT id FROM users WHERE email = 'test@example.com'), 'Test Album');
         INSERT INTO links (user_id, from_object_id, from_object_type, to_object_id, to_object_type, link_type)
         VALUES ((SELECT id FROM users WHERE email = 'test@example.com'),
                 (SELECT id FROM albums WHERE name = 'Test Album'), 'album',
                 (SELECT id FROM media WHERE filename = 'test-photo.jpg'), 'media', 'contains');",
    )
    .await
    .unwrap();
    let names = app
        .strings(
            "SELECT m.filename FROM media m JOIN links l ON l.to_object_id = m.id
         JOIN albums a ON l.from_object_id = a.id
         WHERE a.name = 'Test Album' AND l.link_type = 'contains'",
        )
        .await;
    assert_eq!(names, ["test-photo.jpg"]);
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM media WHERE user_id = (SELECT id FROM users WHERE email = 'test@example.com')
             AND deleted_at IS NULL ORDER BY 1 LIMIT 50"
        )
        .await,
        1
    );
    // The views see it.
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM album_media").await, 1);
    assert_eq!(app.sql_i64("SELECT media_count FROM user_storage").await, 1);
    assert_eq!(
        app.sql_i64("SELECT media_bytes FROM user_storage").await,
        1024000
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM media_sources").await, 0);
    // Defaults fill what the statements left out.
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM media WHERE metadata IS NOT NULL AND created_at IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE strength = 1 AND sort_order = 0")
            .await,
        1
    );
}

#[tokio::test]
async fn generated_ids_and_timestamps_read_back_through_the_entities() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    app.sql("INSERT INTO users (email, password_hash) VALUES ('raw@example.com', 'x')")
        .await
        .unwrap();
    let users = entity::users::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0].id.get_version_num(),
        4,
        "the database default is a v4 UUID"
    );
    assert!(users[0].created_at <= chrono::Utc::now());
}

#[tokio::test]
async fn updated_at_is_kept_by_triggers() {
    let app = TestApp::spawn().await;
    app.sql(
        "INSERT INTO users (email, password_hash, created_at, updated_at)
         VALUES ('trig@example.com', 'x', '2020-01-01T00:00:00+00:00', '2020-01-01T00:00:00+00:00')",
    )
    .await
    .unwrap();
    app.sql("UPDATE users SET display_name = 'Changed' WHERE email = 'trig@example.com'")
        .await
        .unwrap();
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM users WHERE updated_at > created_at")
            .await,
        1
    );
}

#[tokio::test]
async fn check_constraints_hold() {
    let app = TestApp::spawn().await;
    app.sql("INSERT INTO users (email, password_hash) VALUES ('c@example.com', 'x')")
        .await
        .unwrap();
    let user = "(SELECT id FROM users WHERE email = 'c@example.com')";
    let media = |media_type: &str, size: i64| {
        format!(
            "INSERT INTO media (user_id, filename, media_type, mime_type, size, file_path, hash)
             VALUES ({user}, 'f', '{media_type}', 'image/jpeg', {size}, 'p', 'h')"
        )
    };
    assert!(app.sql(&media("audio", 1)).await.is_err(), "media_type");
    assert!(app.sql(&media("photo", -1)).await.is_err(), "size >= 0");
    app.sql(&media("photo", 1)).await.unwrap();
    assert!(
        app.sql(&format!(
            "INSERT INTO albums (user_id, name, media_count) VALUES ({user}, 'a', -1)"
        ))
        .await
        .is_err(),
        "media_count >= 0"
    );
    assert!(
        app.sql(&format!(
            "INSERT INTO integrations (user_id, integration_type, name, status) VALUES ({user}, 't', 'n', 'sleeping')"
        ))
        .await
        .is_err(),
        "integration status"
    );
    let link = |strength: f64| {
        format!(
            "INSERT INTO links (user_id, from_object_id, from_object_type, to_object_id, to_object_type, link_type, strength)
             VALUES ({user}, {user}, 'user', (SELECT id FROM media LIMIT 1), 'media', 'likes', {strength})"
        )
    };
    assert!(app.sql(&link(1.5)).await.is_err(), "strength <= 1");
    assert!(app.sql(&link(-0.1)).await.is_err(), "strength >= 0");
    app.sql(&link(0.5)).await.unwrap();
    assert!(
        app.sql(&link(0.5)).await.is_err(),
        "one active link per (from, to, type)"
    );
    app.sql("UPDATE links SET deleted_at = created_at")
        .await
        .unwrap();
    app.sql(&link(0.5))
        .await
        .expect("a deleted link does not block a new one");
}

#[tokio::test]
async fn foreign_keys_cascade_and_set_null() {
    let app = TestApp::spawn().await;
    app.sql(
        "INSERT INTO users (email, password_hash) VALUES ('fk@example.com', 'x');
         INSERT INTO media (user_id, filename, media_type, mime_type, size, file_path, hash)
         VALUES ((SELECT id FROM users), 'f', 'photo', 'image/jpeg', 1, 'p', 'h');
         INSERT INTO albums (user_id, name, cover_media_id)
         VALUES ((SELECT id FROM users), 'a', (SELECT id FROM media));
         INSERT INTO audit_log (user_id, action) VALUES ((SELECT id FROM users), 'test');",
    )
    .await
    .unwrap();
    app.sql("DELETE FROM media").await.unwrap();
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM albums WHERE cover_media_id IS NULL")
            .await,
        1
    );
    app.sql("DELETE FROM users").await.unwrap();
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM albums").await,
        0,
        "ownership cascades"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE user_id IS NULL")
            .await,
        1,
        "the audit trail outlives its user"
    );
}

/// Index name -> definition, from the backend's catalog.
async fn index_definitions(app: &TestApp) -> Vec<(String, String)> {
    let sql = match app.backend() {
        DbBackend::Postgres => {
            "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = 'public'"
        }
        _ => "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    };
    app.db
        .query_all_raw(Statement::from_string(app.backend(), sql.to_string()))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn indexes_match_the_design() {
    let app = TestApp::spawn().await;
    let indexes = index_definitions(&app).await;
    let def = |name: &str| -> String {
        indexes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.to_lowercase())
            .unwrap_or_else(|| panic!("index {name} is missing: {indexes:?}"))
    };
    let partial = "deleted_at is null";
    assert!(
        def("idx_users_email").contains("unique")
            && def("idx_users_email").contains("lower(")
            && def("idx_users_email").contains(partial)
    );
    assert!(def("idx_media_user_id").contains(partial));
    let taken = def("idx_media_taken_at");
    assert!(
        taken.contains("taken_at desc") && taken.contains(partial),
        "{taken}"
    );
    if app.is_postgres() {
        assert!(taken.contains("nulls last"), "{taken}");
        assert!(def("idx_media_metadata").contains("using gin"));
    }
    assert!(def("idx_media_hash").contains("user_id, hash"));
    assert!(
        def("idx_media_source").contains("user_id, source_type, source_id")
            && def("idx_media_source").contains(partial)
    );
    let unique = def("idx_links_unique");
    assert!(
        unique.contains("unique")
            && unique.contains("from_object_id, to_object_id, link_type")
            && unique.contains(partial),
        "{unique}"
    );
    let members = def("idx_links_from");
    assert!(
        members.contains("from_object_id, link_type, sort_order, id")
            && members.contains("to_object_id")
            && members.contains(partial),
        "the member index covers a page of members: {members}"
    );
    assert!(def("idx_links_to").contains("to_object_id, link_type"));
    def("idx_albums_user_id");
    def("idx_integrations_user_id");
    def("idx_refresh_tokens_family_id");
    def("idx_audit_log_user_id");
}

#[tokio::test]
async fn triggers_views_and_constraints_are_in_the_catalog() {
    let app = TestApp::spawn().await;
    let with_updated_at = [
        "albums",
        "integration_secrets",
        "integrations",
        "links",
        "media",
        "tags",
        "upload_sessions",
        "users",
    ];
    let (triggers_sql, views_sql) = match app.backend() {
        DbBackend::Postgres => (
            "SELECT DISTINCT event_object_table::text FROM information_schema.triggers
             WHERE trigger_name LIKE 'trg_%_updated_at' ORDER BY 1",
            "SELECT table_name::text FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1",
        ),
        _ => (
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trg_%_updated_at' ORDER BY 1",
            "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY 1",
        ),
    };
    assert_eq!(app.strings(triggers_sql).await, with_updated_at);
    assert_eq!(app.strings(views_sql).await, VIEWS);

    if app.is_postgres() {
        let checks = app
            .strings("SELECT conname::text FROM pg_constraint WHERE contype = 'c' ORDER BY 1")
            .await;
        for name in [
            "albums_media_count_check",
            "integrations_status_check",
            "links_strength_check",
            "media_media_type_check",
            "media_size_check",
            "users_storage_quota_check",
            "users_storage_used_check",
        ] {
            assert!(
                checks.iter().any(|c| c == name),
                "{name} missing from {checks:?}"
            );
        }
        // confdeltype: c = cascade, n = set null
        let fks = app.strings("SELECT conrelid::regclass::text || '.' || a.attname || '=' || confdeltype::text
             FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE contype = 'f' ORDER BY 1",
        )
        .await;
        assert_eq!(
            fks,
            [
                "albums.cover_media_id=n",
                "albums.user_id=c",
                "audit_log.user_id=n",
                "integration_secrets.integration_id=c",
                "integrations.user_id=c",
                "links.user_id=c",
                "media.user_id=c",
                "refresh_tokens.user_id=c",
                "tags.user_id=c",
                "upload_chunks.upload_id=c",
                "upload_sessions.user_id=c",
            ]
        );
    } else {
        assert_eq!(app.sql_i64("PRAGMA foreign_keys").await, 1);
        let mode = app.strings("PRAGMA journal_mode").await;
        assert_eq!(mode, ["wal"]);
    }
}

/// Variant lookups (thumbnail jobs, delete, restore, purge) read an original's `variant_of`
/// links, trashed ones included: `idx_links_to` must serve them, or each one reads the whole
/// links table.
/// Whether `app`'s database can answer `select` through the index `index`: on SQLite, by
/// asking for it (SQLite refuses a query the named index cannot serve); on PostgreSQL, by the
/// plan, with sequential scans forbidden (on an empty table they are cheapest), as the
/// server's role under row-level security. The plan's lines, for PostgreSQL.
async fn served_by(
    app: &TestApp,
    index: &str,
    select: &str,
    from: &str,
    rest: &str,
) -> Vec<String> {
    if !app.is_postgres() {
        // A connection of its own: the server's pooled connections may still hold the schema
        // from before the migrations, which `INDEXED BY` is checked against.
        let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
        db.execute_unprepared(&format!(
            "SELECT {select} FROM {from} INDEXED BY {index} {rest}"
        ))
        .await
        .unwrap_or_else(|e| panic!("{index} cannot serve it: {e}"));
        db.close().await.unwrap();
        return Vec::new();
    }
    // Planned as the server's statements are: its role, under the row-level security
    // policies for a viewer (whose quals must not keep the index from serving).
    let viewer = hypernet::db::Scope::User("00000000-0000-4000-8000-000000000001".parse().unwrap());
    let txn = hypernet::db::within(viewer, app.pool.begin())
        .await
        .unwrap();
    txn.execute_unprepared("SET LOCAL enable_seqscan = off")
        .await
        .unwrap();
    let rows = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN SELECT {select} FROM {from} {rest}"),
        ))
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert!(plan.iter().any(|line| line.contains(index)), "{plan:?}");
    plan
}

/// A user id as each backend stores it (a blob on SQLite).
fn user_id_literal(app: &TestApp) -> &'static str {
    if app.is_postgres() {
        "'00000000-0000-4000-8000-000000000001'"
    } else {
        "x'00000000000040008000000000000001'"
    }
}

#[tokio::test]
async fn variant_lookups_including_trashed_links_use_an_index() {
    let app = TestApp::spawn().await;
    let filter = format!(
        "WHERE to_object_id = {} AND link_type = 'variant_of'",
        user_id_literal(&app)
    );
    served_by(&app, "idx_links_to", "from_object_id", "links", &filter).await;
}

#[tokio::test]
async fn library_pages_read_an_index_without_thumbnails() {
    let app = TestApp::spawn().await;
    let rest = format!(
        "WHERE user_id = {} AND deleted_at IS NULL \
         AND (media.source_type IS NULL OR media.source_type <> 'variant') \
         ORDER BY taken_at DESC NULLS LAST, id DESC LIMIT 100",
        user_id_literal(&app)
    );
    let plan = served_by(&app, "idx_media_library", "id", "media", &rest).await;
    // The page is read in the index's order: no sort, and no thumbnail stepped over.
    assert!(!plan.iter().any(|line| line.contains("Sort")), "{plan:?}");
}
