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

/// `/metrics`, in the OpenMetrics text format (which Prometheus reads): the process's counters
/// and gauges, then [`crate::metrics::Metrics`]' families.
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    use std::fmt::Write;
    let pool = state.services.db.pool_status();
    let mut body = String::with_capacity(16 * 1024);
    let _ = write!(
        body,
        "# HELP hypernet_sql_statements SQL statements sent to the database.\n\
         # TYPE hypernet_sql_statements counter\n\
         hypernet_sql_statements_total {}\n\
         # HELP hypernet_db_viewer_switches Times a PostgreSQL connection was set for another viewer (row-level security).\n\
         # TYPE hypernet_db_viewer_switches counter\n\
         hypernet_db_viewer_switches_total {}\n\
         # HELP hypernet_subscriptions Subscriptions open on this instance (`/graphql/ws`).\n\
         # TYPE hypernet_subscriptions gauge\n\
         hypernet_subscriptions {}\n\
         # HELP hypernet_db_pool_max_connections Connections the database pool may open.\n\
         # TYPE hypernet_db_pool_max_connections gauge\n\
         hypernet_db_pool_max_connections {}\n\
         # HELP hypernet_db_pool_connections Connections the database pool holds, in use or idle.\n\
         # TYPE hypernet_db_pool_connections gauge\n\
         hypernet_db_pool_connections{{state=\"in_use\"}} {}\n\
         hypernet_db_pool_connections{{state=\"idle\"}} {}\n",
        state.statements.get(),
        state.statements.viewer_switches(),
        state.services.feed.subscriptions(),
        pool.max,
        pool.open.saturating_sub(pool.idle),
        pool.idle,
    );
    if let Some(waiting) = pool.waiting {
        let _ = write!(
            body,
            "# HELP hypernet_db_pool_waiters Tasks waiting for a database connection.\n\
             # TYPE hypernet_db_pool_waiters gauge\n\
             hypernet_db_pool_waiters {waiting}\n"
        );
    }
    state.services.metrics.encode(&mut body);
    body.push_str("# EOF\n");
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}
