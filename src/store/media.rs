//! Queries on `media`: lookups, the library page (filters, sort orders, keyset cursors),
//! trash, and the reference checks behind purging bytes.

use chrono::{DateTime, Utc};
use entity::media;
use sea_orm::sea_query::{Expr, Func, NullOrdering, Order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    ExprTrait, IdenStatic, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select, Set, Statement,
};
use uuid::Uuid;

use super::json_filter;
use super::rows::{MediaColumns, media_columns_at};
use crate::error::AppResult;

/// `source_type` of thumbnails and other derived files.
pub(crate) const VARIANT_SOURCE: &str = "variant";

/// What the library page may be filtered by.
#[derive(Debug, Default, Clone)]
pub(crate) struct MediaFilter {
    pub media_type: Option<&'static str>,
    pub taken_after: Option<DateTime<Utc>>,
    pub taken_before: Option<DateTime<Utc>>,
    pub mime_type: Option<String>,
    pub filename_contains: Option<String>,
    pub hash: Option<String>,
    pub metadata_contains: Option<serde_json::Value>,
    /// Members of this album.
    pub in_album: Option<Uuid>,
    /// Imported through this integration.
    pub from_integration: Option<Uuid>,
    /// Carrying every one of these tags.
    pub tag_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaSort {
    TakenAt,
    CreatedAt,
    Filename,
    Size,
}

/// Where a row stands in a sort order: its sort value and its id (the tie-breaker).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum SortValue {
    Time(Option<DateTime<Utc>>),
    Text(String),
    Int(i64),
}

pub(crate) fn sort_value(sort: MediaSort, m: &media::Model) -> SortValue {
    match sort {
        MediaSort::TakenAt => SortValue::Time(m.taken_at),
        MediaSort::CreatedAt => SortValue::Time(Some(m.created_at)),
        MediaSort::Filename => SortValue::Text(m.filename.clone()),
        MediaSort::Size => SortValue::Int(m.size),
    }
}

fn sort_column(sort: MediaSort) -> media::Column {
    match sort {
        MediaSort::TakenAt => media::Column::TakenAt,
        MediaSort::CreatedAt => media::Column::CreatedAt,
        MediaSort::Filename => media::Column::Filename,
        MediaSort::Size => media::Column::Size,
    }
}

fn value_expr(value: &SortValue) -> Option<sea_orm::Value> {
    match value {
        SortValue::Time(Some(t)) => Some((*t).into()),
        SortValue::Time(None) => None,
        SortValue::Text(s) => Some(s.clone().into()),
        SortValue::Int(i) => Some((*i).into()),
    }
}

/// Rows strictly after `(value, id)` in the order `column DESC NULLS LAST, id DESC` (when
/// `descending`) or its exact reverse `column ASC NULLS FIRST, id ASC`, as conditions on
/// consecutive stretches of that order: the rows of the first come before those of the second.
///
/// A single condition with `OR column IS NULL` cannot bound an index scan, so a page 5,000
/// rows in walked all 5,000 first. Each stretch here is a range the index seeks to: the
/// redundant `column <= v` is its bound.
fn after_stretches(
    column: media::Column,
    descending: bool,
    value: &SortValue,
    id: Uuid,
) -> Vec<Condition> {
    let id_col = media::Column::Id;
    match (value_expr(value), descending) {
        (Some(v), true) => vec![
            Condition::all()
                .add(column.lte(v.clone()))
                .add(Condition::any().add(column.lt(v)).add(id_col.lt(id))),
            Condition::all().add(column.is_null()),
        ],
        (None, true) => vec![Condition::all().add(column.is_null()).add(id_col.lt(id))],
        (Some(v), false) => vec![
            Condition::all()
                .add(column.gte(v.clone()))
                .add(Condition::any().add(column.gt(v)).add(id_col.gt(id))),
        ],
        (None, false) => vec![
            Condition::all().add(column.is_null()).add(id_col.gt(id)),
            Condition::all().add(column.is_not_null()),
        ],
    }
}

