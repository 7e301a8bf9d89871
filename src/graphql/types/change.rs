//! `Change`, an event of the viewer's change journal, and `User.changes`: delta sync.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::node::{Node, resolve};
use crate::error::AppError;
use crate::graphql::connection::{self, Cursor};
use crate::graphql::context::services;
use crate::graphql::ids;
use crate::kinds::Kind;
use crate::store::changes::Change as Row;

/// What happened to an object.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Created,
    Updated,
    /// Moved to the trash.
    Deleted,
    /// Brought back from the trash.
    Restored,
    /// Deleted for good.
    Purged,
}

impl ChangeKind {
    pub(crate) fn of(row: &Row) -> Self {
        match row.kind.as_str() {
            "created" => ChangeKind::Created,
            "deleted" => ChangeKind::Deleted,
            "restored" => ChangeKind::Restored,
            "purged" => ChangeKind::Purged,
            _ => ChangeKind::Updated,
        }
    }
}

/// The types of object the journal records.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChangeObjectType {
    Media,
    Album,
    Integration,
    Tag,
    Link,
    User,
}

impl ChangeObjectType {
    pub(crate) fn kind(self) -> Kind {
        match self {
            ChangeObjectType::Media => Kind::Media,
            ChangeObjectType::Album => Kind::Album,
            ChangeObjectType::Integration => Kind::Integration,
            ChangeObjectType::Tag => Kind::Tag,
            ChangeObjectType::Link => Kind::Link,
            ChangeObjectType::User => Kind::User,
        }
    }

    pub(crate) fn of(row: &Row) -> Option<Self> {
        [
            ChangeObjectType::Media,
            ChangeObjectType::Album,
            ChangeObjectType::Integration,
            ChangeObjectType::Tag,
            ChangeObjectType::Link,
            ChangeObjectType::User,
        ]
        .into_iter()
        .find(|t| t.kind().type_name() == row.object_type)
    }
}

/// The global id of the object an event is about.
pub(crate) fn object_id(row: &Row) -> ID {
    match Kind::from_type_name(&row.object_type) {
        Some(kind) => ids::encode(kind, row.object_id),
        None => ID(String::new()),
    }
}

/// One event of the viewer's change journal.
pub(crate) struct Change(pub Arc<Row>);

#[Object]
impl Change {
    async fn kind(&self) -> ChangeKind {
        ChangeKind::of(&self.0)
    }

    async fn object_type(&self) -> Option<ChangeObjectType> {
        ChangeObjectType::of(&self.0)
    }

    /// The global id of the object.
    async fn object_id(&self) -> ID {
        object_id(&self.0)
    }

    /// The fields that changed (`UPDATED`), by their names in the schema.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The object as it is now, while the viewer can see it (null once it is in the trash or
    /// purged): one request brings a client up to date.
    async fn object(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        let viewer = crate::graphql::context::viewer(ctx)?;
        resolve(ctx, viewer, object_id(&self.0).as_str()).await
    }
}

pub(crate) type ChangeConnection = Connection<Cursor<i64>, Change>;

/// The arguments of `User.changes`, checked.
pub(crate) struct ChangeArgs {
    pub after: Option<i64>,
    pub limit: u64,
    pub types: Option<Vec<String>>,
}

impl ChangeArgs {
    pub(crate) fn new(
        after: Option<String>,
        first: Option<i32>,
        types: Option<Vec<ChangeObjectType>>,
    ) -> Result<Self, AppError> {
        let page = connection::page::<i64>(first, after, None, None)?;
        Ok(Self {
            after: page.cursor,
            limit: page.limit,
            types: types.map(|types| {
                types
                    .into_iter()
                    .map(|t| t.kind().type_name().to_string())
                    .collect()
            }),
        })
    }
}

/// `User.changes`: the viewer's events after `after`, oldest first.
pub(crate) async fn changes_of(
    ctx: &Context<'_>,
    owner: Uuid,
    args: ChangeArgs,
) -> Result<ChangeConnection> {
    let page = services(ctx)
        .changes(owner, args.after, args.types.as_deref(), args.limit)
        .await?;
    let mut conn = Connection::new(args.after.is_some(), page.has_next);
    conn.edges.extend(
        page.changes
            .into_iter()
            .map(|c| Edge::new(Cursor(c.seq), Change(Arc::new(c)))),
    );
    Ok(conn)
}
