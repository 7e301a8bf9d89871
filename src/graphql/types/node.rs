//! The Relay `Node` interface and the lookup behind `node(id:)` / `nodes(ids:)`.

use async_graphql::{Context, ID, Interface};
use uuid::Uuid;

use super::media::Media;
use super::user::User;
use crate::error::AppResult;
use crate::graphql::context::services;
use crate::graphql::ids::{self, NodeKind};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "An opaque, stable global id."))]
pub(crate) enum Node {
    User(User),
    Media(Media),
}

/// The viewer's object named by `id`, or `None`: an id that is malformed, unknown, deleted or
/// someone else's all look the same.
pub(crate) async fn resolve(ctx: &Context<'_>, viewer: Uuid, id: &str) -> AppResult<Option<Node>> {
    let Some((kind, uuid)) = ids::decode(id) else {
        return Ok(None);
    };
    match kind {
        NodeKind::User if uuid == viewer => Ok(crate::store::users::find_active_by_id(
            &services(ctx).db,
            uuid,
        )
        .await?
        .map(|u| Node::User(User(u)))),
        NodeKind::User | NodeKind::Upload => Ok(None),
        NodeKind::Media => Ok(services(ctx)
            .media(viewer, uuid)
            .await?
            .map(|m| Node::Media(Media(m)))),
    }
}