fn library(
    user_id: Uuid,
    filter: &MediaFilter,
    backend: sea_orm::DbBackend,
) -> AppResult<Select<media::Entity>> {
    let mut cond = Condition::all()
        .add(media::Column::UserId.eq(user_id))
        .add(media::Column::DeletedAt.is_null())
        // Written out, not bound: it must match the predicate of the library's partial index
        // (migration 7) for PostgreSQL to use it in a prepared statement's generic plan.
        .add(Expr::cust(format!(
            "(media.source_type IS NULL OR media.source_type <> '{VARIANT_SOURCE}')"
        )));
    if let Some(t) = filter.media_type {
        cond = cond.add(media::Column::MediaType.eq(t));
    }
    if let Some(t) = filter.taken_after {
        cond = cond.add(media::Column::TakenAt.gte(t));
    }
    if let Some(t) = filter.taken_before {
        cond = cond.add(media::Column::TakenAt.lt(t));
    }
    if let Some(m) = &filter.mime_type {
        cond = cond.add(media::Column::MimeType.eq(m.to_lowercase()));
    }
    if let Some(h) = &filter.hash {
        cond = cond.add(media::Column::Hash.eq(h.to_lowercase()));
    }
    if let Some(needle) = &filter.filename_contains {
        let escaped = needle
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        cond = cond.add(
            Expr::expr(Func::lower(Expr::col(media::Column::Filename)))
                .like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    if let Some(album) = filter.in_album {
        use sea_orm::sea_query::Query;
        cond = cond.add(
            media::Column::Id.in_subquery(
                Query::select()
                    .column(entity::links::Column::ToObjectId)
                    .from(entity::links::Entity)
                    .and_where(entity::links::Column::FromObjectId.eq(album))
                    .and_where(entity::links::Column::LinkType.eq("contains"))
                    .and_where(entity::links::Column::DeletedAt.is_null())
                    .to_owned(),
            ),
        );
    }
    if let Some(integration) = filter.from_integration {
        use sea_orm::sea_query::Query;
        cond = cond.add(
            media::Column::Id.in_subquery(
                Query::select()
                    .column(entity::links::Column::FromObjectId)
                    .from(entity::links::Entity)
                    .and_where(entity::links::Column::ToObjectId.eq(integration))
                    .and_where(entity::links::Column::LinkType.eq(super::sources::SOURCE))
                    .and_where(entity::links::Column::DeletedAt.is_null())
                    .to_owned(),
            ),
        );
    }
    for tag in &filter.tag_ids {
        use entity::{links, tags};
        use sea_orm::sea_query::Query;
        // A tag in the trash hides its links, so it carries nothing.
        cond = cond.add(
            media::Column::Id.in_subquery(
                Query::select()
                    .column((links::Entity, links::Column::FromObjectId))
                    .from(links::Entity)
                    .inner_join(
                        tags::Entity,
                        Expr::col((tags::Entity, tags::Column::Id))
                            .equals((links::Entity, links::Column::ToObjectId)),
                    )
                    .and_where(Expr::col((tags::Entity, tags::Column::DeletedAt)).is_null())
                    .and_where(Expr::col((links::Entity, links::Column::ToObjectId)).eq(*tag))
                    .and_where(
                        Expr::col((links::Entity, links::Column::LinkType)).eq(super::tags::TAGGED),
                    )
                    .and_where(Expr::col((links::Entity, links::Column::DeletedAt)).is_null())
                    .to_owned(),
            ),
        );
    }
    if let Some(needle) = &filter.metadata_contains {
        cond = cond.add(json_filter::contains(backend, "metadata", needle)?);
    }
    Ok(media::Entity::find().filter(cond))
}

/// A page request on the library. `descending` is the direction of travel: for `last`/`before`
/// the caller flips it and reverses the rows.
pub(crate) struct LibraryPage {
    pub filter: MediaFilter,
    pub sort: MediaSort,
    pub descending: bool,
    pub after: Option<(SortValue, Uuid)>,
    pub limit: u64,
    /// What the page's selection reads of each media (the sort column is added).
    pub columns: MediaColumns,
}

/// One page of a user's library, each media with the page's `columns` and the sort column
/// (the others are left empty).
pub(crate) async fn library_page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    page: &LibraryPage,
) -> AppResult<Vec<media::Model>> {
    let LibraryPage {
        filter,
        sort,
        descending,
        after,
        limit,
        columns,
    } = page;
    let (descending, limit) = (*descending, *limit);
    let column = sort_column(*sort);
    // The sort column makes the cursors.
    let columns = columns.with(column.as_str());
    let backend = db.get_database_backend();
    let (order, nulls) = if descending {
        (Order::Desc, NullOrdering::Last)
    } else {
        (Order::Asc, NullOrdering::First)
    };
    let stretches = match &after {
        Some((value, id)) => after_stretches(column, descending, value, *id)
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let mut rows = Vec::new();
    // The next stretch is read only when the page is not full yet.
    for stretch in stretches {
        let mut query = library(user_id, filter, backend)?
            .select_only()
            .columns(columns.columns());
        if let Some(cond) = stretch {
            query = query.filter(cond);
        }
        let stmt = query
            .order_by_with_nulls(column, order.clone(), nulls)
            .order_by(media::Column::Id, order.clone())
            .limit(limit - rows.len() as u64)
            .build(backend);
        for row in db.query_all_raw(stmt).await? {
            rows.push(media_columns_at(&row, 0, columns)?);
        }
        if rows.len() as u64 >= limit {
            break;
        }
    }
    Ok(rows)
}

pub(crate) async fn library_count(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    filter: &MediaFilter,
) -> AppResult<u64> {
    Ok(library(user_id, filter, db.get_database_backend())?
        .count(db)
        .await?)
}

/// The user's media with this id (thumbnails included), if it is not deleted.
pub(crate) async fn find_active(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id)
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// Like [`find_active`], locking the row for the rest of the transaction (PostgreSQL; a
/// SQLite write transaction already excludes other writers).
pub(crate) async fn find_active_locked(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id)
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(db)
        .await
}

/// The user's media with these ids, deleted or not.
pub(crate) async fn find_any_of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The user's media with these ids (thumbnails included) that are not deleted.
pub(crate) async fn find_active_of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .filter(media::Column::DeletedAt.is_null())
        .all(db)
        .await
}

