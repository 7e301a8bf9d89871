//! Checksum-first, resumable uploads: `beginUpload`, `PATCH`/`HEAD` on the upload URL (tus
//! core semantics), `completeUpload`.

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser, assert_code, sha256_hex};

const BEGIN: &str = "mutation($input: BeginUploadInput!) { beginUpload(input: $input) {
    existing { id filename } upload { id offset size expiresAt uploadUrl } } }";
const COMPLETE: &str = "mutation($input: CompleteUploadInput!) { completeUpload(input: $input) {
    deduplicated media { id filename mimeType size hash takenAt } } }";

async fn begin(app: &TestApp, user: &TestUser, bytes: &[u8], name: &str) -> Value {
    app.gql(
        BEGIN,
        json!({ "input": { "sha256": sha256_hex(bytes), "size": bytes.len(), "mimeType": "image/jpeg", "filename": name } }),
        Some(&user.access_token),
    )
    .await
}

async fn patch(
    app: &TestApp,
    token: &str,
    url: &str,
    offset: usize,
    chunk: &[u8],
) -> reqwest::Response {
    crate::helpers::patch_chunk(&app.client, &app.url(url), token, offset, chunk).await
}

async fn head_offset(app: &TestApp, token: &str, url: &str) -> reqwest::Response {
    app.client
        .head(app.url(url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn storage(app: &TestApp, user: &TestUser) -> (i64, i64) {
    let res = app
        .gql(
            "{ viewer { storageUsed storageReserved } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    (
        res["data"]["viewer"]["storageUsed"].as_i64().unwrap(),
        res["data"]["viewer"]["storageReserved"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_file_arrives_in_chunks_and_resumes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::jpeg(800, 600, Some(&fixtures::iphone()));
    let res = begin(&app, &ann, &bytes, "big.jpg").await;
    let upload = res["data"]["beginUpload"]["upload"].clone();
    assert!(res["data"]["beginUpload"]["existing"].is_null(), "{res}");
    assert_eq!(upload["offset"], 0);
    assert_eq!(upload["size"], bytes.len());
    let url = upload["uploadUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&app.url("/uploads/")), "{url}");
    // The quota is reserved as soon as the session opens.
    assert_eq!(storage(&app, &ann).await, (0, bytes.len() as i64));

    let third = bytes.len() / 3;
    let res = patch(&app, &ann.access_token, &url, 0, &bytes[..third]).await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["upload-offset"], third.to_string().as_str());
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");

    // The connection drops; the client asks where to resume.
    let res = head_offset(&app, &ann.access_token, &url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["upload-offset"], third.to_string().as_str());
    assert_eq!(
        res.headers()["upload-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(res.headers()["cache-control"], "no-store");

    // A chunk at the wrong offset is a 409 that says where the upload stands.
    let res = patch(&app, &ann.access_token, &url, 0, &bytes[..10]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.headers()["upload-offset"], third.to_string().as_str());
    // Not yet complete.
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");

    let res = patch(&app, &ann.access_token, &url, third, &bytes[third..]).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["upload-offset"],
        bytes.len().to_string().as_str()
    );

    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&ann.access_token),
        )
        .await;
    let media = &res["data"]["completeUpload"]["media"];
    assert_eq!(media["filename"], "big.jpg", "{res}");
    assert_eq!(media["mimeType"], "image/jpeg");
    assert_eq!(media["hash"], sha256_hex(&bytes));
    assert_eq!(
        media["takenAt"], "2024-06-01T10:30:00+00:00",
        "the same pipeline as uploadMedia"
    );
    assert_eq!(res["data"]["completeUpload"]["deduplicated"], false);
    assert_eq!(storage(&app, &ann).await, (bytes.len() as i64, 0));
    // The session is gone, and so are its chunks.
    assert_eq!(
        head_offset(&app, &ann.access_token, &url).await.status(),
        404
    );
    assert!(app.files_under("blobs/uploads").is_empty());

    // Asking again for the same bytes: nothing to send.
    let res = begin(&app, &ann, &bytes, "again.jpg").await;
    assert_eq!(
        res["data"]["beginUpload"]["existing"]["id"], media["id"],
        "{res}"
    );
    assert!(res["data"]["beginUpload"]["upload"].is_null());
}

#[tokio::test]
async fn bytes_that_do_not_match_are_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(64, 64);
    let res = begin(&app, &ann, &bytes, "a.png").await;
    let upload = res["data"]["beginUpload"]["upload"].clone();
    let url = upload["uploadUrl"].as_str().unwrap();
    let mut other = bytes.clone();
    other[100] ^= 0xff;
    assert_eq!(
        patch(&app, &ann.access_token, url, 0, &other)
            .await
            .status(),
        204
    );
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM media").await, 0);
    assert_eq!(app.blob_count(), 0);
    assert_eq!(
        storage(&app, &ann).await,
        (0, 0),
        "the reservation was released"
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM upload_sessions").await, 0);
}

#[tokio::test]
async fn bad_chunks_and_bad_sessions_are_refused() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(40, 40);
    let res = begin(&app, &ann, &bytes, "a.png").await;
    let url = res["data"]["beginUpload"]["upload"]["uploadUrl"]
        .as_str()
        .unwrap()
        .to_string();

    let res = app
        .client
        .patch(app.url(&url))
        .bearer_auth(&ann.access_token)
        .header("content-type", "application/octet-stream")
        .header("upload-offset", "0")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .client
        .patch(app.url(&url))
        .bearer_auth(&ann.access_token)
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "Upload-Offset is required");
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    assert_eq!(
        patch(&app, &ann.access_token, &url, 0, &longer)
            .await
            .status(),
        413
    );
    assert_eq!(
        head_offset(&app, &ann.access_token, &url).await.headers()["upload-offset"],
        "0"
    );
    assert_eq!(
        patch(&app, &ann.access_token, "/uploads/bm9wZQ", 0, &bytes)
            .await
            .status(),
        404
    );

    for input in [
        json!({ "sha256": "abc", "size": 10, "filename": "a.png" }),
        json!({ "sha256": sha256_hex(b"x"), "size": 0, "filename": "a.png" }),
        json!({ "sha256": sha256_hex(b"x"), "size": 10, "filename": "" }),
        json!({ "sha256": sha256_hex(b"x"), "size": 10, "filename": "a.png", "mimeType": "nonsense" }),
    ] {
        let res = app
            .gql(BEGIN, json!({ "input": input }), Some(&ann.access_token))
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn sessions_belong_to_their_user() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bytes = fixtures::png(30, 30);
    let res = begin(&app, &ann, &bytes, "a.png").await;
    let upload = res["data"]["beginUpload"]["upload"].clone();
    let url = upload["uploadUrl"].as_str().unwrap();
    assert_eq!(
        patch(&app, &bob.access_token, url, 0, &bytes)
            .await
            .status(),
        404
    );
    assert_eq!(
        head_offset(&app, &bob.access_token, url).await.status(),
        404
    );
    assert_eq!(
        app.client.head(app.url(url)).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        patch(&app, &ann.access_token, url, 0, &bytes)
            .await
            .status(),
        204
    );
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&bob.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    // Ann's session is intact.
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&ann.access_token),
        )
        .await;
    assert!(res["data"]["completeUpload"]["media"].is_object(), "{res}");
}

#[tokio::test]
async fn sessions_reserve_quota_and_expire() {
    // No background maintenance: the cleanup below is the command's.
    let app = TestApp::spawn_with(|c| {
        c.upload_session_ttl_hours = 0;
        c.maintenance_interval_secs = 0;
    })
    .await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(30, 30);
    let res = begin(&app, &ann, &bytes, "a.png").await;
    let url = res["data"]["beginUpload"]["upload"]["uploadUrl"]
        .as_str()
        .unwrap()
        .to_string();
    // Already expired (a TTL of zero): the session is gone for the client.
    assert_eq!(
        patch(&app, &ann.access_token, &url, 0, &bytes)
            .await
            .status(),
        404
    );
    assert_eq!(storage(&app, &ann).await, (0, bytes.len() as i64));
    // The cleanup releases the reservation.
    let out = app.cli(&["purge"], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 expired upload sessions"));
    assert_eq!(storage(&app, &ann).await, (0, 0));
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM upload_sessions").await, 0);
}

#[tokio::test]
async fn a_session_over_the_quota_is_refused() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    app.sql("UPDATE users SET storage_quota = 1000")
        .await
        .unwrap();
    let res = app
        .gql(
            BEGIN,
            json!({ "input": { "sha256": sha256_hex(b"x"), "size": 600, "filename": "a.bin" } }),
            Some(&ann.access_token),
        )
        .await;
    assert!(res["data"]["beginUpload"]["upload"].is_object(), "{res}");
    // The first session holds 600 of the 1000 bytes: a second of 600 does not fit.
    let res = app
        .gql(
            BEGIN,
            json!({ "input": { "sha256": sha256_hex(b"y"), "size": 600, "filename": "b.bin" } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "QUOTA_EXCEEDED");
    assert_eq!(storage(&app, &ann).await, (0, 600));
}

#[tokio::test]
async fn concurrent_chunks_at_one_offset_have_one_winner() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(90, 90);
    let res = begin(&app, &ann, &bytes, "a.png").await;
    let upload = res["data"]["beginUpload"]["upload"].clone();
    let url = upload["uploadUrl"].as_str().unwrap().to_string();
    let half = bytes.len() / 2;
    let attempts = (0..4).map(|_| patch(&app, &ann.access_token, &url, 0, &bytes[..half]));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        patch(&app, &ann.access_token, &url, half, &bytes[half..])
            .await
            .status(),
        204
    );
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"] } }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(
        res["data"]["completeUpload"]["media"]["hash"],
        sha256_hex(&bytes),
        "{res}"
    );
}

