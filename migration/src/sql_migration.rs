//! Runs a migration written as SQL, one script per backend and direction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The SQL of one migration for both backends.
pub(crate) struct SqlScripts {
    pub postgres_up: &'static str,
    pub postgres_down: &'static str,
    pub sqlite_up: &'static str,
    pub sqlite_down: &'static str,
}

impl SqlScripts {
    pub(crate) async fn up(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => self.postgres_up,
            DbBackend::Sqlite => self.sqlite_up,
            other => return Err(unsupported(other)),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    pub(crate) async fn down(&self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => self.postgres_down,
            DbBackend::Sqlite => self.sqlite_down,
            other => return Err(unsupported(other)),
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}

fn unsupported(backend: DbBackend) -> DbErr {
    DbErr::Migration(format!(
        "Hypernet supports PostgreSQL and SQLite, not {backend:?}"
    ))
}
