//! The library page: a user's originals filtered (type, dates, names, hash, metadata, album,
//! integration, tags), in one of four sort orders, read by keyset cursors that each index
//! seeks to.

use chrono::{DateTime, Utc};
use entity::media;
use sea_orm::sea_query::{Expr, Func, NullOrdering, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, IdenStatic, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use super::json_filter;
use super::media::VARIANT_SOURCE;
use super::rows::{MediaColumns, media_columns_at};
use crate::error::AppResult;

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
