//! The SeaORM queries, per aggregate. The only code that builds queries, so that the few
//! differences between PostgreSQL and SQLite have one home.

pub(crate) mod albums;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod documents;
pub(crate) mod graph;
pub(crate) mod integrations;
mod json_filter;
pub(crate) mod kinds;
pub(crate) mod leases;
pub(crate) mod library;
pub(crate) mod links;
pub(crate) mod login_throttle;
pub(crate) mod media;
pub(crate) mod quota;
pub(crate) mod refresh_tokens;
pub(crate) mod rows;
pub(crate) mod sources;
mod sql;
pub(crate) mod tags;
pub(crate) mod upload_sessions;
pub(crate) mod users;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::DbErr;

/// The current time at the precision both backends keep (microseconds), so that a value
/// written and read back compares equal on PostgreSQL and SQLite alike.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Serialises, for the rest of the transaction, the writes that change one user's graph
/// (memberships, deletions, purges, imports). Links never cross users, so this keeps album
/// counts and link rules exact under concurrent writers without a lock order to get wrong.
/// PostgreSQL: a transaction-scoped advisory lock, the one a user's write transaction takes
/// as it begins and the change journal's trigger takes before its first event (so a user's
/// events commit in order); SQLite: a write transaction already excludes every other writer.
/// In the user's own scope the transaction already holds it (`Db::begin_write`), and no
/// statement is sent.
pub(crate) async fn lock_user(
    db: &impl sea_orm::ConnectionTrait,
    user_id: uuid::Uuid,
) -> Result<(), DbErr> {
    let taken_at_begin = crate::db::current_scope() == crate::db::Scope::User(user_id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres && !taken_at_begin {
        let key = crate::db::user_lock_key(user_id);
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
