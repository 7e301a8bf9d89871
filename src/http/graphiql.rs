//! GraphiQL, served by the binary itself: the page at `GET /graphql` (for browsers) and its
//! files under `/graphiql/`, every one embedded at build time. GraphiQL and React (MIT
//! licensed) are the pinned npm release in `graphiql/` (see `build.rs`); the favicon and
//! the start script are our own. Nothing is fetched from elsewhere, so the page works on a
//! server with no internet.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $file:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/graphiql/", $file)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!(
        "graphiql.min.js",
        "node_modules/graphiql/graphiql.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "graphiql.min.css",
        "node_modules/graphiql/graphiql.min.css",
        "text/css; charset=utf-8"
    ),
    asset!(
        "react.production.min.js",
        "node_modules/react/umd/react.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "react-dom.production.min.js",
        "node_modules/react-dom/umd/react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("start.js", "start.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "favicon.svg", "image/svg+xml"),
];

/// Each asset's ETag: a digest of its bytes, so a new release is never served from a cache.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", &hex::encode(Sha256::digest(a.bytes))[..32]))
        .collect()
});

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Hypernet GraphiQL</title>
  <link rel="icon" href="/graphiql/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

/// What the page may load: its own files, and this server's API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'";

/// The GraphiQL page.
pub(crate) fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphiql/{name}`.
pub(crate) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (asset, etag) = (&ASSETS[i], &ETAGS[i]);
    let etag_value = HeaderValue::from_str(etag).expect("hex is a valid header");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if fresh {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), cache],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag_value),
            cache,
        ],
        asset.bytes,
    )
        .into_response()
}
