//! The media library on an S3-compatible store. Runs when `HYPERNET_TEST_S3_URL` names a bucket
//! (`.ci/run` starts a local S3-compatible server for it); the `AWS_*` variables point at it.

use futures_util::StreamExt;
use object_store::ObjectStore;
use serde_json::json;

use crate::fixtures;
use crate::helpers::TestApp;

async fn objects(prefix_url: &str) -> Vec<String> {
    let rest = prefix_url.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap();
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .unwrap();
    let prefix = object_store::path::Path::from(prefix);
    s3.list(Some(&prefix))
        .map(|m| m.unwrap().location.to_string())
        .collect()
        .await
}

#[tokio::test]
async fn media_live_in_an_s3_bucket() {
    let Ok(bucket_url) = std::env::var("HYPERNET_TEST_S3_URL") else {
        eprintln!("HYPERNET_TEST_S3_URL is not set: S3 storage is tested by .ci/run");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!(
        "{}/{}",
        bucket_url.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let storage = url.clone();
    let app = TestApp::spawn_with(move |c| c.storage_url = Some(storage)).await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(90, 60);
    let media = app
        .upload_ok(&ann.access_token, "s3.png", bytes.clone())
        .await;
    assert!(app.blob_count() == 0, "nothing on the local disk");
    let stored = objects(&url).await;
    assert!(
        stored
            .iter()
            .any(|k| k.ends_with(media["hash"].as_str().unwrap())),
        "{stored:?}"
    );

    // Downloads, with ranges, come from the bucket.
    let content = app.url(media["contentUrl"].as_str().unwrap());
    let res = app
        .client
        .get(&content)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes[0..8]);

    // Resumable uploads keep their chunks in the bucket too.
    let other = fixtures::png(91, 61);
    let data = app
        .ok(
            "mutation($s: String!, $n: BigInt!) { beginUpload(input: { sha256: $s, size: $n, filename: \"r.png\" }) { upload { id uploadUrl } } }",
            json!({ "s": crate::helpers::sha256_hex(&other), "n": other.len() }),
            &ann.access_token,
        )
        .await;
    let upload = &data["beginUpload"]["upload"];
    let half = other.len() / 2;
    for (offset, chunk) in [(0, &other[..half]), (half, &other[half..])] {
        let url = app.url(upload["uploadUrl"].as_str().unwrap());
        let res =
            crate::helpers::patch_chunk(&app.client, &url, &ann.access_token, offset, chunk).await;
        assert_eq!(res.status(), 204);
    }
    assert_eq!(
        objects(&url)
            .await
            .iter()
            .filter(|k| k.contains("/uploads/"))
            .count(),
        2,
        "each chunk is an object until the upload completes"
    );
    let data = app
        .ok(
            "mutation($id: ID!) { completeUpload(input: { uploadId: $id }) { media { size } } }",
            json!({ "id": upload["id"] }),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["completeUpload"]["media"]["size"], other.len());
    assert!(
        objects(&url).await.iter().all(|k| !k.contains("/uploads/")),
        "chunks are cleaned up"
    );

    // The same bytes from another user are stored once, and stay while either holds them.
    let bob = app.register("bob@example.com").await;
    let copy = app
        .upload_ok(&bob.access_token, "same.png", bytes.clone())
        .await;
    assert_eq!(copy["hash"], media["hash"]);
    let holding = |keys: &[String]| {
        keys.iter()
            .filter(|k| k.ends_with(media["hash"].as_str().unwrap()))
            .count()
    };
    assert_eq!(holding(&objects(&url).await), 1);

    // Purging removes the bytes from the bucket once nobody holds them.
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [copy["id"]] }),
        &bob.access_token,
    )
    .await;
    app.ok(
        "mutation($ids: [ID!]!) { purgeMedia(input: { ids: $ids }) { purgedIds } }",
        json!({ "ids": [copy["id"]] }),
        &bob.access_token,
    )
    .await;
    assert_eq!(holding(&objects(&url).await), 1, "Ann still holds them");
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [media["id"]] }),
        &ann.access_token,
    )
    .await;
    app.ok(
        "mutation($ids: [ID!]!) { purgeMedia(input: { ids: $ids }) { purgedIds } }",
        json!({ "ids": [media["id"]] }),
        &ann.access_token,
    )
    .await;
    let left = objects(&url).await;
    assert!(
        left.iter()
            .all(|k| !k.ends_with(media["hash"].as_str().unwrap())),
        "{left:?}"
    );
}

