//! Links as first-class objects: `createLink`, `updateLink`, `deleteLink`, with the graph rules
//! of DESIGN §4 (typed ends for built-in types, both ends the viewer's, one active link per
//! (from, to, type)).

use entity::links;
use uuid::Uuid;

use super::{Services, validate};
use crate::error::{AppError, AppResult};
use crate::kinds::{BUILT_IN_LINKS, ObjectKind};
use crate::store;
use crate::store::links::{CONTAINS, NewLink};

/// Longest link type; the pattern is `[a-z][a-z0-9_]{0,49}`.
const MAX_TYPE_LEN: usize = 50;

/// Checks a link type against the pattern.
pub(crate) fn link_type(raw: &str, field: &'static str) -> AppResult<String> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_TYPE_LEN
        && raw.as_bytes()[0].is_ascii_lowercase()
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(raw.to_string())
    } else {
        Err(AppError::bad_input(
            field,
            format!("`{field}` must match [a-z][a-z0-9_]{{0,49}}"),
        ))
    }
}

/// Types the server manages itself: thumbnails (`variant_of`) and imports (`source`).
const MANAGED: [&str; 2] = ["variant_of", "source"];

fn not_managed(link_type: &str) -> AppResult<()> {
    if MANAGED.contains(&link_type) {
        return Err(AppError::bad_input(
            "linkType",
            format!(
                "`{link_type}` links are made by the server (thumbnails and imports), not by clients"
            ),
        ));
    }
    Ok(())
}

/// The ends a built-in type requires, if it is one.
fn built_in_ends(link_type: &str) -> Option<(ObjectKind, ObjectKind)> {
    BUILT_IN_LINKS
        .into_iter()
        .find(|(name, ..)| *name == link_type)
        .map(|(_, from, to)| (from, to))
}

fn strength(raw: Option<f64>) -> AppResult<Option<f64>> {
    match raw {
        Some(s) if !(0.0..=1.0).contains(&s) || s.is_nan() => Err(AppError::bad_input(
            "strength",
            "`strength` must be between 0 and 1",
        )),
        other => Ok(other),
    }
}

/// What `createLink` needs.
pub(crate) struct LinkRequest {
    pub from: (ObjectKind, Uuid),
    pub to: (ObjectKind, Uuid),
    pub link_type: String,
    pub strength: Option<f64>,
    pub sort_order: Option<i64>,
    pub metadata: Option<serde_json::Value>,
}