/// The user's active original (not a thumbnail) with these bytes.
pub(crate) async fn find_active_by_hash(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    hash: &str,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Hash.eq(hash))
        .filter(media::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(media::Column::SourceType.is_null())
                .add(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .one(db)
        .await
}

/// The fields of a new media row.
pub(crate) struct NewMedia {
    pub id: Uuid,
    pub user_id: Uuid,
    pub filename: String,
    pub media_type: &'static str,
    pub mime_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub file_path: String,
    pub hash: String,
    pub taken_at: Option<DateTime<Utc>>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub metadata: serde_json::Value,
}

pub(crate) async fn insert(db: &impl ConnectionTrait, m: NewMedia) -> Result<media::Model, DbErr> {
    active(m).insert(db).await
}

/// Inserts rows in one statement.
pub(crate) async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<NewMedia>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    media::Entity::insert_many(rows.into_iter().map(active))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn active(m: NewMedia) -> media::ActiveModel {
    let now = super::now();
    media::ActiveModel {
        id: Set(m.id),
        user_id: Set(m.user_id),
        filename: Set(m.filename),
        media_type: Set(m.media_type.to_string()),
        mime_type: Set(m.mime_type),
        size: Set(m.size),
        width: Set(m.width),
        height: Set(m.height),
        duration_ms: Set(m.duration_ms),
        file_path: Set(m.file_path),
        hash: Set(m.hash),
        taken_at: Set(m.taken_at),
        source_type: Set(m.source_type),
        source_id: Set(m.source_id),
        metadata: Set(m.metadata),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
}

/// Inserts a row unless one with its id exists; returns whether it was inserted.
pub(crate) async fn insert_ignoring_conflict(
    db: &impl ConnectionTrait,
    m: NewMedia,
) -> Result<bool, DbErr> {
    let id = m.id;
    if media::Entity::find_by_id(id).one(db).await?.is_some() {
        return Ok(false);
    }
    insert(db, m).await?;
    Ok(true)
}

/// Any media row by id, whoever owns it (for background jobs).
pub(crate) async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id).one(db).await
}

