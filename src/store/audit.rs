//! Queries on `audit_log`.

use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::now;

/// One event to record.
#[derive(Debug, Default)]
pub(crate) struct NewAuditEntry {
    pub user_id: Option<Uuid>,
    pub action: &'static str,
    pub object_type: Option<&'static str>,
    pub object_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
}

pub(crate) async fn insert(db: &impl ConnectionTrait, entry: NewAuditEntry) -> Result<(), DbErr> {
    let details = if entry.details.is_null() {
        serde_json::json!({})
    } else {
        entry.details
    };
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(entry.user_id),
        action: Set(entry.action.to_string()),
        object_type: Set(entry.object_type.map(str::to_string)),
        object_id: Set(entry.object_id),
        ip: Set(entry.ip),
        user_agent: Set(entry.user_agent),
        details: Set(details),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A page of a user's events, newest first (oldest first when `backward`). Ids are
/// time-ordered (v7), so `id` alone is a stable keyset; `cursor` is where the page starts
/// (exclusive) in its direction of travel.
pub(crate) async fn page_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    cursor: Option<Uuid>,
    backward: bool,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    let mut cond = Condition::all().add(audit_log::Column::UserId.eq(user_id));
    if let Some(c) = cursor {
        cond = cond.add(if backward {
            audit_log::Column::Id.gt(c)
        } else {
            audit_log::Column::Id.lt(c)
        });
    }
    let query = audit_log::Entity::find().filter(cond);
    let query = if backward {
        query.order_by_asc(audit_log::Column::Id)
    } else {
        query.order_by_desc(audit_log::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub(crate) async fn count_for_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    audit_log::Entity::find()
        .filter(audit_log::Column::UserId.eq(user_id))
        .count(db)
        .await
}
