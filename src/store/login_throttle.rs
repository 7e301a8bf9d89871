//! Queries on `login_throttle`: the back-off counters of failed password checks (see
//! `service::login_throttle` for their keys).

use chrono::{DateTime, Utc};
use entity::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::now;

/// The row of `key`, created with no failures if it did not exist.
pub(crate) async fn get_or_create(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<login_throttle::Model, DbErr> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        email_key: Set(key.to_string()),
        failures: Set(0),
        locked_until: Set(None),
        updated_at: Set(now()),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    login_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("login_throttle row for {key}")))
}

/// Records one more attempt, only if nobody else recorded one since `seen_failures` was read
/// (compare-and-set). Returns whether this attempt won the slot.
pub(crate) async fn claim_attempt(
    db: &impl ConnectionTrait,
    key: &str,
    seen_failures: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let res = login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::value(seen_failures + 1),
        )
        .col_expr(
            login_throttle::Column::LockedUntil,
            Expr::value(locked_until),
        )
        .col_expr(login_throttle::Column::UpdatedAt, Expr::value(now()))
        .filter(login_throttle::Column::EmailKey.eq(key))
        .filter(login_throttle::Column::Failures.eq(seen_failures))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// When `key` is locked until, if it is.
pub(crate) async fn locked_until(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(login_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .and_then(|row| row.locked_until))
}

/// Takes one attempt off `key`: a correct password was not a failure.
pub(crate) async fn forgive_one(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col(login_throttle::Column::Failures).sub(1),
        )
        .filter(login_throttle::Column::EmailKey.eq(key))
        .filter(login_throttle::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures of `key` after a successful login.
pub(crate) async fn reset(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::EmailKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets rows not touched since `before` whose lock has passed (unknown emails pile up).
pub(crate) async fn forget_stale(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::UpdatedAt.lt(before))
        .filter(
            sea_orm::Condition::any()
                .add(login_throttle::Column::LockedUntil.is_null())
                .add(login_throttle::Column::LockedUntil.lt(super::now())),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
