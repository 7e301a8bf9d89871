//! `Album`, its member connection, and `User.albums`.

use std::sync::Arc;

use async_graphql::connection::{Connection, ConnectionNameType, Edge, EdgeNameType};
use async_graphql::{Context, ID, Object, OutputType, Result};
use chrono::{DateTime, Utc};
use entity::albums;
use uuid::Uuid;

use super::link::{Direction, Link, LinkConnection, links_of};
use super::media::{Media, node_columns};
use crate::error::AppError;
use crate::graphql::connection::{self, Cursor, cost};
use crate::graphql::context::{loaders, services};
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::ids;
use crate::kinds::Kind;
use crate::store::links::{LinkColumns, Member, MemberPage};

/// A collection of media in an order of the user's.
pub(crate) struct Album(pub albums::Model);

/// Fields of an album-member edge beyond `cursor` and `node`.
pub(crate) struct AlbumMediaEdgeFields(Arc<Member>);

#[Object]
impl AlbumMediaEdgeFields {
    /// The position in the album (ascending).
    async fn sort_order(&self) -> i64 {
        self.0.sort_order
    }

    /// When the media was added.
    async fn added_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.link(ctx).await?.0.created_at)
    }

    /// The `contains` link itself.
    async fn link(&self, ctx: &Context<'_>) -> Result<Link> {
        // A page carries the link's key only; the link is read (batched) when asked for.
        loaders(ctx)
            .links
            .load_one(self.0.link_id)
            .await?
            .map(Link)
            .ok_or_else(|| AppError::NotFound("the album member was just removed".into()).into())
    }
}

pub(crate) struct AlbumMediaConnectionFields {
    media_count: i32,
}

#[Object]
impl AlbumMediaConnectionFields {
    /// Media in the album (its `mediaCount`).
    async fn total_count(&self) -> i64 {
        i64::from(self.media_count)
    }
}

pub(crate) struct AlbumMediaConnectionName;

impl ConnectionNameType for AlbumMediaConnectionName {
    fn type_name<T: OutputType>() -> String {
        "AlbumMediaConnection".into()
    }
}

pub(crate) struct AlbumMediaEdgeName;

impl EdgeNameType for AlbumMediaEdgeName {
    fn type_name<T: OutputType>() -> String {
        "AlbumMediaEdge".into()
    }
}

pub(crate) type AlbumMediaConnection = Connection<
    Cursor<(i64, Uuid)>,
    Media,
    AlbumMediaConnectionFields,
    AlbumMediaEdgeFields,
    AlbumMediaConnectionName,
    AlbumMediaEdgeName,
>;

#[Object]
impl Album {
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::Album, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The chosen cover, else the first media of the album.
    async fn cover_media(&self, ctx: &Context<'_>) -> Result<Option<Media>> {
        let l = loaders(ctx);
        if let Some(cover) = self.0.cover_media_id
            && let Some(m) = l.media.load_one(cover).await?
        {
            return Ok(Some(Media::from(m)));
        }
        Ok(l.first_members.load_one(self.0.id).await?.map(Media::from))
    }

    /// Media in the album (those in the trash are not counted).
    async fn media_count(&self) -> i32 {
        self.0.media_count
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }

    /// The album's media in album order.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn media(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<AlbumMediaConnection> {
        let page = connection::page::<(i64, Uuid)>(first, after, last, before)?;
        let rows = loaders(ctx)
            .members
            .load_one((
                self.0.id,
                MemberPage {
                    descending: page.backward,
                    after: page.cursor,
                    limit: page.limit + 1,
                    columns: node_columns(ctx),
                    link: LinkColumns::Key,
                },
            ))
            .await?
            .unwrap_or_default();
        let (rows, has_previous, has_next) = connection::finish(&page, rows);
        let mut conn = Connection::with_additional_fields(
            has_previous,
            has_next,
            AlbumMediaConnectionFields {
                media_count: self.0.media_count,
            },
        );
        for member in rows {
            conn.edges.push(Edge::with_additional_fields(
                Cursor((member.sort_order, member.link_id)),
                Media(member.media.clone()),
                AlbumMediaEdgeFields(member),
            ));
        }
        Ok(conn)
    }

    /// Links from or to this album.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // the arguments are the public contract
    async fn links(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        #[graphql(default_with = "Direction::Out")] direction: Direction,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LinkConnection> {
        links_of(
            ctx,
            Some(self.0.id),
            self.0.user_id,
            types,
            direction,
            (first, after, last, before),
        )
        .await
    }
}

pub(crate) struct AlbumConnectionFields {
    owner: Uuid,
}

#[Object]
impl AlbumConnectionFields {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(services(ctx).albums_count(self.owner).await? as i64)
    }
}

pub(crate) type AlbumConnection =
    Connection<Cursor<(DateTime<Utc>, Uuid)>, Album, AlbumConnectionFields>;

/// `User.albums`, newest first.
pub(crate) async fn albums_of(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<AlbumConnection> {
    let page = connection::page::<(DateTime<Utc>, Uuid)>(first, after, last, before)?;
    let rows = services(ctx)
        .albums_page(owner, !page.backward, page.cursor, page.limit + 1)
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn =
        Connection::with_additional_fields(has_previous, has_next, AlbumConnectionFields { owner });
    for album in rows {
        conn.edges.push(Edge::new(
            Cursor((album.created_at, album.id)),
            Album(album),
        ));
    }
    Ok(conn)
}

impl ToOut for Album {
    fn to_out(&self) -> Out {
        Out::One(Obj::Album(Arc::new(self.0.clone())))
    }
}
