//! Restoring a backup: every file checked against the manifest before anything is written,
//! then the bytes, the database of either backend, the secrets, and the row counts compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, Connection};

use super::{
    Backend, BlobEntry, BlobsMode, FORMAT, FileEntry, MANIFEST, Manifest, PARALLEL, Report,
    SECRET_FILES, backend_of, hash_file, list_in_store, open_sqlite_file, pg_counts, sqlite_counts,
};
use crate::auth::secret_file;
use crate::config::Config;
use crate::db::redact_url;
use crate::storage::{BlobStore, blob_key};

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
    let rows = pg_counts(&mut txn).await?;
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
