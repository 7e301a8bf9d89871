//! `User.media`: filters, sort orders, keyset pagination; `updateMedia`; `node` on media.

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser, assert_code};

const PAGE: &str = "query($filter: MediaFilterInput, $order: MediaOrder, $first: Int, $after: String, $last: Int, $before: String) {
  viewer { media(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id filename size takenAt mimeType } } } } }";

async fn page(app: &TestApp, user: &TestUser, vars: Value) -> Value {
    let res = app.gql(PAGE, vars, Some(&user.access_token)).await;
    assert!(res["errors"].is_null(), "{res}");
    res["data"]["viewer"]["media"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["filename"].as_str().unwrap().to_string())
        .collect()
}

/// Seven photos: distinct sizes, some sharing a takenAt, one without.
async fn seed(app: &TestApp, user: &TestUser) {
    let taken = [
        Some("2024-01-01T00:00:00Z"),
        Some("2024-03-01T00:00:00Z"),
        Some("2024-03-01T00:00:00Z"),
        Some("2024-03-01T00:00:00Z"),
        None,
        Some("2023-06-15T12:00:00Z"),
        Some("2025-12-31T23:59:59Z"),
    ];
    for (i, t) in taken.iter().enumerate() {
        let bytes = fixtures::png(10 + i as u32 * 7, 10);
        let res = app
            .upload(
                &user.access_token,
                &format!("Photo_{i}.png"),
                bytes,
                json!({ "takenAt": t }),
            )
            .await;
        assert!(res["data"]["uploadMedia"]["media"].is_object(), "{res}");
    }
}

#[tokio::test]
async fn every_order_pages_through_everything_exactly_once() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    seed(&app, &ann).await;
    for field in ["TAKEN_AT", "CREATED_AT", "FILENAME", "SIZE"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            let whole = names(&page(&app, &ann, json!({ "order": order, "first": 100 })).await);
            assert_eq!(whole.len(), 7);
            // Forward by twos.
            let mut seen = Vec::new();
            let mut after = Value::Null;
            loop {
                let p = page(
                    &app,
                    &ann,
                    json!({ "order": order, "first": 2, "after": after }),
                )
                .await;
                assert_eq!(p["totalCount"], 7);
                seen.extend(names(&p));
                if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    break;
                }
                after = p["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(seen, whole, "{field} {direction} forward");
            // Backward by threes.
            let mut seen = Vec::new();
            let mut before = Value::Null;
            loop {
                let p = page(
                    &app,
                    &ann,
                    json!({ "order": order, "last": 3, "before": before }),
                )
                .await;
                let mut chunk = names(&p);
                chunk.extend(seen);
                seen = chunk;
                if !p["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
                    break;
                }
                before = p["pageInfo"]["startCursor"].clone();
            }
            assert_eq!(seen, whole, "{field} {direction} backward");
        }
    }
    let by_size = names(
        &page(
            &app,
            &ann,
            json!({ "order": { "field": "SIZE", "direction": "ASC" }, "first": 100 }),
        )
        .await,
    );
    let sizes: Vec<i64> = page(
        &app,
        &ann,
        json!({ "order": { "field": "SIZE", "direction": "ASC" }, "first": 100 }),
    )
    .await["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["size"].as_i64().unwrap())
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] <= w[1]),
        "{by_size:?} {sizes:?}"
    );
    // Newest taken first, undated last.
    let taken = names(&page(&app, &ann, json!({ "first": 100 })).await);
    assert_eq!(taken.first().unwrap(), "Photo_6.png");
    assert_eq!(taken.last().unwrap(), "Photo_4.png");
    let by_name = names(
        &page(
            &app,
            &ann,
            json!({ "order": { "field": "FILENAME", "direction": "ASC" }, "first": 100 }),
        )
        .await,
    );
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted);
}

