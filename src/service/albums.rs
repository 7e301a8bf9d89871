//! Albums: creation and edits, membership with a stable order, cover, trash. Every change to
//! an album's members holds the album's lock and recounts `media_count` in the same
//! transaction, so the count is exact under concurrent writers.

use std::collections::BTreeSet;

use entity::{albums, links};
use uuid::Uuid;

use super::Services;
use crate::error::{AppError, AppResult};
use crate::kinds::ObjectKind;
use crate::store;
use crate::store::albums::NewAlbum;
use crate::store::links::{CONTAINS, NewLink};

/// Room left between neighbouring sort keys, so that inserting or moving rewrites one row.
pub(crate) const GAP: i64 = 1 << 20;
const MAX_NAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Where new or moved members go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Position {
    End,
    First,
    After(Uuid),
}

fn no_album() -> AppError {
    AppError::NotFound("no such album".into())
}

fn name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            "name",
            format!("`name` must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

fn description(raw: Option<&str>) -> AppResult<Option<String>> {
    let Some(d) = raw.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::bad_input(
            "description",
            format!("`description` must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(Some(d.to_string()))
}

/// `k` increasing keys strictly between `lo` and `hi` (either open), or `None` when there is
/// no room.
fn keys_between(lo: Option<i64>, hi: Option<i64>, k: usize) -> Option<Vec<i64>> {
    let k64 = k as i64;
    match (lo, hi) {
        (None, None) => Some((1..=k64).map(|i| i * GAP).collect()),
        (Some(lo), None) => Some((1..=k64).map(|i| lo + i * GAP).collect()),
        (None, Some(hi)) => Some((1..=k64).map(|i| hi - (k64 - i + 1) * GAP).collect()),
        (Some(lo), Some(hi)) => {
            let room = hi - lo;
            (room > k64).then(|| (1..=k64).map(|i| lo + room * i / (k64 + 1)).collect())
        }
    }
}

impl Services {
    pub(crate) async fn create_album(
        &self,
        viewer: Uuid,
        raw_name: &str,
        raw_description: Option<&str>,
    ) -> AppResult<albums::Model> {
        let album = store::albums::insert(
            &self.db,
            NewAlbum {
                user_id: viewer,
                name: name(raw_name)?,
                description: description(raw_description)?,
            },
        )
        .await?;
        Ok(album)
    }

    /// The viewer's active album, locked for the rest of the transaction.
    async fn locked_album(
        &self,
        txn: &crate::db::Txn,
        viewer: Uuid,
        id: Uuid,
    ) -> AppResult<albums::Model> {
        store::lock_user(txn, viewer).await?;
        store::albums::lock(txn, &[id]).await?;
        store::kinds::find_active::<entity::albums::Entity>(txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(no_album)
    }

    pub(crate) async fn update_album(
        &self,
        viewer: Uuid,
        id: Uuid,
        raw_name: Option<&str>,
        raw_description: Option<Option<&str>>,
        cover: Option<Option<Uuid>>,
    ) -> AppResult<albums::Model> {
        let new_name = raw_name.map(name).transpose()?;
        let new_description = raw_description.map(description).transpose()?;
        let txn = self.db.begin_write().await?;
        let album = self.locked_album(&txn, viewer, id).await?;
        if let Some(Some(media)) = cover
            && store::links::members(&txn, id, &[media]).await?.is_empty()
        {
            return Err(AppError::bad_input(
                "coverMediaId",
                "the cover must be a photo or video in the album",
            ));
        }
        let album = store::albums::update(&txn, album, new_name, new_description, cover).await?;
        txn.commit().await?;
        Ok(album)
    }

    /// Moves an album to the trash: it and its links disappear from every read; its members
    /// stay in the library.
    pub(crate) async fn delete_album(&self, viewer: Uuid, id: Uuid) -> AppResult<Uuid> {
        let txn = self.db.begin_write().await?;
        self.locked_album(&txn, viewer, id).await?;
        store::albums::set_deleted(&txn, id, Some(store::now())).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Brings an album back with its members, order, cover and count.
    pub(crate) async fn restore_album(&self, viewer: Uuid, id: Uuid) -> AppResult<albums::Model> {
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        store::albums::lock(&txn, &[id]).await?;
        let album = store::albums::find_any(&txn, viewer, id)
            .await?
            .ok_or_else(no_album)?;
        if album.deleted_at.is_some() {
            store::albums::set_deleted(&txn, id, None).await?;
            store::albums::recount(&txn, &[id]).await?;
        }
        let album = store::kinds::find_active::<entity::albums::Entity>(&txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(no_album)?;
        txn.commit().await?;
        Ok(album)
    }

    /// The viewer's active originals with these ids, all of them or `NOT_FOUND`.
    pub(super) async fn own_active_media(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        viewer: Uuid,
        ids: &[Uuid],
    ) -> AppResult<()> {
        let rows = store::media::find_any_of_user(db, viewer, ids).await?;
        let ok = rows.len() == ids.len()
            && rows.iter().all(|m| {
                m.deleted_at.is_none()
                    && m.source_type.as_deref() != Some(store::media::VARIANT_SOURCE)
            });
        if ok {
            Ok(())
        } else {
            Err(AppError::NotFound("no such media".into()))
        }
    }

    /// Sort keys for `k` new members at `position`, renumbering the album once if there is no
    /// room (rare).
    async fn keys_for(
        &self,
        txn: &crate::db::Txn,
        album: Uuid,
        position: Position,
        exclude: Option<Uuid>,
        k: usize,
    ) -> AppResult<Vec<i64>> {
        for attempt in 0..2 {
            let (lo, hi) = match position {
                Position::End => (store::links::max_sort_key(txn, album).await?, None),
                Position::First => (
                    None,
                    store::links::next_sort_key(txn, album, None, exclude).await?,
                ),
                Position::After(media) => {
                    let anchor = store::links::members(txn, album, &[media])
                        .await?
                        .pop()
                        .ok_or_else(|| {
                            AppError::bad_input(
                                "afterMediaId",
                                "`afterMediaId` is not in the album",
                            )
                        })?;
                    let hi =
                        store::links::next_sort_key(txn, album, Some(anchor.sort_order), exclude)
                            .await?;
                    (Some(anchor.sort_order), hi)
                }
            };
            if let Some(keys) = keys_between(lo, hi, k) {
                return Ok(keys);
            }
            if attempt == 0 {
                store::links::renumber(txn, album, GAP).await?;
            }
        }
        Err(AppError::internal(anyhow::anyhow!(
            "no room for sort keys after renumbering"
        )))
    }

    /// `addMediaToAlbum`: members already there are left as they are.
    pub(crate) async fn add_media_to_album(
        &self,
        viewer: Uuid,
        album_id: Uuid,
        media_ids: &[Uuid],
        position: Position,
    ) -> AppResult<albums::Model> {
        let media_ids = super::media::dedupe_ids(media_ids, "mediaIds")?;
        let txn = self.db.begin_write().await?;
        self.locked_album(&txn, viewer, album_id).await?;
        self.own_active_media(&txn, viewer, &media_ids).await?;
        let present: BTreeSet<Uuid> = store::links::members(&txn, album_id, &media_ids)
            .await?
            .iter()
            .map(|l| l.to_object_id)
            .collect();
        let new: Vec<Uuid> = media_ids
            .into_iter()
            .filter(|m| !present.contains(m))
            .collect();
        if let Position::After(anchor) = position
            && new.contains(&anchor)
        {
            return Err(AppError::bad_input(
                "afterMediaId",
                "`afterMediaId` is not in the album",
            ));
        }
        if !new.is_empty() {
            let keys = self
                .keys_for(&txn, album_id, position, None, new.len())
                .await?;
            // One statement for all the new members.
            let links = new
                .iter()
                .zip(keys)
                .map(|(media, key)| NewLink {
                    user_id: viewer,
                    from: (ObjectKind::Album, album_id),
                    to: (ObjectKind::Media, *media),
                    link_type: CONTAINS.into(),
                    strength: 1.0,
                    sort_order: key,
                    metadata: serde_json::json!({}),
                })
                .collect();
            store::links::insert_many(&txn, links).await?;
            store::albums::recount(&txn, &[album_id]).await?;
        }
        let album = store::kinds::find_active::<entity::albums::Entity>(&txn, viewer, &[album_id])
            .await?
            .pop()
            .ok_or_else(no_album)?;
        txn.commit().await?;
        Ok(album)
    }

    /// `removeMediaFromAlbum`: media not in the album are ignored.
    pub(crate) async fn remove_media_from_album(
        &self,
        viewer: Uuid,
        album_id: Uuid,
        media_ids: &[Uuid],
    ) -> AppResult<albums::Model> {
        let media_ids = super::media::dedupe_ids(media_ids, "mediaIds")?;
        let txn = self.db.begin_write().await?;
        let album = self.locked_album(&txn, viewer, album_id).await?;
        let owned = store::media::find_any_of_user(&txn, viewer, &media_ids).await?;
        if owned.len() != media_ids.len() {
            return Err(AppError::NotFound("no such media".into()));
        }
        let members = store::links::members(&txn, album_id, &media_ids).await?;
        let ids: Vec<Uuid> = members.iter().map(|l| l.id).collect();
        store::links::soft_delete(&txn, &ids).await?;
        if album.cover_media_id.is_some_and(|c| media_ids.contains(&c)) {
            store::albums::update(&txn, album, None, None, Some(None)).await?;
        }
        store::albums::recount(&txn, &[album_id]).await?;
        let album = store::kinds::find_active::<entity::albums::Entity>(&txn, viewer, &[album_id])
            .await?
            .pop()
            .ok_or_else(no_album)?;
        txn.commit().await?;
        Ok(album)
    }

    /// `moveAlbumMedia`: rewrites one sort key (and renumbers the album only when two
    /// neighbours have no room between them).
    pub(crate) async fn move_album_media(
        &self,
        viewer: Uuid,
        album_id: Uuid,
        media: Uuid,
        after: Option<Uuid>,
    ) -> AppResult<links::Model> {
        if after == Some(media) {
            return Err(AppError::bad_input(
                "afterMediaId",
                "a media cannot move after itself",
            ));
        }
        let txn = self.db.begin_write().await?;
        self.locked_album(&txn, viewer, album_id).await?;
        let link = store::links::members(&txn, album_id, &[media])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("the media is not in this album".into()))?;
        let position = after.map_or(Position::First, Position::After);
        let key = self
            .keys_for(&txn, album_id, position, Some(link.id), 1)
            .await?
            .pop()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("no sort key")))?;
        store::links::set_sort(&txn, link.id, key).await?;
        let link = store::links::members(&txn, album_id, &[media])
            .await?
            .pop()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("moved link vanished")))?;
        txn.commit().await?;
        Ok(link)
    }

    /// The viewer's active album.
    pub(crate) async fn album(&self, viewer: Uuid, id: Uuid) -> AppResult<albums::Model> {
        store::kinds::find_active::<entity::albums::Entity>(&self.db, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(no_album)
    }

    pub(crate) async fn albums_page(
        &self,
        viewer: Uuid,
        descending: bool,
        after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
        limit: u64,
    ) -> AppResult<Vec<albums::Model>> {
        Ok(store::albums::page(&self.db, viewer, descending, after, limit).await?)
    }

    pub(crate) async fn albums_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::albums::count(&self.db, viewer).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fit_between_neighbours() {
        assert_eq!(keys_between(None, None, 2), Some(vec![GAP, 2 * GAP]));
        assert_eq!(keys_between(Some(10), None, 1), Some(vec![10 + GAP]));
        assert_eq!(keys_between(None, Some(0), 2), Some(vec![-2 * GAP, -GAP]));
        assert_eq!(keys_between(Some(0), Some(10), 1), Some(vec![5]));
        assert_eq!(keys_between(Some(0), Some(10), 3), Some(vec![2, 5, 7]));
        assert_eq!(keys_between(Some(0), Some(2), 1), Some(vec![1]));
        assert_eq!(keys_between(Some(0), Some(1), 1), None);
        assert_eq!(keys_between(Some(0), Some(3), 3), None);
    }
}
