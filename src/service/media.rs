//! The media library's use-cases: the upload pipeline (dedup, type sniffing, metadata, quota,
//! storage), edits, library reads, and moving media to the trash and back ([`super::trash`]
//! purges them).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::media;
use uuid::Uuid;

use super::blobs::BlobSource;
use super::{Services, validate};
use crate::error::{AppError, AppResult};
use crate::media::inspect::{self, InspectError, MediaKind};
use crate::storage::blob_key;
use crate::storage::spool::{self, SpoolError, Spooled};
use crate::store;
use crate::store::library::{LibraryPage, MediaFilter};
use crate::store::media::NewMedia;
use crate::store::rows::MediaColumns;

/// Most ids one bulk mutation takes.
pub(crate) const MAX_BULK_IDS: usize = 100;

/// Bytes to turn into media.
pub(crate) struct NewUpload {
    pub spooled: Spooled,
    pub filename: String,
    pub taken_at: Option<DateTime<Utc>>,
}

/// The media an upload made, or found.
pub(crate) struct Ingested {
    pub media: media::Model,
    /// The viewer already had these bytes: this is that media, nothing new was stored.
    pub deduplicated: bool,
}

fn spool_error(err: SpoolError, field: &'static str) -> AppError {
    match err {
        SpoolError::TooLarge(limit) => AppError::bad_input(
            field,
            format!("the file is larger than this server's upload limit of {limit} bytes"),
        ),
        SpoolError::Io(e) => AppError::from(e),
    }
}

fn not_found(kind: &str) -> AppError {
    AppError::NotFound(format!("no such {kind}"))
}

fn dedupe(ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
    dedupe_ids(ids, "ids")
}

/// `metadata` once a client gave the media's `takenAt`: the camera's zone no longer describes
/// it (`Media.takenAtLocal` then shows `takenAt` as given).
pub(crate) fn taken_at_given(mut metadata: serde_json::Value, given: bool) -> serde_json::Value {
    if given && let Some(map) = metadata.as_object_mut() {
        map.remove(crate::media::inspect::TAKEN_AT_OFFSET);
    }
    metadata
}

/// The keywords inspection found in a media's file.
fn keywords_of(metadata: &serde_json::Value) -> Vec<String> {
    metadata
        .get(crate::media::inspect::KEYWORDS)
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The distinct ids of a bulk argument, 1 to 100 of them.
pub(crate) fn dedupe_ids(ids: &[Uuid], field: &'static str) -> AppResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if ids.len() > MAX_BULK_IDS {
        return Err(AppError::bad_input(
            field,
            format!("at most {MAX_BULK_IDS} ids per call"),
        ));
    }
    let mut seen = BTreeSet::new();
    Ok(ids.iter().copied().filter(|id| seen.insert(*id)).collect())
}

impl Services {
    /// Copies an upload's temporary file into the spool while hashing it.
    pub(crate) async fn spool_file(&self, file: std::fs::File) -> AppResult<Spooled> {
        let dir = self.spool_dir.clone();
        let limit = self.max_upload_bytes;
        tokio::task::spawn_blocking(move || spool::from_file(&dir, file, limit))
            .await
            .context("spooling task")?
            .map_err(|e| spool_error(e, "file"))
    }

