//! The SeaORM queries, per aggregate. The only code that builds queries, so that the few
//! differences between PostgreSQL and SQLite have one home.

pub(crate) mod albums;
pub(crate) mod audit;
pub(crate) mod graph;
pub(crate) mod integrations;
mod json_filter;
pub(crate) mod links;
pub(crate) mod login_throttle;
pub(crate) mod media;
pub(crate) mod quota;
pub(crate) mod refresh_tokens;
mod sql;
pub(crate) mod upload_sessions;
pub(crate) mod users;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// The current time at the precision both backends keep (microseconds), so that a value
/// written and read back compares equal on PostgreSQL and SQLite alike.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so that two writers queue on the busy timeout instead of failing when
/// a read lock cannot be upgraded.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}
