//! The database schema of Hypernet Core, and the only owner of it.
//!
//! Each migration carries its SQL for PostgreSQL and for SQLite side by side in `sql/`, so that the
//! two backends stay identical in meaning (partial indexes, CHECK constraints, triggers, views)
//! where a portable builder could only express their common part. Migrations are append-only
//! once landed: change the schema with a new one.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_initial_schema;
mod m20261129_000002_login_throttle;
mod m20261129_000003_media_library;
mod m20261129_000004_integrations;
mod m20261129_000005_covering_member_index;
mod m20261129_000006_links_to_index_covers_deleted;
mod m20261130_000007_library_index_without_thumbnails;
mod m20261130_000008_persisted_documents;
mod m20261130_000009_row_level_security;
mod m20261130_000010_tags;
mod m20261130_000011_change_journal;
mod m20261130_000012_change_notify;
mod m20261201_000013_leases;
mod sql_migration;

/// Every migration of the schema, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_initial_schema::Migration),
            Box::new(m20261129_000002_login_throttle::Migration),
            Box::new(m20261129_000003_media_library::Migration),
            Box::new(m20261129_000004_integrations::Migration),
            Box::new(m20261129_000005_covering_member_index::Migration),
            Box::new(m20261129_000006_links_to_index_covers_deleted::Migration),
            Box::new(m20261130_000007_library_index_without_thumbnails::Migration),
            Box::new(m20261130_000008_persisted_documents::Migration),
            Box::new(m20261130_000009_row_level_security::Migration),
            Box::new(m20261130_000010_tags::Migration),
            Box::new(m20261130_000011_change_journal::Migration),
            Box::new(m20261130_000012_change_notify::Migration),
            Box::new(m20261201_000013_leases::Migration),
        ]
    }
}
