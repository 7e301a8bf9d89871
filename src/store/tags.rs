//! Queries on `tags` and on the `tagged` links that join media to them: lookups by id and by
//! name, the user's tag list in name order, the tags of media, trash.

use chrono::{DateTime, Utc};
use entity::tags;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::now;
use super::sql::{self, Sql};

/// The link type that says a media carries a tag (media → tag).
pub(crate) const TAGGED: &str = "tagged";

impl super::kinds::KindTable for tags::Entity {
    const ID: tags::Column = tags::Column::Id;
    const OWNER: tags::Column = tags::Column::UserId;
    const DELETED_AT: tags::Column = tags::Column::DeletedAt;

    fn id(row: &tags::Model) -> Uuid {
        row.id
    }
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    name: String,
    name_key: String,
) -> Result<tags::Model, DbErr> {
    let now = now();
    tags::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name),
        name_key: Set(name_key),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
}

/// The user's tag with this id, in the trash or not.
pub(crate) async fn find_any(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<tags::Model>, DbErr> {
    tags::Entity::find_by_id(id)
        .filter(tags::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// The user's active tags with these name keys.
pub(crate) async fn find_by_keys(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keys: &[String],
) -> Result<Vec<tags::Model>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    tags::Entity::find()
        .filter(tags::Column::UserId.eq(user_id))
        .filter(tags::Column::NameKey.is_in(keys.iter().cloned()))
        .filter(tags::Column::DeletedAt.is_null())
        .all(db)
        .await
}

pub(crate) async fn rename(
    db: &impl ConnectionTrait,
    tag: tags::Model,
    name: String,
    name_key: String,
) -> Result<tags::Model, DbErr> {
    let mut am: tags::ActiveModel = tag.into();
    am.name = Set(name);
    am.name_key = Set(name_key);
    am.updated_at = Set(now());
    am.update(db).await
}

pub(crate) async fn set_deleted(
    db: &impl ConnectionTrait,
    id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    tags::Entity::update_many()
        .col_expr(tags::Column::DeletedAt, Expr::value(deleted_at))
        .col_expr(tags::Column::UpdatedAt, Expr::value(now()))
        .filter(tags::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the user's active tags in name order (case-insensitive), or its reverse when
/// `backward`, after `(name_key, id)`.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<(String, Uuid)>,
    backward: bool,
    limit: u64,
) -> Result<Vec<tags::Model>, DbErr> {
    let mut query = tags::Entity::find()
        .filter(tags::Column::UserId.eq(user_id))
        .filter(tags::Column::DeletedAt.is_null());
    if let Some((key, id)) = after {
        let (k, i) = if backward {
            (tags::Column::NameKey.lt(&key), tags::Column::Id.lt(id))
        } else {
            (tags::Column::NameKey.gt(&key), tags::Column::Id.gt(id))
        };
        query = query.filter(
            Condition::any()
                .add(k)
                .add(Condition::all().add(tags::Column::NameKey.eq(key)).add(i)),
        );
    }
    let query = if backward {
        query
            .order_by_desc(tags::Column::NameKey)
            .order_by_desc(tags::Column::Id)
    } else {
        query
            .order_by_asc(tags::Column::NameKey)
            .order_by_asc(tags::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub(crate) async fn count(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    tags::Entity::find()
        .filter(tags::Column::UserId.eq(user_id))
        .filter(tags::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// The viewer's active tags each of these media carries, as (media id, tag), in name order:
/// the `tagged` links of the viewer from these media to the viewer's tags.
pub(crate) async fn of_media(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    media_ids: &[Uuid],
) -> Result<Vec<(Uuid, tags::Model)>, DbErr> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT l.from_object_id AS media_id, {cols} FROM links l
         JOIN tags t ON t.id = l.to_object_id AND t.deleted_at IS NULL AND t.user_id = l.user_id
         WHERE l.user_id = ",
        cols = sql::columns::<tags::Entity>("t", "t_"),
    ))
    .bind(viewer)
    .push(" AND ")
    .in_ids("l.from_object_id", media_ids)
    .push(&format!(
        " AND l.link_type = '{TAGGED}' AND l.to_object_type = 'tag' AND l.deleted_at IS NULL
         ORDER BY t.name_key, t.id"
    ));
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<Uuid>("", "media_id")?,
                tags::Model::from_query_result(row, "t_")?,
            ))
        })
        .collect()
}

/// The active `tagged` links from these media to these tags, as (link id, media, tag).
pub(crate) async fn taggings(
    db: &impl ConnectionTrait,
    media_ids: &[Uuid],
    tag_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid, Uuid)>, DbErr> {
    if media_ids.is_empty() || tag_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT id, from_object_id, to_object_id FROM links WHERE ")
        .in_ids("from_object_id", media_ids)
        .push(" AND ")
        .in_ids("to_object_id", tag_ids)
        .push(&format!(
            " AND link_type = '{TAGGED}' AND deleted_at IS NULL"
        ));
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<Uuid>("", "id")?,
                row.try_get::<Uuid>("", "from_object_id")?,
                row.try_get::<Uuid>("", "to_object_id")?,
            ))
        })
        .collect()
}
