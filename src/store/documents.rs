//! Queries on `persisted_documents`.

use entity::persisted_documents;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::now;

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<persisted_documents::Model>, DbErr> {
    persisted_documents::Entity::find_by_id(id.to_string())
        .one(db)
        .await
}

/// Adds a document unless one with its id exists (which is then left as it is).
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    id: &str,
    body: &str,
    trusted: bool,
) -> Result<(), DbErr> {
    persisted_documents::Entity::insert(persisted_documents::ActiveModel {
        id: Set(id.to_string()),
        body: Set(body.to_string()),
        trusted: Set(trusted),
        created_at: Set(now()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Makes an existing document trusted.
pub(crate) async fn trust(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    persisted_documents::Entity::update_many()
        .col_expr(persisted_documents::Column::Trusted, true.into())
        .filter(persisted_documents::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the oldest registered (untrusted) documents beyond `keep`.
pub(crate) async fn evict_registered(db: &impl ConnectionTrait, keep: u64) -> Result<u64, DbErr> {
    let count = persisted_documents::Entity::find()
        .filter(persisted_documents::Column::Trusted.eq(false))
        .count(db)
        .await?;
    if count <= keep {
        return Ok(0);
    }
    let oldest: Vec<String> = persisted_documents::Entity::find()
        .select_only()
        .column(persisted_documents::Column::Id)
        .filter(persisted_documents::Column::Trusted.eq(false))
        .order_by_asc(persisted_documents::Column::CreatedAt)
        .limit(count - keep)
        .into_tuple()
        .all(db)
        .await?;
    let res = persisted_documents::Entity::delete_many()
        .filter(persisted_documents::Column::Id.is_in(oldest))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
