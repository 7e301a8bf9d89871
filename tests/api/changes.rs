//! The change journal and `User.changes`: every kind of change recorded in its own
//! transaction, pages that neither skip nor repeat while writers go on, retention and
//! `CURSOR_EXPIRED`, and nobody else's events.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_code};

const CHANGES: &str = "query($after: String, $first: Int, $types: [ChangeObjectType!]) {
  viewer { changes(after: $after, first: $first, types: $types) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { kind objectType objectId fields at object { __typename id } } } } } }";

/// The viewer's `changeCursor`.
pub async fn cursor(app: &TestApp, token: &str) -> String {
    app.ok("{ viewer { changeCursor } }", json!({}), token)
        .await["viewer"]["changeCursor"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every event after `after`, page by page (`first` a page), as the edges' nodes.
async fn all_after(app: &TestApp, token: &str, after: &str, first: i64) -> Vec<Value> {
    let mut after = after.to_string();
    let mut out = Vec::new();
    loop {
        let data = app
            .ok(CHANGES, json!({ "after": after, "first": first }), token)
            .await;
        let conn = &data["viewer"]["changes"];
        for edge in conn["edges"].as_array().unwrap() {
            out.push(edge["node"].clone());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = conn["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    }
}

/// `(kind, objectType, objectId)` of each event.
fn keys(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["objectType"].as_str().unwrap().to_string(),
                e["objectId"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(events: &'a [Value], kind: &str, id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["kind"] == kind && e["objectId"] == id)
        .unwrap_or_else(|| panic!("no {kind} of {id} in {events:#?}"))
}

#[tokio::test]
async fn every_change_of_the_library_is_journaled_in_order() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let t = &ann.access_token;
    let start = cursor(&app, t).await;
    let photo = app.photos(t, 1).await.remove(0);
    let album = app.create_album(t, "Summer").await;
    app.add_to_album(t, &album, std::slice::from_ref(&photo))
        .await;
    app.ok(
        "mutation($id: ID!) { updateMedia(input: { id: $id, filename: \"beach.png\" }) { media { id } } }",
        json!({ "id": photo }),
        t,
    )
    .await;
    let tag = app
        .ok(
            "mutation { createTag(input: { name: \"Sea\" }) { tag { id } } }",
            json!({}),
            t,
        )
        .await["createTag"]["tag"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($t: [ID!]!, $m: [ID!]!) { tagMedia(input: { tagIds: $t, mediaIds: $m }) { tags { id } } }",
        json!({ "t": [tag], "m": [photo] }),
        t,
    )
    .await;
    app.ok(
        "mutation($id: ID!) { deleteAlbum(input: { id: $id }) { deletedId } }",
        json!({ "id": album }),
        t,
    )
    .await;
    // Bob's work is in his journal only.
    app.photos(&bob.access_token, 1).await;

    let events = all_after(&app, t, &start, 3).await;
    let kinds = keys(&events);
    let at = |kind: &str, id: &str| {
        kinds
            .iter()
            .position(|(k, _, o)| k == kind && o == id)
            .unwrap_or_else(|| panic!("no {kind} of {id} in {kinds:?}"))
    };
    // In the order they happened.
    assert!(at("CREATED", &photo) < at("CREATED", &album));
    assert!(at("CREATED", &album) < at("UPDATED", &album));
    assert!(at("UPDATED", &album) < at("UPDATED", &photo));
    assert!(at("UPDATED", &photo) < at("CREATED", &tag));
    assert!(at("CREATED", &tag) < at("DELETED", &album));
    let renamed = find(&events, "UPDATED", &photo);
    assert_eq!(renamed["fields"], json!(["filename"]));
    assert_eq!(renamed["objectType"], "MEDIA");
    assert_eq!(renamed["object"]["id"], photo.as_str());
    assert_eq!(
        find(&events, "UPDATED", &album)["fields"],
        json!(["mediaCount"])
    );
    // The album is in the trash now: its events say so, and show it no more.
    assert!(find(&events, "CREATED", &album)["object"].is_null());
    // The membership and the tagging are links; the account's storage changed too.
    let links: Vec<&Value> = events
        .iter()
        .filter(|e| e["objectType"] == "LINK" && e["kind"] == "CREATED")
        .collect();
    assert_eq!(links.len(), 2, "{events:#?}");
    let account = find(&events, "UPDATED", &ann.id);
    assert_eq!(account["fields"], json!(["storageUsed"]));
    assert_eq!(account["object"]["__typename"], "User");
    // Thumbnails are not objects of the library.
    assert!(
        events
            .iter()
            .filter(|e| e["objectType"] == "MEDIA")
            .all(|e| e["objectId"] == photo.as_str()),
        "{events:#?}"
    );
    // Only the types asked for.
    let data = app
        .ok(CHANGES, json!({ "after": start, "types": ["ALBUM"] }), t)
        .await;
    let albums = data["viewer"]["changes"]["edges"].as_array().unwrap();
    assert_eq!(albums.len(), 3);
    assert!(
        albums
            .iter()
            .all(|e| e["node"]["objectId"] == album.as_str())
    );

    // Restoring and purging are events too; a purged object is null.
    app.ok(
        "mutation($id: ID!) { restoreAlbum(input: { id: $id }) { album { id } } }",
        json!({ "id": album }),
        t,
    )
    .await;
    app.ok(
        "mutation($m: [ID!]!) { deleteMedia(input: { ids: $m }) { deletedIds } }",
        json!({ "m": [photo] }),
        t,
    )
    .await;
    app.ok(
        "mutation($m: [ID!]!) { purgeMedia(input: { ids: $m }) { purgedIds } }",
        json!({ "m": [photo] }),
        t,
    )
    .await;
    let events = all_after(&app, t, &start, 50).await;
    assert!(find(&events, "RESTORED", &album)["object"]["id"] == album.as_str());
    assert!(find(&events, "DELETED", &photo)["object"].is_null());
    assert!(find(&events, "PURGED", &photo)["object"].is_null());

    // Bob sees his own events only, and cannot read Ann's list.
    let bobs = all_after(
        &app,
        &bob.access_token,
        &cursor(&app, &bob.access_token).await,
        10,
    )
    .await;
    assert!(bobs.is_empty());
    let his = app
        .ok(CHANGES, json!({ "first": 100 }), &bob.access_token)
        .await;
    let his = his["viewer"]["changes"]["edges"].as_array().unwrap();
    assert!(!his.is_empty());
    assert!(his.iter().all(
        |e| e["node"]["objectId"] != photo.as_str() && e["node"]["objectId"] != ann.id.as_str()
    ));
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on User { changes { edges { cursor } } } } }",
            json!({ "id": ann.id }),
            Some(&bob.access_token),
        )
        .await;
    assert!(res["data"]["node"].is_null(), "{res}");
}

fn seq(cursor: &str) -> i64 {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn cursors_are_checked_and_expire_with_the_retention() {
    // No background maintenance: the trimming below is the command's.
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let start = cursor(&app, t).await;
    app.photos(t, 2).await;
    let events = all_after(&app, t, &start, 100).await;
    assert!(events.len() >= 4, "{events:#?}");
    let head = cursor(&app, t).await;
    // A cursor from the future, or not a cursor at all.
    let ahead = URL_SAFE_NO_PAD.encode((seq(&head) + 5).to_string());
    for bad in [ahead.as_str(), "garbage"] {
        let res = app.gql(CHANGES, json!({ "after": bad }), Some(t)).await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    // Backdate the events up to the second after `start` past the 30-day retention, and trim.
    let past = if app.is_postgres() {
        "now() - interval '31 days'"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-31 days')"
    };
    let first_two = URL_SAFE_NO_PAD.encode((seq(&start) + 2).to_string());
    app.sql(&format!(
        "UPDATE changes SET created_at = {past} WHERE seq <= {}",
        seq(&start) + 2
    ))
    .await
    .unwrap();
    let out = app.cli(&["purge"], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        // The account's creation, and the two events after `start`.
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("and {} journal events", seq(&start) + 2)),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let res = app.gql(CHANGES, json!({ "after": start }), Some(t)).await;
    assert_code(&res, "CURSOR_EXPIRED");
    // From where the journal now starts, nothing is missing.
    let rest = all_after(&app, t, &first_two, 100).await;
    assert_eq!(keys(&rest), keys(&events[2..]));
    // Without a cursor: from the oldest kept.
    let data = app.ok(CHANGES, json!({ "first": 100 }), t).await;
    let kept = data["viewer"]["changes"]["edges"].as_array().unwrap();
    assert_eq!(kept.len(), events.len() - 2);
}

/// One writer's work: albums created and renamed, `n` times.
async fn write(app: &TestApp, user: &TestUser, n: usize, tag: &str) {
    for i in 0..n {
        let album = app
            .create_album(&user.access_token, &format!("{tag} {i}"))
            .await;
        app.ok(
            "mutation($id: ID!, $n: String!) { updateAlbum(input: { id: $id, name: $n }) { album { id } } }",
            json!({ "id": album, "n": format!("{tag} {i} renamed") }),
            &user.access_token,
        )
        .await;
    }
}

#[tokio::test]
async fn a_reader_paging_while_writers_go_on_sees_every_event_once_in_order() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = ann.access_token.clone();
    let start = cursor(&app, &t).await;
    let writers =
        futures_util::future::join_all(["a", "b", "c"].map(|tag| write(&app, &ann, 8, tag)));
    let reader = async {
        let mut seen: Vec<i64> = Vec::new();
        let mut after = start.clone();
        // Until the writers are done and a page finds nothing new.
        for _ in 0..2000 {
            let data = app
                .ok(CHANGES, json!({ "after": after, "first": 3 }), &t)
                .await;
            let conn = &data["viewer"]["changes"];
            let edges = conn["edges"].as_array().unwrap();
            for e in edges {
                seen.push(seq(e["cursor"].as_str().unwrap()));
            }
            if let Some(end) = conn["pageInfo"]["endCursor"].as_str() {
                after = end.to_string();
            }
            if seen.len() >= 48 && edges.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
        seen
    };
    let ((), seen) = futures_util::join!(
        async {
            writers.await;
        },
        reader
    );
    // Everything committed, read at rest: the same events, each once, in the same order.
    let all: Vec<i64> = {
        let data = app
            .ok(CHANGES, json!({ "after": start, "first": 100 }), &t)
            .await;
        data["viewer"]["changes"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| seq(e["cursor"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(all.len(), 48, "24 albums created and renamed: {all:?}");
    assert_eq!(seen, all);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}
