//! Tags: a user's labels for media, unique per user by name (ignoring case) among the tags not
//! in the trash. A media carries a tag through a `tagged` link (media → tag), so a tag in the
//! trash hides its links from every read, as an album does, and brings them back when it is
//! restored. Every write that creates tags holds the user's lock, so that two writers naming
//! the same new tag make one.

use std::collections::{BTreeMap, BTreeSet};

use entity::{media, tags};
use uuid::Uuid;

use super::Services;
use super::media::dedupe_ids;
use crate::error::{AppError, AppResult};
use crate::kinds::ObjectKind;
use crate::store;
use crate::store::links::NewLink;
use crate::store::tags::TAGGED;

/// Longest tag name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 100;

fn no_tag() -> AppError {
    AppError::NotFound("no such tag".into())
}

fn name_taken(name: &str) -> AppError {
    AppError::Conflict(format!("you already have a tag named \"{name}\""))
}

/// A tag name as given, trimmed, and its key: the name in lower case, what uniqueness and the
/// order of `User.tags` go by.
pub(crate) fn tag_name(raw: &str, field: &'static str) -> AppResult<(String, String)> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::bad_input(
            field,
            format!(
                "`{field}` must be 1 to {MAX_NAME_CHARS} characters, none of them control characters"
            ),
        ));
    }
    Ok((name.to_string(), name.to_lowercase()))
}

impl Services {
    /// `createTag`.
    pub(crate) async fn create_tag(&self, viewer: Uuid, raw_name: &str) -> AppResult<tags::Model> {
        let (name, key) = tag_name(raw_name, "name")?;
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        if !store::tags::find_by_keys(&txn, viewer, std::slice::from_ref(&key))
            .await?
            .is_empty()
        {
            return Err(name_taken(&name));
        }
        let tag = store::tags::insert(&txn, viewer, name, key).await?;
        txn.commit().await?;
        Ok(tag)
    }

