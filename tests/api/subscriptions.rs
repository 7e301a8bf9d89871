//! Subscriptions at `/graphql/ws` (graphql-transport-ws): `changes(after:)` replays and then
//! streams with no gap or repeat while writers go on, each event answered as `User.changes`
//! answers it (the oracle), nobody else's events, the protocol's close codes, sessions that
//! end, the caps, slow subscribers, and (on PostgreSQL) a change made by another server
//! process reaching a subscriber of this one.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::changes::cursor;
use crate::helpers::{PASSWORD, TestApp};
use crate::ordered::Json;

/// What each test selects of an event.
const EVENT: &str = "cursor node { kind objectType objectId fields \
     object { __typename id ... on Album { name } ... on Media { filename } } }";

fn subscription() -> String {
    format!(
        "subscription($after: String, $types: [ChangeObjectType!]) {{ \
         changes(after: $after, types: $types) {{ {EVENT} }} }}"
    )
}

/// A graphql-transport-ws client.
pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    /// Opens `/graphql/ws` offering `protocol` (none: `None`); nothing sent yet.
    pub async fn open_with(app: &TestApp, protocol: Option<&str>) -> Self {
        Self::open_at(&app.url("/graphql/ws"), protocol).await
    }

    /// Opens the socket at `url` (`http://…/graphql/ws`).
    async fn open_at(url: &str, protocol: Option<&str>) -> Self {
        let url = url.replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocol.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect to /graphql/ws");
        Self { socket }
    }

    pub async fn open(app: &TestApp) -> Self {
        Self::open_with(app, Some("graphql-transport-ws")).await
    }

    /// Opens and initialises a connection with `token` (anonymous: `None`).
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Self {
        Self::connect_at(&app.url("/graphql/ws"), token).await
    }

    /// [`Ws::connect`] to the socket at `url`.
    async fn connect_at(url: &str, token: Option<&str>) -> Self {
        let mut ws = Self::open_at(url, Some("graphql-transport-ws")).await;
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = ws.next().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id,
            "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next message as text, or `{"close":code,"reason":…}` when the server closed.
    pub async fn next_text(&mut self) -> String {
        self.next_text_within(Duration::from_secs(20)).await
    }

    async fn next_text_within(&mut self, wait: Duration) -> String {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("a message within {wait:?}"));
            match message {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return json!({ "close": code, "reason": reason }).to_string();
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return json!({ "close": "eof" }).to_string(),
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        serde_json::from_str(&self.next_text().await).unwrap()
    }

    /// The server's close code (after whatever else it sends).
    pub async fn closed(&mut self) -> Value {
        loop {
            let message = self.next().await;
            if message.get("close").is_some() {
                return message["close"].clone();
            }
        }
    }

    /// Whether nothing arrives for `ms` milliseconds.
    pub async fn quiet(&mut self, ms: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(ms), self.socket.next())
            .await
            .is_err()
    }

    /// The next `n` events of operation `id`, as the server wrote them (`payload`).
    pub async fn events(&mut self, id: &str, n: usize) -> Vec<Json> {
        let mut out = Vec::new();
        while out.len() < n {
            let text = self.next_text().await;
            let message = Json::parse(&text);
            assert_eq!(message.at("type").as_str(), Some("next"), "{text}");
            assert_eq!(message.at("id").as_str(), Some(id), "{text}");
            assert_eq!(message.at("payload").keys(), ["data"], "{text}");
            out.push(message.at("payload.data.changes").clone());
        }
        out
    }
}

/// `User.changes(after:)` with the same selection as the subscription, every edge.
async fn journal(app: &TestApp, token: &str, after: &str) -> Vec<Json> {
    let query = format!(
        "query($after: String) {{ viewer {{ changes(after: $after, first: 100) {{ \
         pageInfo {{ hasNextPage }} edges {{ {EVENT} }} }} }} }}"
    );
    let res = app
        .gql_ordered(&query, json!({ "after": after }), Some(token))
        .await;
    let conn = res.at("data.viewer.changes");
    assert_eq!(conn.at("pageInfo.hasNextPage"), &Json::Bool(false), "{res}");
    match conn.at("edges") {
        Json::Array(edges) => edges.clone(),
        other => panic!("no edges: {other}"),
    }
}

