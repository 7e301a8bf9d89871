//! The media library: uploads, sniffing, EXIF, dedup, quota, downloads, thumbnails, the
//! library page, edits, trash and purge.

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser, assert_code, sha256_hex};

async fn viewer_storage(app: &TestApp, user: &TestUser) -> (i64, i64) {
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

/// Media rows that are not thumbnails.
async fn media_count(app: &TestApp) -> i64 {
    app.sql_i64("SELECT COUNT(*) FROM media WHERE source_type IS NULL")
        .await
}

#[tokio::test]
async fn a_phone_photo_keeps_its_exif() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::jpeg(640, 480, Some(&fixtures::iphone()));
    let media = app
        .upload_ok(&ann.access_token, "IMG_0001.JPG", bytes.clone())
        .await;
    assert_eq!(media["filename"], "IMG_0001.JPG");
    assert_eq!(media["mediaType"], "PHOTO");
    assert_eq!(media["mimeType"], "image/jpeg");
    assert_eq!(media["width"], 640);
    assert_eq!(media["height"], 480);
    assert_eq!(media["size"], bytes.len());
    assert_eq!(media["hash"], sha256_hex(&bytes));
    assert_eq!(
        media["takenAt"], "2024-06-01T10:30:00+00:00",
        "12:30 at +02:00"
    );
    let meta = &media["metadata"];
    assert_eq!(meta["make"], "Apple");
    assert_eq!(meta["camera"], "iPhone 15");
    assert_eq!(meta["exposure"], "1/125");
    assert_eq!(meta["iso"], 64);
    assert_eq!(meta["orientation"], 6);
    assert!(meta["lens"].as_str().unwrap().contains("iPhone 15"));
    assert!((meta["location"]["lat"].as_f64().unwrap() - 48.8584).abs() < 1e-4);
    assert!((meta["location"]["lon"].as_f64().unwrap() - 2.2945).abs() < 1e-4);
    assert_eq!(viewer_storage(&app, &ann).await, (bytes.len() as i64, 0));
    // The seed's query on the JSON metadata finds it.
    assert_eq!(
        app.sql_i64(if app.is_postgres() {
            "SELECT COUNT(*) FROM media WHERE metadata->>'camera' = 'iPhone 15'"
        } else {
            "SELECT COUNT(*) FROM media WHERE json_extract(metadata, '$.camera') = 'iPhone 15'"
        })
        .await,
        1
    );
}

#[tokio::test]
async fn an_explicit_taken_at_wins_over_exif() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::jpeg(64, 64, Some(&fixtures::iphone()));
    let res = app
        .upload(
            &ann.access_token,
            "a.jpg",
            bytes,
            json!({ "takenAt": "2001-02-03T04:05:06Z", "filename": "renamed.jpg" }),
        )
        .await;
    let media = &res["data"]["uploadMedia"]["media"];
    assert_eq!(media["takenAt"], "2001-02-03T04:05:06+00:00", "{res}");
    assert_eq!(media["filename"], "renamed.jpg");
}

#[tokio::test]
async fn every_supported_format_is_sniffed_from_its_bytes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("a.bin", fixtures::png(30, 20), "image/png", "PHOTO"),
        ("b.bin", fixtures::gif(30, 20), "image/gif", "PHOTO"),
        ("c.bin", fixtures::webp(30, 20), "image/webp", "PHOTO"),
        ("d.bin", fixtures::heic(30, 20), "image/heic", "PHOTO"),
        (
            "e.bin",
            fixtures::mp4(1920, 1080, 12_500, 1000),
            "video/mp4",
            "VIDEO",
        ),
        (
            "f.bin",
            fixtures::mov(1280, 720, 3_000, 1000),
            "video/quicktime",
            "VIDEO",
        ),
        ("g.bin", fixtures::webm(640, 360), "video/webm", "VIDEO"),
        // The name lies; the bytes tell.
        ("photo.jpg", fixtures::png(8, 8), "image/png", "PHOTO"),
    ];
    for (name, bytes, mime, kind) in cases {
        let media = app.upload_ok(&ann.access_token, name, bytes).await;
        assert_eq!(media["mimeType"], mime, "{name}");
        assert_eq!(media["mediaType"], kind, "{name}");
    }
    let res = app
        .gql(
            "{ viewer { media(filter: { mimeType: \"video/mp4\" }) { edges { node { width height durationMs } } } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    let mp4 = &res["data"]["viewer"]["media"]["edges"][0]["node"];
    assert_eq!(mp4["width"], 1920);
    assert_eq!(mp4["height"], 1080);
    assert_eq!(mp4["durationMs"], 12_500);
}

