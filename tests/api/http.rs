//! The HTTP surface: content types, body and batch limits, GET, health, request ids, shutdown.

use std::time::Duration;

use hypernet::App;
use hypernet::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.pool.close().await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    // ... while the process itself is still alive.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn other_content_types_get_415() {
    let app = TestApp::spawn().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let res = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{content_type}");
        let body: Value = res.json().await.unwrap();
        assert_code(&body, "BAD_USER_INPUT");
    }
    // No content type at all is refused the same way.
    let res = app
        .client
        .post(app.url("/graphql"))
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 2048).await;
    let padding = "x".repeat(4096);
    let res = app
        .post_json(
            json!({ "query": format!("{{ __typename }} # {padding}") }),
            None,
        )
        .await;
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");
    // Just under the limit is fine.
    let res = app
        .post_json(json!({ "query": "{ __typename }" }), None)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn malformed_json_is_a_clear_400() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn batches_run_up_to_the_cap() {
    let app = TestApp::spawn_with(|c| c.max_batch = 2).await;
    let op = json!({ "query": "{ __typename }" });
    let res = app.post_json(json!([op, op]), None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(body[1]["data"]["__typename"], "Query");

    let res = app.post_json(json!([op, op, op]), None).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");

    let res = app.post_json(json!([]), None).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn batches_can_be_refused_altogether() {
    let app = TestApp::spawn_with(|c| c.max_batch = 0).await;
    let op = json!({ "query": "{ __typename }" });
    let res = app.post_json(json!([op]), None).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
}

#[tokio::test]
async fn get_serves_graphiql_to_browsers_and_queries_to_clients() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let user = app.register("get@example.com").await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ viewer { email } }")])
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["email"], "get@example.com");
}

#[tokio::test]
async fn get_never_runs_mutations() {
    let app = TestApp::spawn().await;
    let user = app.register("nomut@example.com").await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { logoutAll { revokedSessions } }")])
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_code(&body, "BAD_USER_INPUT");
    // The session is still alive: the mutation did not run.
    let res = app
        .gql(
            "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }",
            json!({ "t": user.refresh_token }),
            None,
        )
        .await;
    assert!(
        res["data"]["refreshSession"]["accessToken"].is_string(),
        "{res}"
    );

    // Naming the mutation in a mixed document is refused too.
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Q { __typename } mutation M { logoutAll { revokedSessions } }",
            ),
            ("operationName", "M"),
        ])
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn the_viewer_query_costs_one_statement() {
    let app = TestApp::spawn().await;
    let user = app.register("count@example.com").await;
    let before = app.settled_statements().await;
    let res = app
        .gql(
            "{ viewer { id email } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["email"], "count@example.com");
    // The viewer's row; the token's session was checked when it was issued here.
    assert_eq!(app.statements().await - before, 1);
}

#[tokio::test]
async fn a_viewer_asked_only_for_its_lists_is_not_read() {
    let app = TestApp::spawn().await;
    let user = app.register("lists@example.com").await;
    let token = Some(user.access_token.as_str());
    app.create_album(&user.access_token, "Trip").await;

    // The lists alone: the account's row is not read.
    let before = app.settled_statements().await;
    let res = app
        .gql("{ viewer { id albums { totalCount } } }", json!({}), token)
        .await;
    assert_eq!(res["data"]["viewer"]["albums"]["totalCount"], 1, "{res}");
    let lists = app.statements().await - before;

    // A field of the row, even inside a fragment, reads it: one statement more.
    let before = app.settled_statements().await;
    let both = "{ viewer { albums { totalCount } ... on User { email } } }";
    let res = app.gql(both, json!({}), token).await;
    assert_eq!(res["data"]["viewer"]["email"], "lists@example.com", "{res}");
    assert_eq!(app.statements().await - before, lists + 1);

    // An account marked deleted (by an operator) is refused wherever its row is read, and
    // keeps its own lists (not anyone else's) until its access token expires.
    let other = app.register("other@example.com").await;
    app.create_album(&other.access_token, "Theirs").await;
    app.sql("UPDATE users SET deleted_at = created_at WHERE email = 'lists@example.com'")
        .await
        .unwrap();
    let res = app.gql(both, json!({}), token).await;
    assert_code(&res, "UNAUTHENTICATED");
    let res = app
        .gql(
            "{ viewer { albums { edges { node { name } } } } }",
            json!({}),
            token,
        )
        .await;
    assert_eq!(
        res["data"]["viewer"]["albums"]["edges"],
        json!([{ "node": { "name": "Trip" } }])
    );
}

#[tokio::test]
async fn shutdown_is_graceful_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.database_url = None;
    config.shutdown_grace_secs = 2;
    let app = App::build(config).await.unwrap();
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        rx.await.ok();
    }));
    let url = format!("http://127.0.0.1:{port}/healthz");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stopped within its grace period")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(&url).await.is_err(),
        "nothing listens any more"
    );
}