/// Changes the editable fields of one media row.
pub(crate) async fn update_fields(
    db: &impl ConnectionTrait,
    current: media::Model,
    filename: Option<String>,
    taken_at: Option<Option<DateTime<Utc>>>,
    metadata: Option<serde_json::Value>,
) -> Result<media::Model, DbErr> {
    let mut am: media::ActiveModel = current.into();
    if let Some(f) = filename {
        am.filename = Set(f);
    }
    if let Some(t) = taken_at {
        am.taken_at = Set(t);
    }
    if let Some(m) = metadata {
        am.metadata = Set(m);
    }
    am.updated_at = Set(super::now());
    am.update(db).await
}

/// Sets `deleted_at` on these rows of the user that are not deleted yet.
pub(crate) async fn soft_delete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = media::Entity::update_many()
        .col_expr(media::Column::DeletedAt, Expr::value(at))
        .col_expr(media::Column::UpdatedAt, Expr::value(at))
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .filter(media::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Clears `deleted_at` on these rows of the user, only where it equals `deleted_at` (so that
/// restoring brings back exactly what was deleted together).
pub(crate) async fn restore(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    deleted_at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = media::Entity::update_many()
        .col_expr(
            media::Column::DeletedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(media::Column::UpdatedAt, Expr::value(super::now()))
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .filter(media::Column::DeletedAt.eq(deleted_at))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// A page of the user's deleted originals, most recently deleted first.
pub(crate) async fn trash_page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    cursor: Option<(DateTime<Utc>, Uuid)>,
    backward: bool,
    limit: u64,
) -> Result<Vec<media::Model>, DbErr> {
    let mut query = media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_not_null())
        .filter(
            Condition::any()
                .add(media::Column::SourceType.is_null())
                .add(media::Column::SourceType.ne(VARIANT_SOURCE)),
        );
    if let Some((at, id)) = cursor {
        let (t, i) = if backward {
            (media::Column::DeletedAt.gt(at), media::Column::Id.gt(id))
        } else {
            (media::Column::DeletedAt.lt(at), media::Column::Id.lt(id))
        };
        query = query.filter(
            Condition::any()
                .add(t)
                .add(Condition::all().add(media::Column::DeletedAt.eq(at)).add(i)),
        );
    }
    let query = if backward {
        query
            .order_by_asc(media::Column::DeletedAt)
            .order_by_asc(media::Column::Id)
    } else {
        query
            .order_by_desc(media::Column::DeletedAt)
            .order_by_desc(media::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub(crate) async fn trash_count(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_not_null())
        .filter(
            Condition::any()
                .add(media::Column::SourceType.is_null())
                .add(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .count(db)
        .await
}

/// Deleted originals whose retention ended before `cutoff`, any user, oldest first.
pub(crate) async fn expired_trash(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::DeletedAt.lt(cutoff))
        .filter(
            Condition::any()
                .add(media::Column::SourceType.is_null())
                .add(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .order_by_asc(media::Column::DeletedAt)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes rows for good.
pub(crate) async fn delete_rows(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64, DbErr> {
    let res = media::Entity::delete_many()
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Whether any row, of any user, still uses the bytes with this hash. On PostgreSQL the
/// question goes through `hypernet_hash_in_use`, which answers it across users without
/// showing the caller any other user's row (row-level security, see `db::scope`).
pub(crate) async fn hash_in_use(db: &impl ConnectionTrait, hash: &str) -> Result<bool, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT hypernet_hash_in_use($1)",
            [hash.into()],
        );
        let row = db.query_one_raw(stmt).await?;
        return Ok(row
            .map(|r| r.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false));
    }
    Ok(media::Entity::find()
        .filter(media::Column::Hash.eq(hash))
        .limit(1)
        .count(db)
        .await?
        > 0)
}

/// Originals that can have thumbnails but have none yet (any user), for the background job.
pub(crate) async fn missing_variants(
    db: &impl ConnectionTrait,
    mime_types: &[&str],
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let rows = media::Entity::find()
        .select_only()
        .column(media::Column::Id)
        .filter(media::Column::DeletedAt.is_null())
        .filter(media::Column::MediaType.eq("photo"))
        .filter(media::Column::MimeType.is_in(mime_types.iter().copied()))
        .filter(
            media::Column::SourceType
                .is_null()
                .or(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM links l WHERE l.to_object_id = media.id \
             AND l.link_type = 'variant_of')",
        ))
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(rows)
}
