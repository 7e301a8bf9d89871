//! Integrations: outside sources of media. Their credentials are sealed at rest; sync workers
//! push items through `importMedia` (idempotent by external id, one transaction per batch);
//! `local_folder` integrations are synced by the server itself.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use entity::{integrations, media};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ClientInfo, Services, audit, validate};
use crate::auth::secret_box::aad;
use crate::error::{AppError, AppResult};
use crate::kinds::ObjectKind;
use crate::media::inspect::{self, InspectError, MediaKind};
use crate::storage::blob_key;
use crate::storage::spool::Spooled;
use crate::store;
use crate::store::integrations::{IntegrationChanges, NewIntegration, SealedSecrets};
use crate::store::links::NewLink;
use crate::store::media::NewMedia;

pub(crate) const LOCAL_FOLDER: &str = "local_folder";
const SOURCE: &str = "source";
const MAX_NAME_CHARS: usize = 255;
const MAX_EXTERNAL_ID: usize = 1024;

/// Credentials as a client gives them; never readable back.
#[derive(Default)]
pub(crate) struct Credentials {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

/// One item of an `importMedia` batch.
pub(crate) struct ImportItem {
    pub external_id: String,
    pub filename: String,
    /// The bytes, when the worker sends them.
    pub file: Option<Spooled>,
    pub sha256: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub metadata: Option<Value>,
    /// Extra fields of the `source` link (a folder sync records size and mtime).
    pub link_metadata: serde_json::Map<String, Value>,
    /// The `source` link this item takes over (a changed file of a folder), retired in the
    /// same transaction.
    pub replaces: Option<Uuid>,
}

/// What one import or sync did.
#[derive(Debug, Default)]
pub(crate) struct ImportOutcome {
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
    pub errors: Vec<String>,
    /// The media of every item, in order (imported or already there).
    pub media: Vec<media::Model>,
}

fn not_found() -> AppError {
    AppError::NotFound("no such integration".into())
}

fn name(raw: &str) -> AppResult<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            "name",
            format!("`name` must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(n.to_string())
}

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
    fn check_config(&self, integration_type: &str, config: &Value) -> AppResult<()> {
        if !config.is_object() {
            return Err(AppError::bad_input(
                "config",
                "`config` must be a JSON object",
            ));
        }
        if integration_type == LOCAL_FOLDER {
            confined_folder(config, &self.import_roots)?;
        }
        Ok(())
    }

    fn seal(&self, integration: Uuid, c: &Credentials) -> AppResult<SealedSecrets> {
        let seal = |value: &Option<String>, field: &str| -> AppResult<Option<String>> {
            value
                .as_deref()
                .map(|v| self.secrets.seal(v, &aad(integration, field)))
                .transpose()
                .map_err(AppError::Internal)
        };
        Ok(SealedSecrets {
            access_token: seal(&c.access_token, "access_token")?,
            refresh_token: seal(&c.refresh_token, "refresh_token")?,
            token_expires_at: c.expires_at,
            scopes: seal(&c.scopes.as_ref().map(|s| s.join(" ")), "scopes")?,
            key_id: self.secrets.key_id().to_string(),
        })
    }

