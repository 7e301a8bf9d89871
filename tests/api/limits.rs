//! GraphQL limits: depth, complexity, aliases, suggestions, introspection.

use serde_json::json;

use crate::helpers::{TestApp, assert_code};

fn limit_of(res: &serde_json::Value) -> &str {
    res["errors"][0]["extensions"]["limit"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn deep_queries_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_depth = 4).await;
    let user = app.register("deep@example.com").await;
    let res = app
        .gql(
            "{ viewer { auditLog { edges { node { action } } } } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(limit_of(&res), "depth");
    assert!(res["data"].is_null(), "nothing ran: {res}");
    let res = app
        .gql(
            "{ viewer { auditLog { totalCount } } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
}

#[tokio::test]
async fn connections_cost_their_page_size() {
    let app = TestApp::spawn_with(|c| c.max_complexity = 100).await;
    let user = app.register("complex@example.com").await;
    let query =
        "query($n: Int) { viewer { auditLog(first: $n) { edges { node { action ip } } } } }";
    let res = app
        .gql(query, json!({ "n": 100 }), Some(&user.access_token))
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(limit_of(&res), "complexity");
    let res = app
        .gql(query, json!({ "n": 2 }), Some(&user.access_token))
        .await;
    assert!(res["errors"].is_null(), "{res}");
}

#[tokio::test]
async fn aliases_are_capped_before_any_resolver_runs() {
    let app = TestApp::spawn_with(|c| c.max_aliases = 5).await;
    app.register("alias@example.com").await;
    let logins: String = (0..6)
        .map(|i| {
            format!(
                "l{i}: login(input: {{ email: \"alias@example.com\", password: \"wrong password {i}\" }}) {{ accessToken }} "
            )
        })
        .collect();
    let res = app
        .gql(&format!("mutation {{ {logins} }}"), json!({}), None)
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(limit_of(&res), "aliases");
    // No login was attempted, so no failure was counted.
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM login_throttle").await, 0);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed'")
            .await,
        0
    );
}

#[tokio::test]
async fn field_suggestions_are_off() {
    let app = TestApp::spawn().await;
    let res = app.gql("{ viewr { id } }", json!({}), None).await;
    assert_code(&res, "GRAPHQL_VALIDATION_FAILED");
    let message = res["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn parse_errors_have_a_code() {
    let app = TestApp::spawn().await;
    let res = app.gql("{ viewer { id ", json!({}), None).await;
    assert_code(&res, "GRAPHQL_PARSE_FAILED");
}

#[tokio::test]
async fn introspection_is_on_by_default() {
    let app = TestApp::spawn().await;
    let res = app
        .gql(
            "{ __schema { queryType { name } mutationType { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(res["data"]["__schema"]["queryType"]["name"], "Query");
    assert_eq!(res["data"]["__schema"]["mutationType"]["name"], "Mutation");
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.introspection = false).await;
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"User\") { name } }",
        "{ ...F } fragment F on Query { __schema { types { name } } }",
    ] {
        let res = app.gql(query, json!({}), None).await;
        assert_code(&res, "BAD_USER_INPUT");
        assert_eq!(limit_of(&res), "introspection", "{query}");
    }
    // __typename is not introspection.
    let res = app.gql("{ __typename }", json!({}), None).await;
    assert_eq!(res["data"]["__typename"], "Query");
    // Nor do validation errors tell the schema: no type or field is named.
    let res = app.gql("{ viewer { nosuchfield } }", json!({}), None).await;
    assert_code(&res, "GRAPHQL_VALIDATION_FAILED");
    let message = res["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("User") && !message.contains("nosuchfield"),
        "{message}"
    );
    assert!(res["errors"][0]["locations"].is_array(), "{res}");
}
