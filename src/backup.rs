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
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, Connection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::secret_file;
use crate::config::Config;
use crate::db::redact_url;
use crate::service::{SECRETS_KEY_FILE, Services};
use crate::startup::JWT_SECRET_FILE;
use crate::storage::{BlobStore, blob_key, spool};
use crate::store;
use crate::store::leases::BACKUP_HOLD;

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

/// Backs the database and the stored bytes it references up into `dir` (new, or empty).
pub async fn backup(config: &Config, dir: &Path, mode: BlobsMode) -> anyhow::Result<Report> {
    let started = Instant::now();
    ensure_empty_dir(dir)?;
    // The schema owner's URL: the server's own role may not read the migrations' record.
    let url = config.owner_url();
    let backend = backend_of(&url)?;
    let services = crate::startup::services(config).await?;
    let holder = uuid::Uuid::now_v7().to_string();
    let hold = format!("{BACKUP_HOLD}{holder}");
    ensure!(
        store::leases::take(&services.db, &hold, &holder, store::now() + HOLD_FOR).await?,
        "could not take the backup's hold"
    );
    let result = async {
        let snapshot = match backend {
            Backend::Postgres => snapshot_postgres(&url, dir).await?,
            Backend::Sqlite => snapshot_sqlite(&url, dir).await?,
        };
        let blobs = match mode {
            BlobsMode::Copy => copy_out(&services, &hold, &holder, &snapshot.hashes, dir).await?,
            BlobsMode::List => list_in_store(&services.blobs, &snapshot.hashes).await?,
        };
        Ok::<_, anyhow::Error>((snapshot, blobs))
    }
    .await;
    store::leases::release(&services.db, &hold, &holder)
        .await
        .ok();
    let (snapshot, blobs) = result?;
    let secrets = copy_secrets_out(config, dir)?;
    let database = file_entry(dir, &snapshot.file).await?;
    let manifest = Manifest {
        format: FORMAT,
        created_at: Utc::now(),
        hypernet_version: env!("CARGO_PKG_VERSION").into(),
        backend,
        schema_version: snapshot.schema_version,
        database,
        rows: snapshot.rows.clone(),
        blobs_mode: mode,
        blobs: blobs.clone(),
        secrets: secrets.clone(),
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    write_synced(&dir.join(MANIFEST), &text)?;
    Ok(Report {
        rows: snapshot.rows,
        blobs: blobs.len(),
        blob_bytes: blobs.iter().map(|b| b.size).sum(),
        blobs_present: 0,
        secrets: secrets.into_iter().map(|s| s.file).collect(),
        elapsed: started.elapsed(),
    })
}

fn ensure_empty_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    ensure!(
        entries.next().is_none(),
        "{} is not empty: back up into a new or empty directory",
        dir.display()
    );
    Ok(())
}

/// What a database snapshot holds.
struct Snapshot {
    /// Its file in the backup directory.
    file: String,
    schema_version: String,
    rows: BTreeMap<String, i64>,
    /// The hashes its rows reference, with their sizes.
    hashes: Vec<BlobEntry>,
}

const REFERENCED_HASHES: &str = "SELECT hash, MAX(size) FROM media GROUP BY hash ORDER BY hash";
const LAST_MIGRATION: &str = "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1";

/// PostgreSQL: a repeatable-read transaction exports its snapshot, lists the hashes and
/// counts the rows in it, and `pg_dump` dumps exactly that snapshot.
async fn snapshot_postgres(url: &str, dir: &Path) -> anyhow::Result<Snapshot> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    let mut txn = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *txn)
        .await?;
    // Every user's rows (row-level security lets the system's work see them all).
    sqlx::query("SET LOCAL hypernet.viewer = 'system'")
        .execute(&mut *txn)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *txn)
        .await?;
    let hashes: Vec<(String, i64)> = sqlx::query_as(REFERENCED_HASHES)
        .fetch_all(&mut *txn)
        .await?;
    let schema_version: String = sqlx::query_scalar(LAST_MIGRATION)
        .fetch_one(&mut *txn)
        .await?;
    let tables: Vec<String> = sqlx::query_scalar(PG_TABLES).fetch_all(&mut *txn).await?;
    let rows: BTreeMap<String, i64> = sqlx::query_as(count_rows(&tables))
        .fetch_all(&mut *txn)
        .await?
        .into_iter()
        .collect();
    let file = "database.pgdump";
    let status = tokio::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--enable-row-security")
        .arg("--no-owner")
        .arg("--no-acl")
        .arg(format!("--file={}", dir.join(file).display()))
        .arg(format!("--dbname={url}"))
        .env("PGOPTIONS", "-c hypernet.viewer=system")
        .status()
        .await
        .context("running pg_dump (install PostgreSQL's client programs)")?;
    ensure!(status.success(), "pg_dump failed ({status})");
    txn.commit().await?;
    Ok(Snapshot {
        file: file.into(),
        schema_version,
        rows,
        hashes: entries_of(hashes),
    })
}