async fn rename(app: &TestApp, token: &str, album: &str, name: &str) {
    app.ok(
        "mutation($id: ID!, $name: String!) { updateAlbum(input: { id: $id, name: $name }) { album { id } } }",
        json!({ "id": album, "name": name }),
        token,
    )
    .await;
}

/// The event's node without `object` (which is the object as it is when the event is sent).
fn without_object(event: &Json) -> String {
    let mut event = event.clone();
    if let Json::Object(fields) = &mut event
        && let Some((_, Json::Object(node))) = fields.iter_mut().find(|(k, _)| k == "node")
    {
        node.retain(|(k, _)| k != "object");
    }
    event.to_string()
}

#[tokio::test]
async fn a_subscription_replays_then_streams_while_writers_go_on_each_event_once_in_order() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let start = cursor(&app, t).await;
    let album = app.create_album(t, "Day 0").await;
    const RENAMES: usize = 30;

    // The subscriber joins while the writer is at work: some events are replayed, the rest
    // arrive live, and the switch between the two loses and repeats nothing.
    let mut ws = Ws::connect(&app, Some(t)).await;
    let writer = async {
        for i in 1..=RENAMES {
            rename(&app, t, &album, &format!("Day {i}")).await;
        }
    };
    let reader = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ws.subscribe("live", &subscription(), json!({ "after": start }))
            .await;
        ws.events("live", RENAMES + 1).await
    };
    let ((), live) = tokio::join!(writer, reader);
    assert!(ws.quiet(500).await, "an event came twice");
    let journal_now = journal(&app, t, &start).await;
    assert_eq!(live.len(), journal_now.len());
    for (event, edge) in live.iter().zip(&journal_now) {
        assert_eq!(without_object(event), without_object(edge));
    }
    let last = live.last().unwrap();
    assert_eq!(last.at("node.kind").as_str(), Some("UPDATED"));
    assert_eq!(
        last.at("node.object.name").as_str(),
        Some(format!("Day {RENAMES}").as_str())
    );

    // The oracle: with nothing being written, a replay answers each event exactly as
    // `User.changes` answers its edge, as text.
    ws.subscribe("replay", &subscription(), json!({ "after": start }))
        .await;
    let replay = ws.events("replay", journal_now.len()).await;
    for (event, edge) in replay.iter().zip(&journal_now) {
        assert_eq!(event.to_string(), edge.to_string());
    }

    // Without `after`, only what happens from now on; `types` filters.
    ws.subscribe(
        "albums",
        &subscription(),
        json!({ "types": ["ALBUM"], "after": null }),
    )
    .await;
    ws.subscribe("media", &subscription(), json!({ "types": ["MEDIA"] }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    rename(&app, t, &album, "Now").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let now = Json::parse(&ws.next_text().await);
        assert_eq!(
            now.at("payload.data.changes.node.object.name").as_str(),
            Some("Now")
        );
        ids.push(now.at("id").as_str().unwrap().to_string());
    }
    ids.sort();
    assert_eq!(ids, ["albums", "live", "replay"]);
    assert!(
        ws.quiet(300).await,
        "the media-only subscription got something"
    );
}

/// Every event of `User.changes(after:, types:)`, as `cursor` plus the node without `object`.
async fn journal_keys(app: &TestApp, token: &str, after: &str, types: &Value) -> Vec<String> {
    let query = "query($after: String, $types: [ChangeObjectType!]) { viewer { \
                 changes(after: $after, first: 100, types: $types) { pageInfo { hasNextPage endCursor } \
                 edges { cursor node { kind objectType objectId fields } } } } }";
    let (mut after, mut out) = (after.to_string(), Vec::new());
    loop {
        let res = app
            .gql_ordered(
                query,
                json!({ "after": after, "types": types }),
                Some(token),
            )
            .await;
        let conn = res.at("data.viewer.changes");
        let Json::Array(edges) = conn.at("edges") else {
            panic!("{res}")
        };
        out.extend(edges.iter().map(Json::to_string));
        if conn.at("pageInfo.hasNextPage") != &Json::Bool(true) {
            return out;
        }
        after = conn.at("pageInfo.endCursor").as_str().unwrap().to_string();
    }
}

