//! `traverse`, batching (statements per request flat in the graph's size), isolation.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

const TRAVERSE: &str =
    "query($from: ID!, $via: [String!], $dir: Direction!, $depth: Int!, $first: Int) {
  traverse(from: $from, via: $via, direction: $dir, maxDepth: $depth, first: $first) {
    totalCount edges { depth path node { __typename id } } } }";

async fn traverse(app: &TestApp, token: &str, vars: Value) -> Value {
    app.gql(TRAVERSE, vars, Some(token)).await
}

#[tokio::test]
async fn traverse_walks_breadth_first_and_is_cycle_safe() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = ann.access_token.as_str();
    let m = app.photos(t, 5).await;
    let album = app.create_album(t, "A").await;
    app.add_to_album(t, &album, &m[0..1]).await;
    // m0 -> m1 -> m2 -> m0 (a cycle), m0 -> m2 directly, m2 -> m3, m4 alone.
    let l01 = app.link(t, &m[0], &m[1], "similar_to").await;
    app.link(t, &m[1], &m[2], "similar_to").await;
    app.link(t, &m[2], &m[0], "similar_to").await;
    let l02 = app.link(t, &m[0], &m[2], "similar_to").await;
    let l23 = app.link(t, &m[2], &m[3], "similar_to").await;

    let res = traverse(
        &app,
        t,
        json!({ "from": m[0], "via": ["similar_to"], "dir": "OUT", "depth": 5 }),
    )
    .await;
    let walk = &res["data"]["traverse"];
    assert_eq!(walk["totalCount"], 3, "{res}");
    let edges = walk["edges"].as_array().unwrap();
    let find = |id: &str| {
        edges
            .iter()
            .find(|e| e["node"]["id"] == id)
            .unwrap_or_else(|| panic!("{id} not reached: {res}"))
    };
    assert_eq!(find(&m[1])["depth"], 1);
    assert_eq!(find(&m[1])["path"], json!([l01]));
    assert_eq!(find(&m[2])["depth"], 1, "each node at its shallowest depth");
    assert_eq!(find(&m[2])["path"], json!([l02]));
    assert_eq!(find(&m[3])["depth"], 2);
    assert_eq!(find(&m[3])["path"], json!([l02, l23]));
    assert!(
        edges.iter().all(|e| e["node"]["id"] != m[0].as_str()),
        "the start is not reached again"
    );
    assert!(edges.iter().all(|e| e["node"]["id"] != m[4].as_str()));
    let depths: Vec<i64> = edges.iter().map(|e| e["depth"].as_i64().unwrap()).collect();
    assert!(
        depths.windows(2).all(|w| w[0] <= w[1]),
        "shallowest first: {depths:?}"
    );

    // Depth bounds the walk.
    let res = traverse(
        &app,
        t,
        json!({ "from": m[0], "via": ["similar_to"], "dir": "OUT", "depth": 1 }),
    )
    .await;
    assert_eq!(res["data"]["traverse"]["totalCount"], 2);
    // IN walks backwards; BOTH either way; via limits the types.
    let res = traverse(
        &app,
        t,
        json!({ "from": m[3], "via": ["similar_to"], "dir": "IN", "depth": 2 }),
    )
    .await;
    assert_eq!(res["data"]["traverse"]["totalCount"], 3, "{res}");
    let res = traverse(
        &app,
        t,
        json!({ "from": album, "dir": "BOTH", "depth": 2, "via": ["contains", "similar_to"] }),
    )
    .await;
    let reached: Vec<&str> = res["data"]["traverse"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(reached[0], m[0].as_str());
    assert_eq!(
        res["data"]["traverse"]["edges"][0]["node"]["__typename"],
        "Media"
    );
    assert_eq!(reached.len(), 3, "album -> m0 -> m1, m2: {res}");
    // first caps the answer, not the count.
    let res = traverse(
        &app,
        t,
        json!({ "from": m[0], "via": ["similar_to"], "dir": "OUT", "depth": 5, "first": 1 }),
    )
    .await;
    assert_eq!(
        res["data"]["traverse"]["edges"].as_array().unwrap().len(),
        1
    );
    assert_eq!(res["data"]["traverse"]["totalCount"], 3);

    // Deleted nodes and their links are not walked.
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [m[2]] }),
        t,
    )
    .await;
    let res = traverse(
        &app,
        t,
        json!({ "from": m[0], "via": ["similar_to"], "dir": "OUT", "depth": 5 }),
    )
    .await;
    assert_eq!(
        res["data"]["traverse"]["totalCount"], 1,
        "only m1 is left: {res}"
    );

    for (vars, code) in [
        (
            json!({ "from": m[0], "dir": "OUT", "depth": 0 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "from": m[0], "dir": "OUT", "depth": 6 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "from": m[0], "dir": "OUT", "depth": 2, "via": ["No Way"] }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "from": m[0], "dir": "OUT", "depth": 2, "first": 0 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "from": "garbage", "dir": "OUT", "depth": 2 }),
            "NOT_FOUND",
        ),
    ] {
        assert_code(&traverse(&app, t, vars).await, code);
    }
}

