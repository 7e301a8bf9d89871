//! Queries on `links` needed by the media library (thumbnail links, purge). The graph issue
//! grows this into the full link store.

use entity::{links, media};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::now;

pub(crate) const VARIANT_OF: &str = "variant_of";

/// Links `variant` to `original` as its thumbnail of `size` px (idempotent).
pub(crate) async fn insert_variant_link(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    variant: Uuid,
    original: Uuid,
    size: u32,
) -> Result<(), DbErr> {
    let now = now();
    links::Entity::insert(links::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        from_object_id: Set(variant),
        from_object_type: Set("media".into()),
        to_object_id: Set(original),
        to_object_type: Set("media".into()),
        link_type: Set(VARIANT_OF.into()),
        strength: Set(1.0),
        sort_order: Set(i64::from(size)),
        metadata: Set(serde_json::json!({ "size": size })),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    })
    .on_conflict(OnConflict::new().do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The variants (thumbnails) of these originals, smallest first, as (original id, variant).
pub(crate) async fn variants_of(
    db: &impl ConnectionTrait,
    originals: &[Uuid],
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    let links = links::Entity::find()
        .filter(links::Column::ToObjectId.is_in(originals.iter().copied()))
        .filter(links::Column::LinkType.eq(VARIANT_OF))
        .filter(links::Column::DeletedAt.is_null())
        .order_by_asc(links::Column::SortOrder)
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let variant_ids: Vec<Uuid> = links.iter().map(|l| l.from_object_id).collect();
    let variants = media::Entity::find()
        .filter(media::Column::Id.is_in(variant_ids))
        .filter(media::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    Ok(links
        .iter()
        .filter_map(|l| {
            variants
                .iter()
                .find(|v| v.id == l.from_object_id)
                .map(|v| (l.to_object_id, v.clone()))
        })
        .collect())
}

/// Every variant id of these originals, deleted or not (for delete, restore and purge).
pub(crate) async fn all_variant_ids(
    db: &impl ConnectionTrait,
    originals: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    Ok(links::Entity::find()
        .filter(links::Column::ToObjectId.is_in(originals.iter().copied()))
        .filter(links::Column::LinkType.eq(VARIANT_OF))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.from_object_id)
        .collect())
}

/// Deletes every link that touches one of these objects.
pub(crate) async fn delete_touching(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64, DbErr> {
    let res = links::Entity::delete_many()
        .filter(
            Condition::any()
                .add(links::Column::FromObjectId.is_in(ids.iter().copied()))
                .add(links::Column::ToObjectId.is_in(ids.iter().copied())),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
