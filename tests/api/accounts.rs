//! Registration, login, the viewer, node lookup, back-off and the audit trail.

use hypernet::config::RegistrationMode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_code, error_code};

const REGISTER: &str = "mutation($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken expiresAt user { id email displayName isAdmin storageQuota storageUsed } } }";

async fn register_raw(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(
        REGISTER,
        json!({ "input": { "email": email, "password": password, "displayName": " Ann " } }),
        None,
    )
    .await
}

#[tokio::test]
async fn first_account_is_admin_and_registration_then_closes() {
    let app = TestApp::spawn_with(|c| c.registration = RegistrationMode::FirstOnly).await;
    let res = register_raw(&app, "first@example.com", PASSWORD).await;
    let user = &res["data"]["register"]["user"];
    assert_eq!(user["isAdmin"], true, "{res}");
    assert_eq!(user["displayName"], "Ann");
    assert_eq!(user["storageUsed"], 0);
    assert_eq!(user["storageQuota"], 10_i64 * 1024 * 1024 * 1024);

    let res = register_raw(&app, "second@example.com", PASSWORD).await;
    assert_code(&res, "FORBIDDEN");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn concurrent_first_registrations_make_one_admin() {
    let app = TestApp::spawn_with(|c| c.registration = RegistrationMode::FirstOnly).await;
    let attempts = (0..4).map(|i| {
        let app = &app;
        async move { register_raw(app, &format!("race{i}@example.com"), PASSWORD).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners = results
        .iter()
        .filter(|r| r["data"]["register"].is_object())
        .count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|r| r["errors"].is_array()) {
        assert_code(loser, "FORBIDDEN");
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users").await, 1);
}

#[tokio::test]
async fn open_registration_makes_later_accounts_plain_users() {
    let app = TestApp::spawn().await;
    let res = register_raw(&app, "one@example.com", PASSWORD).await;
    assert_eq!(res["data"]["register"]["user"]["isAdmin"], true);
    let res = register_raw(&app, "two@example.com", PASSWORD).await;
    assert_eq!(res["data"]["register"]["user"]["isAdmin"], false);
}

#[tokio::test]
async fn closed_registration_refuses_everyone() {
    let app = TestApp::spawn_with(|c| c.registration = RegistrationMode::Closed).await;
    let res = register_raw(&app, "first@example.com", PASSWORD).await;
    assert_code(&res, "FORBIDDEN");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test]
async fn registration_validates_its_input_and_writes_nothing_on_error() {
    let app = TestApp::spawn().await;
    for email in [
        "not-an-email",
        "ann@",
        "@example.com",
        "a b@example.com",
        "",
    ] {
        let res = register_raw(&app, email, PASSWORD).await;
        assert_code(&res, "BAD_USER_INPUT");
        assert_eq!(res["errors"][0]["extensions"]["field"], "email", "{email}");
    }
    let res = register_raw(&app, "short@example.com", "123456789").await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(res["errors"][0]["extensions"]["field"], "password");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM audit_log").await, 0);
}

#[tokio::test]
async fn emails_are_unique_case_insensitively() {
    let app = TestApp::spawn().await;
    app.register("Dup@Example.com").await;
    let res = register_raw(&app, "dup@EXAMPLE.com", PASSWORD).await;
    assert_code(&res, "CONFLICT");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM users").await, 1);
    // The database enforces it too, for plain SQL.
    let err = app
        .sql("INSERT INTO users (email, password_hash) VALUES ('DUP@example.com', 'x')")
        .await;
    assert!(err.is_err(), "the unique lower(email) index refused it");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id() {
    let app = TestApp::spawn().await;
    app.register("hash@example.com").await;
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.backend(),
            "SELECT password_hash FROM users".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    let hash: String = row.try_get_by_index(0).unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn login_works_with_any_email_case() {
    let app = TestApp::spawn().await;
    let user = app.register("login@example.com").await;
    let res = app.login("  LOGIN@example.com ", PASSWORD).await;
    let payload = &res["data"]["login"];
    assert_eq!(payload["user"]["id"], user.id.as_str(), "{res}");
    let token = payload["accessToken"].as_str().unwrap();
    let res = app
        .gql("{ viewer { email lastLoginAt } }", json!({}), Some(token))
        .await;
    assert_eq!(res["data"]["viewer"]["email"], "login@example.com");
    assert!(res["data"]["viewer"]["lastLoginAt"].is_string());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("known@example.com").await;
    let wrong = app.login("known@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    assert_code(&wrong, "UNAUTHENTICATED");
    assert_code(&unknown, "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert!(wrong["data"].is_null() && unknown["data"].is_null());
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_per_attempt() {
    let app = TestApp::spawn().await;
    app.register("target@example.com").await;
    app.register("bystander@example.com").await;
    // Six guesses in one request: refused whole, no password is checked (one sign-in
    // mutation per request, see hardening.rs).
    let guesses: String = (0..6)
        .map(|i| {
            format!(
                "g{i}: login(input: {{ email: \"target@example.com\", password: \"guess number {i}\" }}) {{ accessToken }} "
            )
        })
        .collect();
    let res = app
        .gql(&format!("mutation {{ {guesses} }}"), json!({}), None)
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed'")
            .await,
        0
    );
    // One at a time: five free attempts, then the back-off.
    for i in 0..5 {
        assert_code(
            &app.login("target@example.com", &format!("guess number {i}"))
                .await,
            "UNAUTHENTICATED",
        );
    }
    assert_code(
        &app.login("target@example.com", "guess number 5").await,
        "RATE_LIMITED",
    );

    // Now even the right password waits, and says how long.
    let res = app.login("target@example.com", PASSWORD).await;
    assert_code(&res, "RATE_LIMITED");
    assert!(
        res["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );

    // Other accounts are not affected.
    let res = app.login("bystander@example.com", PASSWORD).await;
    assert!(res["data"]["login"].is_object(), "{res}");

    // Unknown emails back off the same way, so the back-off reveals nothing.
    for _ in 0..5 {
        assert_code(
            &app.login("ghost@example.com", "guess guess guess").await,
            "UNAUTHENTICATED",
        );
    }
    assert_code(
        &app.login("ghost@example.com", "guess guess guess").await,
        "RATE_LIMITED",
    );
}

#[tokio::test]
async fn parallel_guesses_do_not_escape_the_back_off() {
    let app = TestApp::spawn().await;
    app.register("parallel@example.com").await;
    let guesses = (0..12).map(|i| {
        let app = &app;
        async move {
            app.login("parallel@example.com", &format!("parallel guess {i}"))
                .await
        }
    });
    let results = futures_util::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| error_code(r) == "UNAUTHENTICATED")
        .count();
    assert!(
        checked <= 5,
        "only the free attempts were checked, got {checked}"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed'")
            .await,
        checked as i64
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_failures() {
    let app = TestApp::spawn().await;
    app.register("reset@example.com").await;
    for _ in 0..4 {
        assert_code(
            &app.login("reset@example.com", "wrong wrong wrong").await,
            "UNAUTHENTICATED",
        );
    }
    assert!(app.login("reset@example.com", PASSWORD).await["data"]["login"].is_object());
    for _ in 0..4 {
        assert_code(
            &app.login("reset@example.com", "wrong wrong wrong").await,
            "UNAUTHENTICATED",
        );
    }
}

#[tokio::test]
async fn the_viewer_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let res = app.gql("{ viewer { id } }", json!({}), None).await;
    assert_code(&res, "UNAUTHENTICATED");
    let res = app
        .gql("{ viewer { id } }", json!({}), Some("garbage"))
        .await;
    assert_code(&res, "UNAUTHENTICATED");
    assert!(
        res["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid or expired")
    );

    // A token from another server (another secret) is refused.
    let other = TestApp::spawn().await;
    let foreign = other.register("foreign@example.com").await;
    let res = app
        .gql("{ viewer { id } }", json!({}), Some(&foreign.access_token))
        .await;
    assert_code(&res, "UNAUTHENTICATED");
}

#[tokio::test]
async fn node_resolves_only_the_viewers_own_objects() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let query = "query($id: ID!) { node(id: $id) { __typename id ... on User { email } } }";
    let res = app
        .gql(query, json!({ "id": ann.id }), Some(&ann.access_token))
        .await;
    assert_eq!(res["data"]["node"]["__typename"], "User");
    assert_eq!(res["data"]["node"]["email"], "ann@example.com");

    // Bob's id looks exactly like an id that does not exist.
    let res = app
        .gql(query, json!({ "id": ann.id }), Some(&bob.access_token))
        .await;
    assert!(
        res["data"]["node"].is_null() && res["errors"].is_null(),
        "{res}"
    );
    let res = app
        .gql(
            query,
            json!({ "id": "VXNlcjowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA" }),
            Some(&bob.access_token),
        )
        .await;
    assert!(
        res["data"]["node"].is_null() && res["errors"].is_null(),
        "{res}"
    );
    let res = app
        .gql(query, json!({ "id": "garbage" }), Some(&bob.access_token))
        .await;
    assert!(
        res["data"]["node"].is_null() && res["errors"].is_null(),
        "{res}"
    );

    let res = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [ann.id, bob.id, "garbage"] }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(res["data"]["nodes"], json!([null, { "id": bob.id }, null]));

    let res = app.gql(query, json!({ "id": ann.id }), None).await;
    assert_code(&res, "UNAUTHENTICATED");
}

#[tokio::test]
async fn nodes_takes_at_most_a_hundred_ids() {
    let app = TestApp::spawn().await;
    let ann = app.register("many@example.com").await;
    let ids: Vec<&str> = (0..101).map(|_| ann.id.as_str()).collect();
    let res = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
}

#[tokio::test]
async fn security_events_are_audited_and_visible_to_their_owner_only() {
    let app = TestApp::spawn().await;
    let ann = app.register("audit@example.com").await;
    assert_code(
        &app.login("audit@example.com", "wrong password!").await,
        "UNAUTHENTICATED",
    );
    assert!(app.login("audit@example.com", PASSWORD).await["data"]["login"].is_object());
    let bob = app.register("other@example.com").await;

    let query = "{ viewer { auditLog(first: 10) { totalCount edges { node { action ip } } } } }";
    let res = app.gql(query, json!({}), Some(&ann.access_token)).await;
    let log = &res["data"]["viewer"]["auditLog"];
    let actions: Vec<&str> = log["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["auth.login", "auth.login_failed", "auth.register"],
        "{res}"
    );
    assert_eq!(log["totalCount"], 3);
    assert_eq!(log["edges"][0]["node"]["ip"], "127.0.0.1");

    let res = app.gql(query, json!({}), Some(&bob.access_token)).await;
    assert_eq!(res["data"]["viewer"]["auditLog"]["totalCount"], 1);
}

#[tokio::test]
async fn audit_log_pages_visit_every_event_once() {
    let app = TestApp::spawn().await;
    let ann = app.register("pages@example.com").await;
    for _ in 0..4 {
        assert!(app.login("pages@example.com", PASSWORD).await["data"]["login"].is_object());
    }
    let query = "query($after: String) { viewer { auditLog(first: 2, after: $after) {
        edges { cursor node { action createdAt } } pageInfo { hasNextPage endCursor } } } }";
    let mut after = Value::Null;
    let mut seen = 0;
    loop {
        let res = app
            .gql(query, json!({ "after": after }), Some(&ann.access_token))
            .await;
        let page = &res["data"]["viewer"]["auditLog"];
        seen += page["edges"].as_array().unwrap().len();
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, 5);
    // From the other end: the oldest two, oldest last.
    let res = app
        .gql("{ viewer { auditLog(last: 2) { edges { node { action } } pageInfo { hasPreviousPage } } } }", json!({}), Some(&ann.access_token))
        .await;
    let log = &res["data"]["viewer"]["auditLog"];
    assert_eq!(log["edges"][1]["node"]["action"], "auth.register", "{res}");
    assert_eq!(log["pageInfo"]["hasPreviousPage"], true);
    for bad in [0, 101] {
        let res = app
            .gql(
                "query($n: Int) { viewer { auditLog(first: $n) { totalCount } } }",
                json!({ "n": bad }),
                Some(&ann.access_token),
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }
}
