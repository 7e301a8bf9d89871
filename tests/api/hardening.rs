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

async fn login_from(app: &TestApp, email: &str, password: &str, ip: &str) -> Value {
    app.client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", ip)
        .json(&json!({
            "query": "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
            "variables": { "e": email, "p": password },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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
    let app = TestApp::spawn().await;
    let other = app.spawn_beside(|_| {}).await;
    let ann = app.register("ann@example.com").await;
    let second = app.login("ann@example.com", PASSWORD).await;
    let second_token = second["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
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
    let second = app.login("ann@example.com", PASSWORD).await;
    let second_token = second["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
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
