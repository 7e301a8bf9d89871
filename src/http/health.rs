//! `/healthz` (the process is up), `/readyz` (the database answers), `/metrics` (Prometheus).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::{ConnAcquireErr, DbErr};

use super::AppState;

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready while the database answers. A pool with every connection in use is busy, not
/// down: a load balancer must not drop an instance for being loaded.
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) => (
            StatusCode::OK,
            "ready (busy: every database connection is in use)",
        ),
        Err(err) => {
            tracing::warn!(error = %err, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "# HELP hypernet_sql_statements_total SQL statements sent to the database.\n\
         # TYPE hypernet_sql_statements_total counter\n\
         hypernet_sql_statements_total {}\n\
         # HELP hypernet_db_viewer_switches_total Times a PostgreSQL connection was set for another viewer (row-level security).\n\
         # TYPE hypernet_db_viewer_switches_total counter\n\
         hypernet_db_viewer_switches_total {}\n\
         # HELP hypernet_subscriptions Subscriptions open on this instance (`/graphql/ws`).\n\
         # TYPE hypernet_subscriptions gauge\n\
         hypernet_subscriptions {}\n",
        state.statements.get(),
        state.statements.viewer_switches(),
        state.services.feed.subscriptions()
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
