use async_graphql::{Context, ID, Object, Result};

use crate::error::AppError;
use crate::graphql::context::viewer;
use crate::graphql::exec::Planned;
use crate::graphql::types::node::{self, Node};

/// Most ids one `nodes` call resolves.
const MAX_NODES: usize = 100;

#[derive(Default)]
pub(crate) struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id, or null when it does not exist, is deleted or is not
    /// the viewer's.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Planned<Option<Node>>> {
        let viewer = viewer(ctx)?;
        Ok(Planned(node::resolve(ctx, viewer, &id).await?))
    }

    /// The objects with these global ids, in order; null where `node` would be null.
    #[graphql(complexity = "ids.len() * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Planned<Vec<Option<Node>>>> {
        let viewer = viewer(ctx)?;
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input(
                "ids",
                format!("`nodes` takes at most {MAX_NODES} ids"),
            )
            .into());
        }
        // Resolved together, so that the loaders fetch each kind in one query.
        let found =
            futures_util::future::try_join_all(ids.iter().map(|id| node::resolve(ctx, viewer, id)))
                .await?;
        Ok(Planned(found))
    }
}
