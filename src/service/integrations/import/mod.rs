//! `importMedia`, and the import pipeline folder syncs share: a batch of items becomes media
//! and `source` links, idempotent by external id, in one transaction. The pipeline runs in
//! named steps (plan, reserve, store, commit) because the steps before the transaction take
//! what the database does not give back by itself (quota, blobs): when the batch does not
//! commit, `undo_batch` returns exactly what was taken, and the commit keeps the stored bytes
//! from a concurrent purge (`Services::keep_blobs`). The plan step,
//! the largest, has its own file.

mod plan;

use std::collections::HashMap;

use entity::{integrations, media};
use serde_json::Value;
use uuid::Uuid;

use super::{ImportItem, ImportOutcome};
use crate::error::{AppError, AppResult};
use crate::kinds::ObjectKind;
use crate::service::Services;
use crate::service::blobs::BlobSource;
use crate::storage::blob_key;
use crate::store;
use crate::store::integrations::IntegrationChanges;
use crate::store::links::NewLink;
use crate::store::sources::SOURCE;
use plan::{BatchPlan, Plan, check_items};

/// The error a failed store or commit answers with: a unique-constraint conflict means another
/// import of the same items committed first, which a retry resolves.
fn retry_on_conflict(err: AppError) -> AppError {
    match err {
        AppError::Conflict(_) => {
            AppError::Conflict("another import of these items ran at the same time; retry".into())
        }
        other => other,
    }
}

impl Services {
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

    /// The import pipeline shared by `importMedia` and folder syncs: plan, reserve the quota,
    /// store the bytes, commit the rows; on failure, undo what was taken.
    pub(super) async fn import_batch(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
        items: Vec<ImportItem>,
        sync_cursor: Option<String>,
    ) -> AppResult<ImportOutcome> {
        check_items(&items)?;
        let mut plan = self.plan_items(viewer, integration, &items).await?;
        self.skip_linked_sources(integration, &mut plan.plans)
            .await?;
        self.reserve_quota(viewer, plan.new_bytes).await?;
        let mut created_blobs = Vec::new();
        let stored = async {
            self.store_blobs(&items, &plan.plans, &mut created_blobs)
                .await?;
            self.commit_batch(
                viewer,
                integration,
                &items,
                &mut plan,
                sync_cursor.as_deref(),
            )
            .await
        }
        .await;
        if let Err(err) = stored {
            self.undo_batch(viewer, plan.new_bytes, created_blobs).await;
            return Err(retry_on_conflict(err));
        }
        self.batch_outcome(viewer, &plan.plans).await
    }

    /// Reserves quota for the batch's new bytes before any byte is written, so that a batch
    /// over quota fails before it costs storage, and concurrent batches cannot both fit into
    /// the same room. The commit turns the reservation into usage; `undo_batch` releases it.
    async fn reserve_quota(&self, viewer: Uuid, new_bytes: i64) -> AppResult<()> {
        if new_bytes > 0 && !store::quota::reserve(&self.db, viewer, new_bytes).await? {
            return Err(AppError::QuotaExceeded(format!(
                "this batch ({new_bytes} new bytes) would exceed your storage quota"
            )));
        }
        Ok(())
    }

    /// Writes the bytes of every `Store` item that storage does not hold yet, before the rows
    /// that name them commit, so that no committed media points at missing bytes. The keys it
    /// creates are pushed to `created` as it goes, so that `undo_batch` can remove them even
    /// when a later write fails.
    async fn store_blobs(
        &self,
        items: &[ImportItem],
        plans: &[Plan],
        created: &mut Vec<String>,
    ) -> AppResult<()> {
        for plan in plans {
            if let Plan::Store { index, .. } = plan {
                let file = items[*index]
                    .file
                    .as_ref()
                    .expect("planned to store a file");
                let key = blob_key(&file.sha256);
                if !self.blobs.exists(&key).await? {
                    self.blobs.put_file(&key, &file.path).await?;
                    created.push(key);
                }
            }
        }
        Ok(())
    }

    /// Commits the batch in one transaction under the user's lock: the `source` links an item
    /// replaces are retired, then the new media, their `source` links, the quota reservation
    /// turned into usage and the new sync cursor are written, all or nothing.
    async fn commit_batch(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
        items: &[ImportItem],
        plan: &mut BatchPlan,
        sync_cursor: Option<&str>,
    ) -> AppResult<()> {
        let mut links = Vec::new();
        for (plan, item) in plan.plans.iter().zip(items) {
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
        let retired: Vec<Uuid> = plan
            .plans
            .iter()
            .zip(items)
            .filter(|(plan, _)| !matches!(plan, Plan::Skip(_)))
            .filter_map(|(_, item)| item.replaces)
            .collect();
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        store::links::soft_delete(&txn, &retired).await?;
        store::media::insert_many(&txn, std::mem::take(&mut plan.new_rows)).await?;
        store::links::insert_many(&txn, links).await?;
        if plan.new_bytes > 0 {
            store::quota::commit_reservation(&txn, viewer, plan.new_bytes).await?;
        }
        let stored: Vec<_> = plan
            .plans
            .iter()
            .filter_map(|plan| match plan {
                Plan::Store { index, .. } => items[*index].file.as_ref(),
                Plan::Skip(_) | Plan::Link(_) => None,
            })
            .map(|file| (file.sha256.as_str(), BlobSource::File(&file.path)))
            .collect();
        self.keep_blobs(&txn, &stored).await?;
        if let Some(cursor) = sync_cursor {
            store::integrations::update(
                &txn,
                integration.id,
                IntegrationChanges {
                    sync_cursor: Some(Some(cursor.to_string())),
                    ..Default::default()
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Compensates a batch that did not commit: releases its quota reservation and removes the
    /// blobs it wrote, unless a media row of any user uses those bytes by now (another import
    /// may have committed the same bytes meanwhile). Best effort: the error that stopped the
    /// batch is what the caller reports.
    async fn undo_batch(&self, viewer: Uuid, new_bytes: i64, created_blobs: Vec<String>) {
        if new_bytes > 0 {
            store::quota::release(&self.db, viewer, new_bytes)
                .await
                .ok();
        }
        let hashes = created_blobs
            .iter()
            .map(|key| key.rsplit('/').next().unwrap_or_default());
        self.delete_unused_blobs(hashes).await.ok();
    }

    /// What the committed batch did, with the media of every item in order, and a variant job
    /// queued for each new media.
    async fn batch_outcome(&self, viewer: Uuid, plans: &[Plan]) -> AppResult<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut ids = Vec::with_capacity(plans.len());
        for plan in plans {
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
}
