//! Trash: delete, restore, purge, empty, retention.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser, assert_code, sha256_hex};

async fn mutate(app: &TestApp, user: &TestUser, name: &str, ids: &[&Value]) -> Value {
    let fields = match name {
        "deleteMedia" => "deletedIds",
        "restoreMedia" => "restoredIds media { id deletedAt }",
        _ => "purgedIds",
    };
    app.gql(
        &format!("mutation($ids: [ID!]!) {{ {name}(input: {{ ids: $ids }}) {{ {fields} }} }}"),
        json!({ "ids": ids }),
        Some(&user.access_token),
    )
    .await
}

async fn library_count(app: &TestApp, user: &TestUser) -> i64 {
    let res = app
        .gql(
            "{ viewer { media { totalCount } } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    res["data"]["viewer"]["media"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn wait_for_thumbnails(app: &TestApp, count: i64) {
    for _ in 0..200 {
        if app
            .sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'variant_of'")
            .await
            >= count
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no thumbnails");
}

#[tokio::test]
async fn delete_hides_restore_brings_back_exactly() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let keep = app
        .upload_ok(&ann.access_token, "keep.png", fixtures::png(20, 20))
        .await;
    let media = app
        .upload_ok(
            &ann.access_token,
            "gone.jpg",
            fixtures::jpeg(600, 400, None),
        )
        .await;
    wait_for_thumbnails(&app, 4).await;
    let res = mutate(&app, &ann, "deleteMedia", &[&media["id"]]).await;
    assert_eq!(
        res["data"]["deleteMedia"]["deletedIds"],
        json!([media["id"]]),
        "{res}"
    );
    assert_eq!(library_count(&app, &ann).await, 1);
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": media["id"] }),
            Some(&ann.access_token),
        )
        .await;
    assert!(
        res["data"]["node"].is_null(),
        "a deleted media resolves like a missing one"
    );
    // Its thumbnails went with it (the other photo keeps its two).
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM media WHERE source_type = 'variant' AND deleted_at IS NULL"
        )
        .await,
        2
    );

    let res = app
        .gql(
            "{ viewer { trash { totalCount edges { deletedAt purgeAt node { __typename ... on Media { id filename } } } } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    let trash = &res["data"]["viewer"]["trash"];
    assert_eq!(trash["totalCount"], 1, "{res}");
    let edge = &trash["edges"][0];
    assert_eq!(edge["node"]["__typename"], "Media");
    assert_eq!(edge["node"]["filename"], "gone.jpg");
    let deleted =
        chrono::DateTime::parse_from_rfc3339(edge["deletedAt"].as_str().unwrap()).unwrap();
    let purge = chrono::DateTime::parse_from_rfc3339(edge["purgeAt"].as_str().unwrap()).unwrap();
    assert_eq!(purge - deleted, chrono::Duration::days(30));

    // Deleting again is harmless; restoring brings it and its thumbnails back.
    let res = mutate(&app, &ann, "deleteMedia", &[&media["id"]]).await;
    assert!(res["errors"].is_null(), "{res}");
    let res = mutate(&app, &ann, "restoreMedia", &[&media["id"]]).await;
    assert!(
        res["data"]["restoreMedia"]["media"][0]["deletedAt"].is_null(),
        "{res}"
    );
    assert_eq!(library_count(&app, &ann).await, 2);
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM media WHERE source_type = 'variant' AND deleted_at IS NULL"
        )
        .await,
        4
    );
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Media { variants { id } } } }",
            json!({ "id": media["id"] }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["node"]["variants"].as_array().unwrap().len(), 2);
    assert_ne!(keep["id"], media["id"]);
}

