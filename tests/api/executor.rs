//! The planned executor: fields merged and answered in selection order, field errors nulled
//! to the nearest nullable parent, the same answers as async-graphql's own resolvers, and
//! statements per request flat in the size of the pages whatever the selection asks.

use hypernet::config::ExecutorMode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, sha256_hex};
use crate::ordered::Json;

/// A user with `photos` photos (newest first in `ids`), an album holding them all and a
/// `similar_to` link from the first to the second.
struct Library {
    user: TestUser,
    ids: Vec<String>,
    album: String,
}

async fn library(app: &TestApp, email: &str, photos: usize) -> Library {
    let user = app.register(email).await;
    let mut ids = app.photos(&user.access_token, photos).await;
    let album = app.create_album(&user.access_token, "Holiday").await;
    app.add_to_album(&user.access_token, &album, &ids).await;
    if photos > 1 {
        app.link(&user.access_token, &ids[0], &ids[1], "similar_to")
            .await;
    }
    // The library's order: no `takenAt`, so newest first.
    ids.reverse();
    Library { user, ids, album }
}

fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[tokio::test]
async fn one_field_selected_through_two_fragments_answers_both_halves_in_order() {
    let app = TestApp::spawn().await;
    let lib = library(&app, "ann@example.com", 3).await;
    let token = Some(lib.user.access_token.as_str());
    let edges = lib
        .ids
        .iter()
        .map(|id| format!(r#"{{"node":{{"id":{}}}}}"#, quoted(id)))
        .collect::<Vec<_>>()
        .join(",");

    // Relay and Apollo build documents like this from colocated fragments.
    let res = app
        .gql_ordered(
            "{ viewer { ...A ...B } }
             fragment A on User { media(first: 5) { edges { node { id } } } }
             fragment B on User { media(first: 5) { pageInfo { hasNextPage } totalCount } }",
            json!({}),
            token,
        )
        .await;
    let expected = format!(
        r#"{{"data":{{"viewer":{{"media":{{"edges":[{edges}],"pageInfo":{{"hasNextPage":false}},"totalCount":3}}}}}}}}"#
    );
    assert_eq!(res.to_string(), expected);

    let res = app
        .gql_ordered(
            "{ viewer { media(first: 5) { edges { node { id } } } media(first: 5) { pageInfo { hasNextPage } } } }",
            json!({}),
            token,
        )
        .await;
    let expected = format!(
        r#"{{"data":{{"viewer":{{"media":{{"edges":[{edges}],"pageInfo":{{"hasNextPage":false}}}}}}}}}}"#
    );
    assert_eq!(res.to_string(), expected);
}

const ORDER_QUERY: &str = "query($album: ID!) {
  node(id: $album) { ... on Album {
    media(first: 5) { edges { addedAt link { linkType } node { variants { id } albums { name } id links(direction: BOTH) { edges { other { id } node { linkType } cursor } totalCount } filename } sortOrder } totalCount }
    name coverMedia { id } links { totalCount }
  } }
  viewer { albums { totalCount edges { node { name } } } integrations { totalCount edges { cursor } } id }
}";

#[tokio::test]
async fn keys_come_in_the_order_asked_whatever_each_field_loads() {
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let lib = library(&app, "ann@example.com", 2).await;
    let token = Some(lib.user.access_token.as_str());
    // Thumbnails are made in the background: wait for them, so both servers see them.
    app.settled_statements().await;
    let res = app
        .gql_ordered(ORDER_QUERY, json!({ "album": lib.album }), token)
        .await;
    assert_eq!(res.keys(), ["data"], "{res}");
    assert_eq!(res.at("data").keys(), ["node", "viewer"]);
    let album = res.at("data.node");
    assert_eq!(album.keys(), ["media", "name", "coverMedia", "links"]);
    assert_eq!(album.at("media").keys(), ["edges", "totalCount"]);
    let edge = album.at("media.edges.1");
    assert_eq!(edge.keys(), ["addedAt", "link", "node", "sortOrder"]);
    assert_eq!(
        edge.at("node").keys(),
        ["variants", "albums", "id", "links", "filename"]
    );
    assert_eq!(edge.at("node.variants").len(), 2, "{res}");
    let link_edge = edge.at("node.links.edges.0");
    assert_eq!(link_edge.keys(), ["other", "node", "cursor"]);
    assert_eq!(
        res.at("data.viewer").keys(),
        ["albums", "integrations", "id"]
    );
    // A list with nothing in it answers no faster than one with rows.
    assert_eq!(
        res.at("data.viewer.integrations").keys(),
        ["totalCount", "edges"]
    );
    assert_eq!(res.at("data.viewer.albums").keys(), ["totalCount", "edges"]);

    // async-graphql's own resolvers answer the same text, put in order.
    let resolvers = app
        .spawn_beside(|c| c.executor = ExecutorMode::Resolvers)
        .await;
    let again = resolvers
        .gql_ordered(ORDER_QUERY, json!({ "album": lib.album }), token)
        .await;
    assert_eq!(again.to_string(), res.to_string());
}

#[tokio::test]
async fn a_field_error_nulls_the_nearest_field_that_may_be_null() {
    let app = TestApp::spawn().await;
    let lib = library(&app, "ann@example.com", 2).await;
    let token = Some(lib.user.access_token.as_str());
    let second = app.create_album(&lib.user.access_token, "Second").await;
    let resolvers = app
        .spawn_beside(|c| c.executor = ExecutorMode::Resolvers)
        .await;
    let cases = [
        // `node` may be null: the album is, and the error is at `media`.
        (
            "query($a: ID!) { node(id: $a) { ... on Album { name media(first: 0) { totalCount } } } }",
            json!({ "a": lib.album }),
            r#"{"node":null}"#,
            vec![r#"["node","media"]"#],
        ),
        // Items of `nodes` may be null: each is.
        (
            "query($a: ID!, $b: ID!) { nodes(ids: [$a, $b]) { id ... on Album { media(first: 0) { totalCount } } } }",
            json!({ "a": lib.album, "b": second }),
            r#"{"nodes":[null,null]}"#,
            vec![r#"["nodes",0,"media"]"#, r#"["nodes",1,"media"]"#],
        ),
        // Nothing on the way up may be null: the whole data is. As in graphql-js, the
        // error that nulls the list is reported, not those of items after it.
        (
            "{ viewer { albums { edges { node { media(first: 101) { totalCount } } } } } }",
            json!({}),
            "null",
            vec![r#"["viewer","albums","edges",0,"node","media"]"#],
        ),
        // A root field that may be null keeps its siblings.
        (
            "query($a: ID!) { first: node(id: $a) { id } second: node(id: \"nope\") { id } bad: node(id: $a) { ... on Album { media(last: 0) { totalCount } } } }",
            json!({ "a": lib.album }),
            &format!(
                r#"{{"first":{{"id":{}}},"second":null,"bad":null}}"#,
                quoted(&lib.album)
            ),
            vec![r#"["bad","media"]"#],
        ),
    ];
    for (query, vars, data, paths) in cases {
        for server in [&app, &resolvers] {
            let res = server.gql_ordered(query, vars.clone(), token).await;
            assert_eq!(res.at("data").to_string(), data, "{query}: {res}");
            let Json::Array(errors) = res.at("errors") else {
                panic!("no errors: {res}");
            };
            let mut got: Vec<String> = errors.iter().map(|e| e.at("path").to_string()).collect();
            got.sort();
            assert_eq!(got, paths, "{query}: {res}");
            for e in errors {
                assert_eq!(e.at("extensions.code").as_str(), Some("BAD_USER_INPUT"));
            }
        }
    }
}

#[tokio::test]
async fn mutation_payloads_are_answered_by_the_planned_executor() {
    let app = TestApp::spawn().await;
    let lib = library(&app, "ann@example.com", 3).await;
    let token = Some(lib.user.access_token.as_str());
    let res = app
        .gql_ordered(
            "mutation($a: ID!, $m: [ID!]!) { removeMediaFromAlbum(input: { albumId: $a, mediaIds: $m }) {
               album { mediaCount media(first: 5) { totalCount edges { addedAt node { id } } } }
               album { id name media(first: 5) { edges { sortOrder } } }
               __typename } }",
            json!({ "a": lib.album, "m": [lib.ids[0]] }),
            token,
        )
        .await;
    let payload = res.at("data.removeMediaFromAlbum");
    assert_eq!(payload.keys(), ["album", "__typename"], "{res}");
    assert_eq!(
        payload.at("album").keys(),
        ["mediaCount", "media", "id", "name"]
    );
    assert_eq!(payload.at("album.media").keys(), ["totalCount", "edges"]);
    assert_eq!(
        payload.at("album.media.edges.0").keys(),
        ["addedAt", "node", "sortOrder"]
    );
    assert_eq!(payload.at("album.media.totalCount").to_string(), "2");
    assert_eq!(
        payload.at("__typename").as_str(),
        Some("AlbumPayload"),
        "{res}"
    );
}

/// Screens as apps build them: each shape must cost the same statements whatever the size of
/// the graph (no read per item).
const SHAPES: &[(&str, &str)] = &[
    (
        "album page, added, link, cover, relay fragments",
        "{ viewer { albums(first: 20) { edges { node { ...Grid ...Meta coverMedia { id } } } } } }
         fragment Grid on Album { media(first: 50) { edges { addedAt link { id } node { id ...Tile } } } }
         fragment Meta on Album { name media(first: 50) { pageInfo { hasNextPage endCursor } totalCount edges { node { filename } } } }
         fragment Tile on Media { takenAt variants { id width } }",
    ),
    (
        "timeline with thumbnails",
        "{ viewer { media(first: 100) { totalCount edges { node { id takenAt contentUrl variants { id width contentUrl } albums { id } } } } } }",
    ),
    (
        "integrations with their media",
        "{ viewer { integrations(first: 20) { totalCount nodes { name hasCredentials media(first: 10) { totalCount edges { node { id source { id } } } } links { totalCount } } } } }",
    ),
    (
        "graph walk",
        "{ viewer { media(first: 50) { nodes { id links(direction: BOTH, first: 10) { totalCount edges { other { id ... on Media { duplicates { id } variants { id } } } node { from { id } to { id } } } } } } } }",
    ),
];

/// `albums` albums of `per` photos each (all linked `similar_to` in a chain), and
/// `integrations` integrations that each brought every photo of one album.
async fn build(app: &TestApp, user: &TestUser, albums: usize, per: usize) {
    let token = &user.access_token;
    for a in 0..albums {
        let album = app.create_album(token, &format!("album {a}")).await;
        let mut ids = Vec::new();
        let mut items = Vec::new();
        for i in 0..per {
            let bytes = crate::fixtures::png(5 + a as u32, 5 + i as u32);
            items.push(json!({ "externalId": format!("{a}-{i}"), "filename": "x.png", "sha256": sha256_hex(&bytes) }));
            let media = app.upload_ok(token, &format!("a{a}-{i}.png"), bytes).await;
            ids.push(media["id"].as_str().unwrap().to_string());
        }
        app.add_to_album(token, &album, &ids).await;
        for pair in ids.windows(2) {
            app.link(token, &pair[0], &pair[1], "similar_to").await;
        }
        let integration = app
            .ok(
                "mutation($n: String!) { createIntegration(input: { integrationType: \"photo_cloud\", name: $n }) { integration { id } } }",
                json!({ "n": format!("cloud {a}") }),
                token,
            )
            .await["createIntegration"]["integration"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let imported = app
            .ok(
                "mutation($i: ID!, $items: [ImportItemInput!]!) { importMedia(input: { integrationId: $i, items: $items }) { imported } }",
                json!({ "i": integration, "items": items }),
                token,
            )
            .await;
        assert_eq!(imported["importMedia"]["imported"], per, "{imported}");
    }
}

async fn statements(app: &TestApp, token: &str, query: &str) -> (u64, Value) {
    let before = app.settled_statements().await;
    let data = app.ok(query, json!({}), token).await;
    (app.statements().await - before, data)
}

#[tokio::test]
async fn every_shape_of_a_screen_costs_the_same_statements_whatever_its_size() {
    let small = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let a = small.register("small@example.com").await;
    build(&small, &a, 2, 3).await;
    let big = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let b = big.register("big@example.com").await;
    build(&big, &b, 6, 5).await;
    for (shape, query) in SHAPES {
        let (n_small, data) = statements(&small, &a.access_token, query).await;
        let (n_big, big_data) = statements(&big, &b.access_token, query).await;
        eprintln!("{shape}: {n_small} statements (small graph), {n_big} (bigger)");
        assert!(data["viewer"].is_object() && big_data["viewer"].is_object());
        assert_eq!(n_small, n_big, "{shape}: statements grew with the graph");
    }
    // The integrations' pages hold what each brought.
    let (_, data) = statements(&big, &b.access_token, SHAPES[2].1).await;
    let nodes = data["viewer"]["integrations"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 6);
    for node in nodes {
        assert_eq!(node["media"]["totalCount"], 5, "{node}");
        assert_eq!(node["media"]["edges"].as_array().unwrap().len(), 5);
        let source = node["media"]["edges"][0]["node"]["source"]["id"].clone();
        assert!(source.is_string(), "{node}");
    }
}

#[tokio::test]
async fn a_mutation_selected_twice_under_one_key_runs_once() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let res = app
        .gql_ordered(
            "mutation { made: createAlbum(input: { name: \"Once\" }) { album { id } }
                        made: createAlbum(input: { name: \"Once\" }) { album { name } } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res.at("data.made.album").keys(), ["id", "name"], "{res}");
    let albums = app
        .ok(
            "{ viewer { albums { totalCount } } }",
            json!({}),
            &ann.access_token,
        )
        .await;
    assert_eq!(albums["viewer"]["albums"]["totalCount"], 1, "{albums}");
}
