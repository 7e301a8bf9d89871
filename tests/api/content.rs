//! Downloads (`/media/{id}/content`, signed `contentUrl`) and thumbnails.

use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde_json::json;

use crate::fixtures;
use crate::helpers::TestApp;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[tokio::test]
async fn owners_download_with_a_token_and_ranges_work() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let bytes = fixtures::png(120, 80);
    let media = app
        .upload_ok(&ann.access_token, "a.png", bytes.clone())
        .await;
    let url = app.url(&format!("/media/{}/content", media["id"].as_str().unwrap()));

    let res = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", media["hash"].as_str().unwrap()));
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);

    let res = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()["content-range"].to_str().unwrap(),
        format!("bytes 10-19/{}", bytes.len())
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes[10..20]);

    let res = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.bytes().await.unwrap().to_vec(),
        bytes[bytes.len() - 5..]
    );

    let res = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 416);

    let res = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // Bob cannot tell Ann's media from a missing one; nobody gets in without credentials.
    let res = app
        .client
        .get(&url)
        .bearer_auth(&bob.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url("/media/not-an-id/content"))
        .bearer_auth(&ann.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Signs like the server does, with the secret it generated in the data dir.
fn sign(app: &TestApp, media_uuid: uuid::Uuid, exp: i64) -> String {
    let secret = hex::decode(
        std::fs::read_to_string(app.data_dir.path().join("jwt_secret"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&secret).unwrap();
    mac.update(b"hypernet content-url signing key v1");
    let key = mac.finalize().into_bytes();
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(media_uuid.as_bytes());
    mac.update(&exp.to_be_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn uuid_of(global_id: &str) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global_id)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

#[tokio::test]
async fn signed_urls_work_without_a_header_until_they_expire() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::gif(16, 16);
    let media = app
        .upload_ok(&ann.access_token, "a.gif", bytes.clone())
        .await;
    let content_url = media["contentUrl"].as_str().unwrap();
    // Absolute, from the request's own host (no public URL is configured here).
    let own = app.url("/media/");
    assert!(content_url.starts_with(&own), "{content_url}");
    let res = app.client.get(app.url(content_url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);

    // Tampering with the signature or the expiry is refused.
    let tampered = content_url.replace("sig=", "sig=00");
    assert_eq!(
        app.client
            .get(app.url(&tampered))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let (base, _) = content_url.split_once("?").unwrap();
    let exp: i64 = content_url
        .split("exp=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let sig = content_url.split("sig=").nth(1).unwrap();
    let stretched = format!("{base}?exp={}&sig={sig}", exp + 86_400);
    assert_eq!(
        app.client
            .get(app.url(&stretched))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // A correctly signed URL that expired is refused; the same signing with a future expiry
    // is accepted (so the refusal is about the time).
    let id = uuid_of(media["id"].as_str().unwrap());
    let past = chrono::Utc::now().timestamp() - 10;
    let expired = format!("{base}?exp={past}&sig={}", sign(&app, id, past));
    assert_eq!(
        app.client
            .get(app.url(&expired))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let future = chrono::Utc::now().timestamp() + 60;
    let fresh = format!("{base}?exp={future}&sig={}", sign(&app, id, future));
    assert_eq!(
        app.client
            .get(app.url(&fresh))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A signature for one media does not open another.
    let other = app
        .upload_ok(&ann.access_token, "b.png", fixtures::png(9, 9))
        .await;
    let swapped = format!(
        "/media/{}/content?{}",
        other["id"].as_str().unwrap(),
        content_url.split_once('?').unwrap().1
    );
    assert_eq!(
        app.client
            .get(app.url(&swapped))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn deleted_media_cannot_be_downloaded() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let media = app
        .upload_ok(&ann.access_token, "a.png", fixtures::png(9, 9))
        .await;
    let id = media["id"].as_str().unwrap();
    app.gql(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [id] }),
        Some(&ann.access_token),
    )
    .await;
    let url = app.url(&format!("/media/{id}/content"));
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&ann.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let signed = app.url(media["contentUrl"].as_str().unwrap());
    assert_eq!(app.client.get(&signed).send().await.unwrap().status(), 404);
}

/// The variants of media `id` once there are `count` of them.
pub(crate) async fn wait_for_variants(
    app: &TestApp,
    token: &str,
    id: &str,
    count: usize,
) -> serde_json::Value {
    let query = "query($id: ID!) { node(id: $id) { ... on Media { variants { id width height mimeType size contentUrl hash } } } }";
    for _ in 0..200 {
        let res = app.gql(query, json!({ "id": id }), Some(token)).await;
        let variants = res["data"]["node"]["variants"].clone();
        if variants.as_array().is_some_and(|v| v.len() >= count) {
            return variants;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("thumbnails were not made in time");
}

#[tokio::test]
async fn photos_get_thumbnails_with_their_orientation_applied() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bytes = fixtures::jpeg(2000, 1500, Some(&fixtures::iphone()));
    let media = app
        .upload_ok(&ann.access_token, "IMG.JPG", bytes.clone())
        .await;
    let id = media["id"].as_str().unwrap();
    let variants = wait_for_variants(&app, &ann.access_token, id, 2).await;
    // Orientation 6 turns the 2000x1500 landscape into a portrait.
    assert_eq!(
        (
            variants[0]["width"].as_i64(),
            variants[0]["height"].as_i64()
        ),
        (Some(192), Some(256))
    );
    assert_eq!(
        (
            variants[1]["width"].as_i64(),
            variants[1]["height"].as_i64()
        ),
        (Some(768), Some(1024))
    );
    assert_eq!(variants[0]["mimeType"], "image/jpeg");
    // They download like any media.
    let thumb = app
        .client
        .get(app.url(variants[0]["contentUrl"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    let decoded = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (192, 256));

    // They are not part of the library, its totals or the quota.
    let res = app
        .gql(
            "{ viewer { storageUsed media { totalCount edges { node { id } } } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["media"]["totalCount"], 1);
    assert_eq!(res["data"]["viewer"]["storageUsed"], bytes.len());
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'variant_of'")
            .await,
        2
    );
    assert_eq!(
        app.sql_i64("SELECT media_count FROM user_storage WHERE email = 'ann@example.com'")
            .await,
        1
    );
}

#[tokio::test]
async fn small_photos_are_not_blown_up_and_videos_get_none() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let media = app
        .upload_ok(&ann.access_token, "tiny.png", fixtures::png(100, 50))
        .await;
    let variants =
        wait_for_variants(&app, &ann.access_token, media["id"].as_str().unwrap(), 2).await;
    assert_eq!(
        (
            variants[0]["width"].as_i64(),
            variants[0]["height"].as_i64()
        ),
        (Some(100), Some(50))
    );
    let video = app
        .upload_ok(&ann.access_token, "v.mp4", fixtures::mp4(64, 64, 1000, 100))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Media { variants { id } } } }",
            json!({ "id": video["id"] }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["node"]["variants"], json!([]));
}