#[tokio::test]
async fn purge_removes_rows_links_and_unused_bytes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let shared = fixtures::jpeg(500, 300, None);
    let own = fixtures::png(30, 30);
    let a = app
        .upload_ok(&ann.access_token, "shared.jpg", shared.clone())
        .await;
    let b = app
        .upload_ok(&ann.access_token, "own.png", own.clone())
        .await;
    app.upload_ok(&bob.access_token, "bobs.jpg", shared.clone())
        .await;
    wait_for_thumbnails(&app, 6).await;

    // Only what is in the trash can be purged.
    let res = mutate(&app, &ann, "purgeMedia", &[&a["id"]]).await;
    assert_code(&res, "BAD_USER_INPUT");

    mutate(&app, &ann, "deleteMedia", &[&a["id"], &b["id"]]).await;
    let res = mutate(&app, &ann, "purgeMedia", &[&a["id"], &b["id"]]).await;
    assert_eq!(
        res["data"]["purgeMedia"]["purgedIds"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{res}"
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM media WHERE user_id = (SELECT id FROM users WHERE email = 'ann@example.com')").await, 0);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM links WHERE user_id = (SELECT id FROM users WHERE email = 'ann@example.com')").await, 0);
    // Bob still uses the shared bytes; Ann's own are gone.
    assert!(app.blob_exists(&sha256_hex(&shared)));
    assert!(!app.blob_exists(&sha256_hex(&own)));
    let res = app
        .gql(
            "{ viewer { storageUsed trash { totalCount } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["storageUsed"], 0);
    assert_eq!(res["data"]["viewer"]["trash"]["totalCount"], 0);
    // Purged ids are gone for good.
    let res = mutate(&app, &ann, "restoreMedia", &[&a["id"]]).await;
    assert_code(&res, "NOT_FOUND");
}

#[tokio::test]
async fn empty_trash_purges_everything_deleted() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.upload_ok(
                &ann.access_token,
                &format!("{i}.png"),
                fixtures::png(10 + i, 10),
            )
            .await["id"]
                .clone(),
        );
    }
    let kept = app
        .upload_ok(&ann.access_token, "kept.png", fixtures::png(50, 50))
        .await;
    mutate(&app, &ann, "deleteMedia", &ids.iter().collect::<Vec<_>>()).await;
    let res = app
        .gql(
            "mutation { emptyTrash { purgedIds } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(
        res["data"]["emptyTrash"]["purgedIds"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "{res}"
    );
    assert_eq!(library_count(&app, &ann).await, 1);
    let res = app
        .gql(
            "{ viewer { storageUsed } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["storageUsed"], kept["size"]);
}

#[tokio::test]
async fn restoring_over_a_newer_copy_is_a_conflict() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(33, 33);
    let first = app
        .upload_ok(&ann.access_token, "a.png", bytes.clone())
        .await;
    mutate(&app, &ann, "deleteMedia", &[&first["id"]]).await;
    let second = app
        .upload_ok(&ann.access_token, "a-again.png", bytes.clone())
        .await;
    assert_ne!(
        first["id"], second["id"],
        "the trashed copy does not count as held"
    );
    let res = mutate(&app, &ann, "restoreMedia", &[&first["id"]]).await;
    assert_code(&res, "CONFLICT");
    assert_eq!(library_count(&app, &ann).await, 1);
}

#[tokio::test]
async fn bulk_mutations_are_all_or_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mine = app
        .upload_ok(&ann.access_token, "mine.png", fixtures::png(10, 10))
        .await;
    let his = app
        .upload_ok(&bob.access_token, "his.png", fixtures::png(11, 11))
        .await;
    let res = mutate(&app, &ann, "deleteMedia", &[&mine["id"], &his["id"]]).await;
    assert_code(&res, "NOT_FOUND");
    assert_eq!(library_count(&app, &ann).await, 1, "nothing was deleted");
    assert_eq!(library_count(&app, &bob).await, 1);
    let res = mutate(&app, &ann, "deleteMedia", &[]).await;
    assert_code(&res, "BAD_USER_INPUT");
    let too_many: Vec<Value> = (0..101).map(|_| mine["id"].clone()).collect();
    let res = mutate(
        &app,
        &ann,
        "deleteMedia",
        &too_many.iter().collect::<Vec<_>>(),
    )
    .await;
    assert_code(&res, "BAD_USER_INPUT");
}