/// The oracle for the feed's shared reads (a user's followers read the journal once per
/// change, from a tail they share, and a follower behind it reads alone): subscriptions of one
/// user with generated `types` and starting points (some far behind the tail, some at the
/// head) while generated writes of every kind go on, each receiving exactly what
/// `User.changes(after:, types:)` holds, in order. `HYPERNET_FEED_SEED` replays a run.
#[tokio::test]
async fn subscriptions_sharing_reads_each_receive_exactly_their_journal() {
    use rand::Rng;
    let (mut rng, seed) = feed_rng();
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let start = cursor(&app, t).await;
    let media = app.photos(t, 3).await;
    let mut tags = Vec::new();
    for i in 0..12 {
        let res = app
            .ok(
                "mutation($n: String!) { createTag(input: { name: $n }) { tag { id } } }",
                json!({ "n": format!("tag {i}") }),
                t,
            )
            .await;
        tags.push(res["createTag"]["tag"]["id"].as_str().unwrap().to_string());
    }
    let tag_all = "mutation($t: [ID!]!, $m: [ID!]!) { tagMedia(input: { tagIds: $t, mediaIds: $m }) { tags { id } } }";
    let untag_all = "mutation($t: [ID!]!, $m: [ID!]!) { untagMedia(input: { tagIds: $t, mediaIds: $m }) { tags { id } } }";
    // History enough that a replay from the start is behind any tail (over 256 events).
    for _ in 0..4 {
        app.ok(tag_all, json!({ "t": tags, "m": media }), t).await;
        app.ok(untag_all, json!({ "t": tags, "m": media }), t).await;
    }
    let album = app.create_album(t, "Generated").await;
    let middle = cursor(&app, t).await;

    let kinds = ["MEDIA", "ALBUM", "TAG", "LINK", "USER"];
    let mut subscribers = Vec::new();
    for i in 0..8 {
        let types = match rng.random_range(0..3) {
            0 => Value::Null,
            _ => Value::from(
                kinds
                    .iter()
                    .filter(|_| rng.random_bool(0.5))
                    .copied()
                    .collect::<Vec<_>>(),
            ),
        };
        let after = [&start, &middle][i % 2].clone();
        let mut ws = Ws::connect(&app, Some(t)).await;
        ws.subscribe(
            "s",
            &subscription(),
            json!({ "after": after, "types": types }),
        )
        .await;
        subscribers.push((ws, after, types));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..40 {
        match rng.random_range(0..4) {
            0 => rename(&app, t, &album, &format!("name {}", rng.random::<u32>())).await,
            1 => {
                let n = rng.random_range(1..=tags.len());
                let some: Vec<&String> = tags.iter().take(n).collect();
                let op = if rng.random_bool(0.5) {
                    tag_all
                } else {
                    untag_all
                };
                app.ok(op, json!({ "t": some, "m": media }), t).await;
            }
            2 => {
                app.create_album(t, "Another").await;
            }
            _ => {
                app.ok(
                    "mutation($id: ID!, $n: String!) { updateMedia(input: { id: $id, filename: $n }) { media { id } } }",
                    json!({ "id": media[rng.random_range(0..media.len())], "n": format!("f{}.png", rng.random::<u16>()) }),
                    t,
                )
                .await;
            }
        }
    }
    for (ws, after, types) in &mut subscribers {
        let expected = journal_keys(&app, t, after, types).await;
        let got: Vec<String> = ws
            .events("s", expected.len())
            .await
            .iter()
            .map(without_object)
            .collect();
        assert_eq!(got, expected, "after {after}, types {types} (seed {seed})");
        assert!(ws.quiet(200).await, "more than the journal (seed {seed})");
    }
}

#[tokio::test]
async fn nobody_receives_another_users_changes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut bob_ws = Ws::connect(&app, Some(&bob.access_token)).await;
    bob_ws.subscribe("bob", &subscription(), json!({})).await;
    // Bob's cursor at the start of his journal replays his own account's events only.
    bob_ws
        .subscribe(
            "bob-all",
            &subscription(),
            json!({ "after": cursor_zero() }),
        )
        .await;
    let own = bob_ws.events("bob-all", 1).await;
    assert_eq!(own[0].at("node.objectType").as_str(), Some("USER"));
    assert_eq!(own[0].at("node.objectId").as_str(), Some(bob.id.as_str()));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let album = app.create_album(&ann.access_token, "Ann's").await;
    rename(&app, &ann.access_token, &album, "Ann's too").await;
    app.photos(&ann.access_token, 1).await;
    assert!(bob_ws.quiet(1500).await, "Bob received Ann's changes");

    // Bob's own change reaches both of his subscriptions, and it is his.
    let bobs = app.create_album(&bob.access_token, "Bob's").await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let message = bob_ws.next().await;
        assert_eq!(
            message["payload"]["data"]["changes"]["node"]["objectId"],
            bobs
        );
        got.push(message["id"].as_str().unwrap().to_string());
    }
    got.sort();
    assert_eq!(got, ["bob", "bob-all"]);
}