/// A query three levels deep that touches every batched read.
const NESTED: &str = "{ viewer { albums(first: 20) { edges { node { name mediaCount coverMedia { id }
  links(first: 5) { totalCount }
  media(first: 10) { edges { sortOrder link { id } node { filename albums { name } duplicates { id } variants { id }
    links(types: [\"similar_to\"], direction: BOTH, first: 5) { totalCount edges { other { id } } } } } } } } } } }";

/// `albums` albums of `per` media each, the media chained by `similar_to` links.
async fn build(app: &TestApp, token: &str, albums: usize, per: usize) {
    for a in 0..albums {
        let album = app.create_album(token, &format!("album {a}")).await;
        let mut ids = Vec::new();
        for i in 0..per {
            let bytes = crate::fixtures::png(5 + a as u32, 5 + i as u32);
            let media = app.upload_ok(token, &format!("a{a}-{i}.png"), bytes).await;
            ids.push(media["id"].as_str().unwrap().to_string());
        }
        app.add_to_album(token, &album, &ids).await;
        for pair in ids.windows(2) {
            app.link(token, &pair[0], &pair[1], "similar_to").await;
        }
    }
}

async fn statements_for(app: &TestApp, token: &str) -> u64 {
    let before = app.settled_statements().await;
    let data = app.ok(NESTED, json!({}), token).await;
    assert!(
        data["viewer"]["albums"]["edges"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    app.statements().await - before
}

#[tokio::test]
async fn nested_reads_are_batched_whatever_the_size() {
    let small = TestApp::spawn_with(|c| c.maintenance_interval_secs = 3600).await;
    let a = small.register("small@example.com").await;
    build(&small, &a.access_token, 2, 3).await;
    let big = TestApp::spawn_with(|c| c.maintenance_interval_secs = 3600).await;
    let b = big.register("big@example.com").await;
    build(&big, &b.access_token, 10, 3).await;
    // Five times the albums (and media, and links): the same number of statements.
    let n_small = statements_for(&small, &a.access_token).await;
    let n_big = statements_for(&big, &b.access_token).await;
    eprintln!("nested query: {n_small} statements (small graph), {n_big} (five times bigger)");
    assert_eq!(
        n_small, n_big,
        "statements per request must not grow with the graph"
    );
    assert!(n_small <= 16, "{n_small} statements");
}

#[tokio::test]
async fn a_second_user_reaches_nothing_of_the_first() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let m = app.photos(&ann.access_token, 2).await;
    let album = app.create_album(&ann.access_token, "Ann's").await;
    app.add_to_album(&ann.access_token, &album, &m).await;
    let link = app
        .link(&ann.access_token, &m[0], &m[1], "similar_to")
        .await;
    let bobs_album = app.create_album(&bob.access_token, "Bob's").await;
    let bobs_media = app
        .upload_ok(&bob.access_token, "bob.png", crate::fixtures::png(61, 61))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = Some(bob.access_token.as_str());

    let res = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [album, m[0], link] }),
            b,
        )
        .await;
    assert_eq!(res["data"]["nodes"], json!([null, null, null]), "{res}");
    let attempts: Vec<(&str, Value)> = vec![
        (
            "mutation($v: ID!) { updateAlbum(input: { id: $v, name: \"mine\" }) { album { id } } }",
            json!({ "v": album }),
        ),
        (
            "mutation($v: ID!) { deleteAlbum(input: { id: $v }) { deletedId } }",
            json!({ "v": album }),
        ),
        (
            "mutation($v: ID!) { restoreAlbum(input: { id: $v }) { album { id } } }",
            json!({ "v": album }),
        ),
        (
            "mutation($v: ID!, $m: [ID!]!) { addMediaToAlbum(input: { albumId: $v, mediaIds: $m }) { album { id } } }",
            json!({ "v": album, "m": [bobs_media] }),
        ),
        (
            "mutation($v: ID!, $m: [ID!]!) { addMediaToAlbum(input: { albumId: $v, mediaIds: $m }) { album { id } } }",
            json!({ "v": bobs_album, "m": [m[0]] }),
        ),
        (
            "mutation($v: ID!, $m: [ID!]!) { removeMediaFromAlbum(input: { albumId: $v, mediaIds: $m }) { album { id } } }",
            json!({ "v": album, "m": [m[0]] }),
        ),
        (
            "mutation($v: ID!, $m: [ID!]!) { removeMediaFromAlbum(input: { albumId: $v, mediaIds: $m }) { album { id } } }",
            json!({ "v": bobs_album, "m": [m[0]] }),
        ),
        (
            "mutation($v: ID!, $m: ID!) { moveAlbumMedia(input: { albumId: $v, mediaId: $m }) { link { id } } }",
            json!({ "v": album, "m": m[0] }),
        ),
        (
            "mutation($v: ID!) { updateAlbum(input: { id: $v, coverMediaId: null }) { album { id } } }",
            json!({ "v": album }),
        ),
        (
            "mutation($v: ID!, $m: ID!) { updateAlbum(input: { id: $v, coverMediaId: $m }) { album { id } } }",
            json!({ "v": bobs_album, "m": m[0] }),
        ),
        (
            "mutation($v: ID!, $m: ID!) { createLink(input: { fromId: $v, toId: $m, linkType: \"likes\" }) { link { id } } }",
            json!({ "v": bobs_media, "m": m[0] }),
        ),
        (
            "mutation($v: ID!, $m: ID!) { createLink(input: { fromId: $v, toId: $m, linkType: \"contains\" }) { link { id } } }",
            json!({ "v": album, "m": bobs_media }),
        ),
        (
            "mutation($v: ID!) { updateLink(input: { id: $v, strength: 0 }) { link { id } } }",
            json!({ "v": link }),
        ),
        (
            "mutation($v: ID!) { deleteLink(input: { id: $v }) { deletedId } }",
            json!({ "v": link }),
        ),
        (
            "query($v: ID!) { traverse(from: $v, maxDepth: 3) { totalCount } }",
            json!({ "v": m[0] }),
        ),
        (
            "query($v: ID!) { traverse(from: $v, maxDepth: 3, direction: BOTH) { totalCount } }",
            json!({ "v": album }),
        ),
        (
            "query($v: ID!) { viewer { media(filter: { inAlbum: $v }) { totalCount } } }",
            json!({ "v": album }),
        ),
    ];
    for (query, vars) in attempts {
        let res = app.gql(query, vars, b).await;
        let code = crate::helpers::error_code(&res);
        assert!(
            code == "NOT_FOUND" || code == "BAD_USER_INPUT",
            "{query}: {res}"
        );
        assert_ne!(code, "FORBIDDEN");
    }
    // Bob's own walk never crosses into Ann's graph.
    let res = app
        .gql(
            "query($v: ID!) { traverse(from: $v, maxDepth: 5, direction: BOTH, via: [\"similar_to\", \"contains\", \"likes\"]) { totalCount } }",
            json!({ "v": bobs_media }),
            b,
        )
        .await;
    assert_eq!(res["data"]["traverse"]["totalCount"], 0);
    // And Ann's graph is intact.
    let data = app
        .ok("query($a: ID!) { node(id: $a) { ... on Album { name mediaCount } } viewer { links(types: [\"similar_to\"]) { totalCount } } }", json!({ "a": album }), &ann.access_token)
        .await;
    assert_eq!(data["node"], json!({ "name": "Ann's", "mediaCount": 2 }));
    assert_eq!(data["viewer"]["links"]["totalCount"], 1);
}
