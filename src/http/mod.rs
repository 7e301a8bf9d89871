//! The HTTP surface: the axum router, the GraphQL endpoint, health and metrics.

mod admission;
mod caller;
mod content;
mod get;
mod graphiql;
mod graphql;
mod health;
mod multipart;
mod negotiate;
mod paced;
mod persisted;
mod uploads;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::db::StatementCounter;
use crate::graphql::HypernetSchema;
use crate::graphql::documents::Documents;
use crate::graphql::limits::Limits;
use crate::service::Services;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub schema: HypernetSchema,
    pub executor: crate::config::ExecutorMode,
    pub services: Arc<Services>,
    pub statements: Arc<StatementCounter>,
    pub limits: HttpLimits,
    /// Checked around each GraphQL execution (see `graphql::limits`).
    pub graphql_limits: Limits,
    pub documents: Arc<Documents>,
    /// Origins of browser apps that may call the API (`*`: any).
    pub cors_origins: Arc<Vec<String>>,
    /// Which documents run.
    pub documents_mode: crate::config::DocumentsMode,
}

/// Bounds on requests, checked before GraphQL sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpLimits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub trust_forwarded_for: bool,
    /// How long a WebSocket client may take to accept a message.
    pub ws_send_timeout: std::time::Duration,
    /// How long an instance trusts what it read of a session (WebSockets check theirs as often).
    pub session_check_secs: u64,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// CORS for the configured origins: the API, the media bytes and the resumable uploads, with
/// the headers those need and show. Bearer tokens are not cookies, so no credentials mode.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    use axum::http::{Method, header};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok()),
        )
    };
    let tus = |name: &'static str| HeaderName::from_static(name);
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::HEAD])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::RANGE,
                header::IF_NONE_MATCH,
                tus("upload-offset"),
                tus("upload-length"),
                tus("tus-resumable"),
                REQUEST_ID,
            ])
            .expose_headers([
                header::ETAG,
                header::CONTENT_RANGE,
                header::ACCEPT_RANGES,
                header::CONTENT_LENGTH,
                header::RETRY_AFTER,
                tus("upload-offset"),
                tus("upload-length"),
                tus("tus-resumable"),
                REQUEST_ID,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Compresses what is text (GraphQL answers, JSON, GraphiQL's files) above a small size; never
/// media bytes, nor a part of them.
fn compression() -> CompressionLayer<impl Predicate> {
    fn text(status: StatusCode, headers: &axum::http::HeaderMap) -> bool {
        if status == StatusCode::PARTIAL_CONTENT {
            return false;
        }
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        [
            "application/json",
            "application/graphql-response+json",
            "text/",
            "image/svg+xml",
        ]
        .iter()
        .any(|t| content_type.starts_with(t))
    }
    let predicate = SizeAbove::new(1024).and(
        |status: StatusCode,
         _: axum::http::Version,
         headers: &axum::http::HeaderMap,
         _: &axum::http::Extensions| { text(status, headers) },
    );
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .zstd(true)
        .compress_when(predicate)
}

pub(crate) fn router(state: AppState) -> Router {
    let cors = cors(&state.cors_origins);
    let tracing = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %request_id,
        )
    });
    Router::new()
        .route(
            "/graphql",
            get(get::graphql_get).post(graphql::graphql_post),
        )
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/graphiql/{name}", get(graphiql::asset))
        .route("/media/{id}/content", get(content::media_content))
        .route(
            "/uploads/{id}",
            axum::routing::patch(uploads::patch_upload).head(uploads::head_upload),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
        .layer(middleware::from_fn(run_to_completion))
        .layer(compression())
        .layer(tower::util::option_layer(cors))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(tracing)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// Runs each request in a task of its own, which finishes even when the client goes away.
/// Otherwise a client that disconnects mid-request cancels its handler at whatever it awaits,
/// and a transaction cut off there can go back to the pool unfinished: seen under load, a
/// pooled connection left inside a transaction that held a user's row lock, so that the
/// next statements to run on it joined that transaction and others waited on the lock.
async fn run_to_completion(request: Request<Body>, next: Next) -> Response {
    let handler = next.run(request).instrument(tracing::Span::current());
    match tokio::spawn(handler).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a request handler failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_handler_finishes_after_its_client_has_gone() {
        let (go, done) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        let (wait, finish) = (go.clone(), done.clone());
        let handler = move || {
            let (wait, finish) = (wait.clone(), finish.clone());
            async move {
                wait.notified().await;
                finish.store(true, Ordering::SeqCst);
            }
        };
        let app = Router::new()
            .route("/", get(handler))
            .layer(middleware::from_fn(run_to_completion));
        // Started, then dropped while the handler waits: what hyper does when a client
        // disconnects.
        let mut call = Box::pin(app.oneshot(Request::new(Body::empty())));
        assert!(futures_util::poll!(&mut call).is_pending());
        tokio::task::yield_now().await;
        drop(call);
        go.notify_one();
        for _ in 0..200 {
            if done.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the handler was cancelled with its client");
    }
}