#[tokio::test]
async fn completing_files_the_media_in_the_callers_album_only() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bytes = fixtures::jpeg(40, 30, Some(&fixtures::iphone()));
    let res = begin(&app, &ann, &bytes, "a.jpg").await;
    let upload = res["data"]["beginUpload"]["upload"].clone();
    let url = upload["uploadUrl"].as_str().unwrap().to_string();
    assert_eq!(
        patch(&app, &ann.access_token, &url, 0, &bytes)
            .await
            .status(),
        204
    );

    // Bob's album is not Ann's to fill: NOT_FOUND, and the session is still there.
    let bobs = app.create_album(&bob.access_token, "Bob's").await;
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"], "albumId": bobs } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM media").await, 0);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM upload_sessions").await, 1);

    let hers = app.create_album(&ann.access_token, "Ann's").await;
    let res = app
        .gql(
            COMPLETE,
            json!({ "input": { "uploadId": upload["id"], "albumId": hers } }),
            Some(&ann.access_token),
        )
        .await;
    let media = res["data"]["completeUpload"]["media"]["id"].clone();
    assert!(media.is_string(), "{res}");
    let album = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Album { mediaCount media { nodes { id } } } } }",
            json!({ "id": hers }),
            &ann.access_token,
        )
        .await;
    assert_eq!(album["node"]["mediaCount"], 1);
    assert_eq!(album["node"]["media"]["nodes"][0]["id"], media);
    let album = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Album { mediaCount } } }",
            json!({ "id": bobs }),
            &bob.access_token,
        )
        .await;
    assert_eq!(album["node"]["mediaCount"], 0);
}
