//! `hypernet backup` and `hypernet restore`: a restore drill under write load, refusals of a
//! damaged backup and of a target that is not empty, and the hold that keeps a running
//! backup's bytes from being deleted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, sha256_hex};

fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "hypernet failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "hypernet should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const LIBRARY: &str = "{ viewer {
    media(first: 100) { totalCount edges { node { id hash size contentUrl } } }
    albums(first: 50) { edges { node { id name mediaCount media(first: 100) { edges { node { id } } } } } } } }";

/// One round of writes: a new photo into the album, a link to the previous one, an item
/// imported from a cloud integration, and the oldest photo of the rounds deleted and purged (so
/// that stored bytes go while the backup runs).
async fn write_round(
    app: &TestApp,
    user: &TestUser,
    cloud: &str,
    album: &str,
    round: usize,
    mine: &mut Vec<String>,
) {
    let token = user.access_token.as_str();
    let imported = crate::fixtures::png(30 + round as u32, 70);
    let res = crate::integrations::import(
        app,
        user,
        cloud,
        vec![json!({ "externalId": format!("cloud-{round}"), "filename": format!("cloud{round}.png") })],
        vec![Some(imported)],
        Some(&format!("cursor-{round}")),
    )
    .await;
    assert_eq!(res["data"]["importMedia"]["imported"], 1, "{res}");
    let bytes = crate::fixtures::png(40 + round as u32, 9 + (round as u32 % 7));
    let media = app
        .upload_ok(token, &format!("round{round}.png"), bytes)
        .await;
    let id = media["id"].as_str().unwrap().to_string();
    app.add_to_album(token, album, std::slice::from_ref(&id))
        .await;
    if let Some(previous) = mine.last() {
        app.link(token, &id, previous, "similar_to").await;
    }
    mine.push(id);
    if mine.len() > 3 {
        let oldest = mine.remove(0);
        app.ok(
            "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
            json!({ "ids": [oldest] }),
            token,
        )
        .await;
        app.ok("mutation { emptyTrash { purgedIds } }", json!({}), token)
            .await;
    }
    app.ok(
        "mutation($id: ID!, $n: String!) { updateAlbum(input: { id: $id, name: $n }) { album { id } } }",
        json!({ "id": album, "n": format!("Trip {round}") }),
        token,
    )
    .await;
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_to_a_consistent_library() {
    let app = Arc::new(TestApp::spawn().await);
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let photos = app.photos(&ann.access_token, 5).await;
    let album = app.create_album(&ann.access_token, "Trip").await;
    app.add_to_album(&ann.access_token, &album, &photos[..3])
        .await;
    app.link(&ann.access_token, &photos[0], &photos[1], "similar_to")
        .await;
    let bobs = app.photos(&bob.access_token, 2).await;

    // Writers go on before, during and after the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (app, stop, rounds) = (app.clone(), stop.clone(), rounds.clone());
        let user = TestUser {
            id: ann.id.clone(),
            access_token: ann.access_token.clone(),
            refresh_token: ann.refresh_token.clone(),
        };
        let album = album.clone();
        let cloud = crate::integrations::cloud(&app, &ann).await;
        tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut round = 0;
            while !stop.load(Ordering::SeqCst) {
                write_round(&app, &user, &cloud, &album, round, &mut mine).await;
                round += 1;
                rounds.store(round, Ordering::SeqCst);
            }
        })
    };
    let wait_rounds = |n: usize| {
        let rounds = rounds.clone();
        async move {
            while rounds.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_rounds(3).await;
    let backup = tempfile::tempdir().unwrap();
    let dir = backup.path().join("b");
    let out = succeeded(&app.cli(&["backup", dir.to_str().unwrap()], None).await);
    assert!(out.contains("blobs"), "{out}");
    let during = rounds.load(Ordering::SeqCst);
    wait_rounds(during + 3).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    // A second backup into the same directory is refused: it is not empty.
    let refused = failed(&app.cli(&["backup", dir.to_str().unwrap()], None).await);
    assert!(refused.contains("not empty"), "{refused}");

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let backed_up_media = manifest["rows"]["media"].as_i64().unwrap();
    assert!(backed_up_media >= 7, "{manifest:#}");

    // Restore into a fresh database and data directory, then serve it.
    let target = app.empty_target().await;
    let out = succeeded(
        &app.cli_on(&target.env(), &["restore", dir.to_str().unwrap()])
            .await,
    );
    assert!(out.contains("restored"), "{out}");
    // Once there is something there, a restore is refused unless forced.
    let refused = failed(
        &app.cli_on(&target.env(), &["restore", dir.to_str().unwrap()])
            .await,
    );
    assert!(refused.contains("--force"), "{refused}");
    let restored = app.serve_target(&target).await;
    assert_eq!(
        restored.sql_i64("SELECT count(*) FROM media").await,
        backed_up_media
    );

    // Every row's bytes are there and hash to the row's hash.
    let hashes = restored.strings("SELECT DISTINCT hash FROM media").await;
    assert!(!hashes.is_empty());
    for hash in &hashes {
        let path = target.data_dir.path().join(format!(
            "blobs/sha256/{}/{}/{hash}",
            &hash[0..2],
            &hash[2..4]
        ));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{hash}: {e}"));
        assert_eq!(&sha256_hex(&bytes), hash);
    }
    // No link ends at a row that is not there.
    let dangling = restored
        .sql_i64(
            "SELECT count(*) FROM links l WHERE
               (l.from_object_type = 'media' AND NOT EXISTS (SELECT 1 FROM media m WHERE m.id = l.from_object_id))
            OR (l.to_object_type = 'media' AND NOT EXISTS (SELECT 1 FROM media m WHERE m.id = l.to_object_id))
            OR (l.from_object_type = 'album' AND NOT EXISTS (SELECT 1 FROM albums a WHERE a.id = l.from_object_id))
            OR (l.to_object_type = 'album' AND NOT EXISTS (SELECT 1 FROM albums a WHERE a.id = l.to_object_id))",
        )
        .await;
    assert_eq!(dangling, 0);

    // Ann signs in with her password and reads her library through the API: each media's
    // bytes by its URL, each album's count against its members.
    let login = restored.login("ann@example.com", PASSWORD).await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_string();
    let library = restored.ok(LIBRARY, json!({}), &token).await;
    let media = library["viewer"]["media"]["edges"].as_array().unwrap();
    assert!(media.len() >= 5, "{library}");
    for edge in media {
        let node = &edge["node"];
        let res = restored
            .client
            .get(restored.url(node["contentUrl"].as_str().unwrap()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{node}");
        let bytes = res.bytes().await.unwrap();
        assert_eq!(sha256_hex(&bytes), node["hash"].as_str().unwrap(), "{node}");
    }
    for photo in &photos {
        assert!(
            media.iter().any(|e| e["node"]["id"] == photo.as_str()),
            "{photo} is missing"
        );
    }
    // The imports came back with their integration, its sync cursor and their source.
    let sources = restored
        .ok(
            "{ viewer { integrations(first: 10) { edges { node { id syncCursor } } } } }",
            json!({}),
            &token,
        )
        .await;
    let integrations = sources["viewer"]["integrations"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(integrations.len(), 1, "{sources}");
    assert!(
        integrations[0]["node"]["syncCursor"]
            .as_str()
            .is_some_and(|c| c.starts_with("cursor-")),
        "{sources}"
    );
    let imported = restored
        .sql_i64("SELECT count(*) FROM media WHERE filename LIKE 'cloud%'")
        .await;
    assert!(imported >= 3, "{imported}");
    let albums = library["viewer"]["albums"]["edges"].as_array().unwrap();
    assert_eq!(albums.len(), 1);
    let trip = &albums[0]["node"];
    assert_eq!(
        trip["mediaCount"].as_u64().unwrap() as usize,
        trip["media"]["edges"].as_array().unwrap().len(),
        "{trip}"
    );
    assert!(trip["mediaCount"].as_u64().unwrap() >= 3, "{trip}");

    // Bob's library came back too, and it is still his alone.
    let login = restored.login("bob@example.com", PASSWORD).await;
    let bob_token = login["data"]["login"]["accessToken"].as_str().unwrap();
    let mine = restored
        .ok(
            "{ viewer { media(first: 10) { edges { node { id } } } } }",
            json!({}),
            bob_token,
        )
        .await;
    assert_eq!(
        mine["viewer"]["media"]["edges"].as_array().unwrap().len(),
        bobs.len()
    );
    let theirs = restored
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": photos[0] }),
            Some(bob_token),
        )
        .await;
    assert!(theirs["data"]["node"].is_null(), "{theirs}");
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_nothing_is_restored() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let photos = app.photos(&ann.access_token, 2).await;
    assert_eq!(photos.len(), 2);
    let backup = tempfile::tempdir().unwrap();
    let dir = backup.path();
    succeeded(&app.cli(&["backup", dir.to_str().unwrap()], None).await);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let hash = manifest["blobs"][0]["sha256"].as_str().unwrap().to_string();
    let blob = dir.join(format!(
        "blobs/sha256/{}/{}/{hash}",
        &hash[0..2],
        &hash[2..4]
    ));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let target = app.empty_target().await;
    let refused = failed(
        &app.cli_on(&target.env(), &["restore", dir.to_str().unwrap()])
            .await,
    );
    assert!(refused.contains("damaged"), "{refused}");
    assert!(refused.contains(&hash), "{refused}");
    // Nothing was written: neither the blobs nor the database.
    assert!(!target.data_dir.path().join("blobs/sha256").exists());
    if app.is_postgres() {
        let served = app.serve_target(&target).await;
        assert_eq!(served.sql_i64("SELECT count(*) FROM media").await, 0);
    } else {
        assert!(!target.data_dir.path().join("hypernet.db").exists());
    }

    // A manifest of a format this version does not read is refused before anything is read.
    let mut future = manifest.clone();
    future["format"] = json!(99);
    std::fs::write(dir.join("manifest.json"), future.to_string()).unwrap();
    let refused = failed(
        &app.cli_on(&target.env(), &["restore", dir.to_str().unwrap()])
            .await,
    );
    assert!(refused.contains("format is 99"), "{refused}");

    // A backup without its manifest is no backup.
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let refused = failed(
        &app.cli_on(&target.env(), &["restore", dir.to_str().unwrap()])
            .await,
    );
    assert!(refused.contains("manifest.json"), "{refused}");
}

#[tokio::test]
async fn while_a_backup_holds_the_bytes_purges_leave_them_for_the_next_sweep() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = crate::fixtures::png(30, 20);
    let hash = sha256_hex(&bytes);
    let media = app.upload_ok(&ann.access_token, "held.png", bytes).await;
    // Its thumbnails are made before it goes: their bytes are held too.
    app.settled_statements().await;
    let stored = app
        .strings("SELECT DISTINCT hash FROM media ORDER BY hash")
        .await;
    assert!(stored.contains(&hash));
    let until = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    // A backup's hold, as `hypernet backup` takes it.
    app.sql(&format!(
        "INSERT INTO leases (name, holder, expires_at) VALUES ('backup/test', 'test', '{until}')"
    ))
    .await
    .unwrap();

    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [media["id"]] }),
        &ann.access_token,
    )
    .await;
    app.ok(
        "mutation { emptyTrash { purgedIds } }",
        json!({}),
        &ann.access_token,
    )
    .await;
    assert_eq!(app.sql_i64("SELECT count(*) FROM media").await, 0);
    assert!(
        stored.iter().all(|h| app.blob_exists(h)),
        "the held bytes were deleted"
    );
    assert_eq!(
        app.strings("SELECT hash FROM blob_deletions ORDER BY hash")
            .await,
        stored
    );

    // The sweep leaves them while the hold is live, and deletes them once it has gone.
    let out = succeeded(&app.cli(&["purge"], None).await);
    assert!(out.contains("deleted 0 blobs"), "{out}");
    assert!(stored.iter().all(|h| app.blob_exists(h)));
    app.sql("DELETE FROM leases").await.unwrap();
    let out = succeeded(&app.cli(&["purge"], None).await);
    assert!(
        out.contains(&format!("deleted {} blobs", stored.len())),
        "{out}"
    );
    assert!(stored.iter().all(|h| !app.blob_exists(h)));
    assert_eq!(app.sql_i64("SELECT count(*) FROM blob_deletions").await, 0);
}

#[test]
fn the_point_in_time_recovery_drill_passes() {
    // The drill runs a PostgreSQL cluster of its own: on the PostgreSQL run only.
    if std::env::var("HYPERNET_TEST_DATABASE_URL").is_err() {
        eprintln!("the PITR drill runs with the PostgreSQL tests");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ops/pitr-drill"))
        .arg(env!("CARGO_BIN_EXE_hypernet"))
        .env("PITR_DRILL_PORT", port.to_string())
        .output()
        .expect("run ops/pitr-drill");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PITR drill passed"), "{stdout}");
}
