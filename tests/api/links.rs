//! Links as first-class nodes: the graph rules, `links(...)` on every object, views over links.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

const CREATE: &str = "mutation($input: CreateLinkInput!) { createLink(input: $input) {
    link { id linkType strength sortOrder metadata from { id } to { id } } } }";

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(CREATE, json!({ "input": input }), Some(token))
        .await
}

#[tokio::test]
async fn links_follow_the_graph_rules() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let m = app.photos(&ann.access_token, 3).await;
    let album = app.create_album(&ann.access_token, "A").await;
    let bobs = app
        .upload_ok(&bob.access_token, "b.png", crate::fixtures::png(55, 55))
        .await;
    let t = ann.access_token.as_str();

    let res = create(&app, t, json!({ "fromId": m[0], "toId": m[1], "linkType": "similar_to", "strength": 0.75, "metadata": { "score": 0.9 } })).await;
    let link = &res["data"]["createLink"]["link"];
    assert_eq!(link["linkType"], "similar_to", "{res}");
    assert_eq!(link["strength"], 0.75);
    assert_eq!(link["metadata"]["score"], 0.9);
    assert_eq!(link["from"]["id"], m[0].as_str());
    assert_eq!(link["to"]["id"], m[1].as_str());
    let link_id = link["id"].as_str().unwrap().to_string();
    // A link is a node.
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { __typename ... on Link { linkType } } }",
            json!({ "id": link_id }),
            t,
        )
        .await;
    assert_eq!(
        data["node"],
        json!({ "__typename": "Link", "linkType": "similar_to" })
    );
    // One active link per (from, to, type).
    let res = create(
        &app,
        t,
        json!({ "fromId": m[0], "toId": m[1], "linkType": "similar_to" }),
    )
    .await;
    assert_code(&res, "CONFLICT");
    // The other direction is another link.
    let res = create(
        &app,
        t,
        json!({ "fromId": m[1], "toId": m[0], "linkType": "similar_to" }),
    )
    .await;
    assert!(res["errors"].is_null(), "{res}");

    for (input, code) in [
        (
            json!({ "fromId": m[0], "toId": m[1], "linkType": "Similar" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": m[1], "linkType": "9x" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": m[1], "linkType": "x".repeat(51) }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": m[1], "linkType": "likes", "strength": 1.5 }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": m[0], "linkType": "likes" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": album, "linkType": "contains" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": album, "toId": m[0], "linkType": "duplicate_of" }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": m[1], "linkType": "likes", "metadata": [1] }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "fromId": m[0], "toId": bobs["id"], "linkType": "likes" }),
            "NOT_FOUND",
        ),
        (
            json!({ "fromId": bobs["id"], "toId": m[0], "linkType": "likes" }),
            "NOT_FOUND",
        ),
    ] {
        let res = create(&app, t, input.clone()).await;
        assert_code(&res, code);
    }
    // Bob cannot touch Ann's link, and cannot link his things to hers.
    let res = app
        .gql(
            "mutation($id: ID!) { updateLink(input: { id: $id, strength: 0.1 }) { link { id } } }",
            json!({ "id": link_id }),
            Some(&bob.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    let res = app
        .gql(
            "mutation($id: ID!) { deleteLink(input: { id: $id }) { deletedId } }",
            json!({ "id": link_id }),
            Some(&bob.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    let data = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": link_id }),
            Some(&bob.access_token),
        )
        .await;
    assert!(data["data"]["node"].is_null());

    // Update merges metadata; delete frees the slot.
    let data = app
        .ok(
            "mutation($id: ID!) { updateLink(input: { id: $id, strength: 0.5, sortOrder: 7, metadata: { note: \"x\" } }) { link { strength sortOrder metadata } } }",
            json!({ "id": link_id }),
            t,
        )
        .await;
    assert_eq!(
        data["updateLink"]["link"],
        json!({ "strength": 0.5, "sortOrder": 7, "metadata": { "score": 0.9, "note": "x" } })
    );
    let res = app
        .gql(
            "mutation($id: ID!) { updateLink(input: { id: $id, strength: -1 }) { link { id } } }",
            json!({ "id": link_id }),
            Some(t),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    app.ok(
        "mutation($id: ID!) { deleteLink(input: { id: $id }) { deletedId } }",
        json!({ "id": link_id }),
        t,
    )
    .await;
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": link_id }),
            t,
        )
        .await;
    assert!(data["node"].is_null());
    let res = create(
        &app,
        t,
        json!({ "fromId": m[0], "toId": m[1], "linkType": "similar_to" }),
    )
    .await;
    assert!(res["errors"].is_null(), "{res}");
}

#[tokio::test]
async fn contains_links_made_directly_keep_the_count() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = ann.access_token.as_str();
    let m = app.photos(t, 2).await;
    let album = app.create_album(t, "A").await;
    let res = create(
        &app,
        t,
        json!({ "fromId": album, "toId": m[0], "linkType": "contains" }),
    )
    .await;
    let link = res["data"]["createLink"]["link"]["id"]
        .as_str()
        .expect("created")
        .to_string();
    let query = "query($id: ID!) { node(id: $id) { ... on Album { mediaCount } } }";
    let data = app.ok(query, json!({ "id": album }), t).await;
    assert_eq!(data["node"]["mediaCount"], 1);
    app.ok(
        "mutation($id: ID!) { deleteLink(input: { id: $id }) { deletedId } }",
        json!({ "id": link }),
        t,
    )
    .await;
    let data = app.ok(query, json!({ "id": album }), t).await;
    assert_eq!(data["node"]["mediaCount"], 0);
}

#[tokio::test]
async fn every_object_walks_its_links() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = ann.access_token.as_str();
    let m = app.photos(t, 4).await;
    let album = app.create_album(t, "A").await;
    app.add_to_album(t, &album, &m[0..2]).await;
    app.link(t, &m[0], &m[1], "similar_to").await;
    app.link(t, &m[0], &m[2], "similar_to").await;
    app.link(t, &m[3], &m[0], "similar_to").await;
    app.link(t, &m[0], &m[3], "duplicate_of").await;
    let query = "query($id: ID!, $types: [String!], $dir: Direction, $first: Int, $after: String) {
      node(id: $id) { ... on Media { links(types: $types, direction: $dir, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { linkType from { id } to { id } } other { id } } } } } }";
    let links = |types: Value, dir: &str| {
        let t = t.to_string();
        let id = m[0].clone();
        let dir = dir.to_string();
        let app = &app;
        async move {
            app.ok(
                query,
                json!({ "id": id, "types": types, "dir": dir, "first": 10 }),
                &t,
            )
            .await["node"]["links"]
                .clone()
        }
    };
    let out = links(json!(["similar_to"]), "OUT").await;
    assert_eq!(out["totalCount"], 2);
    let others: Vec<&str> = out["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["other"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(others, [m[1].as_str(), m[2].as_str()]);
    let inn = links(json!(["similar_to", "contains"]), "IN").await;
    assert_eq!(inn["totalCount"], 2, "{inn}");
    let both = links(json!(["similar_to"]), "BOTH").await;
    assert_eq!(both["totalCount"], 3);
    let all_out = links(Value::Null, "OUT").await;
    assert_eq!(all_out["totalCount"], 3, "similar_to ×2 and duplicate_of");
    // Paging through links.
    let data = app
        .ok(
            query,
            json!({ "id": m[0], "types": ["similar_to"], "dir": "BOTH", "first": 2 }),
            t,
        )
        .await;
    let page = &data["node"]["links"];
    assert_eq!(page["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let data = app
        .ok(query, json!({ "id": m[0], "types": ["similar_to"], "dir": "BOTH", "first": 2, "after": page["pageInfo"]["endCursor"] }), t)
        .await;
    assert_eq!(data["node"]["links"]["edges"].as_array().unwrap().len(), 1);

    // And backwards, from the end.
    let back = "query($id: ID!, $before: String) { node(id: $id) { ... on Media {
        links(types: [\"similar_to\"], direction: BOTH, last: 2, before: $before) {
          pageInfo { hasPreviousPage startCursor } edges { other { id } } } } } }";
    let data = app.ok(back, json!({ "id": m[0] }), t).await;
    let page = &data["node"]["links"];
    let last_two: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["other"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        last_two,
        [m[2].as_str(), m[3].as_str()],
        "in creation order"
    );
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    let data = app
        .ok(
            back,
            json!({ "id": m[0], "before": page["pageInfo"]["startCursor"] }),
            t,
        )
        .await;
    let first: Vec<&str> = data["node"]["links"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["other"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, [m[1].as_str()]);

    // Views over links.
    let data = app
        .ok(
            "query($a: ID!, $m: ID!, $d: ID!) {
              a: node(id: $a) { ... on Album { links { totalCount edges { other { id } } } } }
              m: node(id: $m) { ... on Media { albums { id } duplicates { id } } }
              d: node(id: $d) { ... on Media { duplicates { id } } }
              viewer { links(types: [\"similar_to\"]) { totalCount } } }",
            json!({ "a": album, "m": m[0], "d": m[3] }),
            t,
        )
        .await;
    assert_eq!(data["a"]["links"]["totalCount"], 2);
    assert_eq!(data["m"]["albums"], json!([{ "id": album }]));
    assert_eq!(data["m"]["duplicates"], json!([{ "id": m[3] }]));
    assert_eq!(
        data["d"]["duplicates"],
        json!([{ "id": m[0] }]),
        "duplicates go both ways"
    );
    assert_eq!(data["viewer"]["links"]["totalCount"], 3);

    // Links to a deleted object are hidden, and come back with it.
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [m[1]] }),
        t,
    )
    .await;
    assert_eq!(links(json!(["similar_to"]), "OUT").await["totalCount"], 1);
    app.ok(
        "mutation($ids: [ID!]!) { restoreMedia(input: { ids: $ids }) { restoredIds } }",
        json!({ "ids": [m[1]] }),
        t,
    )
    .await;
    assert_eq!(links(json!(["similar_to"]), "OUT").await["totalCount"], 2);

    let res = app
        .gql(
            query,
            json!({ "id": m[0], "types": ["Bad Type"], "dir": "OUT" }),
            Some(t),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    // Even errors of argument coercion carry a code.
    for vars in [json!({ "id": m[0], "dir": null }), json!({ "id": m[0] })] {
        let res = app.gql(query, vars, Some(t)).await;
        assert!(!crate::helpers::error_code(&res).is_empty(), "{res}");
    }
}
