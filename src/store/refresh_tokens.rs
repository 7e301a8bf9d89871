//! Queries on `refresh_tokens`.

use chrono::{DateTime, Utc};
use entity::refresh_tokens;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::now;

pub(crate) struct NewRefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: String,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    token: NewRefreshToken,
) -> Result<refresh_tokens::Model, DbErr> {
    refresh_tokens::ActiveModel {
        id: Set(token.id),
        user_id: Set(token.user_id),
        token_hash: Set(token.token_hash),
        family_id: Set(token.family_id),
        expires_at: Set(token.expires_at),
        revoked_at: Set(None),
        replaced_by: Set(None),
        user_agent: Set(token.user_agent),
        ip: Set(token.ip),
        created_at: Set(now()),
    }
    .insert(db)
    .await
}

/// Whether the session (refresh-token family) `family` of `user` is still open: a token of
/// it neither revoked nor expired, of an account not deleted.
pub(crate) async fn session_open(
    db: &impl ConnectionTrait,
    user: Uuid,
    family: Uuid,
) -> Result<bool, DbErr> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{ExprTrait, Query};
    let active_user = Query::select()
        .column(entity::users::Column::Id)
        .from(entity::users::Entity)
        .and_where(Expr::col(entity::users::Column::Id).eq(user))
        .and_where(Expr::col(entity::users::Column::DeletedAt).is_null())
        .to_owned();
    let open: Option<Uuid> = refresh_tokens::Entity::find()
        .select_only()
        .column(refresh_tokens::Column::Id)
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::UserId.eq(user))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now()))
        .filter(refresh_tokens::Column::UserId.in_subquery(active_user))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(open.is_some())
}

pub(crate) async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<refresh_tokens::Model>, DbErr> {
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

/// Marks `id` as rotated into `replaced_by`, only if it is still live. Exactly one of two
/// concurrent rotations of one token gets `true`.
pub(crate) async fn rotate(
    db: &impl ConnectionTrait,
    id: Uuid,
    replaced_by: Uuid,
) -> Result<bool, DbErr> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now()))
        .col_expr(refresh_tokens::Column::ReplacedBy, Expr::value(replaced_by))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes every live token of a session family; returns how many.
pub(crate) async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
) -> Result<u64, DbErr> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Revokes every live token of a user; returns how many.
pub(crate) async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<u64, DbErr> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
