//! Queries on `links`, the graph's edges: writing, finding, updating and soft-deleting them,
//! and the batched pages and counts of the links a viewer may see. A link is visible only when
//! it and both its ends are active; that rule lives here (`both_ends_active`, `visible_links`)
//! so that every read of links goes through it. Album membership (`members`) and the links
//! between media (`variants`) have rules of their own and live in their own files; their items
//! are re-exported here, so callers name every link query as `store::links::X`.

mod members;
mod variants;

pub(crate) use members::{
    CONTAINS, LinkColumns, Member, MemberPage, albums_containing_ids, first_members, max_sort_key,
    member_pages, members, next_sort_key, renumber, set_sort,
};
pub(crate) use variants::{all_variant_ids, duplicates_of, insert_variant_link, variants_of};

use crate::kinds::ObjectKind;
use entity::links;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::sql::Sql;
use super::{now, rows, sql};

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

/// Which links of an object to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Direction {
    Out,
    In,
    Both,
}

pub(crate) struct NewLink {
    pub user_id: Uuid,
    pub from: (ObjectKind, Uuid),
    pub to: (ObjectKind, Uuid),
    pub link_type: String,
    pub strength: f64,
    pub sort_order: i64,
    pub metadata: serde_json::Value,
}

pub(crate) async fn insert(db: &impl ConnectionTrait, l: NewLink) -> Result<links::Model, DbErr> {
    use sea_orm::ActiveModelTrait;
    active_link(l).insert(db).await
}

/// Inserts links in one statement.
pub(crate) async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<NewLink>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    links::Entity::insert_many(rows.into_iter().map(active_link))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn active_link(l: NewLink) -> links::ActiveModel {
    let now = now();
    links::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(l.user_id),
        from_object_id: Set(l.from.1),
        from_object_type: Set(l.from.0.as_str().into()),
        to_object_id: Set(l.to.1),
        to_object_type: Set(l.to.0.as_str().into()),
        link_type: Set(l.link_type),
        strength: Set(l.strength),
        sort_order: Set(l.sort_order),
        metadata: Set(l.metadata),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
}

fn both_ends_active() -> Condition {
    Condition::all()
        .add(Expr::cust(sql::end_active("links", "from")))
        .add(Expr::cust(sql::end_active("links", "to")))
}

