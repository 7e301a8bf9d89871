//! `User.trash`: deleted items with the moment they will be purged.

use async_graphql::connection::{Connection, ConnectionNameType, Edge, EdgeNameType};
use async_graphql::{Context, Object, OutputType, Result, SimpleObject, Union};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::album::Album;
use super::media::Media;
use super::tag::Tag;
use crate::graphql::connection::{self, encode_cursor};
use crate::graphql::context::services;
use crate::service::trash::TrashRow;

/// Something in the trash.
#[derive(Union)]
pub(crate) enum TrashItem {
    Media(Media),
    Album(Album),
    Tag(Tag),
}

/// Fields of a trash edge beyond `cursor` and `node`.
#[derive(SimpleObject)]
pub(crate) struct TrashEdgeFields {
    deleted_at: DateTime<Utc>,
    /// When retention ends and the item is deleted for good.
    purge_at: DateTime<Utc>,
}

pub(crate) struct TrashConnectionFields {
    owner: Uuid,
}

#[Object]
impl TrashConnectionFields {
    /// Items in the whole trash.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(services(ctx).trash_count(self.owner).await? as i64)
    }
}

pub(crate) struct TrashConnectionName;

impl ConnectionNameType for TrashConnectionName {
    fn type_name<T: OutputType>() -> String {
        "TrashConnection".into()
    }
}

pub(crate) struct TrashEdgeName;

impl EdgeNameType for TrashEdgeName {
    fn type_name<T: OutputType>() -> String {
        "TrashEdge".into()
    }
}

pub(crate) type TrashConnection = Connection<
    String,
    TrashItem,
    TrashConnectionFields,
    TrashEdgeFields,
    TrashConnectionName,
    TrashEdgeName,
>;

/// `User.trash`, most recently deleted first.
pub(crate) async fn trash(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<TrashConnection> {
    let page = connection::page::<(DateTime<Utc>, Uuid)>(first, after, last, before)?;
    let svc = services(ctx);
    let rows = svc
        .trash(owner, page.cursor, page.backward, page.limit + 1)
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn: TrashConnection =
        Connection::with_additional_fields(has_previous, has_next, TrashConnectionFields { owner });
    for row in rows {
        let (deleted_at, id) = row.key();
        let cursor = encode_cursor(&(deleted_at, id));
        let item = match row {
            TrashRow::Media(m) => TrashItem::Media(Media::from(m)),
            TrashRow::Album(a) => TrashItem::Album(Album(a)),
            TrashRow::Tag(t) => TrashItem::Tag(Tag(t)),
        };
        conn.edges.push(Edge::with_additional_fields(
            cursor,
            item,
            TrashEdgeFields {
                deleted_at,
                purge_at: svc.purge_at(deleted_at),
            },
        ));
    }
    Ok(conn)
}