#[tokio::test]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let mut truncated = fixtures::jpeg(200, 200, None);
    truncated.truncate(truncated.len() - 100);
    let mut truncated_mp4 = fixtures::mp4(320, 240, 1000, 5000);
    truncated_mp4.truncate(truncated_mp4.len() - 10);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage.jpg", b"this is not a picture at all".to_vec()),
        ("doc.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec()),
        ("empty.jpg", Vec::new()),
        ("truncated.jpg", truncated),
        ("truncated.mp4", truncated_mp4),
        ("movie.mkv", fixtures::matroska(320, 240)),
    ];
    for (name, bytes) in cases {
        let res = app.upload(&ann.access_token, name, bytes, json!({})).await;
        assert_code(&res, "BAD_USER_INPUT");
        assert_eq!(
            res["errors"][0]["extensions"]["field"], "file",
            "{name}: {res}"
        );
    }
    assert_eq!(media_count(&app).await, 0);
    assert_eq!(app.blob_count(), 0, "no bytes were stored");
    assert!(app.files_under("tmp").is_empty(), "no spool file was left");
    assert_eq!(viewer_storage(&app, &ann).await, (0, 0));
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bytes = fixtures::png(50, 50);
    let first = app
        .upload(&ann.access_token, "one.png", bytes.clone(), json!({}))
        .await;
    let again = app
        .upload(&ann.access_token, "two.png", bytes.clone(), json!({}))
        .await;
    assert_eq!(first["data"]["uploadMedia"]["deduplicated"], false);
    assert_eq!(again["data"]["uploadMedia"]["deduplicated"], true);
    assert_eq!(
        first["data"]["uploadMedia"]["media"]["id"],
        again["data"]["uploadMedia"]["media"]["id"]
    );
    assert_eq!(viewer_storage(&app, &ann).await, (bytes.len() as i64, 0));
    // Bob gets a media of his own, over the same stored bytes.
    let bobs = app
        .upload(&bob.access_token, "mine.png", bytes.clone(), json!({}))
        .await;
    assert_eq!(bobs["data"]["uploadMedia"]["deduplicated"], false);
    assert_eq!(media_count(&app).await, 2);
    assert!(app.blob_exists(&sha256_hex(&bytes)));
}

#[tokio::test]
async fn parallel_uploads_of_the_same_bytes_make_one_media() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(40, 40);
    let names: Vec<String> = (0..4).map(|i| format!("{i}.png")).collect();
    let uploads = names
        .iter()
        .map(|name| app.upload(&ann.access_token, name, bytes.clone(), json!({})));
    let results = futures_util::future::join_all(uploads).await;
    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| {
            r["data"]["uploadMedia"]["media"]["id"]
                .as_str()
                .expect("uploaded")
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert_eq!(media_count(&app).await, 1);
    assert_eq!(viewer_storage(&app, &ann).await, (bytes.len() as i64, 0));
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_upload_bytes = 1000).await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::png(200, 200);
    assert!(bytes.len() > 1000);
    let operations =
        json!({ "query": crate::helpers::UPLOAD, "variables": { "input": { "file": null } } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes).file_name("big.png"),
        );
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ann.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");
    assert_eq!(media_count(&app).await, 0);
    assert_eq!(app.blob_count(), 0);
}

#[tokio::test]
async fn the_quota_is_enforced_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let small = fixtures::png(10, 10);
    app.sql(&format!(
        "UPDATE users SET storage_quota = {}",
        small.len() + 10
    ))
    .await
    .unwrap();
    app.upload_ok(&ann.access_token, "small.png", small.clone())
        .await;
    let big = fixtures::png(100, 100);
    let res = app
        .upload(&ann.access_token, "big.png", big.clone(), json!({}))
        .await;
    assert_code(&res, "QUOTA_EXCEEDED");
    assert_eq!(media_count(&app).await, 1);
    assert!(!app.blob_exists(&sha256_hex(&big)));
    assert_eq!(viewer_storage(&app, &ann).await, (small.len() as i64, 0));
}

#[tokio::test]
async fn uploads_need_a_viewer() {
    let app = TestApp::spawn().await;
    let res = app
        .upload("not-a-token", "a.png", fixtures::png(5, 5), json!({}))
        .await;
    assert_code(&res, "UNAUTHENTICATED");
    assert_eq!(app.blob_count(), 0);
}