#[tokio::test]
async fn retention_purges_old_trash() {
    // No background maintenance: the purge below is the command's.
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let ann = app.register("ann@example.com").await;
    let old = app
        .upload_ok(&ann.access_token, "old.png", fixtures::png(21, 21))
        .await;
    let recent = app
        .upload_ok(&ann.access_token, "recent.png", fixtures::png(22, 22))
        .await;
    mutate(&app, &ann, "deleteMedia", &[&old["id"], &recent["id"]]).await;
    // Backdate one deletion past the 30-day retention.
    let past = if app.is_postgres() {
        "now() - interval '31 days'"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-31 days')"
    };
    app.sql(&format!(
        "UPDATE media SET deleted_at = {past} WHERE filename = 'old.png'"
    ))
    .await
    .unwrap();

    let out = app.cli(&["purge"], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("purged 1 media"));
    let res = app
        .gql(
            "{ viewer { trash { edges { node { ... on Media { filename } } } } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(
        res["data"]["viewer"]["trash"]["edges"],
        json!([{ "node": { "filename": "recent.png" } }])
    );
    assert!(!app.blob_exists(old["hash"].as_str().unwrap()));
    assert!(app.blob_exists(recent["hash"].as_str().unwrap()));
}

#[tokio::test]
async fn the_server_purges_periodically() {
    let app = TestApp::spawn_with(|c| {
        c.trash_retention_days = 0;
        c.maintenance_interval_secs = 1;
    })
    .await;
    let ann = app.register("ann@example.com").await;
    let media = app
        .upload_ok(&ann.access_token, "x.png", fixtures::png(23, 23))
        .await;
    mutate(&app, &ann, "deleteMedia", &[&media["id"]]).await;
    // The rows go in one transaction and the bytes right after it commits: wait for both.
    for _ in 0..100 {
        let rows = app
            .sql_i64("SELECT COUNT(*) FROM media WHERE source_type IS NULL")
            .await;
        if rows == 0 && !app.blob_exists(media["hash"].as_str().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the maintenance task did not purge the trash (rows and bytes)");
}

/// The stored bytes of `media` answer its `contentUrl`, byte for byte.
async fn assert_content(app: &TestApp, media: &Value, bytes: &[u8]) {
    let res = app
        .client
        .get(app.url(media["contentUrl"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "content of {media}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes);
}

/// A purge deciding that bytes are unused, and an upload of the same bytes by someone else
/// that finds them stored, run together round after round: whichever commits first, the
/// upload's media keeps its bytes.
#[tokio::test]
async fn a_purge_racing_an_upload_of_the_same_bytes_never_leaves_it_without_them() {
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    for round in 0..12u32 {
        let bytes = fixtures::gif(20 + round, 20);
        let a = app
            .upload_ok(&ann.access_token, "a.gif", bytes.clone())
            .await;
        mutate(&app, &ann, "deleteMedia", &[&a["id"]]).await;
        let ids = [&a["id"]];
        let (purged, uploaded) = tokio::join!(
            mutate(&app, &ann, "purgeMedia", &ids),
            app.upload_ok(&bob.access_token, "b.gif", bytes.clone()),
        );
        assert!(purged["errors"].is_null(), "round {round}: {purged}");
        assert!(
            app.blob_exists(&sha256_hex(&bytes)),
            "round {round}: Bob's media lost its bytes"
        );
        assert_content(&app, &uploaded, &bytes).await;
    }
}

/// The lock a purge holds of `hash` from finding its bytes unused until they are deleted
/// (class "hblb", the hash's first 32 bits), taken by the test in a transaction of its own.
/// PostgreSQL only: on SQLite both sides are write transactions, which the race test above
/// covers.
async fn hold_purge_lock(app: &TestApp, hash: &str) -> hypernet::db::Txn {
    use sea_orm::{ConnectionTrait, Statement};

    let purge = app.db.begin().await.unwrap();
    purge
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, $2)",
            [0x6862_6c62_i32.into(), hash_key(hash).into()],
        ))
        .await
        .unwrap();
    purge
}

fn hash_key(hash: &str) -> i32 {
    u32::from_str_radix(&hash[..8], 16).unwrap() as i32
}

/// Returns once a session waits for the purge's lock of `hash`: something that found those
/// bytes stored is about to commit a row that uses them.
async fn a_waiter_for(app: &TestApp, hash: &str) {
    // An advisory lock of two keys shows them as `classid` and `objid` (oids: unsigned).
    let sql = format!(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
         AND classid = {} AND objid = {} AND NOT granted",
        0x6862_6c62_u32,
        hash_key(hash) as u32
    );
    for _ in 0..200 {
        if app.sql_i64(&sql).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing waited for the purge's lock of {hash}");
}

/// Runs `ingest` (an upload or an import of `bytes`) while a purge holds their hash's lock,
/// with the bytes stored and no row using them: `ingest` finds them stored and waits for the
/// lock before its commit; the purge then deletes them and ends, and `ingest` must write
/// them again. Returns what `ingest` answered.
async fn ingest_under_a_purge<F: std::future::Future<Output = Value>>(
    app: &TestApp,
    bytes: &[u8],
    ingest: F,
) -> Value {
    let hash = sha256_hex(bytes);
    let path = app.blob_path(&hash);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let purge = hold_purge_lock(app, &hash).await;
    tokio::pin!(ingest);
    tokio::select! {
        answer = &mut ingest => panic!("it committed while a purge held its bytes' lock: {answer}"),
        () = a_waiter_for(app, &hash) => {}
    }
    std::fs::remove_file(&path).unwrap();
    purge.commit().await.unwrap();
    let answer = ingest.await;
    assert!(app.blob_exists(&hash), "the bytes were not written again");
    answer
}

#[tokio::test]
async fn an_upload_waits_for_a_purge_holding_its_bytes_and_writes_them_again() {
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    if !app.is_postgres() {
        return;
    }
    let bob = app.register("bob@example.com").await;
    let bytes = fixtures::gif(33, 21);
    let upload = app.upload_ok(&bob.access_token, "b.gif", bytes.clone());
    let media = ingest_under_a_purge(&app, &bytes, upload).await;
    assert_content(&app, &media, &bytes).await;
}

/// The same for an integration's import.
#[tokio::test]
async fn an_import_waits_for_a_purge_holding_its_bytes_and_writes_them_again() {
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    if !app.is_postgres() {
        return;
    }
    let bob = app.register("bob@example.com").await;
    let integration = crate::integrations::cloud(&app, &bob).await;
    let bytes = fixtures::png(34, 22);
    let items = vec![json!({ "externalId": "ext-1", "filename": "b.png" })];
    let import = crate::integrations::import(
        &app,
        &bob,
        &integration,
        items,
        vec![Some(bytes.clone())],
        None,
    );
    let res = ingest_under_a_purge(&app, &bytes, import).await;
    let imported = &res["data"]["importMedia"];
    assert_eq!(imported["imported"], 1, "{res}");
    let id = &imported["media"][0]["id"];
    let media = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Media { contentUrl } } }",
            json!({ "id": id }),
            Some(&bob.access_token),
        )
        .await;
    assert_content(&app, &media["data"]["node"], &bytes).await;
}

