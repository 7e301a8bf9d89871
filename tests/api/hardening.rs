//! Hardening: input no text may hold, bounded password work and a throttle that cannot be
//! turned against an account's owner.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_code};

fn field_of(res: &Value) -> &str {
    res["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field named: {res}"))
}

#[tokio::test]
async fn nul_characters_are_bad_input_with_the_field_named_before_anything_runs() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let token = Some(ann.access_token.as_str());
    let media = app
        .upload_ok(&ann.access_token, "a.gif", crate::fixtures::gif(4, 4))
        .await;
    let id = media["id"].clone();

    // Before sign-in, in a variable.
    let login =
        "mutation($e: String!) { login(input: { email: $e, password: \"x\" }) { accessToken } }";
    let res = app.gql(login, json!({ "e": "a\u{0}@x.test" }), None).await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(field_of(&res), "e");
    assert!(res["data"].is_null(), "{res}");

    // In a literal of the document.
    let res = app
        .gql(
            "mutation { createAlbum(input: { name: \"a\\u0000b\" }) { album { id } } }",
            json!({}),
            token,
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(field_of(&res), "input.name");

    // Deep in an input object, a JSON value and a JSON key.
    let update =
        "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { id } } }";
    for (metadata, field) in [
        (json!({ "note": "x\u{0}" }), "input.metadata.note"),
        (json!({ "a\u{0}": 1 }), "input.metadata.a\\0"),
        (
            json!({ "list": ["ok", "no\u{0}"] }),
            "input.metadata.list.1",
        ),
    ] {
        let res = app
            .gql(
                update,
                json!({ "input": { "id": id, "metadata": metadata } }),
                token,
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
        assert_eq!(field_of(&res), field, "{res}");
    }

    // Filters: nothing to store, but PostgreSQL refuses them as parameters too.
    for filter in [
        json!({ "filenameContains": "a\u{0}" }),
        json!({ "metadataContains": { "k": "\u{0}" } }),
    ] {
        let res = app
            .gql(
                "query($f: MediaFilterInput) { viewer { media(filter: $f) { totalCount } } }",
                json!({ "f": filter }),
                token,
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }

    // Nothing was written, and text without NUL still works.
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM albums").await, 0);
    let res = app
        .gql(
            update,
            json!({ "input": { "id": id, "metadata": { "note": "fine" } } }),
            token,
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
}

/// POSTs `body` to `/graphql` as a client at `ip` (the servers here trust `X-Forwarded-For`).
async fn post_from(app: &TestApp, ip: &str, body: Value) -> Value {
    app.client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn login_from(app: &TestApp, email: &str, password: &str, ip: &str) -> Value {
    post_from(
        app,
        ip,
        json!({
            "query": "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
            "variables": { "e": email, "p": password },
        }),
    )
    .await
}

/// A second session of Ann's: its access token.
async fn second_session(app: &TestApp) -> String {
    let res = app.login("ann@example.com", PASSWORD).await;
    res["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_string()
}

#[tokio::test]
async fn one_sign_in_mutation_per_request_and_per_batch() {
    let app = TestApp::spawn().await;
    app.register("ann@example.com").await;
    let login = |alias: &str, password: &str| {
        format!(
            "{alias}: login(input: {{ email: \"ann@example.com\", password: \"{password}\" }}) {{ accessToken }}"
        )
    };
    // Two in one document, even through a fragment: refused before any password is checked.
    let res = app
        .gql(
            &format!(
                "mutation {{ {} ...F }} fragment F on Mutation {{ {} }}",
                login("a", "wrong wrong wrong"),
                login("b", PASSWORD)
            ),
            json!({}),
            None,
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(res["errors"][0]["extensions"]["limit"], "authentication");
    // One per batch: the first runs, every other is refused.
    let one = json!({ "query": format!("mutation {{ {} }}", login("a", PASSWORD)) });
    let res: Value = app
        .post_json(json!([one, one, one]), None)
        .await
        .json()
        .await
        .unwrap();
    let answers = res.as_array().expect("a batch answer");
    let signed_in = answers
        .iter()
        .filter(|a| a["data"]["a"]["accessToken"].is_string())
        .count();
    let refused = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["limit"] == "authentication")
        .count();
    assert_eq!((signed_in, refused), (1, 2), "{res}");
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('auth.login', 'auth.login_failed')"
        )
        .await,
        1
    );
    // A sign-in that `@skip` leaves out does not run, so it does not count.
    let res = app
        .gql(
            &format!(
                "mutation($no: Boolean!) {{ {} ... @skip(if: $no) {{ {} }} }}",
                login("a", PASSWORD),
                login("b", PASSWORD)
            ),
            json!({ "no": true }),
            None,
        )
        .await;
    assert!(res["data"]["a"]["accessToken"].is_string(), "{res}");
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|c| c.trust_forwarded_for = true).await;
    let ann = app.register("ann@example.com").await;
    let _ = ann;
    // A stranger fails from one address until that address is locked out of the account.
    for i in 0..5 {
        let res = login_from(
            &app,
            "ann@example.com",
            &format!("guess {i} guess"),
            "203.0.113.7",
        )
        .await;
        assert_code(&res, "UNAUTHENTICATED");
    }
    let res = login_from(&app, "ann@example.com", PASSWORD, "203.0.113.7").await;
    assert_code(&res, "RATE_LIMITED");
    // The owner, from her own address, signs in at once.
    let res = login_from(&app, "ann@example.com", PASSWORD, "198.51.100.20").await;
    assert!(res["data"]["login"]["accessToken"].is_string(), "{res}");

    // Failures spread over many addresses meet the account's own, higher threshold.
    let mut limited = 0;
    for i in 0..60 {
        let ip = format!("192.0.2.{}", i + 1);
        let res = login_from(&app, "ann@example.com", "spread guess guess", &ip).await;
        if res["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
            limited += 1;
        }
    }
    assert!(
        limited > 0 && limited <= 11,
        "{limited} of 60 spread guesses were limited"
    );
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_slowed() {
    let app = TestApp::spawn_with(|c| c.trust_forwarded_for = true).await;
    let mut codes = Vec::new();
    for i in 0..105 {
        let res = login_from(
            &app,
            &format!("user{i}@example.com"),
            "spray spray spray",
            "203.0.113.9",
        )
        .await;
        codes.push(
            res["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    let first_limited = codes.iter().position(|c| c == "RATE_LIMITED");
    assert_eq!(first_limited, Some(100), "{codes:?}");
    // Another address is not affected.
    let res = login_from(
        &app,
        "user0@example.com",
        "spray spray spray",
        "203.0.113.10",
    )
    .await;
    assert_code(&res, "UNAUTHENTICATED");
}

/// Whether `token` still signs in on `app`: `viewer` answers, or UNAUTHENTICATED.
async fn signed_in(app: &TestApp, token: &str) -> bool {
    let res = app.gql("{ viewer { id } }", json!({}), Some(token)).await;
    match res["data"]["viewer"]["id"].as_str() {
        Some(_) => true,
        None => {
            assert_code(&res, "UNAUTHENTICATED");
            false
        }
    }
}

/// Waits (a few seconds at most) until `token` no longer signs in on `app`.
async fn ends_within_seconds(app: &TestApp, token: &str) {
    let started = std::time::Instant::now();
    while signed_in(app, token).await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(6),
            "the access token still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn access_tokens_end_with_their_session_on_every_instance() {
    // The production default: another instance notices within two seconds.
    let app = TestApp::spawn_with(|c| c.session_check_secs = 2).await;
    let other = app.spawn_beside(|c| c.session_check_secs = 2).await;
    let ann = app.register("ann@example.com").await;
    let second_token = second_session(&app).await;
    for server in [&app, &other] {
        assert!(signed_in(server, &ann.access_token).await);
        assert!(signed_in(server, &second_token).await);
    }

    // Logging out of one session ends its access token at once here, within seconds there;
    // the other session goes on.
    let res = app
        .gql(
            "mutation($r: String!) { logout(input: { refreshToken: $r }) { revokedSessions } }",
            json!({ "r": ann.refresh_token }),
            Some(&ann.access_token),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
    assert!(!signed_in(&app, &ann.access_token).await);
    ends_within_seconds(&other, &ann.access_token).await;
    assert!(signed_in(&other, &second_token).await);

    // A password change ends every other session, and opens one.
    let res = other
        .gql(
            "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { accessToken } }",
            json!({ "c": PASSWORD, "n": "another long passphrase" }),
            Some(&second_token),
        )
        .await;
    let third = res["data"]["changePassword"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_string();
    ends_within_seconds(&app, &second_token).await;
    assert!(signed_in(&app, &third).await);

    // A deleted account's tokens stop, and it can change nothing.
    app.sql("UPDATE users SET deleted_at = updated_at WHERE email = 'ann@example.com'")
        .await
        .unwrap();
    ends_within_seconds(&app, &third).await;
    ends_within_seconds(&other, &third).await;
    let res = app
        .gql(
            "mutation { createAlbum(input: { name: \"after\" }) { album { id } } }",
            json!({}),
            Some(&third),
        )
        .await;
    assert_code(&res, "UNAUTHENTICATED");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM albums").await, 0);
}

#[tokio::test]
async fn logout_all_ends_every_access_token() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let second_token = second_session(&app).await;
    let res = app
        .gql(
            "mutation { logoutAll { revokedSessions } }",
            json!({}),
            Some(&ann.access_token),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
    assert!(!signed_in(&app, &ann.access_token).await);
    assert!(!signed_in(&app, &second_token).await);
}

#[tokio::test]
async fn a_busy_pool_is_service_unavailable_and_the_instance_stays_ready() {
    let app = TestApp::spawn_with(|c| {
        c.db_max_connections = 1;
        c.db_acquire_timeout_secs = 1;
        c.maintenance_interval_secs = 0;
        c.session_check_secs = 2;
    })
    .await;
    let ann = app.register("ann@example.com").await;
    assert!(signed_in(&app, &ann.access_token).await);
    // Hold the pool's only connection.
    let held = app.pool.begin().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "a busy pool is not a dead database");

    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&ann.access_token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "SERVICE_UNAVAILABLE");
    assert_eq!(body["errors"][0]["extensions"]["retryable"], true);
    // application/json keeps 200, with the same code.
    let body = app
        .gql("{ viewer { id } }", json!({}), Some(&ann.access_token))
        .await;
    assert_code(&body, "SERVICE_UNAVAILABLE");

    held.rollback().await.unwrap();
    assert!(signed_in(&app, &ann.access_token).await);
}

#[tokio::test]
async fn statements_that_run_out_of_time_say_so() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(|c| c.db_statement_timeout_secs = 1).await;
    match app.backend() {
        sea_orm::DbBackend::Postgres => {
            // PostgreSQL's statement_timeout: TIMEOUT, not worth the same retry.
            let err = app
                .pool
                .execute_unprepared("SELECT pg_sleep(3)")
                .await
                .expect_err("the statement times out");
            let err = hypernet::error::AppError::from(err);
            assert_eq!((err.code(), err.retryable()), ("TIMEOUT", false));
        }
        _ => {
            // SQLite has one writer: a write waits the busy timeout behind a held write
            // lock, then is SERVICE_UNAVAILABLE (retryable), and nothing is written.
            let ann = app.register("ann@example.com").await;
            let held = app.pool.begin_write().await.unwrap();
            let res = app
                .gql(
                    "mutation { createAlbum(input: { name: \"x\" }) { album { id } } }",
                    json!({}),
                    Some(&ann.access_token),
                )
                .await;
            held.rollback().await.unwrap();
            assert_code(&res, "SERVICE_UNAVAILABLE");
            assert_eq!(res["errors"][0]["extensions"]["retryable"], true);
            assert_eq!(app.sql_i64("SELECT COUNT(*) FROM albums").await, 0);
        }
    }
}

const TRAVERSE: &str =
    "query($from: ID!) { traverse(from: $from, via: [\"similar_to\"], direction: BOTH, maxDepth: 5, first: 100) {
    totalCount truncated edges { depth node { id } } } }";

#[tokio::test]
async fn traverse_on_a_dense_graph_visits_each_node_once_and_stops_at_its_cap() {
    let app = TestApp::spawn_with(|c| c.max_aliases = 50).await;
    let ann = app.register("ann@example.com").await;
    let token = ann.access_token.as_str();
    let ids = app.photos(token, 25).await;
    // Every media linked to the 20 after it (500 links): paths of five links between two
    // nodes number in the millions, nodes in the tens.
    for (i, from) in ids.iter().enumerate() {
        let links: String = (1..=20)
            .map(|k| {
                format!(
                    "l{k}: createLink(input: {{ fromId: \"{from}\", toId: \"{}\", linkType: \"similar_to\" }}) {{ link {{ id }} }} ",
                    ids[(i + k) % ids.len()]
                )
            })
            .collect();
        app.ok(&format!("mutation {{ {links} }}"), json!({}), token)
            .await;
    }
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'similar_to'")
            .await,
        500
    );

    let before = app.statements().await;
    let walk = app.ok(TRAVERSE, json!({ "from": ids[0] }), token).await;
    let walked = app.statements().await - before;
    assert_eq!(walk["traverse"]["totalCount"], 24, "{walk}");
    assert_eq!(walk["traverse"]["truncated"], false);
    let reached: std::collections::HashSet<&str> = walk["traverse"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(reached.len(), 24, "each node once");
    assert!(!reached.contains(ids[0].as_str()), "not the start");
    // One statement per level walked, not per path.
    assert!(walked <= 12, "{walked} statements");

    // The cap: the walk stops and says so, exact up to where it stopped.
    let capped = app.spawn_beside(|c| c.traverse_max_nodes = 10).await;
    let walk = capped.ok(TRAVERSE, json!({ "from": ids[0] }), token).await;
    assert_eq!(walk["traverse"]["totalCount"], 10, "{walk}");
    assert_eq!(walk["traverse"]["truncated"], true);

    // Nobody else walks Ann's graph.
    let bob = app.register("bob@example.com").await;
    let res = app
        .gql(TRAVERSE, json!({ "from": ids[0] }), Some(&bob.access_token))
        .await;
    assert_code(&res, "NOT_FOUND");
}

/// Multipart uploads in flight at once, and in all (`HYPERNET_SOAK_UPLOADS`; the full soak is
/// 20,000, see the README).
const SOAK_CLIENTS: usize = 8;

#[tokio::test]
async fn concurrent_multipart_uploads_of_every_size_all_succeed() {
    let total: usize = std::env::var("HYPERNET_SOAK_UPLOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let ann = app.register("ann@example.com").await;
    let token = ann.access_token.as_str();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let clients = (0..SOAK_CLIENTS).map(|_| async {
        let mut failures = Vec::new();
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n >= total {
                return failures;
            }
            // Sizes around the buffer sizes of the layers a body crosses (8 KiB, 16 KiB,
            // 64 KiB, 256 KiB), and in between; each file distinct.
            let boundary = [8 << 10, 16 << 10, 64 << 10, 256 << 10][n % 4];
            let size = match n % 3 {
                0 => boundary + (n / 4 % 7) - 3,
                1 => (n * 7919) % (300 << 10),
                _ => boundary * 2 + n % 512,
            };
            let bytes = crate::fixtures::mp4(64, 48, 1000 + n as u64, size as u64);
            let res = app
                .upload(token, &format!("v{n}.mp4"), bytes, json!({}))
                .await;
            if !res["data"]["uploadMedia"]["media"]["id"].is_string() {
                failures.push(format!("upload {n} ({size} bytes): {res}"));
            }
        }
    });
    let failures: Vec<String> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM media").await,
        total as i64
    );
}

#[tokio::test]
async fn probing_emails_through_register_meets_the_address_back_off() {
    let app = TestApp::spawn_with(|c| c.trust_forwarded_for = true).await;
    app.register("ann@example.com").await;
    let register = |ip: &'static str| {
        post_from(
            &app,
            ip,
            json!({
                "query": "mutation { register(input: { email: \"ann@example.com\", password: \"another long passphrase\" }) { accessToken } }",
            }),
        )
    };
    let mut codes = Vec::new();
    for _ in 0..101 {
        codes.push(crate::helpers::error_code(&register("203.0.113.50").await).to_string());
    }
    assert!(codes[..100].iter().all(|c| c == "CONFLICT"), "{codes:?}");
    assert_eq!(codes[100], "RATE_LIMITED");
    // Another address is not affected.
    assert_code(&register("203.0.113.51").await, "CONFLICT");
}