impl Services {
    /// Whether the viewer has an active object of this kind with this id.
    pub(crate) async fn owns_active(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        viewer: Uuid,
        (kind, id): (ObjectKind, Uuid),
    ) -> AppResult<bool> {
        Ok(match kind {
            ObjectKind::Media => store::media::find_active(db, viewer, id)
                .await?
                .is_some_and(|m| m.source_type.as_deref() != Some(store::media::VARIANT_SOURCE)),
            ObjectKind::Album => {
                !store::kinds::find_active::<entity::albums::Entity>(db, viewer, &[id])
                    .await?
                    .is_empty()
            }
            ObjectKind::Integration => false,
            ObjectKind::Tag => {
                !store::kinds::find_active::<entity::tags::Entity>(db, viewer, &[id])
                    .await?
                    .is_empty()
            }
        })
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn create_link(
        &self,
        viewer: Uuid,
        req: LinkRequest,
    ) -> AppResult<links::Model> {
        let kind = link_type(&req.link_type, "linkType")?;
        not_managed(&kind)?;
        let strength = strength(req.strength)?.unwrap_or(1.0);
        let metadata = req.metadata.unwrap_or_else(|| serde_json::json!({}));
        if !metadata.is_object() {
            return Err(AppError::bad_input(
                "metadata",
                "`metadata` must be a JSON object",
            ));
        }
        if req.from.1 == req.to.1 {
            return Err(AppError::bad_input(
                "toId",
                "a link needs two different objects",
            ));
        }
        if let Some((from, to)) = built_in_ends(&kind)
            && (req.from.0 != from || req.to.0 != to)
        {
            return Err(AppError::bad_input(
                "linkType",
                format!(
                    "`{kind}` links go from a {} to a {}",
                    from.as_str(),
                    to.as_str()
                ),
            ));
        }
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        if kind == CONTAINS {
            store::albums::lock(&txn, &[req.from.1]).await?;
        }
        if !self.owns_active(&txn, viewer, req.from).await? {
            return Err(AppError::NotFound("`fromId` names nothing of yours".into()));
        }
        if !self.owns_active(&txn, viewer, req.to).await? {
            return Err(AppError::NotFound("`toId` names nothing of yours".into()));
        }
        let sort_order = match (req.sort_order, kind == CONTAINS) {
            (Some(s), _) => s,
            (None, true) => {
                store::links::max_sort_key(&txn, req.from.1)
                    .await?
                    .unwrap_or(0)
                    + super::albums::GAP
            }
            (None, false) => 0,
        };
        let link = store::links::insert(
            &txn,
            NewLink {
                user_id: viewer,
                from: req.from,
                to: req.to,
                link_type: kind.clone(),
                strength,
                sort_order,
                metadata,
            },
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict(format!(
                "a `{kind}` link between these objects already exists"
            )),
            other => other,
        })?;
        if kind == CONTAINS {
            store::albums::recount(&txn, &[req.from.1]).await?;
        }
        txn.commit().await?;
        Ok(link)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer, link = %id))]
    pub(crate) async fn update_link(
        &self,
        viewer: Uuid,
        id: Uuid,
        new_strength: Option<f64>,
        sort_order: Option<i64>,
        metadata_patch: Option<serde_json::Value>,
    ) -> AppResult<links::Model> {
        let new_strength = strength(new_strength)?;
        if metadata_patch.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(AppError::bad_input(
                "metadata",
                "`metadata` must be a JSON object (a merge patch)",
            ));
        }
        let txn = self.db.begin_write().await?;
        let link = store::links::find_active(&txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("no such link".into()))?;
        not_managed(&link.link_type)?;
        let metadata = metadata_patch.map(|patch| {
            let mut doc = link.metadata.clone();
            validate::merge_patch(&mut doc, &patch);
            doc
        });
        let link = store::links::update(&txn, link, new_strength, sort_order, metadata).await?;
        txn.commit().await?;
        Ok(link)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer, link = %id))]
    pub(crate) async fn delete_link(&self, viewer: Uuid, id: Uuid) -> AppResult<Uuid> {
        let txn = self.db.begin_write().await?;
        store::lock_user(&txn, viewer).await?;
        let link = store::links::find_active(&txn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("no such link".into()))?;
        not_managed(&link.link_type)?;
        if link.link_type == CONTAINS {
            store::albums::lock(&txn, &[link.from_object_id]).await?;
        }
        store::links::soft_delete(&txn, &[id]).await?;
        if link.link_type == CONTAINS {
            store::albums::recount(&txn, &[link.from_object_id]).await?;
        }
        txn.commit().await?;
        Ok(id)
    }
}

impl Services {
    /// A page of all the viewer's visible links, oldest first.
    pub(crate) async fn user_links(
        &self,
        viewer: Uuid,
        types: Option<&[String]>,
        cursor: Option<Uuid>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<links::Model>> {
        Ok(store::links::user_page(&self.db, viewer, types, cursor, backward, limit).await?)
    }

    pub(crate) async fn user_links_count(
        &self,
        viewer: Uuid,
        types: Option<&[String]>,
    ) -> AppResult<u64> {
        Ok(store::links::user_count(&self.db, viewer, types).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_types_follow_the_pattern() {
        for ok in ["contains", "a", "similar_to", "x9_", &"a".repeat(50)] {
            assert!(link_type(ok, "t").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Contains",
            "9lives",
            "_x",
            "has-dash",
            "with space",
            &"a".repeat(51),
        ] {
            assert!(link_type(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn built_in_types_have_their_ends() {
        assert_eq!(
            built_in_ends("contains"),
            Some((ObjectKind::Album, ObjectKind::Media))
        );
        assert_eq!(built_in_ends("similar_to"), None);
        assert!(strength(Some(1.5)).is_err());
        assert!(strength(Some(f64::NAN)).is_err());
        assert_eq!(strength(Some(0.0)).unwrap(), Some(0.0));
    }
}