    /// The viewer's active tag, with the user's lock held for the rest of the transaction.
    async fn locked_tag(
        &self,
        txn: &crate::db::Txn,
        viewer: Uuid,
        id: Uuid,
    ) -> AppResult<tags::Model> {
        store::lock_user(txn, viewer).await?;
        store::kinds::find_active::<entity::tags::Entity>(txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(no_tag)
    }

    /// `renameTag`: a new name, or a new case of the same one.
    pub(crate) async fn rename_tag(
        &self,
        viewer: Uuid,
        id: Uuid,
        raw_name: &str,
    ) -> AppResult<tags::Model> {
        let (name, key) = tag_name(raw_name, "name")?;
        let txn = self.db.begin_write().await?;
        let tag = self.locked_tag(&txn, viewer, id).await?;
        let same_name = store::tags::find_by_keys(&txn, viewer, std::slice::from_ref(&key)).await?;
        if same_name.iter().any(|t| t.id != id) {
            return Err(name_taken(&name));
        }
        let tag = store::tags::rename(&txn, tag, name, key).await?;
        txn.commit().await?;
        Ok(tag)
    }

    /// `deleteTag`: the tag goes to the trash, and its links are hidden with it; the media it
    /// was on stay where they are.
    pub(crate) async fn delete_tag(&self, viewer: Uuid, id: Uuid) -> AppResult<Uuid> {
        let txn = self.db.begin_write().await?;
        self.locked_tag(&txn, viewer, id).await?;
        store::tags::set_deleted(&txn, id, Some(store::now())).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// `restoreTag`: back from the trash with its links, unless the viewer has made another
    /// tag of that name since (`CONFLICT`: rename or delete that one first).
    pub(crate) async fn restore_tag(&self, viewer: Uuid, id: Uuid) -> AppResult<tags::Model> {
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let tag = store::tags::find_any(&txn, viewer, id)
            .await?
            .ok_or_else(no_tag)?;
        if tag.deleted_at.is_some() {
            let same_name =
                store::tags::find_by_keys(&txn, viewer, std::slice::from_ref(&tag.name_key))
                    .await?;
            if !same_name.is_empty() {
                return Err(name_taken(&tag.name));
            }
            store::tags::set_deleted(&txn, id, None).await?;
        }
        let tag = store::kinds::find_active::<entity::tags::Entity>(&txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(no_tag)?;
        txn.commit().await?;
        Ok(tag)
    }

    /// The viewer's active tags with these ids, all of them or `NOT_FOUND`.
    async fn own_active_tags(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        viewer: Uuid,
        ids: &[Uuid],
    ) -> AppResult<Vec<tags::Model>> {
        let found = store::kinds::find_active::<entity::tags::Entity>(db, viewer, ids).await?;
        if found.len() == ids.len() {
            Ok(found)
        } else {
            Err(no_tag())
        }
    }

    /// `tagMedia`: every media gets every tag; pairs already tagged are left as they are.
    /// Gives the tags and the media, in the order of their ids.
    pub(crate) async fn tag_media(
        &self,
        viewer: Uuid,
        tag_ids: &[Uuid],
        media_ids: &[Uuid],
    ) -> AppResult<Tagging> {
        let tag_ids = dedupe_ids(tag_ids, "tagIds")?;
        let media_ids = dedupe_ids(media_ids, "mediaIds")?;
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let tags = self.own_active_tags(&txn, viewer, &tag_ids).await?;
        self.own_active_media(&txn, viewer, &media_ids).await?;
        link_tags(&txn, viewer, &media_ids, &tag_ids).await?;
        let media =
            store::kinds::find_active::<entity::media::Entity>(&txn, viewer, &media_ids).await?;
        txn.commit().await?;
        Ok(Tagging::new(tags, &tag_ids, media, &media_ids))
    }

    /// `untagMedia`: pairs that were not tagged are ignored. Gives the tags and the media (those
    /// not in the trash), in the order of their ids.
    pub(crate) async fn untag_media(
        &self,
        viewer: Uuid,
        tag_ids: &[Uuid],
        media_ids: &[Uuid],
    ) -> AppResult<Tagging> {
        let tag_ids = dedupe_ids(tag_ids, "tagIds")?;
        let media_ids = dedupe_ids(media_ids, "mediaIds")?;
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let tags = self.own_active_tags(&txn, viewer, &tag_ids).await?;
        let owned = store::media::find_any_of_user(&txn, viewer, &media_ids).await?;
        if owned.len() != media_ids.len() {
            return Err(AppError::NotFound("no such media".into()));
        }
        let links: Vec<Uuid> = store::tags::taggings(&txn, &media_ids, &tag_ids)
            .await?
            .into_iter()
            .map(|(link, _, _)| link)
            .collect();
        store::links::soft_delete(&txn, &links).await?;
        txn.commit().await?;
        let media = owned
            .into_iter()
            .filter(|m| m.deleted_at.is_none())
            .collect();
        Ok(Tagging::new(tags, &tag_ids, media, &media_ids))
    }

    /// Tags a new media with its keywords, making the tags the viewer does not have yet, in
    /// the transaction that inserts it (the upload's).
    pub(super) async fn tag_with_keywords(
        &self,
        txn: &crate::db::Txn,
        viewer: Uuid,
        media: Uuid,
        keywords: &[String],
    ) -> AppResult<()> {
        // One tag per key, named as the first keyword with that key.
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        for keyword in keywords {
            if let Ok((name, key)) = tag_name(keyword, "keywords") {
                wanted.entry(key).or_insert(name);
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        store::lock_user(txn, viewer).await?;
        let keys: Vec<String> = wanted.keys().cloned().collect();
        let mut tag_ids: Vec<Uuid> = Vec::new();
        let mut have = BTreeSet::new();
        for tag in store::tags::find_by_keys(txn, viewer, &keys).await? {
            have.insert(tag.name_key.clone());
            tag_ids.push(tag.id);
        }
        for (key, name) in wanted {
            if !have.contains(&key) {
                tag_ids.push(store::tags::insert(txn, viewer, name, key).await?.id);
            }
        }
        link_tags(txn, viewer, &[media], &tag_ids).await
    }

    /// `NOT_FOUND` unless every one of `ids` is an active tag of the viewer's (a filter by
    /// someone else's tag or one in the trash finds nothing, as anywhere else).
    pub(crate) async fn own_tags(&self, viewer: Uuid, ids: &[Uuid]) -> AppResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.own_active_tags(&self.db, viewer, ids)
            .await
            .map(|_| ())
    }

    /// A page of the viewer's tags by name.
    pub(crate) async fn tags_page(
        &self,
        viewer: Uuid,
        after: Option<(String, Uuid)>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<tags::Model>> {
        Ok(store::tags::page(&self.db, viewer, after, backward, limit).await?)
    }

    pub(crate) async fn tags_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::tags::count(&self.db, viewer).await?)
    }
}

/// `tagged` links from every media to every tag, for the pairs that have none.
async fn link_tags(
    txn: &crate::db::Txn,
    viewer: Uuid,
    media_ids: &[Uuid],
    tag_ids: &[Uuid],
) -> AppResult<()> {
    let present: BTreeSet<(Uuid, Uuid)> = store::tags::taggings(txn, media_ids, tag_ids)
        .await?
        .into_iter()
        .map(|(_, media, tag)| (media, tag))
        .collect();
    let links = media_ids
        .iter()
        .flat_map(|m| tag_ids.iter().map(move |t| (*m, *t)))
        .filter(|pair| !present.contains(pair))
        .map(|(media, tag)| NewLink {
            user_id: viewer,
            from: (ObjectKind::Media, media),
            to: (ObjectKind::Tag, tag),
            link_type: TAGGED.into(),
            strength: 1.0,
            sort_order: 0,
            metadata: serde_json::json!({}),
        })
        .collect();
    store::links::insert_many(txn, links).await?;
    Ok(())
}

/// What `tagMedia` and `untagMedia` changed: the tags and the media, in the order asked.
pub(crate) struct Tagging {
    pub tags: Vec<tags::Model>,
    pub media: Vec<media::Model>,
}

impl Tagging {
    fn new(
        tags: Vec<tags::Model>,
        tag_ids: &[Uuid],
        media: Vec<media::Model>,
        media_ids: &[Uuid],
    ) -> Self {
        Self {
            tags: in_order(tags, tag_ids, |t| t.id),
            media: in_order(media, media_ids, |m| m.id),
        }
    }
}

/// `rows` in the order of `ids`.
fn in_order<T>(rows: Vec<T>, ids: &[Uuid], id: impl Fn(&T) -> Uuid) -> Vec<T> {
    let mut by_id: BTreeMap<Uuid, T> = rows.into_iter().map(|r| (id(&r), r)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_keyed_by_their_lower_case() {
        assert_eq!(
            tag_name("  Straße Ä ", "name").unwrap(),
            ("Straße Ä".to_string(), "straße ä".to_string())
        );
        assert!(tag_name("   ", "name").is_err());
        assert!(tag_name("a\tb", "name").is_err());
        assert!(tag_name(&"x".repeat(MAX_NAME_CHARS + 1), "name").is_err());
        assert!(tag_name(&"é".repeat(MAX_NAME_CHARS), "name").is_ok());
    }
}