/// The user's active links with these ids whose ends are both active.
pub(crate) async fn find_active(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<links::Model>, DbErr> {
    links::Entity::find()
        .filter(links::Column::UserId.eq(user_id))
        .filter(links::Column::Id.is_in(ids.iter().copied()))
        .filter(links::Column::DeletedAt.is_null())
        .filter(both_ends_active())
        .all(db)
        .await
}

/// Changes a link's strength, order and metadata.
pub(crate) async fn update(
    db: &impl ConnectionTrait,
    current: links::Model,
    strength: Option<f64>,
    sort_order: Option<i64>,
    metadata: Option<serde_json::Value>,
) -> Result<links::Model, DbErr> {
    use sea_orm::ActiveModelTrait;
    let mut am: links::ActiveModel = current.into();
    if let Some(s) = strength {
        am.strength = Set(s);
    }
    if let Some(o) = sort_order {
        am.sort_order = Set(o);
    }
    if let Some(m) = metadata {
        am.metadata = Set(m);
    }
    am.updated_at = Set(now());
    am.update(db).await
}

/// Soft-deletes links by id; returns how many were active.
pub(crate) async fn soft_delete(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64, DbErr> {
    let at = now();
    let res = links::Entity::update_many()
        .col_expr(links::Column::DeletedAt, Expr::value(at))
        .col_expr(links::Column::UpdatedAt, Expr::value(at))
        .filter(links::Column::Id.is_in(ids.iter().copied()))
        .filter(links::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

fn direction_parts(direction: Direction) -> Vec<(&'static str, &'static str)> {
    // (the parent's end, the other end)
    match direction {
        Direction::Out => vec![("from", "to")],
        Direction::In => vec![("to", "from")],
        Direction::Both => vec![("from", "to"), ("to", "from")],
    }
}

/// The links of `viewer` visible from `parents` as `SELECT parent_id, <columns>` parts
/// joined by `UNION ALL` (a link between two parents belongs to both), with their bound
/// values. `cursor` is `(link id, backward)`.
fn visible_links(
    q: &mut Sql,
    viewer: Uuid,
    parents: &[Uuid],
    types: Option<&[String]>,
    direction: Direction,
    columns: &str,
    cursor: Option<(Uuid, bool)>,
) {
    for (n, (mine, other)) in direction_parts(direction).into_iter().enumerate() {
        if n > 0 {
            q.push(" UNION ALL ");
        }
        q.push(&format!(
            "SELECT l.{mine}_object_id AS parent_id, {columns} FROM links l
             WHERE l.deleted_at IS NULL AND {active} AND l.user_id = ",
            active = sql::end_active("l", other),
        ))
        .bind(viewer)
        .push(" AND ")
        .in_ids(&format!("l.{mine}_object_id"), parents);
        if let Some(types) = types {
            q.push(" AND ").in_strings("l.link_type", types);
        }
        if let Some((id, backward)) = cursor {
            q.push(if backward {
                " AND l.id < "
            } else {
                " AND l.id > "
            })
            .bind(id);
        }
    }
}

/// How a page of an object's links is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LinkPage {
    pub types: Option<Vec<String>>,
    pub direction: Direction,
    pub cursor: Option<Uuid>,
    pub backward: bool,
    pub limit: u64,
}

/// A page of `viewer`'s links for each parent object (per-parent limit inside the SQL), oldest
/// first (newest first when `backward`), starting after the link id `cursor`; links to
/// deleted objects are left out.
pub(crate) async fn link_pages(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    parents: &[Uuid],
    page: &LinkPage,
) -> Result<Vec<(Uuid, links::Model)>, DbErr> {
    let LinkPage {
        ref types,
        direction,
        cursor,
        backward,
        limit,
    } = *page;
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let columns = sql::columns::<links::Entity>("l", "l_");
    let dir = if backward { "DESC" } else { "ASC" };
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT * FROM (
           SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.parent_id ORDER BY u.l_id {dir}) AS rn
           FROM ("
    ));
    visible_links(
        &mut q,
        viewer,
        parents,
        types.as_deref(),
        direction,
        &columns,
        cursor.map(|c| (c, backward)),
    );
    q.push(") u) t WHERE t.rn <= ")
        .bind(limit as i64)
        .push(" ORDER BY t.parent_id, t.rn");
    let stmt = q.statement();
    let found = db.query_all_raw(stmt).await?;
    found
        .iter()
        .map(|row| Ok((rows::get::<Uuid>(row, 0)?, rows::link_at(row, 1)?)))
        .collect()
}

/// How many of `viewer`'s visible links each parent has.
pub(crate) async fn link_counts(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    parents: &[Uuid],
    types: Option<&[String]>,
    direction: Direction,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT u.parent_id AS parent_id, COUNT(*) AS n FROM (");
    visible_links(&mut q, viewer, parents, types, direction, "l.id", None);
    q.push(") u GROUP BY u.parent_id");
    let stmt = q.statement();
    let rows = db.query_all_raw(stmt).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<Uuid>("", "parent_id")?,
                row.try_get::<i64>("", "n")?,
            ))
        })
        .collect()
}

/// A page of all of a user's visible links, oldest first (newest first when `backward`).
pub(crate) async fn user_page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    types: Option<&[String]>,
    cursor: Option<Uuid>,
    backward: bool,
    limit: u64,
) -> Result<Vec<links::Model>, DbErr> {
    let mut query = links::Entity::find()
        .filter(links::Column::UserId.eq(user_id))
        .filter(links::Column::DeletedAt.is_null())
        .filter(both_ends_active());
    if let Some(types) = types {
        query = query.filter(links::Column::LinkType.is_in(types.iter().cloned()));
    }
    if let Some(c) = cursor {
        query = query.filter(if backward {
            links::Column::Id.lt(c)
        } else {
            links::Column::Id.gt(c)
        });
    }
    let query = if backward {
        query.order_by_desc(links::Column::Id)
    } else {
        query.order_by_asc(links::Column::Id)
    };
    query.limit(limit).all(db).await
}

pub(crate) async fn user_count(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    types: Option<&[String]>,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    let mut query = links::Entity::find()
        .filter(links::Column::UserId.eq(user_id))
        .filter(links::Column::DeletedAt.is_null())
        .filter(both_ends_active());
    if let Some(types) = types {
        query = query.filter(links::Column::LinkType.is_in(types.iter().cloned()));
    }
    query.count(db).await
}
