//! Queries on `upload_sessions` and `upload_chunks`.

use chrono::{DateTime, Utc};
use entity::{upload_chunks, upload_sessions};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::now;

pub(crate) struct NewSession {
    pub user_id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub mime_type: Option<String>,
    pub filename: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    s: NewSession,
) -> Result<upload_sessions::Model, DbErr> {
    let now = now();
    upload_sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(s.user_id),
        sha256: Set(s.sha256),
        size: Set(s.size),
        mime_type: Set(s.mime_type),
        filename: Set(s.filename),
        upload_offset: Set(0),
        expires_at: Set(s.expires_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The user's live (unexpired) session with this id.
pub(crate) async fn find_live(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<upload_sessions::Model>, DbErr> {
    upload_sessions::Entity::find_by_id(id)
        .filter(upload_sessions::Column::UserId.eq(user_id))
        .filter(upload_sessions::Column::ExpiresAt.gt(now()))
        .one(db)
        .await
}

/// Moves the offset from `from` to `to` only if it is still `from` (compare-and-set), and
/// records the chunk that did it.
pub(crate) async fn advance(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: i64,
    to: i64,
    object_key: String,
) -> Result<bool, DbErr> {
    let res = upload_sessions::Entity::update_many()
        .col_expr(upload_sessions::Column::UploadOffset, Expr::value(to))
        .col_expr(upload_sessions::Column::UpdatedAt, Expr::value(now()))
        .filter(upload_sessions::Column::Id.eq(id))
        .filter(upload_sessions::Column::UploadOffset.eq(from))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(false);
    }
    upload_chunks::ActiveModel {
        upload_id: Set(id),
        chunk_offset: Set(from),
        length: Set(to - from),
        object_key: Set(object_key),
    }
    .insert(db)
    .await?;
    Ok(true)
}

pub(crate) async fn chunks(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<upload_chunks::Model>, DbErr> {
    upload_chunks::Entity::find()
        .filter(upload_chunks::Column::UploadId.eq(id))
        .order_by_asc(upload_chunks::Column::ChunkOffset)
        .all(db)
        .await
}

/// Deletes a session (its chunk rows go with it); returns whether this call deleted it.
pub(crate) async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let res = upload_sessions::Entity::delete_by_id(id).exec(db).await?;
    Ok(res.rows_affected == 1)
}

/// Sessions that expired before `at`, any user.
pub(crate) async fn expired(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<upload_sessions::Model>, DbErr> {
    upload_sessions::Entity::find()
        .filter(upload_sessions::Column::ExpiresAt.lte(at))
        .order_by_asc(upload_sessions::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await
}
