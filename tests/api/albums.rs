//! Albums: membership, order, cover, counts (also under concurrency), graph-aware trash.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

const MEMBERS: &str = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on Album { name mediaCount coverMedia { id }
    media(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor sortOrder addedAt link { id linkType } node { id filename } } } } } }";

async fn members(app: &TestApp, token: &str, album: &str) -> Vec<String> {
    let data = app
        .ok(MEMBERS, json!({ "id": album, "first": 100 }), token)
        .await;
    data["node"]["media"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn album(app: &TestApp, token: &str, id: &str) -> Value {
    app.ok(MEMBERS, json!({ "id": id, "first": 1 }), token)
        .await["node"]
        .clone()
}

async fn add_at(
    app: &TestApp,
    token: &str,
    album: &str,
    media: &[String],
    after: Option<Option<&str>>,
) -> Value {
    let mut input = json!({ "albumId": album, "mediaIds": media });
    if let Some(after) = after {
        input["afterMediaId"] = json!(after);
    }
    app.gql(
        "mutation($input: AddMediaToAlbumInput!) { addMediaToAlbum(input: $input) { album { mediaCount } } }",
        json!({ "input": input }),
        Some(token),
    )
    .await
}

async fn move_after(
    app: &TestApp,
    token: &str,
    album: &str,
    media: &str,
    after: Option<&str>,
) -> Value {
    app.gql(
        "mutation($input: MoveAlbumMediaInput!) { moveAlbumMedia(input: $input) { link { sortOrder } album { mediaCount } } }",
        json!({ "input": { "albumId": album, "mediaId": media, "afterMediaId": after } }),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn albums_are_created_edited_and_validated() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let data = app
        .ok(
            "mutation { createAlbum(input: { name: \"  Summer  \", description: \"Beach days\" }) { album { id name description mediaCount coverMedia { id } deletedAt } } }",
            json!({}),
            &ann.access_token,
        )
        .await;
    let a = &data["createAlbum"]["album"];
    assert_eq!(a["name"], "Summer");
    assert_eq!(a["description"], "Beach days");
    assert_eq!(a["mediaCount"], 0);
    assert!(a["coverMedia"].is_null());
    let id = a["id"].as_str().unwrap();
    let data = app
        .ok(
            "mutation($id: ID!) { updateAlbum(input: { id: $id, name: \"Winter\", description: null }) { album { name description } } }",
            json!({ "id": id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(
        data["updateAlbum"]["album"],
        json!({ "name": "Winter", "description": null })
    );
    for name in ["", "   ", &"x".repeat(256)] {
        let res = app
            .gql(
                "mutation($n: String!) { createAlbum(input: { name: $n }) { album { id } } }",
                json!({ "n": name }),
                Some(&ann.access_token),
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    let data = app
        .ok(
            "{ viewer { albums { totalCount edges { node { name } } } } }",
            json!({}),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["viewer"]["albums"]["totalCount"], 1);
}

#[tokio::test]
async fn members_keep_their_order_and_their_links() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let m = app.photos(&ann.access_token, 5).await;
    let album_id = app.create_album(&ann.access_token, "A").await;
    let a = app
        .add_to_album(&ann.access_token, &album_id, &m[0..3])
        .await;
    assert_eq!(a["mediaCount"], 3);
    assert_eq!(members(&app, &ann.access_token, &album_id).await, m[0..3]);
    // After m0; null puts it first.
    add_at(
        &app,
        &ann.access_token,
        &album_id,
        &m[3..4],
        Some(Some(&m[0])),
    )
    .await;
    add_at(&app, &ann.access_token, &album_id, &m[4..5], Some(None)).await;
    let expected = vec![
        m[4].clone(),
        m[0].clone(),
        m[3].clone(),
        m[1].clone(),
        m[2].clone(),
    ];
    assert_eq!(members(&app, &ann.access_token, &album_id).await, expected);
    // Adding members again changes nothing: no second link, no error.
    let res = add_at(&app, &ann.access_token, &album_id, &m[0..2], None).await;
    assert_eq!(
        res["data"]["addMediaToAlbum"]["album"]["mediaCount"], 5,
        "{res}"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'contains'")
            .await,
        5
    );
    assert_eq!(members(&app, &ann.access_token, &album_id).await, expected);

    let data = app
        .ok(
            MEMBERS,
            json!({ "id": album_id, "first": 5 }),
            &ann.access_token,
        )
        .await;
    let edges = data["node"]["media"]["edges"].as_array().unwrap();
    let orders: Vec<i64> = edges
        .iter()
        .map(|e| e["sortOrder"].as_i64().unwrap())
        .collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]), "{orders:?}");
    assert_eq!(edges[0]["link"]["linkType"], "contains");
    assert!(edges[0]["addedAt"].is_string());
    assert_eq!(data["node"]["media"]["totalCount"], 5);
    // The default cover is the first member.
    assert_eq!(data["node"]["coverMedia"]["id"], m[4].as_str());

    // Pages visit every member exactly once, both ways.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let p = app
            .ok(
                MEMBERS,
                json!({ "id": album_id, "first": 2, "after": after }),
                &ann.access_token,
            )
            .await;
        let conn = &p["node"]["media"];
        seen.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected);
    let p = app
        .ok(
            MEMBERS,
            json!({ "id": album_id, "last": 2 }),
            &ann.access_token,
        )
        .await;
    let last: Vec<&str> = p["node"]["media"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(last, [m[1].as_str(), m[2].as_str()]);
    assert_eq!(p["node"]["media"]["pageInfo"]["hasPreviousPage"], true);

    let res = add_at(
        &app,
        &ann.access_token,
        &album_id,
        &m[0..1],
        Some(Some("not-an-id")),
    )
    .await;
    assert_code(&res, "NOT_FOUND");
}

#[tokio::test]
async fn moves_rewrite_one_row_and_survive_many_moves() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let m = app.photos(&ann.access_token, 4).await;
    let album_id = app.create_album(&ann.access_token, "A").await;
    app.add_to_album(&ann.access_token, &album_id, &m).await;
    let before: Vec<i64> = sort_orders(&app).await;
    let res = move_after(&app, &ann.access_token, &album_id, &m[3], Some(&m[0])).await;
    assert!(res["errors"].is_null(), "{res}");
    let after: Vec<i64> = sort_orders(&app).await;
    let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert_eq!(changed, 1, "one row rewritten: {before:?} -> {after:?}");
    assert_eq!(
        members(&app, &ann.access_token, &album_id).await,
        [m[0].clone(), m[3].clone(), m[1].clone(), m[2].clone()]
    );
    move_after(&app, &ann.access_token, &album_id, &m[2], None).await;
    assert_eq!(
        members(&app, &ann.access_token, &album_id).await,
        [m[2].clone(), m[0].clone(), m[3].clone(), m[1].clone()]
    );

    // Squeezing between the same two neighbours again and again exhausts the gap; the album
    // is renumbered and the order stays right.
    for i in 0..60 {
        let (mover, after) = if i % 2 == 0 {
            (&m[1], &m[2])
        } else {
            (&m[3], &m[2])
        };
        let res = move_after(&app, &ann.access_token, &album_id, mover, Some(after)).await;
        assert!(res["errors"].is_null(), "{res}");
    }
    let order = members(&app, &ann.access_token, &album_id).await;
    assert_eq!(
        order,
        [m[2].clone(), m[3].clone(), m[1].clone(), m[0].clone()]
    );
    assert_eq!(
        album(&app, &ann.access_token, &album_id).await["mediaCount"],
        4
    );

    let res = move_after(&app, &ann.access_token, &album_id, &m[1], Some(&m[1])).await;
    assert_code(&res, "BAD_USER_INPUT");
    let other = app
        .upload_ok(&ann.access_token, "other.png", crate::fixtures::png(99, 99))
        .await;
    let res = move_after(
        &app,
        &ann.access_token,
        &album_id,
        other["id"].as_str().unwrap(),
        None,
    )
    .await;
    assert_code(&res, "NOT_FOUND");
}

async fn sort_orders(app: &TestApp) -> Vec<i64> {
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT sort_order FROM links WHERE link_type = 'contains' ORDER BY id".to_string(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .collect()
}

use sea_orm::ConnectionTrait;

#[tokio::test]
async fn removing_members_and_choosing_a_cover() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let m = app.photos(&ann.access_token, 3).await;
    let album_id = app.create_album(&ann.access_token, "A").await;
    app.add_to_album(&ann.access_token, &album_id, &m[0..2])
        .await;
    let set_cover = |cover: Value| {
        let app = &app;
        let token = ann.access_token.clone();
        let album_id = album_id.clone();
        async move {
            app.gql(
                "mutation($id: ID!, $c: ID) { updateAlbum(input: { id: $id, coverMediaId: $c }) { album { coverMedia { id } } } }",
                json!({ "id": album_id, "c": cover }),
                Some(&token),
            )
            .await
        }
    };
    let res = set_cover(json!(m[2])).await;
    assert_code(&res, "BAD_USER_INPUT");
    let res = set_cover(json!(m[1])).await;
    assert_eq!(
        res["data"]["updateAlbum"]["album"]["coverMedia"]["id"],
        m[1].as_str()
    );
    let res = app
        .gql(
            "mutation($a: ID!, $m: [ID!]!) { removeMediaFromAlbum(input: { albumId: $a, mediaIds: $m }) { album { mediaCount coverMedia { id } } } }",
            json!({ "a": album_id, "m": [m[1], m[2]] }),
            Some(&ann.access_token),
        )
        .await;
    let a = &res["data"]["removeMediaFromAlbum"]["album"];
    assert_eq!(a["mediaCount"], 1, "{res}");
    assert_eq!(
        a["coverMedia"]["id"],
        m[0].as_str(),
        "the removed cover falls back to the first member"
    );
    assert_eq!(
        members(&app, &ann.access_token, &album_id).await,
        [m[0].clone()]
    );
}

#[tokio::test]
async fn trash_is_graph_aware() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let m = app.photos(&ann.access_token, 3).await;
    let album_id = app.create_album(&ann.access_token, "Trip").await;
    app.add_to_album(&ann.access_token, &album_id, &m).await;
    app.ok(
        "mutation($id: ID!, $c: ID) { updateAlbum(input: { id: $id, coverMediaId: $c }) { album { id } } }",
        json!({ "id": album_id, "c": m[1] }),
        &ann.access_token,
    )
    .await;

    // A member goes to the trash: it leaves the album's pages and count, nothing else.
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [m[1]] }),
        &ann.access_token,
    )
    .await;
    let a = album(&app, &ann.access_token, &album_id).await;
    assert_eq!(a["mediaCount"], 2);
    assert_eq!(
        a["coverMedia"]["id"],
        m[0].as_str(),
        "a deleted cover is not shown"
    );
    assert_eq!(
        members(&app, &ann.access_token, &album_id).await,
        [m[0].clone(), m[2].clone()]
    );
    // It comes back where it was, as the cover.
    app.ok(
        "mutation($ids: [ID!]!) { restoreMedia(input: { ids: $ids }) { restoredIds } }",
        json!({ "ids": [m[1]] }),
        &ann.access_token,
    )
    .await;
    let a = album(&app, &ann.access_token, &album_id).await;
    assert_eq!(a["mediaCount"], 3);
    assert_eq!(a["coverMedia"]["id"], m[1].as_str());
    assert_eq!(members(&app, &ann.access_token, &album_id).await, m);

    // The album goes to the trash: hidden everywhere, its media stay in the library.
    let res = app
        .ok(
            "mutation($id: ID!) { deleteAlbum(input: { id: $id }) { deletedId } }",
            json!({ "id": album_id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(res["deleteAlbum"]["deletedId"], album_id.as_str());
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": album_id }),
            &ann.access_token,
        )
        .await;
    assert!(data["node"].is_null());
    let data = app
        .ok(
            "query($m: ID!) { viewer { albums { totalCount } media { totalCount } trash { edges { purgeAt node { __typename ... on Album { name } } } } }
              node(id: $m) { ... on Media { albums { id } links(types: [\"contains\"], direction: IN) { totalCount } } } }",
            json!({ "m": m[0] }),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["viewer"]["albums"]["totalCount"], 0);
    assert_eq!(data["viewer"]["media"]["totalCount"], 3);
    assert_eq!(
        data["viewer"]["trash"]["edges"][0]["node"],
        json!({ "__typename": "Album", "name": "Trip" })
    );
    assert_eq!(data["node"]["albums"], json!([]));
    assert_eq!(
        data["node"]["links"]["totalCount"], 0,
        "links to a deleted album are hidden"
    );

    // Restored: members, order, cover and count as they were.
    app.ok(
        "mutation($id: ID!) { restoreAlbum(input: { id: $id }) { album { id } } }",
        json!({ "id": album_id }),
        &ann.access_token,
    )
    .await;
    let a = album(&app, &ann.access_token, &album_id).await;
    assert_eq!(a["mediaCount"], 3);
    assert_eq!(a["coverMedia"]["id"], m[1].as_str());
    assert_eq!(members(&app, &ann.access_token, &album_id).await, m);

    // Emptying the trash purges an album and its links; its media stay.
    app.ok(
        "mutation($id: ID!) { deleteAlbum(input: { id: $id }) { deletedId } }",
        json!({ "id": album_id }),
        &ann.access_token,
    )
    .await;
    let data = app
        .ok(
            "mutation { emptyTrash { purgedIds } }",
            json!({}),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["emptyTrash"]["purgedIds"], json!([album_id]));
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'contains'")
            .await,
        0
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM media WHERE source_type IS NULL")
            .await,
        3
    );
}

#[tokio::test]
async fn in_album_filters_the_library_and_uploads_can_go_straight_in() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let m = app.photos(&ann.access_token, 3).await;
    let album_id = app.create_album(&ann.access_token, "A").await;
    app.add_to_album(&ann.access_token, &album_id, &m[0..2])
        .await;
    let res = app
        .upload(
            &ann.access_token,
            "direct.png",
            crate::fixtures::png(77, 7),
            json!({ "albumId": album_id }),
        )
        .await;
    let direct = res["data"]["uploadMedia"]["media"]["id"]
        .as_str()
        .expect("uploaded")
        .to_string();
    let query = "query($a: ID!) { viewer { media(filter: { inAlbum: $a }, orderBy: { field: FILENAME, direction: ASC }) { totalCount edges { node { id } } } } }";
    let data = app
        .ok(query, json!({ "a": album_id }), &ann.access_token)
        .await;
    assert_eq!(data["viewer"]["media"]["totalCount"], 3);
    assert_eq!(
        members(&app, &ann.access_token, &album_id)
            .await
            .last()
            .unwrap(),
        &direct
    );
    // Bob cannot filter by Ann's album, nor upload into it.
    let res = app
        .gql(query, json!({ "a": album_id }), Some(&bob.access_token))
        .await;
    assert_code(&res, "NOT_FOUND");
    let res = app
        .upload(
            &bob.access_token,
            "sneaky.png",
            crate::fixtures::png(78, 7),
            json!({ "albumId": album_id }),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM media WHERE filename = 'sneaky.png'")
            .await,
        0,
        "nothing was kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_hold_under_concurrent_writers() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let m = app.photos(&ann.access_token, 12).await;
    let album_id = app.create_album(&ann.access_token, "Busy").await;
    app.add_to_album(&ann.access_token, &album_id, &m[0..4])
        .await;
    let token = ann.access_token.as_str();
    let mut ops = Vec::new();
    for round in 0..3 {
        for chunk in m.chunks(3) {
            let chunk = chunk.to_vec();
            let album_id = album_id.clone();
            let app = &app;
            ops.push(Box::pin(async move {
                app.gql(
                    "mutation($a: ID!, $m: [ID!]!) { addMediaToAlbum(input: { albumId: $a, mediaIds: $m }) { album { id } } }",
                    json!({ "a": album_id, "m": chunk }),
                    Some(token),
                )
                .await
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send>>);
        }
        let album_id2 = album_id.clone();
        let victims = vec![m[round].clone(), m[round + 5].clone()];
        let app2 = &app;
        ops.push(Box::pin(async move {
            app2.gql(
                "mutation($a: ID!, $m: [ID!]!) { removeMediaFromAlbum(input: { albumId: $a, mediaIds: $m }) { album { id } } }",
                json!({ "a": album_id2, "m": victims }),
                Some(token),
            )
            .await
        }));
        let album_id3 = album_id.clone();
        let (mover, after) = (m[round + 1].clone(), m[round + 2].clone());
        ops.push(Box::pin(async move {
            app2.gql(
                "mutation($a: ID!, $m: ID!, $x: ID) { moveAlbumMedia(input: { albumId: $a, mediaId: $m, afterMediaId: $x }) { link { id } } }",
                json!({ "a": album_id3, "m": mover, "x": after }),
                Some(token),
            )
            .await
        }));
    }
    let results = futures_util::future::join_all(ops).await;
    for r in &results {
        if let Some(code) = r["errors"][0]["extensions"]["code"].as_str() {
            // A move may race a removal of its media or anchor; nothing else may fail.
            assert!(code == "NOT_FOUND" || code == "BAD_USER_INPUT", "{r}");
        }
    }
    let a = album(&app, token, &album_id).await;
    let listed = members(&app, token, &album_id).await;
    let active = app
        .sql_i64("SELECT COUNT(*) FROM links l JOIN media x ON x.id = l.to_object_id WHERE l.link_type = 'contains' AND l.deleted_at IS NULL AND x.deleted_at IS NULL")
        .await;
    assert_eq!(a["mediaCount"].as_i64().unwrap(), active);
    assert_eq!(listed.len() as i64, active);
    let distinct: std::collections::BTreeSet<_> = listed.iter().collect();
    assert_eq!(distinct.len(), listed.len(), "no member twice");
}
