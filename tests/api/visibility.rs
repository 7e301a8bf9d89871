//! No read trusts that links never cross users: link rows planted straight into the database
//! between Ann's and Bob's objects (as a bug or a bad import could leave them) show Ann none of
//! Bob's objects through any path, on both backends (on PostgreSQL with row-level security as
//! well, and on SQLite with the queries' own filters alone).

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::TestApp;

/// Plants a link of `owner`'s from one row to another, each named by a query for its id.
async fn plant(app: &TestApp, owner: &str, from: (&str, &str), to: (&str, &str), link_type: &str) {
    app.sql(&format!(
        "INSERT INTO links (user_id, from_object_id, from_object_type, to_object_id, to_object_type, link_type)
         VALUES ((SELECT id FROM users WHERE email = '{owner}'), ({}), '{}', ({}), '{}', '{link_type}')",
        from.1, from.0, to.1, to.0
    ))
    .await
    .unwrap();
}

fn media(filename: &str) -> (&'static str, String) {
    (
        "media",
        format!("SELECT id FROM media WHERE filename = '{filename}'"),
    )
}

fn album(name: &str) -> (&'static str, String) {
    (
        "album",
        format!("SELECT id FROM albums WHERE name = '{name}'"),
    )
}

#[tokio::test]
async fn links_planted_across_users_show_nothing_of_the_other_user() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let photo = |w| fixtures::jpeg(w, 8, None);
    let a1 = app
        .upload_ok(&ann.access_token, "ann-1.jpg", photo(8))
        .await;
    let a1 = a1["id"].as_str().unwrap().to_string();
    let ann_album = app.create_album(&ann.access_token, "Ann album").await;
    app.add_to_album(&ann.access_token, &ann_album, std::slice::from_ref(&a1))
        .await;
    let b1 = app
        .upload_ok(&bob.access_token, "bob-secret.jpg", photo(9))
        .await;
    let b1 = b1["id"].as_str().unwrap().to_string();
    let bob_album = app
        .create_album(&bob.access_token, "Bob secret album")
        .await;

    let b2 = app
        .upload_ok(&bob.access_token, "bob-secret-2.jpg", photo(10))
        .await;
    let b2 = b2["id"].as_str().unwrap().to_string();

    // Every shape a read follows, planted as Ann's link rows and as Bob's.
    let (ann_email, bob_email) = ("ann@example.com", "bob@example.com");
    let (a, b, b2_row) = (
        media("ann-1.jpg"),
        media("bob-secret.jpg"),
        media("bob-secret-2.jpg"),
    );
    let (ann_a, bob_a) = (album("Ann album"), album("Bob secret album"));
    let planted = [
        (ann_email, &ann_a, &b, "contains"),
        (bob_email, &bob_a, &a, "contains"),
        (ann_email, &b, &a, "variant_of"),
        (bob_email, &b2_row, &a, "variant_of"),
        (ann_email, &b, &a, "duplicate_of"),
        (bob_email, &a, &b, "duplicate_of"),
        (ann_email, &a, &b, "similar_to"),
        (bob_email, &b, &a, "similar_to"),
        (ann_email, &ann_a, &bob_a, "related"),
        (bob_email, &bob_a, &ann_a, "related"),
    ];
    for (owner, from, to, link_type) in planted {
        plant(&app, owner, (from.0, &from.1), (to.0, &to.1), link_type).await;
    }

    let read = app
        .gql(
            "query($a: ID!, $album: ID!) {
               media: node(id: $a) { ... on Media {
                 albums { id name }
                 variants { id filename }
                 duplicates { id filename }
                 links(direction: BOTH, first: 50) { totalCount edges { node { id
                   from { id ... on Media { filename } ... on Album { name } }
                   to { id ... on Media { filename } ... on Album { name } } } } }
               } }
               album: node(id: $album) { ... on Album {
                 mediaCount coverMedia { filename }
                 media(first: 50) { edges { node { id filename } } }
                 links(direction: BOTH, first: 50) { totalCount edges { node { id
                   to { id ... on Album { name } ... on Media { filename } } } } }
               } }
               out: traverse(from: $a, direction: BOTH, maxDepth: 4, first: 100) {
                 totalCount edges { node { id ... on Media { filename } ... on Album { name } } } }
               fromAlbum: traverse(from: $album, direction: BOTH, maxDepth: 4, first: 100) {
                 totalCount edges { node { id ... on Media { filename } ... on Album { name } } } }
               viewer { links(first: 100) { totalCount edges { node { id
                 from { id } to { id } } } } }
             }",
            json!({ "a": a1, "album": ann_album }),
            Some(&ann.access_token),
        )
        .await;
    assert!(read.get("errors").is_none(), "{read}");
    let text = read.to_string();
    let read = &read["data"];
    for secret in ["bob-secret", "Bob secret album", &b1, &b2, &bob_album] {
        assert!(!text.contains(secret), "Ann sees {secret}: {read}");
    }
    // Ann's own objects are still there (the wall is not simply closed).
    assert_eq!(
        read["album"]["media"]["edges"][0]["node"]["filename"],
        "ann-1.jpg"
    );
    assert_eq!(read["media"]["albums"][0]["name"], "Ann album");
    assert_eq!(read["album"]["mediaCount"], 1);

    // Her album's count, recounted when she adds to it, counts her media only.
    let a2 = app
        .upload_ok(&ann.access_token, "ann-2.jpg", photo(11))
        .await;
    let a2 = a2["id"].as_str().unwrap().to_string();
    app.add_to_album(&ann.access_token, &ann_album, &[a2]).await;
    let count = app
        .gql(
            "query($album: ID!) { node(id: $album) { ... on Album { mediaCount } } }",
            json!({ "album": ann_album }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(count["data"]["node"]["mediaCount"], 2, "{count}");

    // Bob's objects by id: nothing, and no link row of Ann's leads to them.
    let direct = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [b1, b2, bob_album] }),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(
        direct["data"]["nodes"],
        json!([null, null, null]),
        "{direct}"
    );
    let planted: Vec<Value> = read["viewer"]["links"]["edges"]
        .as_array()
        .unwrap()
        .to_vec();
    for edge in &planted {
        let link = &edge["node"];
        for end in ["from", "to"] {
            assert!(
                !link[end].is_null(),
                "a link of Ann's to nothing of hers: {link}"
            );
        }
    }
}