#[tokio::test]
async fn page_arguments_are_checked() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    seed(&app, &ann).await;
    for vars in [
        json!({ "first": 0 }),
        json!({ "first": 101 }),
        json!({ "last": 101 }),
        json!({ "first": 2, "last": 2 }),
        json!({ "after": "not-a-cursor" }),
    ] {
        let res = app.gql(PAGE, vars.clone(), Some(&ann.access_token)).await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    // A cursor of one order is refused in another.
    let p = page(&app, &ann, json!({ "first": 1 })).await;
    let res = app
        .gql(
            PAGE,
            json!({ "first": 1, "after": p["pageInfo"]["endCursor"], "order": { "field": "SIZE", "direction": "ASC" } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
}

#[tokio::test]
async fn filters_narrow_the_library() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    seed(&app, &ann).await;
    let phone = app
        .upload_ok(
            &ann.access_token,
            "IMG_100%_sure.jpg",
            fixtures::jpeg(40, 30, Some(&fixtures::iphone())),
        )
        .await;
    app.upload_ok(
        &ann.access_token,
        "clip.mp4",
        fixtures::mp4(64, 48, 2000, 10),
    )
    .await;
    let count = |filter: Value| {
        let app = &app;
        let ann = &ann;
        async move {
            page(app, ann, json!({ "filter": filter, "first": 100 })).await["edges"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count(json!({})).await, 9);
    assert_eq!(count(json!({ "mediaType": "VIDEO" })).await, 1);
    assert_eq!(count(json!({ "mediaType": "PHOTO" })).await, 8);
    assert_eq!(count(json!({ "mimeType": "image/jpeg" })).await, 1);
    assert_eq!(
        count(json!({ "takenAfter": "2024-03-01T00:00:00Z" })).await,
        5,
        "inclusive, with the EXIF date"
    );
    assert_eq!(
        count(json!({ "takenBefore": "2024-03-01T00:00:00Z" })).await,
        2
    );
    assert_eq!(
        count(
            json!({ "takenAfter": "2024-01-01T00:00:00Z", "takenBefore": "2024-06-01T00:00:00Z" })
        )
        .await,
        4
    );
    assert_eq!(
        count(json!({ "filenameContains": "photo_" })).await,
        7,
        "case-insensitive"
    );
    assert_eq!(
        count(json!({ "filenameContains": "100%" })).await,
        1,
        "% is literal"
    );
    assert_eq!(
        count(json!({ "filenameContains": "o_1" })).await,
        1,
        "_ is literal"
    );
    assert_eq!(count(json!({ "hash": phone["hash"] })).await, 1);
    assert_eq!(
        count(json!({ "metadataContains": { "camera": "iPhone 15" } })).await,
        1
    );
    assert_eq!(
        count(json!({ "metadataContains": { "make": "Apple", "iso": 64 } })).await,
        1
    );
    assert_eq!(
        count(json!({ "metadataContains": { "camera": "Pixel 9" } })).await,
        0
    );
    assert_eq!(
        count(json!({ "metadataContains": { "iso": "64" } })).await,
        0,
        "types matter"
    );

    let res = app
        .gql(
            "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { metadata } } }",
            json!({ "input": { "id": phone["id"], "metadata": { "tags": ["beach", "sun"], "trip": { "year": 2024, "place": "Nice" } } } }),
            Some(&ann.access_token),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
    assert_eq!(
        count(json!({ "metadataContains": { "tags": ["sun"] } })).await,
        1
    );
    assert_eq!(
        count(json!({ "metadataContains": { "tags": ["sun", "snow"] } })).await,
        0
    );
    assert_eq!(
        count(json!({ "metadataContains": { "trip": { "place": "Nice" } } })).await,
        1
    );
    assert_eq!(
        count(json!({ "metadataContains": { "trip": { "place": "Rome" } } })).await,
        0
    );
    let res = app
        .gql(
            PAGE,
            json!({ "filter": { "metadataContains": ["not", "an", "object"] } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
}

const UPDATE: &str = "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) {
    media { id filename takenAt metadata updatedAt } } }";

#[tokio::test]
async fn update_media_renames_redates_and_merges_metadata() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let media = app
        .upload_ok(
            &ann.access_token,
            "a.jpg",
            fixtures::jpeg(30, 30, Some(&fixtures::iphone())),
        )
        .await;
    let id = media["id"].clone();
    let res = app
        .gql(
            UPDATE,
            json!({ "input": { "id": id, "filename": "beach.jpg", "metadata": { "camera": null, "rating": 5 } } }),
            Some(&ann.access_token),
        )
        .await;
    let updated = &res["data"]["updateMedia"]["media"];
    assert_eq!(updated["filename"], "beach.jpg", "{res}");
    assert_eq!(updated["takenAt"], media["takenAt"], "untouched");
    assert!(updated["metadata"].get("camera").is_none());
    assert_eq!(updated["metadata"]["rating"], 5);
    assert_eq!(updated["metadata"]["make"], "Apple", "merged, not replaced");

    let res = app
        .gql(
            UPDATE,
            json!({ "input": { "id": id, "takenAt": null } }),
            Some(&ann.access_token),
        )
        .await;
    assert!(
        res["data"]["updateMedia"]["media"]["takenAt"].is_null(),
        "{res}"
    );

    for input in [
        json!({ "id": id, "filename": "" }),
        json!({ "id": id, "filename": "x".repeat(300) }),
        json!({ "id": id, "metadata": [1, 2] }),
    ] {
        let res = app
            .gql(UPDATE, json!({ "input": input }), Some(&ann.access_token))
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    // Bob cannot touch it, and it is unchanged.
    let res = app
        .gql(
            UPDATE,
            json!({ "input": { "id": id, "filename": "mine.jpg" } }),
            Some(&bob.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Media { filename } } }",
            json!({ "id": id }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["node"]["filename"], "beach.jpg");
}

#[tokio::test]
async fn another_users_media_is_invisible_everywhere() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let media = app
        .upload_ok(&ann.access_token, "a.png", fixtures::png(12, 12))
        .await;
    let id = media["id"].clone();
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } nodes(ids: [$id]) { id } }",
            json!({ "id": id }),
            Some(&bob.access_token),
        )
        .await;
    assert!(
        res["data"]["node"].is_null() && res["errors"].is_null(),
        "{res}"
    );
    assert_eq!(res["data"]["nodes"], json!([null]));
    let res = app
        .gql(
            "{ viewer { media { totalCount } trash { totalCount } } }",
            json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["media"]["totalCount"], 0);
    for mutation in ["deleteMedia", "restoreMedia", "purgeMedia"] {
        let res = app
            .gql(
                &format!("mutation($ids: [ID!]!) {{ {mutation}(input: {{ ids: $ids }}) {{ __typename }} }}"),
                json!({ "ids": [id] }),
                Some(&bob.access_token),
            )
            .await;
        assert_code(&res, "NOT_FOUND");
    }
    // Bob's searches do not see Ann's bytes either.
    let res = app
        .gql(
            PAGE,
            json!({ "filter": { "hash": media["hash"] } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["media"]["totalCount"], 0);
    // And Ann still has it.
    let res = app
        .gql(
            "{ viewer { media { totalCount } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["media"]["totalCount"], 1);
}

/// Every `Media` field is answered the same on the spot (a page whose selection is plain: no
/// `totalCount` on the library, which counts) as by its resolver (the same page with one field
/// that loads, `albums`, sends the whole page to the resolvers); the same for an album's
/// member page.
#[tokio::test]
async fn plain_pages_answer_like_the_resolvers() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    seed(&app, &ann).await;
    let album = app.create_album(&ann.access_token, "All").await;
    let all: Vec<String> = page(&app, &ann, json!({ "first": 100 })).await["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    app.add_to_album(&ann.access_token, &album, &all).await;
    let fields = "__typename id filename mediaType mimeType size width height durationMs hash
        takenAt createdAt updatedAt deletedAt metadata contentUrl";
    let query = |extra: &str| {
        format!(
            "query($a: ID!) {{ viewer {{ media(first: 5) {{ pageInfo {{ hasNextPage endCursor }}
               edges {{ cursor node {{ {fields} {extra} }} }} nodes {{ id {extra} }} }} }}
             node(id: $a) {{ ... on Album {{ media(first: 5) {{ totalCount
               edges {{ cursor node {{ {fields} {extra} }} }} }} }} }} }}"
        )
    };
    let run = |q: String| {
        let (app, token, album) = (&app, &ann.access_token, &album);
        async move { app.ok(&q, json!({ "a": album }), token).await }
    };
    let mut plain = run(query("")).await;
    let mut resolved = run(query("albums { id }")).await;
    // Signed URLs carry an expiry that may move between two requests; the rest must match.
    fn normalise(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("albums");
                if let Some(Value::String(url)) = map.get_mut("contentUrl") {
                    assert!(
                        url.contains("/content?exp=") && url.contains("&sig="),
                        "{url}"
                    );
                    url.truncate(url.find('?').unwrap());
                }
                map.values_mut().for_each(normalise);
            }
            Value::Array(items) => items.iter_mut().for_each(normalise),
            _ => {}
        }
    }
    normalise(&mut plain);
    normalise(&mut resolved);
    assert_eq!(plain, resolved);
    let node = &plain["viewer"]["media"]["edges"][0]["node"];
    assert_eq!(node["__typename"], "Media");
    assert_eq!(node["mediaType"], "PHOTO");
    assert_eq!(node["takenAt"], "2025-12-31T23:59:59+00:00");
    assert_eq!(plain["node"]["media"]["totalCount"], 7);
    assert_eq!(plain["node"]["media"]["edges"].as_array().unwrap().len(), 5);

    // A member page reads only the columns its selection needs, through fragments too; each
    // field still matches the whole row that `nodes(ids:)` reads.
    let fields: Vec<&str> = fields.split_whitespace().collect();
    for (i, field) in fields.iter().enumerate() {
        let other = fields[(i + 5) % fields.len()];
        let members = app
            .ok(
                &format!(
                    "query($a: ID!) {{ node(id: $a) {{ ... on Album {{ media(first: 7) {{
                       edges {{ node {{ id ...F }} }} nodes {{ ... on Media {{ {other} }} }} }} }} }} }}
                     fragment F on Media {{ {field} }}"
                ),
                json!({ "a": album }),
                &ann.access_token,
            )
            .await;
        let ids: Vec<&str> = members["node"]["media"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 7);
        let mut whole = app
            .ok(
                &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Media {{ {field} {other} }} }} }}"),
                json!({ "ids": ids }),
                &ann.access_token,
            )
            .await;
        let mut members = members["node"]["media"].clone();
        normalise(&mut whole);
        normalise(&mut members);
        for (k, m) in whole["nodes"].as_array().unwrap().iter().enumerate() {
            assert_eq!(members["edges"][k]["node"][field], m[field], "{field}");
            assert_eq!(members["nodes"][k][other], m[other], "{other}");
        }
    }
}
