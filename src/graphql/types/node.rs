//! The Relay `Node` interface and the lookup behind `node(id:)` / `nodes(ids:)`, batched
//! through the request's loaders.

use async_graphql::{Context, ID, Interface, Result};
use uuid::Uuid;

use super::album::Album;
use super::integration::Integration;
use super::link::Link;
use super::media::Media;
use super::tag::Tag;
use super::user::User;
use crate::graphql::context::{loaders, services};
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::Out;
use crate::graphql::ids;
use crate::kinds::{Kind, ObjectKind};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "An opaque, stable global id."))]
pub(crate) enum Node {
    User(User),
    Media(Media),
    Album(Album),
    Link(Link),
    Integration(Integration),
    Tag(Tag),
}

/// The viewer's object of `kind` with `id`, if it is active.
pub(crate) async fn object(ctx: &Context<'_>, kind: ObjectKind, id: Uuid) -> Result<Option<Node>> {
    let l = loaders(ctx);
    Ok(match kind {
        ObjectKind::Media => l
            .media
            .load_one(id)
            .await?
            .map(|m| Node::Media(Media::from(m))),
        ObjectKind::Album => l.albums.load_one(id).await?.map(|a| Node::Album(Album(a))),
        ObjectKind::Integration => l
            .integrations
            .load_one(id)
            .await?
            .map(|i| Node::Integration(Integration(i))),
        ObjectKind::Tag => l.tags.load_one(id).await?.map(|t| Node::Tag(Tag(t))),
    })
}

/// The viewer's object named by `id`, or `None`: an id that is malformed, unknown, deleted or
/// someone else's all look the same.
pub(crate) async fn resolve(ctx: &Context<'_>, viewer: Uuid, id: &str) -> Result<Option<Node>> {
    let Some((kind, uuid)) = ids::decode(id) else {
        return Ok(None);
    };
    match kind {
        Kind::User if uuid == viewer => Ok(services(ctx)
            .viewer_user(viewer)
            .await
            .ok()
            .map(|u| Node::User(User::from_row(u)))),
        Kind::User | Kind::Upload => Ok(None),
        Kind::Integration => object(ctx, ObjectKind::Integration, uuid).await,
        Kind::Media => object(ctx, ObjectKind::Media, uuid).await,
        Kind::Album => object(ctx, ObjectKind::Album, uuid).await,
        Kind::Tag => object(ctx, ObjectKind::Tag, uuid).await,
        Kind::Link => Ok(loaders(ctx)
            .links
            .load_one(uuid)
            .await?
            .map(|l| Node::Link(Link(l)))),
    }
}

impl ToOut for Node {
    fn to_out(&self) -> Out {
        match self {
            Node::User(u) => u.to_out(),
            Node::Media(m) => m.to_out(),
            Node::Album(a) => a.to_out(),
            Node::Link(l) => l.to_out(),
            Node::Integration(i) => i.to_out(),
            Node::Tag(t) => t.to_out(),
        }
    }
}