/// `hypernet` with the app's database and data dir, and `storage` as its store.
fn env_of(app: &TestApp, storage: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATABASE_URL", app.database_url.clone()),
        (
            "HYPERNET_DATA_DIR",
            app.data_dir.path().display().to_string(),
        ),
        ("HYPERNET_STORAGE_URL", storage.to_string()),
    ];
    env.extend(app.owner_env());
    env
}

#[tokio::test]
async fn a_library_in_a_bucket_is_backed_up_and_restored_into_another() {
    let Ok(bucket_url) = std::env::var("HYPERNET_TEST_S3_URL") else {
        eprintln!("HYPERNET_TEST_S3_URL is not set: S3 storage is tested by .ci/run");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let prefix = |name: &str| {
        format!(
            "{}/{}-{name}",
            bucket_url.trim_end_matches('/'),
            uuid::Uuid::now_v7().simple()
        )
    };
    let (source, restored_into) = (prefix("source"), prefix("restored"));
    let storage = source.clone();
    let app = TestApp::spawn_with(move |c| c.storage_url = Some(storage)).await;
    let ann = app.register("ann@example.com").await;
    let photos = app.photos(&ann.access_token, 3).await;
    app.settled_statements().await;
    let hashes = app
        .strings("SELECT DISTINCT hash FROM media ORDER BY hash")
        .await;

    let backups = tempfile::tempdir().unwrap();
    let copied = backups.path().join("copied");
    let out = app
        .cli_on(
            &env_of(&app, &source),
            &["backup", copied.to_str().unwrap()],
        )
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = backups.path().join("listed");
    let out = app
        .cli_on(
            &env_of(&app, &source),
            &["backup", "--blobs", "list", listed.to_str().unwrap()],
        )
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!listed.join("blobs").exists(), "a listing copies no bytes");

    // The copied backup goes into another prefix, which then holds every blob.
    let target = app.empty_target().await;
    let mut env = target.env();
    env.push(("HYPERNET_STORAGE_URL", restored_into.clone()));
    let out = app
        .cli_on(&env, &["restore", copied.to_str().unwrap()])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = objects(&restored_into).await;
    for hash in &hashes {
        assert!(
            keys.iter().any(|k| k.ends_with(hash.as_str())),
            "{hash}: {keys:?}"
        );
    }

    // The listed backup restores only where its blobs are: not into the empty prefix.
    let elsewhere = app.empty_target().await;
    let mut env = elsewhere.env();
    env.push(("HYPERNET_STORAGE_URL", prefix("empty")));
    let out = app
        .cli_on(&env, &["restore", listed.to_str().unwrap()])
        .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing from the store"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A server on the restored copy serves the bytes from its own prefix.
    let storage = restored_into.clone();
    let restored = app
        .serve_target_with(&target, move |c| c.storage_url = Some(storage))
        .await;
    let login = restored
        .login("ann@example.com", crate::helpers::PASSWORD)
        .await;
    let token = login["data"]["login"]["accessToken"].as_str().unwrap();
    for photo in &photos {
        let node = restored
            .ok(
                "query($id: ID!) { node(id: $id) { ... on Media { hash contentUrl } } }",
                json!({ "id": photo }),
                token,
            )
            .await;
        let res = restored
            .client
            .get(restored.url(node["node"]["contentUrl"].as_str().unwrap()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let bytes = res.bytes().await.unwrap();
        assert_eq!(
            crate::helpers::sha256_hex(&bytes),
            node["node"]["hash"].as_str().unwrap()
        );
    }
}
