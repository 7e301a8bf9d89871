//! `syncIntegration` of a `local_folder` integration: the server lists the folder, skips the
//! files it has imported unchanged (same size and mtime), and feeds the rest through the import
//! pipeline in batches. The folder must lie inside one of the configured import roots, checked
//! on the canonical path so that neither `..` nor a symbolic link leads out of them.

use std::path::{Path, PathBuf};

use entity::integrations;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ImportItem, ImportOutcome, LOCAL_FOLDER};
use crate::error::{AppError, AppResult};
use crate::media::inspect::{self, InspectError};
use crate::service::{ClientInfo, Services, audit};
use crate::storage::spool::Spooled;
use crate::store;
use crate::store::integrations::IntegrationChanges;

/// The canonical folder `config.path` names, if it lies inside one of `roots`.
pub(crate) fn confined_folder(config: &Value, roots: &[PathBuf]) -> AppResult<PathBuf> {
    let raw = config
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            AppError::bad_input("config", "a local_folder integration needs `config.path`")
        })?;
    let refused = || {
        AppError::bad_input(
            "config",
            "`config.path` must be an existing folder inside one of the server's import roots",
        )
    };
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(refused());
    }
    let canonical = std::fs::canonicalize(path).map_err(|_| refused())?;
    let inside = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .any(|root| canonical.starts_with(&root));
    if !inside || !canonical.is_dir() {
        return Err(refused());
    }
    Ok(canonical)
}