/// SQLite: `VACUUM INTO` writes one read transaction's database to a new file, while the
/// server goes on writing; the hashes and counts are then read from that copy.
async fn snapshot_sqlite(url: &str, dir: &Path) -> anyhow::Result<Snapshot> {
    let file = "database.sqlite";
    let path = dir.join(file);
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .with_context(|| format!("opening {}", redact_url(url)))?;
    sqlx::query("VACUUM INTO ?")
        .bind(path.display().to_string())
        .execute(&mut conn)
        .await
        .context("copying the database (VACUUM INTO)")?;
    conn.close().await.ok();
    let mut copy = open_sqlite_file(&path, true).await?;
    let hashes: Vec<(String, i64)> = sqlx::query_as(REFERENCED_HASHES)
        .fetch_all(&mut copy)
        .await?;
    let schema_version: String = sqlx::query_scalar(LAST_MIGRATION)
        .fetch_one(&mut copy)
        .await?;
    let rows = sqlite_counts(&mut copy).await?;
    copy.close().await.ok();
    Ok(Snapshot {
        file: file.into(),
        schema_version,
        rows,
        hashes: entries_of(hashes),
    })
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

fn entries_of(hashes: Vec<(String, i64)>) -> Vec<BlobEntry> {
    hashes
        .into_iter()
        .map(|(sha256, size)| BlobEntry {
            sha256,
            size: size.max(0) as u64,
        })
        .collect()
}

/// Copies each referenced blob into `dir/blobs`, checking its bytes against its hash, and
/// renews the hold as it goes.
async fn copy_out(
    services: &Services,
    hold: &str,
    holder: &str,
    hashes: &[BlobEntry],
    dir: &Path,
) -> anyhow::Result<Vec<BlobEntry>> {
    let staging = dir.join("blobs").join(".staging");
    std::fs::create_dir_all(&staging)?;
    let mut renewed = Instant::now();
    let mut copied = Vec::with_capacity(hashes.len());
    let mut copies = futures_util::stream::iter(hashes.iter().cloned())
        .map(|entry| copy_one(&services.blobs, entry, dir, &staging))
        .buffered(PARALLEL);
    while let Some(entry) = copies.try_next().await? {
        copied.push(entry);
        if renewed.elapsed() > RENEW_EVERY {
            let until = store::now() + HOLD_FOR;
            ensure!(
                store::leases::take(&services.db, hold, holder, until).await?,
                "the backup's hold was lost"
            );
            renewed = Instant::now();
        }
    }
    std::fs::remove_dir(&staging).ok();
    Ok(copied)
}

async fn copy_one(
    blobs: &BlobStore,
    entry: BlobEntry,
    dir: &Path,
    staging: &Path,
) -> anyhow::Result<BlobEntry> {
    let key = blob_key(&entry.sha256);
    let read = blobs.read(&key, None).await.with_context(|| {
        format!(
            "blob {} is referenced by the database but cannot be read from the store",
            entry.sha256
        )
    })?;
    let reader = tokio_util::io::StreamReader::new(read.stream);
    let spooled = match spool::from_async_reader(staging, reader, u64::MAX).await {
        Ok(spooled) => spooled,
        Err(spool::SpoolError::Io(e)) => {
            return Err(e.context(format!("copying blob {}", entry.sha256)));
        }
        Err(spool::SpoolError::TooLarge(_)) => bail!("blob {} is too large to copy", entry.sha256),
    };
    ensure!(
        spooled.sha256 == entry.sha256,
        "blob {} in the store does not match its hash (its bytes hash to {}): the store is damaged",
        entry.sha256,
        spooled.sha256
    );
    let dest = dir.join("blobs").join(&key);
    std::fs::create_dir_all(dest.parent().expect("a blob key has directories"))?;
    let size = spooled.size;
    spooled
        .path
        .persist(&dest)
        .with_context(|| format!("writing {}", dest.display()))?;
    Ok(BlobEntry {
        sha256: entry.sha256,
        size,
    })
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

/// The generated secrets of the data dir, copied into `dir/secrets`.
fn copy_secrets_out(config: &Config, dir: &Path) -> anyhow::Result<Vec<FileEntry>> {
    let mut copied = Vec::new();
    let given = [config.jwt_secret.is_some(), config.secrets_key.is_some()];
    for (name, given) in SECRET_FILES.into_iter().zip(given) {
        let source = config.data_dir.join(name);
        if given || !source.exists() {
            continue;
        }
        let bytes =
            std::fs::read(&source).with_context(|| format!("reading {}", source.display()))?;
        let file = format!("secrets/{name}");
        std::fs::create_dir_all(dir.join("secrets"))?;
        secret_file::write_private(&dir.join(&file), &bytes)?;
        copied.push(FileEntry {
            file,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    Ok(copied)
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

/// Restores the backup in `dir` into the configured database, store and data dir. Refuses a
/// database that holds tables unless `force` (then what the backup holds replaces it), and
/// refuses a backup any of whose files does not match the manifest.
pub async fn restore(config: &Config, dir: &Path, force: bool) -> anyhow::Result<Report> {
    let started = Instant::now();
    let text = std::fs::read(dir.join(MANIFEST)).with_context(|| {
        format!(
            "reading {}: is this a finished backup?",
            dir.join(MANIFEST).display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).context("reading the manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "the backup's format is {}; this version reads {FORMAT}",
        manifest.format
    );
    let url = config.owner_url();
    ensure!(
        backend_of(&url)? == manifest.backend,
        "the backup is of a {:?} database; the configured database is {}",
        manifest.backend,
        redact_url(&url)
    );
    let blobs = BlobStore::open(config.storage_url.as_deref(), &config.data_dir)?;
    // Everything is checked before anything is written.
    check_files(dir, &manifest).await?;
    if manifest.blobs_mode == BlobsMode::List {
        list_in_store(&blobs, &manifest.blobs).await.context(
            "the backup lists its blobs in the object store it was taken from, and they are not all in the configured one",
        )?;
    }
    let secrets = restore_secrets(config, dir, &manifest, force)?;
    let blobs_present = match manifest.blobs_mode {
        BlobsMode::Copy => copy_in(&blobs, dir, &manifest.blobs).await?,
        BlobsMode::List => manifest.blobs.len(),
    };
    let database = dir.join(&manifest.database.file);
    let rows = match manifest.backend {
        Backend::Postgres => restore_postgres(config, &url, &database, force).await?,
        Backend::Sqlite => restore_sqlite(&url, &database, force).await?,
    };
    if rows != manifest.rows {
        bail!(
            "the restored database's row counts differ from the backup's:\n restored: {rows:?}\n backup:   {:?}",
            manifest.rows
        );
    }
    Ok(Report {
        rows,
        blobs: manifest.blobs.len(),
        blob_bytes: manifest.blobs.iter().map(|b| b.size).sum(),
        blobs_present,
        secrets,
        elapsed: started.elapsed(),
    })
}

/// Checks the database file, the secrets and every copied blob against the manifest, and
/// reports every mismatch at once.
async fn check_files(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let mut files: Vec<FileEntry> = vec![manifest.database.clone()];
    files.extend(manifest.secrets.iter().cloned());
    if manifest.blobs_mode == BlobsMode::Copy {
        files.extend(manifest.blobs.iter().map(|b| FileEntry {
            file: format!("blobs/{}", blob_key(&b.sha256)),
            size: b.size,
            sha256: b.sha256.clone(),
        }));
    }
    let checks = futures_util::stream::iter(files)
        .map(|entry| async move {
            let found = hash_file(&dir.join(&entry.file)).await;
            (entry, found)
        })
        .buffered(PARALLEL);
    futures_util::pin_mut!(checks);
    while let Some((entry, found)) = checks.next().await {
        match found {
            Ok((size, sha256)) if size == entry.size && sha256 == entry.sha256 => {}
            Ok((size, sha256)) => problems.push(format!(
                "{}: {size} bytes hashing to {sha256}, the manifest says {} bytes hashing to {}",
                entry.file, entry.size, entry.sha256
            )),
            Err(e) => problems.push(format!("{}: {e:#}", entry.file)),
        }
    }
    ensure!(
        problems.is_empty(),
        "the backup is damaged; nothing was restored:\n{}",
        problems.join("\n")
    );
    Ok(())
}

/// Puts the backup's blobs into the store; returns how many were there already.
async fn copy_in(blobs: &BlobStore, dir: &Path, entries: &[BlobEntry]) -> anyhow::Result<usize> {
    let present = futures_util::stream::iter(entries.iter())
        .map(|entry| async move {
            let key = blob_key(&entry.sha256);
            if blobs.exists(&key).await? {
                return Ok::<_, anyhow::Error>(1);
            }
            blobs
                .copy_file(&key, &dir.join("blobs").join(&key))
                .await
                .with_context(|| format!("storing blob {}", entry.sha256))?;
            Ok(0)
        })
        .buffer_unordered(PARALLEL)
        .try_fold(0, |n, present| async move { Ok(n + present) })
        .await?;
    Ok(present)
}

fn restore_secrets(
    config: &Config,
    dir: &Path,
    manifest: &Manifest,
    force: bool,
) -> anyhow::Result<Vec<String>> {
    let mut restored = Vec::new();
    for entry in &manifest.secrets {
        let name = entry.file.trim_start_matches("secrets/");
        ensure!(
            SECRET_FILES.contains(&name),
            "unknown secret {} in the manifest",
            entry.file
        );
        let bytes = std::fs::read(dir.join(&entry.file))?;
        let target = config.data_dir.join(name);
        match std::fs::read(&target) {
            Ok(existing) if existing == bytes => {}
            Ok(_) if !force => bail!(
                "{} differs from the backup's; pass --force to replace it (what it sealed or signed will no longer open)",
                target.display()
            ),
            _ => {
                std::fs::create_dir_all(&config.data_dir)?;
                secret_file::write_private(&target, &bytes)?;
            }
        }
        restored.push(name.to_string());
    }
    Ok(restored)
}

async fn restore_postgres(
    config: &Config,
    url: &str,
    dump: &Path,
    force: bool,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_one(&mut conn)
            .await?;
    ensure!(
        tables == 0 || force,
        "{} holds {tables} tables: restore into an empty database, or pass --force to replace what is there",
        redact_url(url)
    );
    let mut command = tokio::process::Command::new("pg_restore");
    command
        .arg("--no-owner")
        .arg("--no-acl")
        .arg("--exit-on-error")
        .arg("--single-transaction");
    if tables > 0 {
        command.arg("--clean").arg("--if-exists");
    }
    let status = command
        .arg(format!("--dbname={url}"))
        .arg(dump)
        .env("PGOPTIONS", "-c hypernet.viewer=system")
        .status()
        .await
        .context("running pg_restore (install PostgreSQL's client programs)")?;
    ensure!(
        status.success(),
        "pg_restore failed ({status}); nothing was restored"
    );
    let mut txn = conn.begin().await?;
    sqlx::query("SET LOCAL hypernet.viewer = 'system'")
        .execute(&mut *txn)
        .await?;
    sqlx::query("DELETE FROM leases").execute(&mut *txn).await?;
    let tables: Vec<String> = sqlx::query_scalar(PG_TABLES).fetch_all(&mut *txn).await?;
    let rows: BTreeMap<String, i64> = sqlx::query_as(count_rows(&tables))
        .fetch_all(&mut *txn)
        .await?
        .into_iter()
        .collect();
    txn.commit().await?;
    conn.close().await.ok();
    // The server's role gets its rows back when it is not the owner.
    let owner = crate::db::connect_owner(config).await?;
    crate::db::grant_server_role(&owner, config).await?;
    owner.close().await.ok();
    Ok(rows)
}

async fn restore_sqlite(
    url: &str,
    copy: &Path,
    force: bool,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("reading {}", redact_url(url)))?;
    let target: PathBuf = options.get_filename().to_path_buf();
    ensure!(
        target.as_os_str() != ":memory:",
        "an in-memory database cannot be restored into"
    );
    if target.exists() {
        let mut existing = open_sqlite_file(&target, true).await?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(&mut existing)
        .await?;
        existing.close().await.ok();
        ensure!(
            tables == 0 || force,
            "{} holds {tables} tables: restore into an empty database, or pass --force to replace it (stop the server first)",
            target.display()
        );
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let staged = target.with_extension("restoring");
    std::fs::copy(copy, &staged).with_context(|| format!("writing {}", staged.display()))?;
    {
        let mut conn = open_sqlite_file(&staged, false).await?;
        sqlx::query("DELETE FROM leases").execute(&mut conn).await?;
        conn.close().await?;
    }
    std::fs::File::open(&staged)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        std::fs::remove_file(PathBuf::from(side)).ok();
    }
    std::fs::rename(&staged, &target)
        .with_context(|| format!("moving the restored database to {}", target.display()))?;
    let mut restored = open_sqlite_file(&target, true).await?;
    let rows = sqlite_counts(&mut restored).await?;
    restored.close().await.ok();
    Ok(rows)
}
