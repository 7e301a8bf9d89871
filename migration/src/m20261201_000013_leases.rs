//! Leases (one holder at a time for a job; holds that keep stored bytes during a backup) and the
//! deletions of bytes that wait for a backup to end.

use sea_orm_migration::prelude::*;

use crate::sql_migration::SqlScripts;

const SQL: SqlScripts = SqlScripts {
    postgres_up: include_str!("sql/m20261201_000013_leases.postgres.up.sql"),
    postgres_down: include_str!("sql/m20261201_000013_leases.down.sql"),
    sqlite_up: include_str!("sql/m20261201_000013_leases.sqlite.up.sql"),
    sqlite_down: include_str!("sql/m20261201_000013_leases.down.sql"),
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
