//! Queries on `albums`: lookups, the user's album list, counts, locks, trash.

use chrono::{DateTime, Utc};
use entity::albums;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::sql::Sql;
use super::{now, sql};

pub(crate) struct NewAlbum {
    pub user_id: Uuid,
    pub name: String,
    pub description: Option<String>,
}

impl super::kinds::KindTable for albums::Entity {
    const ID: albums::Column = albums::Column::Id;
    const OWNER: albums::Column = albums::Column::UserId;
    const DELETED_AT: albums::Column = albums::Column::DeletedAt;

    fn id(row: &albums::Model) -> Uuid {
        row.id
    }
}

pub(crate) async fn insert(db: &impl ConnectionTrait, a: NewAlbum) -> Result<albums::Model, DbErr> {
    let now = now();
    albums::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(a.user_id),
        name: Set(a.name),
        description: Set(a.description),
        cover_media_id: Set(None),
        media_count: Set(0),
        metadata: Set(serde_json::json!({})),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
}

/// The user's album with this id, deleted or not.
pub(crate) async fn find_any(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<albums::Model>, DbErr> {
    albums::Entity::find_by_id(id)
        .filter(albums::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Locks albums for the rest of the transaction, in id order so that two writers cannot
/// deadlock: every change to an album's members or count holds this lock, so counts stay
/// exact under concurrent writers. (A SQLite write transaction already excludes the others.)
pub(crate) async fn lock(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() || db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    albums::Entity::find()
        .select_only()
        .column(albums::Column::Id)
        .filter(albums::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(albums::Column::Id)
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(())
}

/// Sets `media_count` of these albums to the number of their active `contains` links whose
/// media is not deleted. Called, under [`lock`], by every change that can move it.
pub(crate) async fn recount(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push(
        "UPDATE albums SET media_count = (
            SELECT COUNT(*) FROM links l
            JOIN media m ON m.id = l.to_object_id AND m.user_id = albums.user_id
            WHERE l.from_object_id = albums.id AND l.link_type = 'contains'
              AND l.deleted_at IS NULL AND m.deleted_at IS NULL)
         WHERE ",
    )
    .in_ids("id", ids);
    db.execute_raw(q.statement()).await?;
    Ok(())
}

/// Changes name, description and cover.
pub(crate) async fn update(
    db: &impl ConnectionTrait,
    current: albums::Model,
    name: Option<String>,
    description: Option<Option<String>>,
    cover: Option<Option<Uuid>>,
) -> Result<albums::Model, DbErr> {
    let mut am: albums::ActiveModel = current.into();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(c) = cover {
        am.cover_media_id = Set(c);
    }
    am.updated_at = Set(now());
    am.update(db).await
}

pub(crate) async fn set_deleted(
    db: &impl ConnectionTrait,
    id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    albums::Entity::update_many()
        .col_expr(albums::Column::DeletedAt, Expr::value(deleted_at))
        .col_expr(albums::Column::UpdatedAt, Expr::value(now()))
        .filter(albums::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the user's active albums, newest first (`descending`) or oldest first.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    descending: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<albums::Model>, DbErr> {
    let mut query = albums::Entity::find()
        .filter(albums::Column::UserId.eq(user_id))
        .filter(albums::Column::DeletedAt.is_null());
    if let Some((at, id)) = after {
        let (t, i) = if descending {
            (albums::Column::CreatedAt.lt(at), albums::Column::Id.lt(id))
        } else {
            (albums::Column::CreatedAt.gt(at), albums::Column::Id.gt(id))
        };
        query = query.filter(
            Condition::any().add(t).add(
                Condition::all()
                    .add(albums::Column::CreatedAt.eq(at))
                    .add(i),
            ),
        );
    }
    let query = if descending {
        query
            .order_by_desc(albums::Column::CreatedAt)
            .order_by_desc(albums::Column::Id)
    } else {
        query
            .order_by_asc(albums::Column::CreatedAt)
            .order_by_asc(albums::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub(crate) async fn count(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    albums::Entity::find()
        .filter(albums::Column::UserId.eq(user_id))
        .filter(albums::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// The viewer's active albums that contain these media, as (media id, album), for
/// `Media.albums`.
pub(crate) async fn containing(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    media_ids: &[Uuid],
) -> Result<Vec<(Uuid, albums::Model)>, DbErr> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    use sea_orm::FromQueryResult;
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT l.to_object_id AS media_id, {cols} FROM links l
         JOIN albums a ON a.id = l.from_object_id AND a.deleted_at IS NULL AND a.user_id = ",
        cols = sql::columns::<albums::Entity>("a", "a_"),
    ))
    .bind(viewer)
    .push(" WHERE ")
    .in_ids("l.to_object_id", media_ids)
    .push(
        " AND l.link_type = 'contains' AND l.deleted_at IS NULL
         ORDER BY a.created_at, a.id",
    );
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<Uuid>("", "media_id")?,
                albums::Model::from_query_result(row, "a_")?,
            ))
        })
        .collect()
}
