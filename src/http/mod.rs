//! The HTTP surface: the axum router, the GraphQL endpoint, health and metrics.

mod caller;
mod content;
mod graphql;
mod health;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::db::StatementCounter;
use crate::graphql::HypernetSchema;
use crate::graphql::limits::{Documents, Limits};
use crate::service::Services;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub schema: HypernetSchema,
    pub services: Arc<Services>,
    pub statements: Arc<StatementCounter>,
    pub limits: HttpLimits,
    /// Checked around each GraphQL execution (see `graphql::limits`).
    pub graphql_limits: Limits,
    pub documents: Arc<Documents>,
}

/// Bounds on requests, checked before GraphQL sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpLimits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub trust_forwarded_for: bool,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) fn router(state: AppState) -> Router {
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
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/media/{id}/content", get(content::media_content))
        .route(
            "/uploads/{id}",
            axum::routing::patch(uploads::patch_upload).head(uploads::head_upload),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(tracing)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}