/// The same for a thumbnail: Bob's upload of a photo Ann has makes the thumbnails Ann's
/// has, byte for byte; the thumbnail job finds them stored and waits for the purge.
#[tokio::test]
async fn a_thumbnail_waits_for_a_purge_holding_its_bytes_and_writes_them_again() {
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    if !app.is_postgres() {
        return;
    }
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let photo = fixtures::jpeg(640, 480, None);
    let media = app
        .upload_ok(&ann.access_token, "a.jpg", photo.clone())
        .await;
    let id = media["id"].as_str().unwrap();
    let variants = crate::content::wait_for_variants(&app, &ann.access_token, id, 2).await;
    let hash = variants[0]["hash"].as_str().unwrap().to_string();
    let thumbnail_bytes = std::fs::read(app.blob_path(&hash)).unwrap();

    let purge = hold_purge_lock(&app, &hash).await;
    let media = app.upload_ok(&bob.access_token, "b.jpg", photo).await;
    a_waiter_for(&app, &hash).await;
    std::fs::remove_file(app.blob_path(&hash)).unwrap();
    purge.commit().await.unwrap();
    let id = media["id"].as_str().unwrap();
    let variants = crate::content::wait_for_variants(&app, &bob.access_token, id, 2).await;
    assert!(
        app.blob_exists(&hash),
        "the thumbnail's bytes were not written again"
    );
    assert_eq!(
        variants[0]["hash"],
        hash.as_str(),
        "Bob's thumbnail is Ann's bytes"
    );
    assert_content(&app, &variants[0], &thumbnail_bytes).await;
}
