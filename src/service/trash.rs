//! The trash: what is in it (media, albums, tags), until when, and purging, on request and
//! when retention ends. Purging media frees their storage and then the bytes nothing else uses.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::media;
use uuid::Uuid;

use super::Services;
use super::media::dedupe_ids;
use crate::error::{AppError, AppResult};
use crate::store;

/// Something in the trash.
pub(crate) enum TrashRow {
    Media(media::Model),
    Album(entity::albums::Model),
    Tag(entity::tags::Model),
}

impl TrashRow {
    /// Its place in the trash order.
    pub(crate) fn key(&self) -> (DateTime<Utc>, Uuid) {
        match self {
            TrashRow::Media(m) => (m.deleted_at.unwrap_or_default(), m.id),
            TrashRow::Album(a) => (a.deleted_at.unwrap_or_default(), a.id),
            TrashRow::Tag(t) => (t.deleted_at.unwrap_or_default(), t.id),
        }
    }
}

impl Services {
    /// `purgeMedia`: deletes media in the trash for good.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn purge_media(&self, viewer: Uuid, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
        let ids = dedupe_ids(ids, "ids")?;
        let rows = self.own_originals(&self.db, viewer, &ids).await?;
        if rows.iter().any(|m| m.deleted_at.is_none()) {
            return Err(AppError::bad_input(
                "ids",
                "only media in the trash can be purged: delete them first",
            ));
        }
        self.purge_rows(viewer, rows).await?;
        Ok(ids)
    }

    /// `emptyTrash`: purges everything in the viewer's trash; returns the ids of the media,
    /// albums and tags it held.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn empty_trash(
        &self,
        viewer: Uuid,
    ) -> AppResult<(Vec<Uuid>, Vec<Uuid>, Vec<Uuid>)> {
        let mut media = Vec::new();
        loop {
            let rows = store::media::trash_page(&self.db, viewer, None, false, 200).await?;
            if rows.is_empty() {
                break;
            }
            media.extend(rows.iter().map(|m| m.id));
            self.purge_rows(viewer, rows).await?;
        }
        let mut albums = Vec::new();
        loop {
            let rows = store::albums::trash_page(&self.db, viewer, None, false, 200).await?;
            if rows.is_empty() {
                break;
            }
            let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
            self.purge_albums(&ids).await?;
            albums.extend(ids);
        }
        let mut tags = Vec::new();
        loop {
            let rows = store::tags::trash_page(&self.db, viewer, None, false, 200).await?;
            if rows.is_empty() {
                break;
            }
            let ids: Vec<Uuid> = rows.iter().map(|t| t.id).collect();
            self.purge_tags(&ids).await?;
            tags.extend(ids);
        }
        Ok((media, albums, tags))
    }

    /// Deletes rows, their thumbnails and links, frees their storage, then removes the bytes
    /// nothing uses any more.
    pub(super) async fn purge_rows(
        &self,
        user: Uuid,
        originals: Vec<media::Model>,
    ) -> AppResult<()> {
        let original_ids: Vec<Uuid> = originals.iter().map(|m| m.id).collect();
        let freed: i64 = originals.iter().map(|m| m.size).sum();
        let txn = self.db.begin_write().await?;
        // The maintenance sweep purges as the system: the user's lock first, as a user's own
        // transaction takes it (the journal's trigger wants it too).
        store::lock_user(&txn, user).await?;
        let albums = store::links::albums_containing_ids(&txn, user, &original_ids).await?;
        store::albums::lock(&txn, &albums).await?;
        let variant_ids = store::links::all_variant_ids(&txn, &original_ids).await?;
        let variants = store::media::find_any_of_user(&txn, user, &variant_ids).await?;
        let mut all_ids = original_ids.clone();
        all_ids.extend(&variant_ids);
        store::links::delete_touching(&txn, &all_ids).await?;
        store::media::delete_rows(&txn, &all_ids).await?;
        store::quota::free(&txn, user, freed).await?;
        store::albums::recount(&txn, &albums).await?;
        txn.commit().await?;
        let hashes: BTreeSet<&str> = originals
            .iter()
            .chain(variants.iter())
            .map(|m| m.hash.as_str())
            .collect();
        self.delete_unused_blobs(hashes).await
    }

    /// A page of the viewer's trash (media and albums), most recently deleted first (in the
    /// direction of travel: oldest first when `backward`).
    pub(crate) async fn trash(
        &self,
        viewer: Uuid,
        cursor: Option<(DateTime<Utc>, Uuid)>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<TrashRow>> {
        let media = store::media::trash_page(&self.db, viewer, cursor, backward, limit).await?;
        let albums = store::albums::trash_page(&self.db, viewer, cursor, backward, limit).await?;
        let tags = store::tags::trash_page(&self.db, viewer, cursor, backward, limit).await?;
        let mut rows: Vec<TrashRow> = media
            .into_iter()
            .map(TrashRow::Media)
            .chain(albums.into_iter().map(TrashRow::Album))
            .chain(tags.into_iter().map(TrashRow::Tag))
            .collect();
        if backward {
            rows.sort_by_key(TrashRow::key);
        } else {
            rows.sort_by_key(|row| std::cmp::Reverse(row.key()));
        }
        rows.truncate(limit as usize);
        Ok(rows)
    }

    pub(crate) async fn trash_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::media::trash_count(&self.db, viewer).await?
            + store::albums::trash_count(&self.db, viewer).await?
            + store::tags::trash_count(&self.db, viewer).await?)
    }

    /// Deletes albums for good, with their links (their media stay).
    pub(super) async fn purge_albums(&self, ids: &[Uuid]) -> AppResult<()> {
        let txn = self.db.begin_write().await?;
        store::links::delete_touching(&txn, ids).await?;
        store::albums::delete_rows(&txn, ids).await?;
        txn.commit().await?;
        Ok(())
    }

    /// When an item deleted at `deleted_at` will be purged.
    pub(crate) fn purge_at(&self, deleted_at: DateTime<Utc>) -> DateTime<Utc> {
        deleted_at + self.trash_retention
    }
}