/// Waits for the server to hold no subscription (it lets go of a closed socket's at once).
async fn all_closed(app: &TestApp, what: &str) {
    for _ in 0..50 {
        if app.metric("hypernet_subscriptions").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}");
}

/// The cursor before a journal's first event.
fn cursor_zero() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("0")
}

#[tokio::test]
async fn the_protocol_is_kept_and_broken_clients_are_closed_with_its_codes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;

    let mut ws = Ws::open_with(&app, None).await;
    assert_eq!(ws.closed().await, 4406, "no subprotocol");

    let mut ws = Ws::open(&app).await;
    ws.subscribe("1", "{ viewer { id } }", json!({})).await;
    assert_eq!(ws.closed().await, 4401, "subscribe before connection_init");

    let mut ws = Ws::open(&app).await;
    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": "nope" } }))
        .await;
    assert_eq!(ws.closed().await, 4403, "a bad token");

    let mut ws = Ws::open(&app).await;
    ws.send_text("not json".into()).await;
    assert_eq!(ws.closed().await, 4400);

    let mut ws = Ws::connect(&app, Some(t)).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed().await, 4429, "a second connection_init");

    // Queries and mutations run as over HTTP: `next`, then `complete`.
    let mut ws = Ws::connect(&app, Some(t)).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next().await["type"], "pong");
    ws.subscribe("q", "{ viewer { email } }", json!({})).await;
    assert_eq!(
        ws.next_text().await,
        r#"{"type":"next","id":"q","payload":{"data":{"viewer":{"email":"ann@example.com"}},"extensions":{"cost":{"requested":1,"limit":50000}}}}"#
    );
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "q" }));
    ws.subscribe(
        "m",
        "mutation { createAlbum(input: { name: \"By socket\" }) { album { name } } }",
        json!({}),
    )
    .await;
    let created = ws.next().await;
    assert_eq!(
        created["payload"]["data"]["createAlbum"]["album"]["name"], "By socket",
        "{created}"
    );
    assert_eq!(ws.next().await["type"], "complete");
    // Refused before it runs: `error`, and no `complete`.
    ws.subscribe("bad", "{ viewer { nope } }", json!({})).await;
    let refused = ws.next().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "bad");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    ws.subscribe("cursor", &subscription(), json!({ "after": "garbage" }))
        .await;
    let garbage = ws.next().await;
    assert_eq!(
        garbage["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{garbage}"
    );
    assert_eq!(ws.next().await["type"], "complete");

    // A subscription the client completes sends nothing more; its id may be used again.
    ws.subscribe("s", &subscription(), json!({})).await;
    ws.subscribe("s", &subscription(), json!({})).await;
    assert_eq!(ws.closed().await, 4409, "an id in use");

    let mut ws = Ws::connect(&app, Some(t)).await;
    ws.subscribe("s", &subscription(), json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws.send(json!({ "type": "complete", "id": "s" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.create_album(t, "Unseen").await;
    assert!(ws.quiet(1500).await, "a completed subscription went on");
    ws.subscribe("s", &subscription(), json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = app.create_album(t, "Seen").await;
    let event = ws.next().await;
    assert_eq!(event["id"], "s");
    assert_eq!(
        event["payload"]["data"]["changes"]["node"]["objectId"],
        seen
    );

    // Anonymous connections may run what needs no sign-in; a subscription needs one.
    let mut anon = Ws::connect(&app, None).await;
    anon.subscribe("a", &subscription(), json!({})).await;
    let refused = anon.next().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    assert_eq!(anon.next().await["type"], "complete");
}

#[tokio::test]
async fn a_silent_client_and_a_binary_message_are_closed() {
    let app = TestApp::spawn().await;
    // No `connection_init` within ten seconds.
    let mut silent = Ws::open(&app).await;
    let started = std::time::Instant::now();
    assert_eq!(silent.closed().await, 4408);
    assert!(started.elapsed() >= Duration::from_secs(9));
    let mut binary = Ws::open(&app).await;
    binary
        .socket
        .send(Message::Binary(
            b"{\"type\":\"connection_init\"}".to_vec().into(),
        ))
        .await
        .unwrap();
    assert_eq!(binary.closed().await, 4400);
}

#[tokio::test]
async fn a_connection_closes_when_its_session_ends_and_a_ping_renews_its_token() {
    let app = TestApp::spawn_with(|c| c.session_check_secs = 1).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut ws = Ws::connect(&app, Some(&ann.access_token)).await;
    ws.subscribe("s", &subscription(), json!({})).await;

    // Another token of Ann's renews the connection; Bob's closes it.
    let again = app.login("ann@example.com", PASSWORD).await;
    let renewed = again["data"]["login"]["accessToken"].as_str().unwrap();
    ws.send(json!({ "type": "ping", "payload": { "accessToken": renewed } }))
        .await;
    assert_eq!(ws.next().await["type"], "pong");
    let mut other = Ws::connect(&app, Some(&ann.access_token)).await;
    other
        .send(json!({ "type": "ping", "payload": { "accessToken": bob.access_token } }))
        .await;
    assert_eq!(other.closed().await, 4403);

    // logoutAll ends every session of Ann's: the socket closes within the check interval.
    let res = app
        .gql(
            "mutation { logoutAll { revokedSessions } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(res["data"]["logoutAll"]["revokedSessions"], 2, "{res}");
    let started = std::time::Instant::now();
    assert_eq!(ws.closed().await, 4403);
    assert!(started.elapsed() < Duration::from_secs(10));
    let mut late = Ws::open(&app).await;
    late.send(json!({ "type": "connection_init",
        "payload": { "authorization": format!("Bearer {}", ann.access_token) } }))
        .await;
    assert_eq!(late.closed().await, 4403, "a token of an ended session");
}

#[tokio::test]
async fn a_connection_closes_when_its_token_expires_unrenewed() {
    // Tokens of one second: accepted until then and the 30 s of clock skew allowed.
    let app = TestApp::spawn_with(|c| c.access_token_ttl_secs = 1).await;
    let ann = app.register("ann@example.com").await;
    let mut ws = Ws::connect(&app, Some(&ann.access_token)).await;
    ws.subscribe("s", &subscription(), json!({})).await;
    let started = std::time::Instant::now();
    let closed = Json::parse(&ws.next_text_within(Duration::from_secs(60)).await);
    assert_eq!(closed.at("close"), &Json::parse("4403"), "{closed}");
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "closed before the token expired"
    );
}

#[tokio::test]
async fn a_change_made_by_the_cli_reaches_subscribers_and_stopping_closes_sockets() {
    let app = TestApp::spawn().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = app
        .spawn_beside_until(|_| {}, async {
            stopped.await.ok();
        })
        .await;
    let ann = server.register("ann@example.com").await;
    let mut ws = Ws::connect(&server, Some(&ann.access_token)).await;
    ws.subscribe("s", &subscription(), json!({ "types": ["USER"] }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another process writes (on SQLite: no commit of the server's own wakes it).
    let out = app
        .cli(&["user", "set-quota", "ann@example.com", "5000"], None)
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let event = ws.events("s", 1).await.remove(0);
    assert_eq!(event.at("node.kind").as_str(), Some("UPDATED"));
    assert_eq!(event.at("node.fields").to_string(), r#"["storageQuota"]"#);

    // A server that stops closes its sockets with "going away".
    stop.send(()).unwrap();
    assert_eq!(ws.closed().await, 1001);
}

#[tokio::test]
async fn subscriptions_are_capped_per_user_and_counted() {
    let app = TestApp::spawn_with(|c| c.ws_max_subscriptions_per_user = 2).await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut ws = Ws::connect(&app, Some(&ann.access_token)).await;
    ws.subscribe("1", &subscription(), json!({})).await;
    ws.subscribe("2", &subscription(), json!({})).await;
    ws.subscribe("3", &subscription(), json!({})).await;
    let refused = ws.next().await;
    assert_eq!(refused["id"], "3");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refused}"
    );
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "3" }));
    assert_eq!(app.metric("hypernet_subscriptions").await, 2);

    // Bob has caps of his own.
    let mut bob_ws = Ws::connect(&app, Some(&bob.access_token)).await;
    bob_ws.subscribe("b", &subscription(), json!({})).await;

    // Completing one frees its place.
    ws.send(json!({ "type": "complete", "id": "1" })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.subscribe("4", &subscription(), json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let album = app.create_album(&ann.access_token, "Counted").await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let event = ws.next().await;
        assert_eq!(
            event["payload"]["data"]["changes"]["node"]["objectId"],
            album
        );
        ids.push(event["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    assert_eq!(ids, ["2", "4"]);
    assert_eq!(app.metric("hypernet_subscriptions").await, 3);
    drop(ws);
    drop(bob_ws);
    all_closed(&app, "closed sockets still hold subscriptions").await;
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_closed_rather_than_buffered_for() {
    let app = TestApp::spawn_with(|c| c.ws_send_timeout_secs = 1).await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let album = app.create_album(t, "Big").await;
    let album_id = album.clone();
    // A socket that reads little: a small receive buffer, and nobody reading it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(app.address.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let mut request = app
        .url("/graphql/ws")
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let mut ws = Ws { socket };
    ws.send(json!({ "type": "connection_init", "payload": { "accessToken": t } }))
        .await;
    assert_eq!(ws.next().await["type"], "connection_ack");
    ws.subscribe(
        "s",
        "subscription { changes { cursor node { object { ... on Album { description } } } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Some 4 MB of events, more than the sockets between us hold.
    const WRITES: usize = 500;
    let description = "x".repeat(8000);
    for i in 0..WRITES {
        app.ok(
            "mutation($id: ID!, $d: String!) { updateAlbum(input: { id: $id, description: $d }) { album { id } } }",
            json!({ "id": album_id, "d": format!("{i}{description}") }),
            t,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The server gave up on it: reading now finds the stream ends before every event came.
    let mut received = 0;
    let close = loop {
        let message = ws.next().await;
        if message.get("close").is_some() {
            break message["close"].clone();
        }
        received += 1;
    };
    assert!(
        received < WRITES,
        "every event was buffered for a client that did not read"
    );
    assert!(close == 1013 || close == "eof", "closed with {close}");
    all_closed(&app, "the slow subscriber's subscription is still open").await;
}

/// Two server processes (`hypernet serve`, children of the test) on one PostgreSQL.
#[tokio::test]
async fn a_change_made_on_another_server_process_reaches_subscribers_of_this_one() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        // One process serves a SQLite database; its own commits wake its subscribers.
        return;
    }
    let (_first_process, first) = serve_process(&app).await;
    let (_second_process, second) = serve_process(&app).await;

    let ann = first.register("ann@example.com").await;
    let bob = first.register("bob@example.com").await;
    let t = &ann.access_token;
    let start = cursor(&first, t).await;
    let mut here = Ws::connect(&first, Some(t)).await;
    here.subscribe("s", &subscription(), json!({ "after": start }))
        .await;
    let mut bob_there = Ws::connect(&second, Some(&bob.access_token)).await;
    bob_there.subscribe("b", &subscription(), json!({})).await;
    let mut there = Ws::connect(&second, Some(t)).await;
    there.subscribe("s", &subscription(), json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Made on the second process, seen on the first; and the other way round.
    let album = second.create_album(t, "From the second").await;
    let event = here.events("s", 1).await.remove(0);
    assert_eq!(event.at("node.objectId").as_str(), Some(album.as_str()));
    let seen_there = there.events("s", 1).await.remove(0);
    assert_eq!(
        seen_there.at("node.objectId").as_str(),
        Some(album.as_str())
    );
    rename(&first, t, &album, "Renamed on the first").await;
    let renamed = there.events("s", 1).await.remove(0);
    assert_eq!(
        renamed.at("node.object.name").as_str(),
        Some("Renamed on the first")
    );
    let last = here.events("s", 1).await.remove(0);

    // Disconnected, writes go on; resumed with the last cursor, exactly what was missed.
    drop(here);
    for i in 0..3 {
        rename(&second, t, &album, &format!("Missed {i}")).await;
    }
    let mut resumed = Ws::connect(&first, Some(t)).await;
    let after = last.at("cursor").as_str().unwrap().to_string();
    resumed
        .subscribe("r", &subscription(), json!({ "after": after }))
        .await;
    let missed = resumed.events("r", 3).await;
    let names: Vec<_> = missed
        .iter()
        .map(|e| e.at("node.fields").to_string())
        .collect();
    assert_eq!(names, vec![r#"["name"]"#; 3]);
    assert_eq!(missed[2].at("node.object.name").as_str(), Some("Missed 2"));
    assert!(resumed.quiet(500).await, "more than what was missed");
    assert!(bob_there.quiet(200).await, "Bob received Ann's changes");
}

/// `hypernet serve` as a child process on `app`'s database and data directory (so with its
/// signing secret), killed when the handle drops; and a client of it.
async fn serve_process(app: &TestApp) -> (tokio::process::Child, TestApp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
        .arg("serve")
        .env("DATABASE_URL", &app.database_url)
        .envs(app.owner_env())
        .env("HYPERNET_DATA_DIR", app.data_dir.path())
        .env("HYPERNET_BIND", format!("127.0.0.1:{port}"))
        .env("HYPERNET_REGISTRATION", "open")
        .env("HYPERNET_MAINTENANCE_INTERVAL_SECS", "0")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("start a server process");
    let server = app.elsewhere(format!("http://127.0.0.1:{port}"));
    for _ in 0..200 {
        if let Ok(res) = app.client.get(server.url("/healthz")).send().await
            && res.status().is_success()
        {
            return (child, server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server process did not start");
}

/// The random numbers of a generated test, from `HYPERNET_FEED_SEED` when it is set (to replay
/// a run), and the seed.
fn feed_rng() -> (rand::rngs::StdRng, u64) {
    use rand::SeedableRng;
    let seed = std::env::var("HYPERNET_FEED_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("HYPERNET_FEED_SEED={seed}");
    (rand::rngs::StdRng::seed_from_u64(seed), seed)
}

/// A generated selection of a `changes` event: its fields in a random order, some aliased,
/// some twice, some through fragments, the object with or without its own fields.
fn event_selection(rng: &mut impl rand::Rng) -> String {
    let node_fields = [
        "kind",
        "objectType",
        "objectId",
        "fields",
        "at",
        "object { __typename ... on Album { id name mediaCount } }",
        "object { ... on Node { id } }",
        "... on Change { kind at }",
    ];
    let mut node: Vec<String> = Vec::new();
    for _ in 0..rng.random_range(1..=6) {
        let field = node_fields[rng.random_range(0..node_fields.len())];
        match rng.random_range(0..4) {
            0 if !field.starts_with("...") => node.push(format!("a{}: {field}", node.len())),
            _ => node.push(field.to_string()),
        }
    }
    let mut edge = vec![format!("node {{ {} }}", node.join(" "))];
    if rng.random_bool(0.5) {
        edge.push("cursor".into());
    }
    if rng.random_bool(0.5) {
        edge.reverse();
    }
    edge.join(" ")
}

/// The payload of a `next` message, as the server wrote it, with the operation's id.
fn payload_of(text: &str) -> (String, String) {
    let message = Json::parse(text);
    assert_eq!(message.at("type").as_str(), Some("next"), "{text}");
    let id = message.at("id").as_str().unwrap().to_string();
    (id, message.at("payload").to_string())
}

/// The answers of one user's subscriptions that run one document are shared (`exec::shared`):
/// over generated selections, three subscriptions of one text receive byte for byte what a
/// fourth receives that runs the same document spaced differently, and so answers alone (the
/// oracle); and three subscriptions of one text cost the SQL of one. `HYPERNET_FEED_SEED`
/// replays a run.
#[tokio::test]
async fn subscriptions_of_one_document_share_each_events_answer() {
    let (mut rng, seed) = feed_rng();
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let album = app.create_album(t, "Shared").await;
    let media = app.photos(t, 2).await;
    app.add_to_album(t, &album, &media).await;

    for round in 0..8 {
        let selection = event_selection(&mut rng);
        let text = format!("subscription {{ changes(types: [ALBUM]) {{ {selection} }} }}");
        let alone =
            format!("subscription {{\n  changes(types: [ALBUM]) {{\n    {selection}\n  }}\n}}");
        let mut shared = Ws::connect(&app, Some(t)).await;
        for id in ["a", "b", "c"] {
            shared.subscribe(id, &text, json!({})).await;
        }
        let mut single = Ws::connect(&app, Some(t)).await;
        single.subscribe("d", &alone, json!({})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        for step in 0..2 {
            rename(&app, t, &album, &format!("round {round} step {step}")).await;
            let (_, expected) = payload_of(&single.next_text().await);
            let mut ids = Vec::new();
            for _ in 0..3 {
                let (id, got) = payload_of(&shared.next_text().await);
                assert_eq!(got, expected, "{text} (seed {seed})");
                ids.push(id);
            }
            ids.sort();
            assert_eq!(ids, ["a", "b", "c"], "(seed {seed})");
        }
    }

    // The SQL of an event: one subscription, then three of one text on one socket.
    let text =
        "subscription { changes(types: [ALBUM]) { node { object { ... on Album { name } } } } }";
    let mut costs = Vec::new();
    for subscriptions in [1, 3] {
        let mut ws = Ws::connect(&app, Some(t)).await;
        for i in 0..subscriptions {
            ws.subscribe(&format!("s{i}"), text, json!({})).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = app.settled_statements().await;
        rename(&app, t, &album, &format!("cost {subscriptions}")).await;
        for _ in 0..subscriptions {
            payload_of(&ws.next_text().await);
        }
        costs.push(app.settled_statements().await - before);
    }
    assert_eq!(
        costs[1], costs[0],
        "statements of an event for one subscription, then for three sharing its document"
    );

    // Answers hold absolute URLs on the address the client reached: one text over two
    // addresses is two answers.
    let text = "subscription { changes(types: [MEDIA]) { node { object { ... on Media { contentUrl } } } } }";
    let url = app.url("/graphql/ws");
    assert!(url.contains("127.0.0.1"), "{url}");
    let mut sockets = Vec::new();
    for url in [url.clone(), url.replacen("127.0.0.1", "localhost", 1)] {
        let mut ws = Ws::connect_at(&url, Some(t)).await;
        ws.subscribe("m", text, json!({})).await;
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.ok(
        "mutation($id: ID!) { updateMedia(input: { id: $id, filename: \"renamed.png\" }) { media { id } } }",
        json!({ "id": media[0] }),
        t,
    )
    .await;
    for (ws, host) in sockets.iter_mut().zip(["//127.0.0.1:", "//localhost:"]) {
        let (_, payload) = payload_of(&ws.next_text().await);
        assert!(payload.contains(host), "{host} in {payload}");
    }
}
