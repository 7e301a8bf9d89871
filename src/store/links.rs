//! Queries on `links`: the graph's edges, album membership, thumbnails, batched pages.

use crate::kinds::ObjectKind;
use entity::{links, media};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::sql::Sql;
use super::{now, rows, sql};

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

pub(crate) const CONTAINS: &str = "contains";

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

/// The album's active `contains` links to these media (whatever the media's state).
pub(crate) async fn members(
    db: &impl ConnectionTrait,
    album: Uuid,
    media: &[Uuid],
) -> Result<Vec<links::Model>, DbErr> {
    links::Entity::find()
        .filter(links::Column::FromObjectId.eq(album))
        .filter(links::Column::ToObjectId.is_in(media.iter().copied()))
        .filter(links::Column::LinkType.eq(CONTAINS))
        .filter(links::Column::DeletedAt.is_null())
        .all(db)
        .await
}

/// The smallest sort key among the album's members strictly after `after` (or the first,
/// when `after` is `None`), leaving out the link `exclude` (the one being moved).
pub(crate) async fn next_sort_key(
    db: &impl ConnectionTrait,
    album: Uuid,
    after: Option<i64>,
    exclude: Option<Uuid>,
) -> Result<Option<i64>, DbErr> {
    let mut query = links::Entity::find()
        .select_only()
        .column(links::Column::SortOrder)
        .filter(links::Column::FromObjectId.eq(album))
        .filter(links::Column::LinkType.eq(CONTAINS))
        .filter(links::Column::DeletedAt.is_null());
    if let Some(a) = after {
        query = query.filter(links::Column::SortOrder.gt(a));
    }
    if let Some(x) = exclude {
        query = query.filter(links::Column::Id.ne(x));
    }
    query
        .order_by_asc(links::Column::SortOrder)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await
}

