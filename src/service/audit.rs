//! Writing security events to `audit_log`, and reading a user's own.

use entity::audit_log;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::{ClientInfo, Services};
use crate::error::AppResult;
use crate::store;
use crate::store::audit::NewAuditEntry;

/// Records `action` for `user_id` with the client's address and agent.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    client: &ClientInfo,
    user_id: Option<Uuid>,
    action: &'static str,
    details: Value,
) -> AppResult<()> {
    store::audit::insert(
        db,
        NewAuditEntry {
            user_id,
            action,
            object_type: user_id.map(|_| "user"),
            object_id: user_id,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            details,
        },
    )
    .await?;
    Ok(())
}

/// Records `action` by `user` on an object of theirs.
pub(crate) async fn record_object(
    db: &impl ConnectionTrait,
    client: &ClientInfo,
    user: Uuid,
    action: &'static str,
    (object_type, object_id): (&'static str, Uuid),
    details: Value,
) -> AppResult<()> {
    store::audit::insert(
        db,
        NewAuditEntry {
            user_id: Some(user),
            action,
            object_type: Some(object_type),
            object_id: Some(object_id),
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            details,
        },
    )
    .await?;
    Ok(())
}

impl Services {
    /// A page of the viewer's own audit events, newest first.
    pub(crate) async fn audit_page(
        &self,
        viewer: Uuid,
        cursor: Option<Uuid>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<audit_log::Model>> {
        Ok(store::audit::page_for_user(&self.db, viewer, cursor, backward, limit).await?)
    }

    pub(crate) async fn audit_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::audit::count_for_user(&self.db, viewer).await?)
    }
}