impl Services {
    /// Spools a local file for import (blocking work off the runtime).
    async fn spool_path(&self, path: PathBuf) -> AppResult<Spooled> {
        let dir = self.spool_dir.clone();
        let limit = self.max_upload_bytes;
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&path)
                .map_err(|e| crate::storage::spool::SpoolError::Io(anyhow::Error::new(e)))?;
            crate::storage::spool::from_file(&dir, file, limit)
        })
        .await
        .map_err(|e| AppError::internal(anyhow::Error::new(e)))?
        .map_err(|e| match e {
            crate::storage::spool::SpoolError::TooLarge(limit) => AppError::bad_input(
                "file",
                format!("larger than the upload limit of {limit} bytes"),
            ),
            crate::storage::spool::SpoolError::Io(e) => AppError::from(e),
        })
    }

    /// `syncIntegration` of a `local_folder`: imports new and changed photos and videos.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn sync_integration(
        &self,
        viewer: Uuid,
        id: Uuid,
        client: &ClientInfo,
    ) -> AppResult<(ImportOutcome, integrations::Model)> {
        let integration = self.integration(viewer, id).await?;
        if integration.integration_type != LOCAL_FOLDER {
            return Err(AppError::bad_input(
                "id",
                "only local_folder integrations sync on the server; other sources push with importMedia",
            ));
        }
        if integration.status == "paused" {
            return Err(AppError::bad_input("id", "the integration is paused"));
        }
        let lease = store::now() + chrono::Duration::hours(1);
        if !store::integrations::take_lease(&self.db, id, lease).await? {
            return Err(AppError::Conflict(
                "a sync of this integration is already running".into(),
            ));
        }
        let result = self.sync_folder(viewer, &integration).await;
        let now = store::now();
        let (outcome, changes, action) = match result {
            Ok(outcome) => (
                outcome,
                IntegrationChanges {
                    status: Some("active"),
                    last_error: Some(None),
                    last_sync_at: Some(now),
                    sync_cursor: Some(Some(now.to_rfc3339())),
                    sync_lease_until: Some(None),
                    ..Default::default()
                },
                "integration.synced",
            ),
            Err(SyncFailure::Folder(message)) => (
                ImportOutcome {
                    errors: vec![message.clone()],
                    ..Default::default()
                },
                IntegrationChanges {
                    status: Some("error"),
                    last_error: Some(Some(message)),
                    last_sync_at: Some(now),
                    sync_lease_until: Some(None),
                    ..Default::default()
                },
                "integration.sync_failed",
            ),
            Err(SyncFailure::App(err)) => {
                store::integrations::update(
                    &self.db,
                    id,
                    IntegrationChanges {
                        sync_lease_until: Some(None),
                        ..Default::default()
                    },
                )
                .await?;
                return Err(err);
            }
        };
        store::integrations::update(&self.db, id, changes).await?;
        audit::record_object(
            &self.db,
            client,
            viewer,
            action,
            ("integration", id),
            json!({ "imported": outcome.imported, "skipped": outcome.skipped, "failed": outcome.failed, "errors": outcome.errors }),
        )
        .await?;
        Ok((outcome, self.integration(viewer, id).await?))
    }

    async fn sync_folder(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
    ) -> Result<ImportOutcome, SyncFailure> {
        let folder = confined_folder(&integration.config, &self.import_roots).map_err(|_| {
            SyncFailure::Folder(
                "the folder is missing, unreadable or outside the import roots".into(),
            )
        })?;
        let listing = {
            let folder = folder.clone();
            tokio::task::spawn_blocking(move || list_files(&folder))
                .await
                .map_err(|e| SyncFailure::App(AppError::internal(anyhow::Error::new(e))))?
                .map_err(|e| SyncFailure::Folder(format!("the folder cannot be read: {e}")))?
        };
        let known = store::integrations::imported(&self.db, integration.id, None)
            .await
            .map_err(|e| SyncFailure::App(e.into()))?;
        let mut outcome = ImportOutcome::default();
        let mut batch = Vec::new();
        for file in listing {
            let fingerprint = json!({ "size": file.size, "mtime": file.mtime });
            let mut replaces = None;
            if let Some(done) = known.get(&file.relative) {
                let same = done.metadata.get("size") == fingerprint.get("size")
                    && done.metadata.get("mtime") == fingerprint.get("mtime");
                if same {
                    outcome.skipped += 1;
                    continue;
                }
                replaces = Some(done.link_id);
            }
            let spooled = match self.spool_path(file.absolute.clone()).await {
                Ok(s) => s,
                Err(e) => {
                    outcome.failed += 1;
                    outcome
                        .errors
                        .push(format!("{}: {}", file.relative, e.message()));
                    continue;
                }
            };
            let path = spooled.path.to_path_buf();
            match tokio::task::spawn_blocking(move || inspect::inspect(&path)).await {
                Ok(Ok(_)) => {}
                Ok(Err(InspectError::Unsupported(_))) => {
                    // Not a photo or a video: not ours to import.
                    outcome.skipped += 1;
                    continue;
                }
                Ok(Err(e)) => {
                    outcome.failed += 1;
                    outcome.errors.push(format!("{}: {e}", file.relative));
                    continue;
                }
                Err(e) => return Err(SyncFailure::App(AppError::internal(anyhow::Error::new(e)))),
            }
            let mut link_metadata = serde_json::Map::new();
            link_metadata.insert("size".into(), json!(file.size));
            link_metadata.insert("mtime".into(), json!(file.mtime));
            let filename = file
                .relative
                .rsplit('/')
                .next()
                .unwrap_or(&file.relative)
                .to_string();
            batch.push(ImportItem {
                external_id: file.relative,
                filename,
                file: Some(spooled),
                sha256: None,
                taken_at: None,
                metadata: None,
                link_metadata,
                replaces,
            });
            if batch.len() == self.max_import_batch {
                self.flush_folder_batch(viewer, integration, &mut batch, &mut outcome)
                    .await?;
            }
        }
        self.flush_folder_batch(viewer, integration, &mut batch, &mut outcome)
            .await?;
        Ok(outcome)
    }

    async fn flush_folder_batch(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
        batch: &mut Vec<ImportItem>,
        outcome: &mut ImportOutcome,
    ) -> Result<(), SyncFailure> {
        if batch.is_empty() {
            return Ok(());
        }
        let done = self
            .import_batch(viewer, integration, std::mem::take(batch), None)
            .await
            .map_err(SyncFailure::App)?;
        outcome.imported += done.imported;
        outcome.skipped += done.skipped;
        outcome.media.extend(done.media);
        Ok(())
    }
}

enum SyncFailure {
    /// The folder itself: the integration goes to `ERROR`.
    Folder(String),
    App(AppError),
}

struct FolderFile {
    relative: String,
    absolute: PathBuf,
    size: u64,
    mtime: i64,
}

/// Every regular file under `folder` (symbolic links are not followed), in path order.
fn list_files(folder: &Path) -> std::io::Result<Vec<FolderFile>> {
    std::fs::read_dir(folder)?;
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(folder)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(std::io::Error::other)?;
        if !entry.file_type().is_file() {
            continue;
        }
        let meta = entry.metadata().map_err(std::io::Error::other)?;
        let relative = entry
            .path()
            .strip_prefix(folder)
            .map_err(std::io::Error::other)?
            .to_string_lossy()
            .replace('\\', "/");
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        out.push(FolderFile {
            relative,
            absolute: entry.path().to_path_buf(),
            size: meta.len(),
            mtime,
        });
    }
    Ok(out)
}
