//! `Tag`, its media, and `User.tags`.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::tags;
use uuid::Uuid;

use super::library::{LibraryArgs, MediaConnection, MediaFilterInput, library_page};
use super::link::{Direction, LinkConnection, links_of};
use crate::graphql::connection::{self, Cursor, cost};
use crate::graphql::context::services;
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::ids;
use crate::kinds::Kind;

/// A label of the viewer's for media; its name is unique among the viewer's tags, ignoring
/// case. A media carries a tag through a `tagged` link (media → tag).
pub(crate) struct Tag(pub tags::Model);

#[Object]
impl Tag {
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::Tag, self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
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

    /// The media carrying this tag, newest taken first.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn media(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1..100 (default 20).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<MediaConnection> {
        let filter = MediaFilterInput::tagged(ids::encode(Kind::Tag, self.0.id));
        let args = LibraryArgs::new(Some(filter), None, (first, after, None, None))?.in_hand();
        library_page(ctx, self.0.user_id, args).await
    }

    /// Links from or to this tag.
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

pub(crate) struct TagConnectionFields {
    owner: Uuid,
}

#[Object]
impl TagConnectionFields {
    /// The viewer's tags (those in the trash are not counted).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(services(ctx).tags_count(self.owner).await? as i64)
    }
}

pub(crate) type TagConnection = Connection<Cursor<(String, Uuid)>, Tag, TagConnectionFields>;

/// `User.tags`, by name (ignoring case).
pub(crate) async fn tags_of(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<TagConnection> {
    let page = connection::page::<(String, Uuid)>(first, after, last, before)?;
    let rows = services(ctx)
        .tags_page(owner, page.cursor.clone(), page.backward, page.limit + 1)
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn =
        Connection::with_additional_fields(has_previous, has_next, TagConnectionFields { owner });
    conn.edges.extend(
        rows.into_iter()
            .map(|t| Edge::new(Cursor((t.name_key.clone(), t.id)), Tag(t))),
    );
    Ok(conn)
}

impl ToOut for Tag {
    fn to_out(&self) -> Out {
        Out::One(Obj::Tag(Arc::new(self.0.clone())))
    }
}
