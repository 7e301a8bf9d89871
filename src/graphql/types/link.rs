//! `Link` and the `links(types, direction, first, after)` connection every object has.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::links;
use uuid::Uuid;

use super::node::{Node, object};
use crate::error::AppError;
use crate::graphql::connection::{self, PageArgs, encode_cursor};
use crate::graphql::context::{loaders, services};
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{self, Obj, Out, TraversalStep};
use crate::graphql::ids;
use crate::kinds::{Kind, ObjectKind};
use crate::store::links::Direction as StoreDirection;
use crate::store::links::LinkPage;

/// A typed, directed relationship between two objects of one user.
pub(crate) struct Link(pub links::Model);

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Links from this object.
    Out,
    /// Links to this object.
    In,
    Both,
}

impl From<Direction> for StoreDirection {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Out => StoreDirection::Out,
            Direction::In => StoreDirection::In,
            Direction::Both => StoreDirection::Both,
        }
    }
}

async fn end(ctx: &Context<'_>, kind: &str, id: Uuid) -> Result<Option<Node>> {
    match ObjectKind::parse(kind) {
        Some(kind) => Ok(object(ctx, kind, id).await?),
        None => Ok(None),
    }
}

#[Object]
impl Link {
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::Link, self.0.id)
    }

    /// `contains`, `source`, `duplicate_of`, `variant_of`, or a type of the client's.
    async fn link_type(&self) -> &str {
        &self.0.link_type
    }

    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        end(ctx, &self.0.from_object_type, self.0.from_object_id).await
    }

    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        end(ctx, &self.0.to_object_type, self.0.to_object_id).await
    }

    /// 0 to 1.
    async fn strength(&self) -> f64 {
        self.0.strength
    }

    async fn sort_order(&self) -> i64 {
        self.0.sort_order
    }

    async fn metadata(&self) -> Json<serde_json::Value> {
        Json(self.0.metadata.clone())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Fields of a link edge beyond `cursor` and `node`.
pub(crate) struct LinkEdgeFields {
    other: (String, Uuid),
}

#[Object]
impl LinkEdgeFields {
    /// The object at the far end of the link.
    async fn other(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        end(ctx, &self.other.0, self.other.1).await
    }
}

pub(crate) struct LinkConnectionFields {
    parent: Option<Uuid>,
    owner: Uuid,
    types: Option<Vec<String>>,
    direction: StoreDirection,
}

#[Object]
impl LinkConnectionFields {
    /// Links on all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        match self.parent {
            Some(parent) => Ok(loaders(ctx)
                .link_counts
                .load_one((parent, self.types.clone(), self.direction))
                .await?
                .unwrap_or(0)),
            None => Ok(services(ctx)
                .user_links_count(self.owner, self.types.as_deref())
                .await? as i64),
        }
    }
}

pub(crate) type LinkConnection = Connection<String, Link, LinkConnectionFields, LinkEdgeFields>;

pub(crate) fn checked_types(types: Option<Vec<String>>) -> Result<Option<Vec<String>>, AppError> {
    types
        .map(|ts| {
            let mut ts = ts
                .iter()
                .map(|t| crate::service::links::link_type(t, "types"))
                .collect::<Result<Vec<_>, _>>()?;
            ts.sort();
            ts.dedup();
            Ok(ts)
        })
        .transpose()
}

/// `links(...)` of the object `parent` (or, for `User.links`, every link of `owner`).
pub(crate) async fn links_of(
    ctx: &Context<'_>,
    parent: Option<Uuid>,
    owner: Uuid,
    types: Option<Vec<String>>,
    direction: Direction,
    (first, after, last, before): PageArgs,
) -> Result<LinkConnection> {
    let types = checked_types(types)?;
    let page = connection::page::<Uuid>(first, after, last, before)?;
    let direction: StoreDirection = direction.into();
    let rows = match parent {
        Some(parent) => loaders(ctx)
            .link_pages
            .load_one((
                parent,
                LinkPage {
                    types: types.clone(),
                    direction,
                    cursor: page.cursor,
                    backward: page.backward,
                    limit: page.limit + 1,
                },
            ))
            .await?
            .unwrap_or_default(),
        None => {
            services(ctx)
                .user_links(
                    owner,
                    types.as_deref(),
                    page.cursor,
                    page.backward,
                    page.limit + 1,
                )
                .await?
        }
    };
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn = Connection::with_additional_fields(
        has_previous,
        has_next,
        LinkConnectionFields {
            parent,
            owner,
            types,
            direction,
        },
    );
    for link in rows {
        let other = other_end(parent, &link);
        conn.edges.push(Edge::with_additional_fields(
            encode_cursor(&link.id),
            Link(link),
            LinkEdgeFields { other },
        ));
    }
    Ok(conn)
}

/// The far end of `link` seen from `parent` (from `User.links`, with no parent: its `to`).
pub(crate) fn other_end(parent: Option<Uuid>, link: &links::Model) -> (String, Uuid) {
    match parent {
        Some(p) if link.from_object_id == p => (link.to_object_type.clone(), link.to_object_id),
        Some(_) => (link.from_object_type.clone(), link.from_object_id),
        None => (link.to_object_type.clone(), link.to_object_id),
    }
}

/// A step of `traverse`.
#[derive(SimpleObject)]
pub(crate) struct TraversalEdge {
    /// Links walked from the start: 1 to `maxDepth`.
    pub depth: i32,
    /// The ids of the links from the start to `node`, in order.
    pub path: Vec<ID>,
    pub node: Node,
}

/// What `traverse` reached: each node once, at its shallowest depth.
#[derive(SimpleObject)]
pub(crate) struct Traversal {
    pub edges: Vec<TraversalEdge>,
    /// Nodes reached in all (`edges` holds the first `first` of them).
    pub total_count: i32,
    /// The walk stopped before `maxDepth`: it met the server's cap on visited nodes
    /// (`HYPERNET_TRAVERSE_MAX_NODES`) or its time budget. What it reached is still exact
    /// at each depth it finished; ask for fewer link types, a smaller depth or a closer start.
    pub truncated: bool,
}

impl ToOut for Link {
    fn to_out(&self) -> Out {
        Out::One(Obj::Link(Arc::new(self.0.clone())))
    }
}

impl ToOut for Traversal {
    fn to_out(&self) -> Out {
        let edges = self
            .edges
            .iter()
            .filter_map(|e| match e.node.to_out() {
                Out::One(node) => Some(TraversalStep {
                    depth: e.depth,
                    path: e.path.clone(),
                    node,
                }),
                _ => None,
            })
            .collect();
        Out::One(Obj::Traversal(Arc::new(obj::Traversal {
            edges,
            total: self.total_count,
            truncated: self.truncated,
        })))
    }
}