pub(crate) async fn max_sort_key(
    db: &impl ConnectionTrait,
    album: Uuid,
) -> Result<Option<i64>, DbErr> {
    links::Entity::find()
        .select_only()
        .column(links::Column::SortOrder)
        .filter(links::Column::FromObjectId.eq(album))
        .filter(links::Column::LinkType.eq(CONTAINS))
        .filter(links::Column::DeletedAt.is_null())
        .order_by_desc(links::Column::SortOrder)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// Rewrites the album's sort keys as 1, 2, 3 … times `gap`, in their current order. Rare: only
/// when two neighbours have no room left between them.
pub(crate) async fn renumber(
    db: &impl ConnectionTrait,
    album: Uuid,
    gap: i64,
) -> Result<(), DbErr> {
    let rows: Vec<(Uuid, i64)> = links::Entity::find()
        .select_only()
        .column(links::Column::Id)
        .column(links::Column::SortOrder)
        .filter(links::Column::FromObjectId.eq(album))
        .filter(links::Column::LinkType.eq(CONTAINS))
        .filter(links::Column::DeletedAt.is_null())
        .order_by_asc(links::Column::SortOrder)
        .order_by_asc(links::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    for (i, (id, _)) in rows.iter().enumerate() {
        set_sort(db, *id, (i as i64 + 1) * gap).await?;
    }
    Ok(())
}

pub(crate) async fn set_sort(db: &impl ConnectionTrait, id: Uuid, sort: i64) -> Result<(), DbErr> {
    links::Entity::update_many()
        .col_expr(links::Column::SortOrder, Expr::value(sort))
        .col_expr(links::Column::UpdatedAt, Expr::value(now()))
        .filter(links::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// One album member as a page returns it: the key of its `contains` link (all a page needs
/// unless it asks for more of the link, and all the member index holds, so the links table
/// itself is not read) and the media, with the columns the page was asked for.
pub(crate) struct Member {
    pub album: Uuid,
    pub link_id: Uuid,
    pub sort_order: i64,
    pub media: std::sync::Arc<media::Model>,
    /// The `contains` link, when the page was asked for [`LinkColumns::All`].
    pub link: Option<std::sync::Arc<links::Model>>,
    /// When the media was added, when asked for ([`LinkColumns::CreatedAt`] or more).
    pub added_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a member page reads of the `contains` links beyond their key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum LinkColumns {
    Key,
    CreatedAt,
    All,
}

/// How a page of album members is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MemberPage {
    pub descending: bool,
    pub after: Option<(i64, Uuid)>,
    pub limit: u64,
    /// What the page's selection reads of each media.
    pub columns: rows::MediaColumns,
    /// And of each `contains` link.
    pub link: LinkColumns,
}

/// A page of members for each of `viewer`'s active albums (per-album limit inside the SQL), in
/// sort order or its reverse, starting after `(sort, link id)`. A deleted album's members are
/// hidden with its links; members are the viewer's media only.
pub(crate) async fn member_pages(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    albums: &[Uuid],
    page: &MemberPage,
) -> Result<Vec<Member>, DbErr> {
    let MemberPage {
        descending,
        after,
        limit,
        columns,
        link,
    } = *page;
    if albums.is_empty() {
        return Ok(Vec::new());
    }
    let (dir, cmp) = if descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let mut lcols =
        "l.from_object_id AS l_from_object_id, l.id AS l_id, l.sort_order AS l_sort_order"
            .to_string();
    match link {
        LinkColumns::Key => {}
        LinkColumns::CreatedAt => lcols.push_str(", l.created_at AS l_created_at"),
        LinkColumns::All => {
            lcols.push_str(", ");
            lcols.push_str(&sql::columns::<links::Entity>("l", "lk_"));
        }
    }
    let mcols = columns.select_list("m", "m_");
    let cursor = |q: &mut Sql| {
        if let Some((sort, id)) = after {
            q.push(&format!(" AND (l.sort_order {cmp} "))
                .bind(sort)
                .push(" OR (l.sort_order = ")
                .bind(sort)
                .push(&format!(" AND l.id {cmp} "))
                .bind(id)
                .push("))");
        }
    };
    let mut q = Sql::new(db.get_database_backend());
    if q.is_postgres() {
        // One index range per album, stopped at the limit: the album's first members only
        // are read, never all of them.
        q.push("SELECT t.* FROM ")
            .ids_relation(albums, "p", "album_id")
            .push(" JOIN albums a ON a.id = p.album_id AND a.deleted_at IS NULL AND a.user_id = ")
            .bind(viewer)
            .push(&format!(
                " CROSS JOIN LATERAL (
                   SELECT {lcols}, {mcols}
                   FROM links l
                   JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL AND m.user_id = "
            ))
            .bind(viewer)
            .push(
                " WHERE l.from_object_id = p.album_id AND l.link_type = 'contains'
                   AND l.deleted_at IS NULL",
            );
        cursor(&mut q);
        q.push(&format!(" ORDER BY l.sort_order {dir}, l.id {dir} LIMIT "))
            .bind(limit as i64)
            .push(&format!(
                ") t ORDER BY t.l_from_object_id, t.l_sort_order {dir}, t.l_id {dir}"
            ));
    } else {
        // SQLite has no LATERAL: number each album's members and keep the first `limit`.
        q.push(&format!(
            "SELECT * FROM (
               SELECT {lcols}, {mcols},
                      ROW_NUMBER() OVER (PARTITION BY l.from_object_id
                                         ORDER BY l.sort_order {dir}, l.id {dir}) AS rn
               FROM links l
               JOIN media m ON m.id = l.to_object_id AND m.deleted_at IS NULL AND m.user_id = "
        ))
        .bind(viewer)
        .push(" JOIN albums a ON a.id = l.from_object_id AND a.deleted_at IS NULL AND a.user_id = ")
        .bind(viewer)
        .push(" WHERE ")
        .in_ids("l.from_object_id", albums)
        .push(" AND l.link_type = 'contains' AND l.deleted_at IS NULL");
        cursor(&mut q);
        q.push(") t WHERE t.rn <= ")
            .bind(limit as i64)
            .push(" ORDER BY t.l_from_object_id, t.rn");
    }
    let stmt = q.statement();
    let found = db.query_all_raw(stmt).await?;
    found
        .iter()
        .map(|row| {
            let (added_at, link, media_at) = match link {
                LinkColumns::Key => (None, None, 3),
                LinkColumns::CreatedAt => (Some(rows::get(row, 3)?), None, 4),
                LinkColumns::All => {
                    let link = rows::link_at(row, 3)?;
                    (
                        Some(link.created_at),
                        Some(std::sync::Arc::new(link)),
                        3 + link_columns(),
                    )
                }
            };
            Ok(Member {
                album: rows::get(row, 0)?,
                link_id: rows::get(row, 1)?,
                sort_order: rows::get(row, 2)?,
                media: std::sync::Arc::new(rows::media_columns_at(row, media_at, columns)?),
                link,
                added_at,
            })
        })
        .collect()
}

/// How many columns `links` has.
fn link_columns() -> usize {
    use sea_orm::Iterable;
    links::Column::iter().count()
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

/// The first member (in album order) of each album, for a default cover.
pub(crate) async fn first_members(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    albums: &[Uuid],
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    Ok(member_pages(
        db,
        viewer,
        albums,
        &MemberPage {
            descending: false,
            after: None,
            limit: 1,
            columns: rows::MediaColumns::ALL,
            link: LinkColumns::Key,
        },
    )
    .await?
    .into_iter()
    .map(|m| (m.album, std::sync::Arc::unwrap_or_clone(m.media)))
    .collect())
}

/// Ids of the albums with an active `contains` link of `user`'s to any of these media.
pub(crate) async fn albums_containing_ids(
    db: &impl ConnectionTrait,
    user: Uuid,
    media: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    let mut ids: Vec<Uuid> = links::Entity::find()
        .select_only()
        .column(links::Column::FromObjectId)
        .filter(links::Column::UserId.eq(user))
        .filter(links::Column::ToObjectId.is_in(media.iter().copied()))
        .filter(links::Column::LinkType.eq(CONTAINS))
        .filter(links::Column::DeletedAt.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}
