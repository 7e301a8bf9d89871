//! The plan step of an import: what each item of a batch becomes (skipped, linked to media the
//! viewer has, or stored as new media), decided with reads only, so that a refused batch leaves
//! nothing behind and the later steps only carry the plan out.

use std::collections::{BTreeSet, HashMap};

use entity::integrations;
use serde_json::Value;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::media::inspect::{self, InspectError, MediaKind};
use crate::service::integrations::ImportItem;
use crate::service::{Services, validate};
use crate::storage::blob_key;
use crate::store;
use crate::store::media::NewMedia;

const MAX_EXTERNAL_ID: usize = 1024;

/// What one item of a batch becomes.
pub(super) enum Plan {
    /// Nothing new: the media it names (imported before, or already linked to the integration).
    Skip(Uuid),
    /// A `source` link to media the viewer already has (the same bytes).
    Link(Uuid),
    /// New media from the item's file (`index` into the batch), then its `source` link.
    Store { media_id: Uuid, index: usize },
}

/// A batch's plan: one [`Plan`] per item, in order, and the media rows and bytes the `Store`
/// items add.
pub(super) struct BatchPlan {
    pub(super) plans: Vec<Plan>,
    pub(super) new_rows: Vec<NewMedia>,
    pub(super) new_bytes: i64,
}

/// Checks every item before anything is touched, so that a bad item refuses the whole batch
/// with its index and no side effect.
pub(super) fn check_items(items: &[ImportItem]) -> AppResult<()> {
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
    Ok(())
}

impl Services {
    /// Plans what each item becomes: items already imported under their external id are
    /// skipped (unless the item replaces that very link); items whose bytes the viewer already
    /// has (in storage, or earlier in this batch) are linked; the rest are inspected and become
    /// new media rows. Reads only, so a refused item leaves nothing behind.
    pub(super) async fn plan_items(
        &self,
        viewer: Uuid,
        integration: &integrations::Model,
        items: &[ImportItem],
    ) -> AppResult<BatchPlan> {
        let external_ids: Vec<String> = items.iter().map(|i| i.external_id.clone()).collect();
        let already =
            store::integrations::imported(&self.db, integration.id, Some(&external_ids)).await?;

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
            let mut metadata = crate::service::media::taken_at_given(
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
        Ok(BatchPlan {
            plans,
            new_rows,
            new_bytes,
        })
    }

    /// Keeps one `source` link per (media, integration): an item whose media is already linked
    /// (earlier in this batch, or under another external id) is turned into a skip, so the
    /// commit does not write a second link for the same media.
    pub(super) async fn skip_linked_sources(
        &self,
        integration: &integrations::Model,
        plans: &mut [Plan],
    ) -> AppResult<()> {
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
        Ok(())
    }
}
