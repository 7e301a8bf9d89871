//! `idx_links_to` covers trashed links too, so variant lookups (deleted links included) use it.

use sea_orm_migration::prelude::*;

use crate::sql_migration::SqlScripts;

const SQL: SqlScripts = SqlScripts {
    postgres_up: include_str!("sql/m20261129_000006_links_to_index_covers_deleted.postgres.up.sql"),
    postgres_down: include_str!("sql/m20261129_000006_links_to_index_covers_deleted.down.sql"),
    sqlite_up: include_str!("sql/m20261129_000006_links_to_index_covers_deleted.sqlite.up.sql"),
    sqlite_down: include_str!("sql/m20261129_000006_links_to_index_covers_deleted.down.sql"),
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
