//! The wake-ups of the live change feed: a NOTIFY for each journal event on PostgreSQL.

use sea_orm_migration::prelude::*;

use crate::sql_migration::SqlScripts;

const SQL: SqlScripts = SqlScripts {
    postgres_up: include_str!("sql/m20261130_000012_change_notify.postgres.up.sql"),
    postgres_down: include_str!("sql/m20261130_000012_change_notify.postgres.down.sql"),
    sqlite_up: include_str!("sql/m20261130_000012_change_notify.sqlite.sql"),
    sqlite_down: include_str!("sql/m20261130_000012_change_notify.sqlite.sql"),
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on both backends (SQLite's DDL is transactional too).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        SQL.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        SQL.down(manager).await
    }
}
