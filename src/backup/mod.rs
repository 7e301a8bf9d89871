//! `hypernet backup DIR` and `hypernet restore DIR`: a consistent snapshot of the database, the
//! stored bytes it references, and a manifest that ties them together.
//!
//! A backup holds the stored bytes first (a `backup/<id>` lease: while it is live, purges
//! record their deletions instead of doing them), then snapshots the database (PostgreSQL:
//! `pg_dump` on a snapshot exported by a transaction that also lists the hashes the rows
//! reference; SQLite: `VACUUM INTO`, which copies one read transaction), then copies those
//! bytes, checking each against its hash. Bytes written after the snapshot are not referenced
//! by it, and bytes it references cannot go while the hold is live, so a backup taken under
//! write load restores to a state where every row's bytes are there.
//!
//! The directory: `manifest.json` (written last: a directory without it is no backup),
//! `database.pgdump` or `database.sqlite`, `blobs/sha256/ab/cd/<hash>`, and `secrets/` with
//! the generated secrets of the data dir (the key that seals integration credentials, the
//! token signing key) when they were not given in the environment. Keep it as private as the
//! database.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, Connection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::redact_url;
use crate::service::SECRETS_KEY_FILE;
use crate::startup::JWT_SECRET_FILE;
use crate::storage::{BlobStore, blob_key};
use crate::store::leases::BACKUP_HOLD;

mod restore;
mod take;

pub use restore::restore;
pub use take::backup;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's format; a restore refuses others.
const FORMAT: u32 = 1;
/// Generated secrets of the data dir that a backup carries.
const SECRET_FILES: [&str; 2] = [JWT_SECRET_FILE, SECRETS_KEY_FILE];
/// How long a backup's hold lasts unless renewed (a crashed backup holds no longer).
const HOLD_FOR: chrono::Duration = chrono::Duration::minutes(30);
/// How often a running backup renews its hold.
const RENEW_EVERY: Duration = Duration::from_secs(5 * 60);
/// Blobs copied at once (an object store's latency is hidden by a few in flight).
const PARALLEL: usize = 4;
/// Tables whose rows a restore does not carry over: leases belong to running processes.
const NOT_RESTORED: [&str; 1] = ["leases"];

/// What `backup` does with the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BlobsMode {
    /// Copy every referenced blob into the backup, checking its hash.
    Copy,
    /// Check that every referenced blob is in the store and list it with its hash, for an
    /// object store that keeps its own copies (versioning, replication).
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Backend {
    Postgres,
    Sqlite,
}

/// A file of the backup, with its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileEntry {
    file: String,
    size: u64,
    sha256: String,
}

/// A blob the snapshot references.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BlobEntry {
    sha256: String,
    size: u64,
}

/// What ties a backup together.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: DateTime<Utc>,
    hypernet_version: String,
    backend: Backend,
    /// The last migration the snapshot had applied.
    schema_version: String,
    database: FileEntry,
    /// Rows per table in the snapshot.
    rows: BTreeMap<String, i64>,
    blobs_mode: BlobsMode,
    blobs: Vec<BlobEntry>,
    secrets: Vec<FileEntry>,
}

/// What a backup or a restore did, for the operator.
#[derive(Debug)]
pub struct Report {
    pub rows: BTreeMap<String, i64>,
    pub blobs: usize,
    pub blob_bytes: u64,
    /// Blobs a restore found already in the store.
    pub blobs_present: usize,
    pub secrets: Vec<String>,
    pub elapsed: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: i64 = self.rows.values().sum();
        writeln!(f, "{} rows in {} tables:", rows, self.rows.len())?;
        for (table, count) in &self.rows {
            writeln!(f, "  {table:24} {count}")?;
        }
        write!(f, "{} blobs ({} bytes)", self.blobs, self.blob_bytes)?;
        if self.blobs_present > 0 {
            write!(f, ", {} already in the store", self.blobs_present)?;
        }
        writeln!(f)?;
        if !self.secrets.is_empty() {
            writeln!(f, "secrets: {}", self.secrets.join(", "))?;
        }
        write!(f, "in {:.1} s", self.elapsed.as_secs_f64())
    }
}

fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        bail!("unsupported database URL {}", redact_url(url))
    }
}

async fn open_sqlite_file(path: &Path, read_only: bool) -> anyhow::Result<sqlx::SqliteConnection> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

async fn sqlite_counts(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<BTreeMap<String, i64>> {
    let tables: Vec<String> = sqlx::query_scalar(SQLITE_TABLES)
        .fetch_all(&mut *conn)
        .await?;
    Ok(sqlx::query_as(count_rows(&tables))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect())
}

/// The rows of every table PostgreSQL's connection `conn` sees (in its transaction).
async fn pg_counts(conn: &mut sqlx::PgConnection) -> anyhow::Result<BTreeMap<String, i64>> {
    let tables: Vec<String> = sqlx::query_scalar(PG_TABLES).fetch_all(&mut *conn).await?;
    Ok(sqlx::query_as(count_rows(&tables))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect())
}

const PG_TABLES: &str =
    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1";
const SQLITE_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1";

/// One statement counting the rows of each of `tables` (but those a restore does not carry),
/// a `(table, count)` row each.
fn count_rows(tables: &[String]) -> sqlx::AssertSqlSafe<String> {
    let counts: Vec<String> = tables
        .iter()
        .filter(|t| !NOT_RESTORED.contains(&t.as_str()))
        .map(|t| {
            format!(
                "SELECT '{}', count(*) FROM \"{}\"",
                t.replace('\'', "''"),
                t.replace('"', "\"\"")
            )
        })
        .collect();
    sqlx::AssertSqlSafe(counts.join(" UNION ALL "))
}

async fn file_entry(dir: &Path, file: &str) -> anyhow::Result<FileEntry> {
    let (size, sha256) = hash_file(&dir.join(file)).await?;
    Ok(FileEntry {
        file: file.into(),
        size,
        sha256,
    })
}

/// The size and SHA-256 of a file, read in a blocking task.
async fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)
                .with_context(|| format!("reading {}", path.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok((size, hex::encode(hasher.finalize())))
    })
    .await?
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file =
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Checks that each referenced blob is in the store.
async fn list_in_store(blobs: &BlobStore, hashes: &[BlobEntry]) -> anyhow::Result<Vec<BlobEntry>> {
    let missing: Vec<String> = futures_util::stream::iter(hashes.iter())
        .map(|entry| async move {
            let there = blobs.exists(&blob_key(&entry.sha256)).await?;
            Ok::<_, anyhow::Error>((!there).then(|| entry.sha256.clone()))
        })
        .buffered(PARALLEL * 4)
        .try_filter_map(|missing| async move { Ok(missing) })
        .try_collect()
        .await?;
    ensure!(
        missing.is_empty(),
        "{} blobs referenced by the database are missing from the store: {}",
        missing.len(),
        missing.join(", ")
    );
    Ok(hashes.to_vec())
}
