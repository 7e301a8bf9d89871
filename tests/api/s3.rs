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
    let res = app
        .client
        .patch(app.url(upload["uploadUrl"].as_str().unwrap()))
        .bearer_auth(&ann.access_token)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(other.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
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

    // Purging removes the bytes from the bucket.
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
