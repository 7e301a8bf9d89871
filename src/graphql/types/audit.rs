//! `AuditEvent` and the `User.auditLog` connection.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Json, Object};
use chrono::{DateTime, Utc};
use entity::audit_log;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::graphql::connection::{self, encode_cursor};
use crate::graphql::context::{services, viewer};

/// One security event.
pub(crate) struct AuditEvent(audit_log::Model);

#[Object]
impl AuditEvent {
    /// What happened, e.g. `auth.login`, `auth.login_failed`, `auth.password_changed`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }

    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }

    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.0.details.clone())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Fields of the audit-log connection beyond edges and `pageInfo`.
pub(crate) struct AuditLogFields {
    owner: Uuid,
}

#[Object]
impl AuditLogFields {
    /// Events in the whole log, not just this page.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(services(ctx).audit_count(self.owner).await? as i64)
    }
}

pub(crate) async fn audit_log_page(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<Connection<String, AuditEvent, AuditLogFields>> {
    if viewer(ctx)? != owner {
        return Err(AppError::NotFound("no such user".into()));
    }
    let page = connection::page::<Uuid>(first, after, last, before)?;
    let rows = services(ctx)
        .audit_page(owner, page.cursor, page.backward, page.limit + 1)
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn =
        Connection::with_additional_fields(has_previous, has_next, AuditLogFields { owner });
    conn.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(&row.id), AuditEvent(row))),
    );
    Ok(conn)
}
