//! The album-member index covers the member read (link id in the key, member id included).

use sea_orm_migration::prelude::*;

use crate::sql_migration::SqlScripts;

const SQL: SqlScripts = SqlScripts {
    postgres_up: include_str!("sql/m20261129_000005_covering_member_index.postgres.up.sql"),
    postgres_down: include_str!("sql/m20261129_000005_covering_member_index.down.sql"),
    sqlite_up: include_str!("sql/m20261129_000005_covering_member_index.sqlite.up.sql"),
    sqlite_down: include_str!("sql/m20261129_000005_covering_member_index.down.sql"),
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
