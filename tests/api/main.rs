//! Black-box tests through HTTP, on SQLite by default and on PostgreSQL when
//! `HYPERNET_TEST_DATABASE_URL` points at a server (each test gets a fresh database).

mod accounts;
mod albums;
mod backup;
mod changes;
mod cli;
mod clients;
mod content;
mod differential;
mod docgen;
mod door;
mod executor;
mod fixtures;
mod graph;
mod hardening;
mod helpers;
mod http;
mod integrations;
mod library;
mod limits;
mod links;
mod media;
mod memory;
mod metrics;
mod oracle;
mod ordered;
mod pool;
mod rls;
mod s3;
mod schema;
mod sessions;
mod subscriptions;
mod tags;
mod trash;
mod uploads;
mod visibility;