    /// The viewer's active integration.
    pub(crate) async fn integration(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> AppResult<integrations::Model> {
        store::integrations::find_active(&self.db, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn create_integration(
        &self,
        viewer: Uuid,
        integration_type: &str,
        raw_name: &str,
        config: Option<Value>,
        credentials: Option<Credentials>,
        client: &ClientInfo,
    ) -> AppResult<integrations::Model> {
        let kind = super::links::link_type(integration_type, "integrationType")?;
        let name = name(raw_name)?;
        let config = config.unwrap_or_else(|| json!({}));
        self.check_config(&kind, &config)?;
        let txn = self.db.begin_write().await?;
        let integration = store::integrations::insert(
            &txn,
            NewIntegration {
                user_id: viewer,
                integration_type: kind.clone(),
                name,
                config,
            },
        )
        .await?;
        if let Some(c) = &credentials {
            store::integrations::put_secrets(&txn, integration.id, self.seal(integration.id, c)?)
                .await?;
        }
        audit::record_object(
            &txn,
            client,
            viewer,
            "integration.created",
            ("integration", integration.id),
            json!({ "integration_type": kind, "credentials": credentials.is_some() }),
        )
        .await?;
        txn.commit().await?;
        Ok(integration)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn update_integration(
        &self,
        viewer: Uuid,
        id: Uuid,
        raw_name: Option<&str>,
        config: Option<Value>,
        status: Option<&'static str>,
    ) -> AppResult<integrations::Model> {
        let current = self.integration(viewer, id).await?;
        let name = raw_name.map(name).transpose()?;
        if let Some(c) = &config {
            self.check_config(&current.integration_type, c)?;
        }
        store::integrations::update(
            &self.db,
            id,
            IntegrationChanges {
                name,
                config,
                status,
                ..Default::default()
            },
        )
        .await?;
        self.integration(viewer, id).await
    }

    /// Replaces the credentials (or removes them, with `None`).
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn set_integration_credentials(
        &self,
        viewer: Uuid,
        id: Uuid,
        credentials: Option<Credentials>,
        client: &ClientInfo,
    ) -> AppResult<integrations::Model> {
        let integration = self.integration(viewer, id).await?;
        let txn = self.db.begin_write().await?;
        match &credentials {
            Some(c) => store::integrations::put_secrets(&txn, id, self.seal(id, c)?).await?,
            None => store::integrations::delete_secrets(&txn, id).await?,
        }
        let action = if credentials.is_some() {
            "integration.credentials_set"
        } else {
            "integration.credentials_removed"
        };
        audit::record_object(&txn, client, viewer, action, ("integration", id), json!({})).await?;
        txn.commit().await?;
        Ok(integration)
    }

    /// Deletes the secrets at once and moves the integration (with its `source` links) to the
    /// trash; the media it brought stay.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn delete_integration(
        &self,
        viewer: Uuid,
        id: Uuid,
        client: &ClientInfo,
    ) -> AppResult<Uuid> {
        self.integration(viewer, id).await?;
        let txn = self.db.begin_write().await?;
        store::integrations::delete_secrets(&txn, id).await?;
        store::integrations::set_deleted(&txn, id, store::now()).await?;
        audit::record_object(
            &txn,
            client,
            viewer,
            "integration.deleted",
            ("integration", id),
            json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    pub(crate) async fn integrations_page(
        &self,
        viewer: Uuid,
        cursor: Option<Uuid>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<integrations::Model>> {
        Ok(store::integrations::page(&self.db, viewer, cursor, backward, limit).await?)
    }

    pub(crate) async fn integrations_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::integrations::count(&self.db, viewer).await?)
    }

    /// `importMedia`: items already imported (by external id) are skipped; items whose bytes
    /// the viewer has are linked; the rest are stored. The batch and the new cursor commit
    /// together or not at all.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %integration_id, items = items.len()))]
    pub(crate) async fn import_media(
        &self,
        viewer: Uuid,
        integration_id: Uuid,
        items: Vec<ImportItem>,
        sync_cursor: Option<String>,
    ) -> AppResult<(ImportOutcome, integrations::Model)> {
        let integration = self.integration(viewer, integration_id).await?;
        if integration.status == "paused" {
            return Err(AppError::bad_input(
                "integrationId",
                "the integration is paused",
            ));
        }
        if items.is_empty() || items.len() > self.max_import_batch {
            return Err(AppError::bad_input(
                "items",
                format!("a batch holds 1 to {} items", self.max_import_batch),
            ));
        }
        let outcome = self
            .import_batch(viewer, &integration, items, sync_cursor)
            .await?;
        Ok((outcome, self.integration(viewer, integration_id).await?))
    }

    /// The import pipeline shared by `importMedia` and folder syncs.
    async fn import_batch(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
        items: Vec<ImportItem>,
        sync_cursor: Option<String>,
    ) -> AppResult<ImportOutcome> {
        // Check every item before touching anything.
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            if item.external_id.is_empty() || item.external_id.len() > MAX_EXTERNAL_ID {
                return Err(AppError::bad_input(
                    "items",
                    format!("item {i}: `externalId` must be 1 to {MAX_EXTERNAL_ID} bytes"),
                ));
            }
            if !seen.insert(item.external_id.as_str()) {
                return Err(AppError::bad_input(
                    "items",
                    format!("item {i}: `externalId` appears twice in the batch"),
                ));
            }
            validate::filename(&item.filename, "filename").map_err(|_| {
                AppError::bad_input("items", format!("item {i}: `filename` is not a file name"))
            })?;
            if item.metadata.as_ref().is_some_and(|m| !m.is_object()) {
                return Err(AppError::bad_input(
                    "items",
                    format!("item {i}: `metadata` must be a JSON object"),
                ));
            }
            if let Some(h) = &item.sha256 {
                let h = validate::sha256(h, "items")?;
                if let Some(file) = &item.file
                    && file.sha256 != h
                {
                    return Err(AppError::bad_input(
                        "items",
                        format!("item {i}: the file does not match its `sha256`"),
                    ));
                }
            }
        }
        let external_ids: Vec<String> = items.iter().map(|i| i.external_id.clone()).collect();
        let already =
            store::integrations::imported(&self.db, integration.id, Some(&external_ids)).await?;

        // Plan: what each remaining item becomes.
        enum Plan {
            Skip(Uuid),
            Link(Uuid),
            Store { media_id: Uuid, index: usize },
        }
        let mut plans = Vec::with_capacity(items.len());
        let mut planned_hashes: HashMap<String, Uuid> = HashMap::new();
        let mut new_rows: Vec<NewMedia> = Vec::new();
        let mut new_bytes: i64 = 0;
        for (i, item) in items.iter().enumerate() {
            if let Some(done) = already.get(&item.external_id)
                && item.replaces != Some(done.link_id)
            {
                plans.push(Plan::Skip(done.media_id));
                continue;
            }
            let hash = item
                .file
                .as_ref()
                .map(|f| f.sha256.clone())
                .or_else(|| item.sha256.as_ref().map(|h| h.to_ascii_lowercase()));
            let Some(hash) = hash else {
                return Err(AppError::bad_input(
                    "items",
                    format!("item {i}: send the `file` or the `sha256` of bytes you already have"),
                ));
            };
            if let Some(id) = planned_hashes.get(&hash) {
                plans.push(Plan::Link(*id));
                continue;
            }
            if let Some(existing) =
                store::media::find_active_by_hash(&self.db, viewer, &hash).await?
            {
                planned_hashes.insert(hash, existing.id);
                plans.push(Plan::Link(existing.id));
                continue;
            }
            let Some(file) = &item.file else {
                return Err(AppError::bad_input(
                    "items",
                    format!("item {i}: no media has this `sha256`; send the `file`"),
                ));
            };
            let path = file.path.to_path_buf();
            let found = tokio::task::spawn_blocking(move || inspect::inspect(&path))
                .await
                .map_err(|e| AppError::internal(anyhow::Error::new(e)))?
                .map_err(|e| match e {
                    InspectError::Unsupported(what) => AppError::bad_input(
                        "items",
                        format!("item {i}: unsupported file type ({what})"),
                    ),
                    InspectError::Corrupt(what) => AppError::bad_input(
                        "items",
                        format!("item {i}: the file is damaged or truncated: {what}"),
                    ),
                    InspectError::Io(e) => AppError::internal(e),
                })?;
            let id = Uuid::now_v7();
            let size =
                i64::try_from(file.size).map_err(|e| AppError::internal(anyhow::Error::new(e)))?;
            let mut metadata = super::media::taken_at_given(
                Value::Object(found.metadata),
                item.taken_at.is_some(),
            );
            if let Some(extra) = &item.metadata {
                validate::merge_patch(&mut metadata, extra);
            }
            new_bytes += size;
            new_rows.push(NewMedia {
                id,
                user_id: viewer,
                filename: validate::filename(&item.filename, "filename")?,
                media_type: match found.kind {
                    MediaKind::Photo => "photo",
                    MediaKind::Video => "video",
                },
                mime_type: found.mime_type.to_string(),
                size,
                width: found.width.and_then(|w| i32::try_from(w).ok()),
                height: found.height.and_then(|h| i32::try_from(h).ok()),
                duration_ms: found.duration_ms.and_then(|d| i64::try_from(d).ok()),
                file_path: blob_key(&hash),
                hash: hash.clone(),
                taken_at: item.taken_at.or(found.taken_at),
                source_type: Some(integration.integration_type.clone()),
                source_id: Some(item.external_id.clone()),
                metadata,
            });
            planned_hashes.insert(hash, id);
            plans.push(Plan::Store {
                media_id: id,
                index: i,
            });
        }

        // One `source` link per (media, integration): an item whose media is already linked
        // (earlier in this batch, or under another external id) adds nothing.
        let link_targets: Vec<Uuid> = plans
            .iter()
            .filter_map(|p| match p {
                Plan::Link(id) => Some(*id),
                _ => None,
            })
            .collect();
        let mut linked: BTreeSet<Uuid> =
            store::integrations::linked_media(&self.db, integration.id, &link_targets)
                .await?
                .into_iter()
                .collect();
        for plan in plans.iter_mut() {
            let target = match plan {
                Plan::Skip(_) => continue,
                Plan::Link(id) | Plan::Store { media_id: id, .. } => *id,
            };
            if !linked.insert(target) {
                *plan = Plan::Skip(target);
            }
        }

        // Quota for the new bytes, then the bytes, then one transaction for all rows.
        if new_bytes > 0 && !store::quota::reserve(&self.db, viewer, new_bytes).await? {
            return Err(AppError::QuotaExceeded(format!(
                "this batch ({new_bytes} new bytes) would exceed your storage quota"
            )));
        }
        let mut created_blobs = Vec::new();
        let stored = async {
            for plan in &plans {
                if let Plan::Store { index, .. } = plan {
                    let file = items[*index]
                        .file
                        .as_ref()
                        .expect("planned to store a file");
                    let key = blob_key(&file.sha256);
                    if !self.blobs.exists(&key).await? {
                        self.blobs.put_file(&key, &file.path).await?;
                        created_blobs.push(key);
                    }
                }
            }
            let mut links = Vec::new();
            for (plan, item) in plans.iter().zip(&items) {
                let media_id = match plan {
                    Plan::Skip(_) => continue,
                    Plan::Link(id) | Plan::Store { media_id: id, .. } => *id,
                };
                let mut meta = item.link_metadata.clone();
                meta.insert(
                    "external_id".into(),
                    Value::String(item.external_id.clone()),
                );
                links.push(NewLink {
                    user_id: viewer,
                    from: (ObjectKind::Media, media_id),
                    to: (ObjectKind::Integration, integration.id),
                    link_type: SOURCE.into(),
                    strength: 1.0,
                    sort_order: 0,
                    metadata: Value::Object(meta),
                });
            }
            let retired: Vec<Uuid> = plans
                .iter()
                .zip(&items)
                .filter(|(plan, _)| !matches!(plan, Plan::Skip(_)))
                .filter_map(|(_, item)| item.replaces)
                .collect();
            let txn = self.db.begin_write().await?;
            store::lock_user(&txn, viewer).await?;
            store::links::soft_delete(&txn, &retired).await?;
            store::media::insert_many(&txn, std::mem::take(&mut new_rows)).await?;
            store::links::insert_many(&txn, links).await?;
            if new_bytes > 0 {
                store::quota::commit_reservation(&txn, viewer, new_bytes).await?;
            }
            if let Some(cursor) = &sync_cursor {
                store::integrations::update(
                    &txn,
                    integration.id,
                    IntegrationChanges {
                        sync_cursor: Some(Some(cursor.clone())),
                        ..Default::default()
                    },
                )
                .await?;
            }
            txn.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(err) = stored {
            if new_bytes > 0 {
                store::quota::release(&self.db, viewer, new_bytes)
                    .await
                    .ok();
            }
            for key in created_blobs {
                let hash = key.rsplit('/').next().unwrap_or_default().to_string();
                if !store::media::hash_in_use(&self.db, &hash)
                    .await
                    .unwrap_or(true)
                {
                    self.blobs.delete(&key).await.ok();
                }
            }
            return Err(match err {
                AppError::Conflict(_) => AppError::Conflict(
                    "another import of these items ran at the same time; retry".into(),
                ),
                other => other,
            });
        }

        // A purge may have removed bytes we found in storage before our commit.
        for plan in &plans {
            if let Plan::Store { index, .. } = plan {
                let file = items[*index]
                    .file
                    .as_ref()
                    .expect("planned to store a file");
                let key = blob_key(&file.sha256);
                if !self.blobs.exists(&key).await? {
                    self.blobs.put_file(&key, &file.path).await?;
                }
            }
        }
        let mut outcome = ImportOutcome::default();
        let mut ids = Vec::with_capacity(plans.len());
        for plan in &plans {
            match plan {
                Plan::Skip(id) => {
                    outcome.skipped += 1;
                    ids.push(*id);
                }
                Plan::Link(id) => {
                    outcome.imported += 1;
                    ids.push(*id);
                }
                Plan::Store { media_id, .. } => {
                    outcome.imported += 1;
                    ids.push(*media_id);
                    self.variant_jobs.enqueue(*media_id);
                }
            }
        }
        let found = store::media::find_any_of_user(&self.db, viewer, &ids).await?;
        let by_id: HashMap<Uuid, media::Model> = found.into_iter().map(|m| (m.id, m)).collect();
        outcome.media = ids.iter().filter_map(|id| by_id.get(id).cloned()).collect();
        Ok(outcome)
    }

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

    /// `hypernet secrets rotate`: re-seals every secret under `new`; returns how many rows.
    pub(crate) async fn rotate_secrets(
        &self,
        new: &crate::auth::secret_box::SecretBox,
    ) -> anyhow::Result<usize> {
        let txn = self.db.begin_write().await?;
        let rows = store::integrations::all_secrets(&txn).await?;
        let count = rows.len();
        for mut row in rows {
            let id = row.integration_id;
            let reseal = |value: &Option<String>, field: &str| -> anyhow::Result<Option<String>> {
                value
                    .as_deref()
                    .map(|v| {
                        let plain = self.secrets.open(v, &aad(id, field))?;
                        new.seal(&plain, &aad(id, field))
                    })
                    .transpose()
            };
            row.access_token = reseal(&row.access_token, "access_token")?;
            row.refresh_token = reseal(&row.refresh_token, "refresh_token")?;
            row.scopes = reseal(&row.scopes, "scopes")?;
            row.key_id = Some(new.key_id().to_string());
            store::integrations::reseal(&txn, row).await?;
        }
        txn.commit().await?;
        Ok(count)
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
