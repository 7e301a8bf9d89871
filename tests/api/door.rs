//! The clients' door: GraphiQL from the binary, CORS for browser apps, compression, GraphQL
//! over HTTP (media types, status codes, request errors), persisted documents (automatic and
//! trusted), each request's cost, absolute URLs.

use hypernet::config::DocumentsMode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::{TestApp, assert_code};

fn sha256(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn graphiql_comes_from_the_binary_with_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let page = res.text().await.unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    // Every file the page names is served, with its type.
    let mut names: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/"))
        .collect();
    names.dedup();
    assert_eq!(names.len(), 6, "{names:?}");
    for name in names {
        let res = app.client.get(app.url(name)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_string();
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        let body = res.bytes().await.unwrap();
        assert!(body.len() > 100, "{name}");
        let expected = if name.ends_with(".js") {
            "text/javascript"
        } else if name.ends_with(".css") {
            "text/css"
        } else {
            "image/svg+xml"
        };
        assert!(kind.starts_with(expected), "{name}: {kind}");
        // The scripts are the production builds, and fetch nothing from a CDN.
        if name.ends_with(".js") {
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("unpkg.com") && !text.contains("cdn.jsdelivr"),
                "{name}"
            );
        }
        let again = app
            .client
            .get(app.url(name))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
    }
    let missing = app
        .client
        .get(app.url("/graphiql/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn browser_apps_of_listed_origins_may_call_the_api() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec!["https://app.example".into()]).await;
    let preflight = |path: &str, method: &str, headers: &str, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .send()
    };
    let res = preflight(
        "/graphql",
        "POST",
        "authorization,content-type",
        "https://app.example",
    )
    .await
    .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    // The media bytes (Range) and the resumable uploads (tus headers).
    let res = preflight("/media/x/content", "GET", "range", "https://app.example")
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let res = preflight(
        "/uploads/x",
        "PATCH",
        "upload-offset,content-type,tus-resumable",
        "https://app.example",
    )
    .await
    .unwrap();
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("PATCH"), "{methods}");
    // Another origin is not told anything.
    let res = preflight("/graphql", "POST", "content-type", "https://evil.example")
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // An actual request shows the headers a client needs to read.
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://app.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for h in ["etag", "content-range", "upload-offset", "x-request-id"] {
        assert!(exposed.contains(h), "{exposed}");
    }

    // With no origins configured, nothing is allowed across origins.
    let closed = TestApp::spawn().await;
    let res = closed
        .client
        .request(reqwest::Method::OPTIONS, closed.url("/graphql"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn content_urls_are_absolute() {
    let app = TestApp::spawn().await;
    let user = app.register("ann@example.com").await;
    let id = app.photos(&user.access_token, 1).await.remove(0);
    let query = "query($id: ID!) { node(id: $id) { ... on Media { contentUrl } } }";
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&user.access_token)
        .header("host", "photos.local:9999")
        .json(&json!({ "query": query, "variables": { "id": id } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let url = res["data"]["node"]["contentUrl"].as_str().unwrap();
    assert!(url.starts_with("http://photos.local:9999/media/"), "{url}");
    // The URL works as it is (here, on the server's real address).
    let path = &url["http://photos.local:9999".len()..];
    let bytes = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(bytes.status(), 200);

    let configured = app
        .spawn_beside(|c| c.public_url = Some("https://photos.example.com/".into()))
        .await;
    let res = configured
        .gql(query, json!({ "id": id }), Some(&user.access_token))
        .await;
    let url = res["data"]["node"]["contentUrl"].as_str().unwrap();
    assert!(
        url.starts_with("https://photos.example.com/media/"),
        "{url}"
    );
}

#[tokio::test]
async fn text_answers_are_compressed_and_media_bytes_never() {
    let app = TestApp::spawn().await;
    let user = app.register("ann@example.com").await;
    let ids = app.photos(&user.access_token, 3).await;
    // reqwest without its decompression features sends no Accept-Encoding: ask by hand.
    let post = |encoding: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&user.access_token)
            .header("accept-encoding", encoding)
            .json(&json!({ "query": "{ __schema { types { name description fields { name description } } } }" }))
            .send()
    };
    for encoding in ["gzip", "br", "zstd"] {
        let res = post(encoding).await.unwrap();
        assert_eq!(res.headers()["content-encoding"], encoding);
    }
    let plain = post("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    // Small answers are sent as they are.
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("accept-encoding", "gzip")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    // Media bytes, whole or in part, never.
    let path = format!("/media/{}/content", ids[0]);
    for range in [None, Some("bytes=0-9")] {
        let mut req = app
            .client
            .get(app.url(&path))
            .bearer_auth(&user.access_token)
            .header("accept-encoding", "gzip, br");
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_success());
        assert!(res.headers().get("content-encoding").is_none());
    }
}

/// POSTs `body` with `accept`, and returns the status, the content type and the body.
async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> (u16, String, Value) {
    let mut req = app.client.post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    (status, kind, res.json().await.unwrap())
}

const GRAPHQL: &str = "application/graphql-response+json";

#[tokio::test]
async fn graphql_over_http_media_types_and_status_codes() {
    let app = TestApp::spawn().await;
    // The GraphQL media type when asked: a request error is 400, with no data entry.
    let (status, kind, body) = post(&app, Some(GRAPHQL), json!({ "query": "{ viewer { " })).await;
    assert_eq!((status, kind.starts_with(GRAPHQL)), (400, true), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_code(&body, "GRAPHQL_PARSE_FAILED");
    let (status, _, body) = post(&app, Some(GRAPHQL), json!({ "query": "{ nope }" })).await;
    assert_eq!(status, 400);
    assert_code(&body, "GRAPHQL_VALIDATION_FAILED");
    // A field error is not a request error: 200, with data.
    let (status, _, body) =
        post(&app, Some(GRAPHQL), json!({ "query": "{ viewer { id } }" })).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_some(), "{body}");
    assert_code(&body, "UNAUTHENTICATED");
    // JSON for clients that ask for it or send no Accept: 200, still no data entry.
    for accept in [None, Some("application/json"), Some("*/*")] {
        let (status, kind, body) = post(&app, accept, json!({ "query": "{ viewer { " })).await;
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/json"),
            "{accept:?}"
        );
        assert!(body.get("data").is_none(), "{body}");
    }
    // Nothing we can send: 406.
    let (status, _, _) = post(
        &app,
        Some("application/xml"),
        json!({ "query": "{ __typename }" }),
    )
    .await;
    assert_eq!(status, 406);

    // Several operations and no name is the client's mistake, said plainly.
    let two = "query A { __typename } query B { __typename }";
    let (status, _, body) = post(&app, Some(GRAPHQL), json!({ "query": two })).await;
    assert_eq!(status, 400);
    assert_code(&body, "BAD_REQUEST");
    let (_, _, body) = post(&app, None, json!({ "query": two, "operationName": "B" })).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    // GET honours operationName.
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", two), ("operationName", "B")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(res["data"]["__typename"], "Query", "{res}");
    // A required variable left out is a request error, before anything runs.
    let (status, _, body) = post(
        &app,
        Some(GRAPHQL),
        json!({ "query": "query($id: ID!) { node(id: $id) { id } }" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    // An error never echoes a huge document back.
    let huge = format!("{{ viewer {{ {} ", "x".repeat(900_000));
    let (_, _, body) = post(&app, None, json!({ "query": huge })).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.len() < 2_000, "{} bytes", message.len());
}

/// A persisted query sent by GET: only its hash, in `extensions`.
async fn get_persisted(app: &TestApp, token: &str, extensions: &Value) -> Value {
    app.client
        .get(app.url("/graphql"))
        .bearer_auth(token)
        .query(&[("extensions", extensions.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn automatic_persisted_queries_register_and_run_by_hash() {
    let app = TestApp::spawn().await;
    let user = app.register("ann@example.com").await;
    let query = "query Me { viewer { id } }";
    let hash = sha256(query);
    let pq = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let send = |body: Value| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&user.access_token)
            .json(&body)
            .send()
    };
    // Unknown hash: the client then sends the text.
    let res: Value = send(json!({ "extensions": pq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_code(&res, "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(res["errors"][0]["message"], "PersistedQueryNotFound");
    let res: Value = send(json!({ "query": query, "extensions": pq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["data"]["viewer"]["id"], user.id, "{res}");
    // Known now, also to GET (whose answers HTTP caches may keep).
    let res: Value = send(json!({ "extensions": pq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["data"]["viewer"]["id"], user.id, "{res}");
    let res = get_persisted(&app, &user.access_token, &pq).await;
    assert_eq!(res["data"]["viewer"]["id"], user.id, "{res}");
    // Known documents are kept in memory: a hash-only request reads no row for its text.
    let before = app.statements().await;
    let res = get_persisted(&app, &user.access_token, &pq).await;
    assert_eq!(res["data"]["viewer"]["id"], user.id, "{res}");
    assert_eq!(app.statements().await - before, 0);
    // A hash that is not the text's is refused.
    let res: Value = send(json!({ "query": "{ viewer { email } }", "extensions": pq }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_code(&res, "BAD_REQUEST");
    // A persisted mutation does not run over GET.
    let mutation = "mutation { logoutAll { revokedSessions } }";
    let mpq = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(mutation) } });
    send(json!({ "query": mutation, "extensions": mpq }))
        .await
        .unwrap();
    let res = get_persisted(&app, &user.access_token, &mpq).await;
    assert_code(&res, "BAD_REQUEST");
    // Every instance knows them: they are in the database.
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM persisted_documents")
            .await,
        2
    );
}

#[tokio::test]
async fn the_trusted_mode_runs_the_operators_documents_only() {
    let app = TestApp::spawn_with(|c| c.documents = DocumentsMode::Trusted).await;
    let query = "query Me { viewer { id email } }";
    let file = app.data_dir.path().join("persisted-documents.json");
    std::fs::write(&file, json!({ "relay-id-1": query }).to_string()).unwrap();
    let out = app
        .cli(&["documents", "add", file.to_str().unwrap()], None)
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Registering is closed, and so is any other text.
    let res = app.gql("{ __typename }", json!({}), None).await;
    assert_code(&res, "TRUSTED_DOCUMENT_REQUIRED");
    let user_token = {
        // Accounts are made by the operator here: `register` is a document too.
        let out = app
            .cli(
                &["user", "create", "ann@example.com"],
                Some("correct horse battery staple\n"),
            )
            .await;
        assert!(out.status.success());
        let login = "mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }";
        let res = app
            .gql(login, json!({ "e": "ann@example.com", "p": "x" }), None)
            .await;
        assert_code(&res, "TRUSTED_DOCUMENT_REQUIRED");
        std::fs::write(&file, json!({ "login-1": login }).to_string()).unwrap();
        let out = app
            .cli(&["documents", "add", file.to_str().unwrap()], None)
            .await;
        assert!(out.status.success());
        let res = app
            .post_json(
                json!({ "documentId": "login-1", "variables": { "e": "ann@example.com", "p": "correct horse battery staple" } }),
                None,
            )
            .await
            .json::<Value>()
            .await
            .unwrap();
        res["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{res}"))
            .to_string()
    };
    // By id, Relay's name and GraphQL over HTTP's.
    for body in [
        json!({ "doc_id": "relay-id-1" }),
        json!({ "documentId": "relay-id-1" }),
    ] {
        let res: Value = app
            .post_json(body, Some(&user_token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(res["data"]["viewer"]["email"], "ann@example.com", "{res}");
    }
    let res: Value = app
        .post_json(json!({ "documentId": "unknown" }), Some(&user_token))
        .await
        .json()
        .await
        .unwrap();
    assert_code(&res, "PERSISTED_QUERY_NOT_FOUND");
    // The same file may be added again; the same id with another text is refused.
    std::fs::write(&file, json!({ "relay-id-1": query }).to_string()).unwrap();
    let out = app
        .cli(&["documents", "add", file.to_str().unwrap()], None)
        .await;
    assert!(out.status.success());
    std::fs::write(&file, json!({ "relay-id-1": "{ __typename }" }).to_string()).unwrap();
    let out = app
        .cli(&["documents", "add", file.to_str().unwrap()], None)
        .await;
    assert!(!out.status.success());
}

#[tokio::test]
async fn each_answer_says_what_it_cost() {
    let app = TestApp::spawn().await;
    let user = app.register("ann@example.com").await;
    let res = app
        .gql(
            "{ viewer { media(first: 10) { edges { node { id } } } } }",
            json!({}),
            Some(&user.access_token),
        )
        .await;
    // viewer 1, the page 1, ten edges of an edge and a media.
    assert_eq!(
        res["extensions"]["cost"]["requested"],
        1 + 1 + 10 * 2,
        "{res}"
    );
    assert_eq!(res["extensions"]["cost"]["limit"], 50_000);

    // The mobile screen of issue 14 (20 albums of 50 media, eleven fields, five links with
    // their far ends) passes the default limit; the same screen with pages of 100 at every
    // level does not, and is refused before anything runs.
    let screen = |albums: u32, media: u32, links: u32| {
        format!(
            "{{ viewer {{ albums(first: {albums}) {{ edges {{ node {{ id name mediaCount coverMedia {{ id contentUrl }}
               media(first: {media}) {{ edges {{ addedAt node {{ id filename takenAt takenAtLocal width height mediaType
                 contentUrl size mimeType createdAt
                 links(first: {links}) {{ edges {{ other {{ id }} node {{ id linkType }} }} }} }} }} }} }} }} }} }} }}"
        )
    };
    let res = app
        .gql(&screen(20, 50, 5), json!({}), Some(&user.access_token))
        .await;
    assert!(res["errors"].is_null(), "{res}");
    let cost = res["extensions"]["cost"]["requested"].as_u64().unwrap();
    assert!((10_000..50_000).contains(&cost), "{cost}");
    let res = app
        .gql(&screen(100, 100, 100), json!({}), Some(&user.access_token))
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert!(res["data"].is_null(), "{res}");
}

#[tokio::test]
async fn queries_over_get_are_kept_by_the_clients_cache_and_revalidated() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let album = app.create_album(&ann.access_token, "Paris").await;
    let get = |query: &'static str, etag: Option<String>| {
        let app = &app;
        let token = ann.access_token.clone();
        async move {
            let mut req = app
                .client
                .get(app.url("/graphql"))
                .bearer_auth(token)
                .query(&[("query", query)]);
            if let Some(etag) = etag {
                req = req.header("if-none-match", etag);
            }
            req.send().await.unwrap()
        }
    };
    let query = "{ viewer { albums { nodes { name } } } }";
    let first = get(query, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "private, no-cache");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    // Unchanged: 304, no body.
    let again = get(query, Some(etag.clone())).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // Changed: the new answer, with a new tag.
    app.ok(
        "mutation($id: ID!) { updateAlbum(input: { id: $id, name: \"Lyon\" }) { album { id } } }",
        json!({ "id": album }),
        &ann.access_token,
    )
    .await;
    let changed = get(query, Some(etag.clone())).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["albums"]["nodes"][0]["name"], "Lyon");
    // An answer with errors is not kept.
    let failed = get("{ viewer { albums(first: 0) { totalCount } } }", None).await;
    assert_eq!(failed.headers()["cache-control"], "no-store");
    assert!(failed.headers().get("etag").is_none());
}
