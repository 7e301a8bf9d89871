//! Queries on `users`.

use chrono::{DateTime, Utc};
use entity::users;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::now;

/// The fields of a new account.
pub(crate) struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub storage_quota: i64,
}

pub(crate) async fn find_active_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id)
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// The active account with this email, compared case-insensitively (served by the unique
/// `lower(email)` index).
pub(crate) async fn find_active_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(users::Column::Email))).eq(email.to_lowercase()))
        .filter(users::Column::DeletedAt.is_null())
        .one(db)
        .await
}

pub(crate) async fn count_active(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    users::Entity::find()
        .filter(users::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// Serialises account creation for the rest of the transaction, so that "is this the first
/// account?" has one answer under concurrent registrations. SQLite needs nothing: a write
/// transaction there already holds the database's write lock.
pub(crate) async fn lock_for_registration(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    Ok(())
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    user: NewUser,
) -> Result<users::Model, DbErr> {
    let now = now();
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(user.email),
        password_hash: Set(user.password_hash),
        display_name: Set(user.display_name),
        is_admin: Set(user.is_admin),
        storage_quota: Set(user.storage_quota),
        storage_used: Set(0),
        storage_reserved: Set(0),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
}

pub(crate) async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    password_hash: String,
) -> Result<bool, DbErr> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(now()))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub(crate) async fn set_quota(
    db: &impl ConnectionTrait,
    id: Uuid,
    bytes: i64,
) -> Result<bool, DbErr> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::StorageQuota, Expr::value(bytes))
        .col_expr(users::Column::UpdatedAt, Expr::value(now()))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub(crate) async fn touch_last_login(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::LastLoginAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
