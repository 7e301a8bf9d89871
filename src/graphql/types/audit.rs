//! `AuditEvent` and the `User.auditLog` connection.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Json, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::audit_log;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::graphql::context::{services, viewer};

/// Page sizes accepted by every connection.
pub(crate) const MAX_PAGE: i32 = 100;
pub(crate) const DEFAULT_PAGE: i32 = 20;

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
#[derive(SimpleObject)]
pub(crate) struct AuditLogFields {
    /// Events in the whole log, not just this page.
    total_count: i64,
}

/// A checked page size.
pub(crate) fn page_size(first: Option<i32>) -> AppResult<u64> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("`first` must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(first as u64)
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| AppError::bad_input("after", "`after` is not a cursor of this list"))
}

pub(crate) async fn audit_log_page(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> AppResult<Connection<String, AuditEvent, AuditLogFields>> {
    if viewer(ctx)? != owner {
        return Err(AppError::NotFound("no such user".into()));
    }
    let limit = page_size(first)?;
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let svc = services(ctx);
    let mut rows = svc.audit_page(owner, after, limit + 1).await?;
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let total_count = if ctx.look_ahead().field("totalCount").exists() {
        svc.audit_count(owner).await? as i64
    } else {
        0
    };
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        has_next,
        AuditLogFields { total_count },
    );
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(encode_cursor(row.id), AuditEvent(row))),
    );
    Ok(connection)
}
