//! `/metrics` after known traffic: operations by name and type, errors by code, SQL per
//! request, the pool, uploads.

use serde_json::json;

use crate::helpers::{TestApp, assert_code, sha256_hex};

async fn scrape(app: &TestApp) -> String {
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(res.status().is_success());
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    res.text().await.unwrap()
}

/// The value of the sample `series` (name and labels as written), if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("{series} is not in:\n{text}"))
}

#[tokio::test]
async fn metrics_count_operations_errors_sql_per_request_and_uploads() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let token = ann.access_token.as_str();
    app.settled_statements().await;

    let before = app.statements().await;
    for _ in 0..3 {
        app.ok(
            "query Library { viewer { media(first: 5) { edges { node { id } } } albums(first: 5) { totalCount } } }",
            json!({}),
            token,
        )
        .await;
    }
    let sent = app.statements().await - before;
    assert!(sent >= 3, "{sent}");
    let res = app
        .gql(
            "query Broken { viewer { media(first: 1000) { totalCount } } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    // Invalid: counted, with its error's code.
    let invalid = app
        .gql("query Nope { nothing }", json!({}), Some(token))
        .await;
    let invalid_code = crate::helpers::error_code(&invalid).to_string();
    // Refused before it runs (it does not parse): no operation is counted, its error is.
    let unparsed = app.gql("query Cut {", json!({}), Some(token)).await;
    let unparsed_code = crate::helpers::error_code(&unparsed).to_string();
    assert_ne!(invalid_code, unparsed_code);

    let text = scrape(&app).await;
    assert!(text.ends_with("# EOF\n"), "{text}");
    for line in text.lines() {
        assert!(
            line.starts_with('#')
                || line
                    .rsplit_once(' ')
                    .is_some_and(|(_, v)| v.parse::<f64>().is_ok()),
            "not a sample: {line}"
        );
    }
    let library = r#"{operation="Library",type="query"}"#;
    assert_eq!(
        value(
            &text,
            &format!("hypernet_graphql_operation_duration_seconds_count{library}")
        ),
        3.0
    );
    assert!(
        value(
            &text,
            &format!("hypernet_graphql_operation_duration_seconds_sum{library}")
        ) > 0.0
    );
    // Every statement the three requests sent, and only those, counted under them.
    assert_eq!(
        value(
            &text,
            &format!("hypernet_graphql_operation_sql_statements_count{library}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("hypernet_graphql_operation_sql_statements_sum{library}")
        ),
        sent as f64
    );
    assert!(
        value(
            &text,
            &format!("hypernet_graphql_operation_sql_duration_seconds_sum{library}")
        ) > 0.0
    );
    assert_eq!(
        value(
            &text,
            r#"hypernet_graphql_operation_duration_seconds_count{operation="Broken",type="query"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"hypernet_graphql_errors_total{code="BAD_USER_INPUT"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"hypernet_graphql_operation_duration_seconds_count{operation="Nope",type="query"}"#
        ),
        1.0
    );
    assert!(
        sample(
            &text,
            r#"hypernet_graphql_operation_duration_seconds_count{operation="Cut",type="query"}"#
        )
        .is_none()
    );
    for code in [&invalid_code, &unparsed_code] {
        assert_eq!(
            value(
                &text,
                &format!("hypernet_graphql_errors_total{{code=\"{code}\"}}")
            ),
            1.0,
            "{code}"
        );
    }
    let register = r#"{operation="anonymous",type="mutation"}"#;
    assert_eq!(
        value(
            &text,
            &format!("hypernet_graphql_operation_duration_seconds_count{register}")
        ),
        1.0
    );
    assert_eq!(value(&text, "hypernet_db_pool_max_connections"), 8.0);
    assert!(value(&text, r#"hypernet_db_pool_connections{state="idle"}"#) >= 0.0);

    // Uploads: a multipart one, and a resumable one in two chunks.
    let photo = crate::fixtures::png(64, 48);
    app.upload_ok(token, "a.png", photo.clone()).await;
    let bytes = crate::fixtures::jpeg(320, 200, None);
    let begun = app
        .ok(
            "mutation($input: BeginUploadInput!) { beginUpload(input: $input) { upload { uploadUrl } } }",
            json!({ "input": { "sha256": sha256_hex(&bytes), "size": bytes.len(), "mimeType": "image/jpeg", "filename": "b.jpg" } }),
            token,
        )
        .await;
    let url = begun["beginUpload"]["upload"]["uploadUrl"]
        .as_str()
        .unwrap();
    let half = bytes.len() / 2;
    for (offset, chunk) in [(0, &bytes[..half]), (half, &bytes[half..])] {
        let res =
            crate::helpers::patch_chunk(&app.client, &app.url(url), token, offset, chunk).await;
        assert_eq!(res.status(), 204);
    }
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, r#"hypernet_upload_bytes_total{path="resumable"}"#),
        bytes.len() as f64
    );
    assert_eq!(
        value(
            &text,
            r#"hypernet_upload_duration_seconds_count{path="resumable"}"#
        ),
        2.0
    );
    // A multipart upload counts its whole request body: the file and the form around it.
    let multipart = value(&text, r#"hypernet_upload_bytes_total{path="multipart"}"#);
    assert!(
        multipart > photo.len() as f64 && multipart < photo.len() as f64 + 2048.0,
        "{multipart}"
    );
    assert_eq!(
        value(
            &text,
            r#"hypernet_upload_duration_seconds_count{path="multipart"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn client_chosen_operation_names_are_bounded() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let limit = hypernet::metrics::MAX_OPERATIONS;
    for i in 0..limit + 5 {
        app.ok(
            &format!("query Q{i} {{ viewer {{ id }} }}"),
            json!({}),
            &ann.access_token,
        )
        .await;
    }
    let text = scrape(&app).await;
    let named = text
        .lines()
        .filter(|l| l.starts_with("hypernet_graphql_operation_duration_seconds_count{"))
        .count();
    // `register`'s anonymous mutation, the names up to the limit, then `other`.
    assert_eq!(named, limit + 2, "{text}");
    assert_eq!(
        value(
            &text,
            r#"hypernet_graphql_operation_duration_seconds_count{operation="other",type="query"}"#
        ),
        5.0
    );
}

#[tokio::test]
async fn traces_go_to_an_otlp_collector_when_one_is_configured() {
    use std::sync::{Arc, Mutex};
    let app = TestApp::spawn().await;
    // A collector that keeps what it is sent.
    // Each request's content type and body.
    type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Received = Arc::default();
    let kept = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    kept.lock().unwrap().push((content_type, body.to_vec()));
                    ""
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
        .arg("serve")
        .env("DATABASE_URL", &app.database_url)
        .envs(app.owner_env())
        .env("HYPERNET_DATA_DIR", app.data_dir.path())
        .env("HYPERNET_BIND", format!("127.0.0.1:{port}"))
        .env("HYPERNET_MAINTENANCE_INTERVAL_SECS", "0")
        .env(
            "HYPERNET_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{collector_port}"),
        )
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    assert!(
        crate::helpers::comes_up(&app.client, &format!("{url}/healthz"), 200).await,
        "the server did not start"
    );
    let res: serde_json::Value = app
        .client
        .post(format!("{url}/graphql"))
        .header("x-request-id", "trace-me-7f3a")
        .json(&json!({ "query": "query Traced { __typename }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["data"]["__typename"], "Query");
    let ann = app.register("ann@example.com").await;
    let res = app
        .client
        .post(format!("{url}/graphql"))
        .bearer_auth(&ann.access_token)
        .header("x-request-id", "trace-me-sql")
        .json(&json!({ "query": "{ viewer { email } }" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    // Stopping sends what is buffered.
    let pid = server.id().unwrap().to_string();
    tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    let status = server.wait().await.unwrap();
    assert!(status.success(), "{status}");

    let received = received.lock().unwrap();
    assert!(!received.is_empty(), "the collector received nothing");
    assert!(
        received
            .iter()
            .all(|(content_type, _)| content_type == "application/x-protobuf"),
        "{:?}",
        received.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    let all: Vec<u8> = received.iter().flat_map(|(_, body)| body.clone()).collect();
    let holds = |needle: &str| all.windows(needle.len()).any(|w| w == needle.as_bytes());
    for needle in [
        "hypernet",
        "request",
        "trace-me-7f3a",
        "trace-me-sql",
        "sql",
        "SELECT",
    ] {
        assert!(holds(needle), "no {needle:?} in the traces");
    }
}
