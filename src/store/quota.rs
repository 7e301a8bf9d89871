//! Storage accounting on `users`: every change is one conditional UPDATE, so parallel uploads
//! cannot overrun a quota between a check and a write.

use entity::users;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ExprTrait, QueryFilter};
use uuid::Uuid;

/// `column - bytes`, never below zero.
fn minus_floored(column: users::Column, bytes: i64) -> Expr {
    Expr::case(Expr::col(column).gte(bytes), Expr::col(column).sub(bytes))
        .finally(0i64)
        .into()
}

/// Reserves `bytes` for an upload in progress, if used + reserved + bytes fits the quota.
pub(crate) async fn reserve(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    bytes: i64,
) -> Result<bool, DbErr> {
    let res = users::Entity::update_many()
        .col_expr(
            users::Column::StorageReserved,
            Expr::col(users::Column::StorageReserved).add(bytes),
        )
        .filter(users::Column::Id.eq(user_id))
        .filter(
            Expr::col(users::Column::StorageUsed)
                .add(Expr::col(users::Column::StorageReserved))
                .add(bytes)
                .lte(Expr::col(users::Column::StorageQuota)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives back a reservation.
pub(crate) async fn release(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    bytes: i64,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::StorageReserved,
            minus_floored(users::Column::StorageReserved, bytes),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Turns a reservation into used storage (the upload became media).
pub(crate) async fn commit_reservation(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    bytes: i64,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::StorageReserved,
            minus_floored(users::Column::StorageReserved, bytes),
        )
        .col_expr(
            users::Column::StorageUsed,
            Expr::col(users::Column::StorageUsed).add(bytes),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back storage after a purge.
pub(crate) async fn free(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    bytes: i64,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::StorageUsed,
            minus_floored(users::Column::StorageUsed, bytes),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
