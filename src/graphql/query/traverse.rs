use async_graphql::{Context, ID, Object, Result};

use crate::error::AppError;
use crate::graphql::connection::MAX_PAGE;
use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::ids;
use crate::graphql::types::link::{Direction, Traversal, TraversalEdge};
use crate::graphql::types::node::object;

#[derive(Default)]
pub(crate) struct TraverseQuery;

#[Object]
impl TraverseQuery {
    /// A breadth-first walk over the viewer's links from `from`, following links of the types
    /// in `via` (all types when absent) in `direction`, at most `maxDepth` (1..5) links deep.
    /// Each node appears once, at its shallowest depth, with the path of links that reaches it.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 10")]
    async fn traverse(
        &self,
        ctx: &Context<'_>,
        from: ID,
        via: Option<Vec<String>>,
        #[graphql(default_with = "Direction::Out")] direction: Direction,
        max_depth: i32,
        #[graphql(desc = "Most nodes to return, 1..100 (default 20).")] first: Option<i32>,
    ) -> Result<Planned<Traversal>> {
        let viewer = viewer(ctx)?;
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("`first` must be between 1 and {MAX_PAGE}"),
            )
            .into());
        }
        let start = ids::expect_object(&from, "from")?;
        let walk = services(ctx)
            .traverse(
                viewer,
                start,
                via,
                direction.into(),
                max_depth,
                first as usize,
            )
            .await?;
        let nodes = futures_util::future::try_join_all(
            walk.reached.iter().map(|r| object(ctx, r.kind, r.id)),
        )
        .await?;
        let edges = walk
            .reached
            .into_iter()
            .zip(nodes)
            .filter_map(|(r, node)| {
                node.map(|node| TraversalEdge {
                    depth: r.depth,
                    path: r
                        .path
                        .iter()
                        .map(|l| ids::encode(crate::kinds::Kind::Link, *l))
                        .collect(),
                    node,
                })
            })
            .collect();
        Ok(Planned(Traversal {
            edges,
            total_count: i32::try_from(walk.total).unwrap_or(i32::MAX),
            truncated: walk.truncated,
        }))
    }
}
