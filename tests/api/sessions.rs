//! Refresh-token rotation, reuse detection, logout, password changes.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_code};

const REFRESH: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) {
    accessToken refreshToken expiresAt user { email } } }";

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.gql(REFRESH, json!({ "t": token }), None).await
}

fn tokens(res: &Value, field: &str) -> (String, String) {
    let p = &res["data"][field];
    assert!(p.is_object(), "{res}");
    (
        p["accessToken"].as_str().unwrap().to_string(),
        p["refreshToken"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn refresh_rotates_the_pair() {
    let app = TestApp::spawn().await;
    let user = app.register("rotate@example.com").await;
    let res = refresh(&app, &user.refresh_token).await;
    let (access, refresh_token) = tokens(&res, "refreshSession");
    assert_ne!(refresh_token, user.refresh_token);
    assert_eq!(
        res["data"]["refreshSession"]["user"]["email"],
        "rotate@example.com"
    );
    let viewer = app
        .gql("{ viewer { email } }", json!({}), Some(&access))
        .await;
    assert_eq!(viewer["data"]["viewer"]["email"], "rotate@example.com");
    // And again with the new one.
    tokens(&refresh(&app, &refresh_token).await, "refreshSession");
}

#[tokio::test]
async fn reusing_a_rotated_token_revokes_the_family() {
    let app = TestApp::spawn().await;
    let user = app.register("reuse@example.com").await;
    let (_, newer) = tokens(&refresh(&app, &user.refresh_token).await, "refreshSession");
    // A thief replays the old token ...
    assert_code(&refresh(&app, &user.refresh_token).await, "UNAUTHENTICATED");
    // ... which ends the legitimate session too.
    assert_code(&refresh(&app, &newer).await, "UNAUTHENTICATED");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.refresh_token_reused'")
            .await,
        1
    );
}

#[tokio::test]
async fn concurrent_refreshes_have_one_winner() {
    let app = TestApp::spawn().await;
    let user = app.register("race@example.com").await;
    let attempts = (0..6).map(|_| refresh(&app, &user.refresh_token));
    let results = futures_util::future::join_all(attempts).await;
    let winners = results
        .iter()
        .filter(|r| r["data"]["refreshSession"].is_object())
        .count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|r| r["errors"].is_array()) {
        assert_code(loser, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let user = app.register("hashonly@example.com").await;
    let clear = app
        .sql_i64(&format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = '{}'",
            user.refresh_token
        ))
        .await;
    assert_eq!(clear, 0);
    use sha2::Digest;
    let hashed = hex::encode(sha2::Sha256::digest(user.refresh_token.as_bytes()));
    let stored = app
        .sql_i64(&format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = '{hashed}'"
        ))
        .await;
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn unknown_and_expired_refresh_tokens_are_refused() {
    let app = TestApp::spawn_with(|c| c.refresh_token_ttl_days = 0).await;
    let user = app.register("expired@example.com").await;
    assert_code(&refresh(&app, &user.refresh_token).await, "UNAUTHENTICATED");
    assert_code(&refresh(&app, "made-up-token").await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_ends_one_session() {
    let app = TestApp::spawn().await;
    let first = app.register("logout@example.com").await;
    let (_, second_refresh) = tokens(&app.login("logout@example.com", PASSWORD).await, "login");
    let res = app
        .gql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { revokedSessions } }",
            json!({ "t": first.refresh_token }),
            Some(&first.access_token),
        )
        .await;
    assert_eq!(res["data"]["logout"]["revokedSessions"], 1, "{res}");
    assert_code(
        &refresh(&app, &first.refresh_token).await,
        "UNAUTHENTICATED",
    );
    tokens(&refresh(&app, &second_refresh).await, "refreshSession");
    // Logging out twice is fine.
    let res = app
        .gql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { revokedSessions } }",
            json!({ "t": first.refresh_token }),
            None,
        )
        .await;
    assert_eq!(res["data"]["logout"]["revokedSessions"], 0);
}

#[tokio::test]
async fn nobody_can_log_out_someone_elses_session() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let res = app
        .gql(
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { revokedSessions } }",
            json!({ "t": ann.refresh_token }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(res["data"]["logout"]["revokedSessions"], 0);
    tokens(&refresh(&app, &ann.refresh_token).await, "refreshSession");
}

#[tokio::test]
async fn logout_all_ends_every_session() {
    let app = TestApp::spawn().await;
    let user = app.register("all@example.com").await;
    let (_, other) = tokens(&app.login("all@example.com", PASSWORD).await, "login");
    let res = app
        .gql(
            "mutation { logoutAll { revokedSessions } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(res["data"]["logoutAll"]["revokedSessions"], 2, "{res}");
    assert_code(&refresh(&app, &user.refresh_token).await, "UNAUTHENTICATED");
    assert_code(&refresh(&app, &other).await, "UNAUTHENTICATED");
    let res = app
        .gql(
            "mutation { logoutAll { revokedSessions } }",
            json!({}),
            None,
        )
        .await;
    assert_code(&res, "UNAUTHENTICATED");
}

const CHANGE: &str = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
    accessToken refreshToken user { email } } }";

#[tokio::test]
async fn changing_the_password_revokes_every_session() {
    let app = TestApp::spawn().await;
    let user = app.register("change@example.com").await;
    let new_password = "a brand new passphrase";

    let res = app
        .gql(CHANGE, json!({ "input": { "currentPassword": "not my password", "newPassword": new_password } }), Some(&user.access_token))
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(res["errors"][0]["extensions"]["field"], "currentPassword");
    let res = app
        .gql(
            CHANGE,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": "short" } }),
            Some(&user.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(res["errors"][0]["extensions"]["field"], "newPassword");
    // Neither failure changed anything.
    tokens(&app.login("change@example.com", PASSWORD).await, "login");

    let res = app
        .gql(
            CHANGE,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": new_password } }),
            Some(&user.access_token),
        )
        .await;
    let (access, refresh_token) = tokens(&res, "changePassword");
    assert_code(&refresh(&app, &user.refresh_token).await, "UNAUTHENTICATED");
    assert_code(
        &app.login("change@example.com", PASSWORD).await,
        "UNAUTHENTICATED",
    );
    tokens(
        &app.login("change@example.com", new_password).await,
        "login",
    );
    tokens(&refresh(&app, &refresh_token).await, "refreshSession");
    let res = app
        .gql("{ viewer { email } }", json!({}), Some(&access))
        .await;
    assert_eq!(res["data"]["viewer"]["email"], "change@example.com");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.password_changed'")
            .await,
        1
    );
}