    /// `uploadMedia`: the whole pipeline for bytes that arrived in one request.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn upload_media(
        &self,
        viewer: Uuid,
        upload: NewUpload,
    ) -> AppResult<Ingested> {
        self.ingest(viewer, upload, false).await
    }

    /// Turns spooled bytes into the viewer's media. `reserved` says whether the quota for
    /// them was already reserved (by an upload session); either way the reservation is
    /// settled when this returns, and an error leaves no row and no file behind.
    pub(super) async fn ingest(
        &self,
        viewer: Uuid,
        upload: NewUpload,
        reserved: bool,
    ) -> AppResult<Ingested> {
        let size = i64::try_from(upload.spooled.size).context("file size")?;
        let mut held = reserved;
        let result = self.ingest_inner(viewer, &upload, size, &mut held).await;
        if held {
            // Nothing was stored (an error, or bytes the viewer already had).
            store::quota::release(&self.db, viewer, size).await?;
        }
        result
    }

    /// The pipeline; `held` tracks whether `size` bytes are reserved and not yet committed.
    async fn ingest_inner(
        &self,
        viewer: Uuid,
        upload: &NewUpload,
        size: i64,
        held: &mut bool,
    ) -> AppResult<Ingested> {
        let hash = upload.spooled.sha256.clone();
        if let Some(existing) = store::media::find_active_by_hash(&self.db, viewer, &hash).await? {
            return Ok(Ingested {
                media: existing,
                deduplicated: true,
            });
        }
        let path = upload.spooled.path.to_path_buf();
        let inspection = tokio::task::spawn_blocking(move || inspect::inspect(&path))
            .await
            .context("inspection task")?
            .map_err(|e| match e {
                InspectError::Unsupported(what) => AppError::bad_input(
                    "file",
                    format!("unsupported file type ({what}): photos must be JPEG, PNG, HEIC/HEIF, WebP or GIF; videos MP4, MOV or WebM"),
                ),
                InspectError::Corrupt(what) => {
                    AppError::bad_input("file", format!("the file is damaged or truncated: {what}"))
                }
                InspectError::Io(e) => AppError::internal(e),
            })?;
        if !*held {
            if !store::quota::reserve(&self.db, viewer, size).await? {
                return Err(AppError::QuotaExceeded(format!(
                    "this file ({size} bytes) would exceed your storage quota"
                )));
            }
            *held = true;
        }
        let key = blob_key(&hash);
        let created_blob = !self.blobs.exists(&key).await?;
        if created_blob {
            self.blobs.put_file(&key, &upload.spooled.path).await?;
        }
        let row = NewMedia {
            id: Uuid::now_v7(),
            user_id: viewer,
            filename: upload.filename.clone(),
            media_type: match inspection.kind {
                MediaKind::Photo => "photo",
                MediaKind::Video => "video",
            },
            mime_type: inspection.mime_type.to_string(),
            size,
            width: inspection.width.and_then(|w| i32::try_from(w).ok()),
            height: inspection.height.and_then(|h| i32::try_from(h).ok()),
            duration_ms: inspection.duration_ms.and_then(|d| i64::try_from(d).ok()),
            file_path: key.clone(),
            hash: hash.clone(),
            taken_at: upload.taken_at.or(inspection.taken_at),
            source_type: None,
            source_id: None,
            metadata: taken_at_given(
                serde_json::Value::Object(inspection.metadata),
                upload.taken_at.is_some(),
            ),
        };
        let inserted = async {
            let txn = self.db.begin_write().await?;
            let media = store::media::insert(&txn, row).await?;
            store::quota::commit_reservation(&txn, viewer, size).await?;
            if self.import_keywords {
                let keywords = keywords_of(&media.metadata);
                self.tag_with_keywords(&txn, viewer, media.id, &keywords)
                    .await?;
            }
            self.keep_blobs(&txn, &[(&hash, BlobSource::File(&upload.spooled.path))])
                .await?;
            txn.commit().await?;
            Ok::<_, AppError>(media)
        }
        .await;
        let media = match inserted {
            Ok(media) => {
                *held = false;
                media
            }
            Err(err) => {
                if created_blob {
                    self.delete_unused_blobs([hash.as_str()]).await.ok();
                }
                // A parallel upload of the same bytes won the unique index: use its row.
                if let Some(existing) =
                    store::media::find_active_by_hash(&self.db, viewer, &hash).await?
                {
                    return Ok(Ingested {
                        media: existing,
                        deduplicated: true,
                    });
                }
                return Err(err);
            }
        };
        if media.media_type == "photo" {
            self.variant_jobs.enqueue(media.id);
        }
        Ok(Ingested {
            media,
            deduplicated: false,
        })
    }

    /// `updateMedia`: rename, re-date, or merge-patch the metadata of one media.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, media = %id))]
    pub(crate) async fn update_media(
        &self,
        viewer: Uuid,
        id: Uuid,
        filename: Option<&str>,
        taken_at: Option<Option<DateTime<Utc>>>,
        metadata_patch: Option<serde_json::Value>,
    ) -> AppResult<media::Model> {
        let filename = filename
            .map(|f| validate::filename(f, "filename"))
            .transpose()?;
        if metadata_patch.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(AppError::bad_input(
                "metadata",
                "`metadata` must be a JSON object (a merge patch)",
            ));
        }
        let txn = self.db.begin_write().await?;
        let current = store::media::find_active_locked(&txn, viewer, id)
            .await?
            .ok_or_else(|| not_found("media"))?;
        let mut metadata = metadata_patch.map(|patch| {
            let mut doc = current.metadata.clone();
            validate::merge_patch(&mut doc, &patch);
            doc
        });
        if taken_at.is_some() {
            let doc = metadata.take().unwrap_or_else(|| current.metadata.clone());
            metadata = Some(taken_at_given(doc, true));
        }
        let updated =
            store::media::update_fields(&txn, current, filename, taken_at, metadata).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// A page of the viewer's library (originals only, no thumbnails).
    pub(crate) async fn library(
        &self,
        viewer: Uuid,
        page: &LibraryPage,
    ) -> AppResult<Vec<media::Model>> {
        store::library::library_page(&self.db, viewer, page).await
    }

    pub(crate) async fn library_count(&self, viewer: Uuid, filter: &MediaFilter) -> AppResult<u64> {
        store::library::library_count(&self.db, viewer, filter).await
    }

    /// The first `limit` of the viewer's media linked by `link_type` to each of `ends` (what
    /// each integration brought, what each tag is on), newest taken first, after `after`: one
    /// statement for them all.
    pub(crate) async fn library_by_end(
        &self,
        viewer: Uuid,
        link_type: &str,
        ends: &[Uuid],
        after: Option<(Option<DateTime<Utc>>, Uuid)>,
        limit: u64,
        columns: MediaColumns,
    ) -> AppResult<Vec<(Uuid, media::Model)>> {
        Ok(store::sources::pages(&self.db, viewer, link_type, ends, after, limit, columns).await?)
    }

    /// How many of the viewer's media are linked by `link_type` to each of `ends`.
    pub(crate) async fn library_count_by_end(
        &self,
        viewer: Uuid,
        link_type: &str,
        ends: &[Uuid],
    ) -> AppResult<Vec<(Uuid, i64)>> {
        Ok(store::sources::counts(&self.db, viewer, link_type, ends).await?)
    }

    /// Loads the viewer's originals with these ids (deleted or not), all or `NOT_FOUND`.
    pub(super) async fn own_originals(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        viewer: Uuid,
        ids: &[Uuid],
    ) -> AppResult<Vec<media::Model>> {
        let rows = store::media::find_any_of_user(db, viewer, ids).await?;
        if rows.len() != ids.len()
            || rows
                .iter()
                .any(|m| m.source_type.as_deref() == Some(store::media::VARIANT_SOURCE))
        {
            return Err(not_found("media"));
        }
        Ok(rows)
    }

    /// `deleteMedia`: moves media (and their thumbnails) to the trash. Already deleted ones are
    /// left as they are.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn delete_media(&self, viewer: Uuid, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
        let ids = dedupe(ids)?;
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let rows = self.own_originals(&txn, viewer, &ids).await?;
        let active: Vec<Uuid> = rows
            .iter()
            .filter(|m| m.deleted_at.is_none())
            .map(|m| m.id)
            .collect();
        if !active.is_empty() {
            let albums = store::links::albums_containing_ids(&txn, viewer, &active).await?;
            store::albums::lock(&txn, &albums).await?;
            let mut affected = active.clone();
            affected.extend(store::links::all_variant_ids(&txn, &active).await?);
            store::media::soft_delete(&txn, viewer, &affected, store::now()).await?;
            store::albums::recount(&txn, &albums).await?;
        }
        txn.commit().await?;
        Ok(ids)
    }

    /// `restoreMedia`: brings media back from the trash with the thumbnails deleted with them.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn restore_media(
        &self,
        viewer: Uuid,
        ids: &[Uuid],
    ) -> AppResult<Vec<media::Model>> {
        let ids = dedupe(ids)?;
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let rows = self.own_originals(&txn, viewer, &ids).await?;
        let albums = store::links::albums_containing_ids(&txn, viewer, &ids).await?;
        store::albums::lock(&txn, &albums).await?;
        let mut by_deletion: BTreeMap<DateTime<Utc>, Vec<Uuid>> = BTreeMap::new();
        for m in &rows {
            if let Some(at) = m.deleted_at {
                by_deletion.entry(at).or_default().push(m.id);
            }
        }
        for (at, originals) in by_deletion {
            let mut affected = originals.clone();
            affected.extend(store::links::all_variant_ids(&txn, &originals).await?);
            store::media::restore(&txn, viewer, &affected, at)
                .await
                .map_err(|e| match AppError::from(e) {
                    AppError::Conflict(_) => AppError::Conflict(
                        "your library already holds these bytes again; delete that copy first"
                            .into(),
                    ),
                    other => other,
                })?;
        }
        store::albums::recount(&txn, &albums).await?;
        let restored = store::media::find_any_of_user(&txn, viewer, &ids).await?;
        txn.commit().await?;
        Ok(restored)
    }
}
