//! Album membership: the `contains` links from an album to its media, their sort keys, and the
//! batched member pages albums are read through. It lives apart from the generic link queries
//! because its order (sparse sort keys, renumbered when two neighbours have no room left) and
//! its pages (a per-album limit inside the SQL) are rules of their own.

use entity::{links, media};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::store::sql::Sql;
use crate::store::{now, rows, sql};

pub(crate) const CONTAINS: &str = "contains";

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
