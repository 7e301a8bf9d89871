//! Taking a backup: the hold, the snapshot of either backend, the copy of the bytes it
//! references, the secrets, and the manifest, written last.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use chrono::Utc;
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, Connection};
use sha2::{Digest, Sha256};

use super::{
    BACKUP_HOLD, Backend, BlobEntry, BlobsMode, FORMAT, FileEntry, HOLD_FOR, MANIFEST, Manifest,
    PARALLEL, RENEW_EVERY, Report, SECRET_FILES, backend_of, file_entry, list_in_store,
    open_sqlite_file, pg_counts, sqlite_counts, write_synced,
};
use crate::auth::secret_file;
use crate::config::Config;
use crate::db::redact_url;
use crate::service::Services;
use crate::storage::{BlobStore, blob_key, spool};
use crate::store;

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
    let rows = pg_counts(&mut txn).await?;
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
