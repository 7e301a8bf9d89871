//! The trash: what is in it (media, albums, tags), until when, and purging, on request and
//! when retention ends. Purging media frees their storage and then the bytes nothing else uses;
//! purging an object that is only a link end (an album, a tag) deletes it with its links.
//!
//! The kinds in the trash are [`IN_TRASH`], and what differs between them is dispatched here,
//! in one `match` per question with an arm for every kind, so that a new kind is one edit of
//! this file; the queries themselves are `store::kinds`', shared by every kind.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entity::{albums, media, tags};
use uuid::Uuid;

use super::Services;
use super::media::dedupe_ids;
use crate::error::{AppError, AppResult};
use crate::kinds::Kind;
use crate::store;
use crate::store::kinds::KindTable;

/// The kinds whose deleted objects are listed in `User.trash` and purged from it, in the
/// order `emptyTrash` purges them.
pub(crate) const IN_TRASH: [Kind; 3] = [Kind::Media, Kind::Album, Kind::Tag];

/// Something in the trash.
pub(crate) enum TrashRow {
    Media(media::Model),
    Album(albums::Model),
    Tag(tags::Model),
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

    fn user(&self) -> Uuid {
        match self {
            TrashRow::Media(m) => m.user_id,
            TrashRow::Album(a) => a.user_id,
            TrashRow::Tag(t) => t.user_id,
        }
    }
}

/// Which rows of a kind's trash to read.
#[derive(Clone, Copy)]
enum Among {
    /// A page of one user's, in trash order.
    Page {
        user: Uuid,
        cursor: Option<(DateTime<Utc>, Uuid)>,
        backward: bool,
    },
    /// Any user's deleted before this moment, oldest first.
    DeletedBefore(DateTime<Utc>),
}

/// Rows of one kind's trash, as [`TrashRow`]s.
async fn rows_of<E: KindTable>(
    db: &impl sea_orm::ConnectionTrait,
    among: Among,
    limit: u64,
    row: fn(E::Model) -> TrashRow,
) -> AppResult<Vec<TrashRow>> {
    let rows = match among {
        Among::Page {
            user,
            cursor,
            backward,
        } => store::kinds::trash_page::<E>(db, user, cursor, backward, limit).await?,
        Among::DeletedBefore(cutoff) => store::kinds::expired_trash::<E>(db, cutoff, limit).await?,
    };
    Ok(rows.into_iter().map(row).collect())
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

    /// `emptyTrash`: purges everything in the viewer's trash; returns what it held, kind by
    /// kind.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn empty_trash(&self, viewer: Uuid) -> AppResult<Vec<(Kind, Uuid)>> {
        let mut purged = Vec::new();
        let among = Among::Page {
            user: viewer,
            cursor: None,
            backward: false,
        };
        for kind in IN_TRASH {
            loop {
                let rows = self.trash_of(kind, among, 200).await?;
                if rows.is_empty() {
                    break;
                }
                purged.extend(rows.iter().map(|row| (kind, row.key().1)));
                self.purge(viewer, rows).await?;
            }
        }
        Ok(purged)
    }

    /// Purges everything whose retention in the trash ended before `cutoff`, kind by kind and
    /// user by user; returns how many of each kind.
    pub(super) async fn purge_deleted_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> AppResult<Vec<(Kind, usize)>> {
        let mut counts = Vec::new();
        for kind in IN_TRASH {
            let mut count = 0;
            loop {
                let rows = self
                    .trash_of(kind, Among::DeletedBefore(cutoff), 200)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                count += rows.len();
                let mut by_user: BTreeMap<Uuid, Vec<TrashRow>> = BTreeMap::new();
                for row in rows {
                    by_user.entry(row.user()).or_default().push(row);
                }
                for (user, rows) in by_user {
                    self.purge(user, rows).await?;
                }
            }
            counts.push((kind, count));
        }
        Ok(counts)
    }

    /// Rows of one kind's trash.
    async fn trash_of(&self, kind: Kind, among: Among, limit: u64) -> AppResult<Vec<TrashRow>> {
        let db = &self.db;
        match kind {
            Kind::Media => rows_of::<media::Entity>(db, among, limit, TrashRow::Media).await,
            Kind::Album => rows_of::<albums::Entity>(db, among, limit, TrashRow::Album).await,
            Kind::Tag => rows_of::<tags::Entity>(db, among, limit, TrashRow::Tag).await,
            Kind::User | Kind::Link | Kind::Integration | Kind::Upload => Ok(Vec::new()),
        }
    }

    /// How many of one kind's objects are in the user's trash.
    async fn trash_count_of(&self, kind: Kind, user: Uuid) -> AppResult<u64> {
        let db = &self.db;
        Ok(match kind {
            Kind::Media => store::kinds::trash_count::<media::Entity>(db, user).await?,
            Kind::Album => store::kinds::trash_count::<albums::Entity>(db, user).await?,
            Kind::Tag => store::kinds::trash_count::<tags::Entity>(db, user).await?,
            Kind::User | Kind::Link | Kind::Integration | Kind::Upload => 0,
        })
    }

    /// Deletes one user's rows in the trash for good.
    async fn purge(&self, user: Uuid, rows: Vec<TrashRow>) -> AppResult<()> {
        let (mut media, mut albums, mut tags) = (Vec::new(), Vec::new(), Vec::new());
        for row in rows {
            match row {
                TrashRow::Media(m) => media.push(m),
                TrashRow::Album(a) => albums.push(a.id),
                TrashRow::Tag(t) => tags.push(t.id),
            }
        }
        if !media.is_empty() {
            self.purge_rows(user, media).await?;
        }
        self.purge_link_ends::<albums::Entity>(user, &albums)
            .await?;
        self.purge_link_ends::<tags::Entity>(user, &tags).await
    }

    /// Deletes objects that are only link ends (albums, tags) for good, with their links; the
    /// media at the links' other ends stay.
    async fn purge_link_ends<E: KindTable>(&self, user: Uuid, ids: &[Uuid]) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, user).await?;
        store::links::delete_touching(&txn, ids).await?;
        store::kinds::delete_rows::<E>(&txn, ids).await?;
        txn.commit().await?;
        Ok(())
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
        store::kinds::delete_rows::<entity::media::Entity>(&txn, &all_ids).await?;
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

    /// A page of the viewer's trash, most recently deleted first (in the direction of travel:
    /// oldest first when `backward`).
    pub(crate) async fn trash(
        &self,
        viewer: Uuid,
        cursor: Option<(DateTime<Utc>, Uuid)>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<TrashRow>> {
        let among = Among::Page {
            user: viewer,
            cursor,
            backward,
        };
        let mut rows = Vec::new();
        for kind in IN_TRASH {
            rows.extend(self.trash_of(kind, among, limit).await?);
        }
        if backward {
            rows.sort_by_key(TrashRow::key);
        } else {
            rows.sort_by_key(|row| std::cmp::Reverse(row.key()));
        }
        rows.truncate(limit as usize);
        Ok(rows)
    }

    pub(crate) async fn trash_count(&self, viewer: Uuid) -> AppResult<u64> {
        let mut count = 0;
        for kind in IN_TRASH {
            count += self.trash_count_of(kind, viewer).await?;
        }
        Ok(count)
    }

    /// When an item deleted at `deleted_at` will be purged.
    pub(crate) fn purge_at(&self, deleted_at: DateTime<Utc>) -> DateTime<Utc> {
        deleted_at + self.trash_retention
    }
}
