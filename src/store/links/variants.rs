//! Links between two media: thumbnails (`variant_of`, from the variant to its original, with
//! the size as the sort key) and duplicates (`duplicate_of`, read either way). They are kept
//! apart from the generic link queries because they join `media` and answer with media, not
//! with links.

use entity::{links, media};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::store::sql::Sql;
use crate::store::{now, rows, sql};

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

/// The variants (thumbnails) of these originals, smallest first, as (original id, variant
/// with `columns`), in one statement.
pub(crate) async fn variants_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    originals: &[Uuid],
    columns: rows::MediaColumns,
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT l.to_object_id AS original_id, {mcols}
         FROM links l
         JOIN media m ON m.id = l.from_object_id AND m.deleted_at IS NULL AND m.user_id = ",
        mcols = columns.select_list("m", "m_"),
    ))
    .bind(viewer)
    .push(" WHERE ")
    .in_ids("l.to_object_id", originals)
    .push(&format!(
        " AND l.link_type = '{VARIANT_OF}' AND l.deleted_at IS NULL
         ORDER BY l.to_object_id, l.sort_order, l.id"
    ));
    let found = db.query_all_raw(q.statement()).await?;
    found
        .iter()
        .map(|row| Ok((rows::get(row, 0)?, rows::media_columns_at(row, 1, columns)?)))
        .collect()
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

/// Media linked `duplicate_of` to these media, either way, as (media id, duplicate).
pub(crate) async fn duplicates_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    media_ids: &[Uuid],
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let cols = sql::columns::<media::Entity>("m", "m_");
    let mut q = Sql::new(db.get_database_backend());
    // Either way: (key, its duplicate) from links that leave the key, then that reach it.
    for (n, (key, dup)) in [("from", "to"), ("to", "from")].into_iter().enumerate() {
        if n > 0 {
            q.push(" UNION ");
        }
        q.push(&format!(
            "SELECT l.{key}_object_id AS key_id, {cols} FROM links l
             JOIN media m ON m.id = l.{dup}_object_id AND m.deleted_at IS NULL AND m.user_id = "
        ))
        .bind(viewer)
        .push(" WHERE ")
        .in_ids(&format!("l.{key}_object_id"), media_ids)
        .push(" AND l.link_type = 'duplicate_of' AND l.deleted_at IS NULL");
    }
    let stmt = q.statement();
    let found = db.query_all_raw(stmt).await?;
    found
        .iter()
        .map(|row| Ok((rows::get::<Uuid>(row, 0)?, rows::media_at(row, 1)?)))
        .collect()
}
