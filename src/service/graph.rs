//! `traverse`: a bounded breadth-first walk over the viewer's links, each node once at its
//! shallowest depth with the path of links that reaches it.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::Services;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::graph::Step;
use crate::store::links::{Direction, ObjectKind};

pub(crate) const MAX_DEPTH: i32 = 5;

/// A node the walk reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reached {
    pub kind: ObjectKind,
    pub id: Uuid,
    pub depth: i32,
    /// The links from the start to this node, in order.
    pub path: Vec<Uuid>,
}

/// Each node once, at its shallowest depth, with one shortest path (the smallest link ids
/// first, so that the answer is deterministic); sorted by depth, then id.
pub(crate) fn shortest(start: Uuid, steps: &[Step]) -> Vec<Reached> {
    let mut best: HashMap<Uuid, &Step> = HashMap::new();
    for step in steps.iter().filter(|s| s.node != start) {
        best.entry(step.node)
            .and_modify(|b| {
                if (step.depth, step.via) < (b.depth, b.via) {
                    *b = step;
                }
            })
            .or_insert(step);
    }
    // The chosen step of a node at depth d comes from a node whose own shallowest depth is
    // d - 1 (or the start), so following `prev` always ends at the start.
    let depth_of = |id: &Uuid| best.get(id).map(|s| s.depth);
    let mut chosen: HashMap<Uuid, &Step> = HashMap::new();
    for (id, step) in &best {
        let pick = steps
            .iter()
            .filter(|s| s.node == *id && s.depth == step.depth)
            .filter(|s| s.prev == start && s.depth == 1 || depth_of(&s.prev) == Some(s.depth - 1))
            .min_by_key(|s| s.via)
            .unwrap_or(step);
        chosen.insert(*id, pick);
    }
    let mut out: BTreeMap<(i32, Uuid), Reached> = BTreeMap::new();
    for (id, step) in &chosen {
        let Some(kind) = ObjectKind::parse(&step.kind) else {
            continue;
        };
        let mut path = vec![step.via];
        let mut at = step.prev;
        let mut guard = 0;
        while at != start && guard < 16 {
            match chosen.get(&at) {
                Some(s) => {
                    path.push(s.via);
                    at = s.prev;
                }
                None => break,
            }
            guard += 1;
        }
        path.reverse();
        out.insert(
            (step.depth, *id),
            Reached {
                kind,
                id: *id,
                depth: step.depth,
                path,
            },
        );
    }
    out.into_values().collect()
}

impl Services {
    /// `traverse`. Returns the reached nodes (at most `first`) and how many there were.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn traverse(
        &self,
        viewer: Uuid,
        start: (ObjectKind, Uuid),
        types: Option<Vec<String>>,
        direction: Direction,
        max_depth: i32,
        first: usize,
    ) -> AppResult<(Vec<Reached>, usize)> {
        if !(1..=MAX_DEPTH).contains(&max_depth) {
            return Err(AppError::bad_input(
                "maxDepth",
                format!("`maxDepth` must be between 1 and {MAX_DEPTH}"),
            ));
        }
        let types = types
            .map(|ts| {
                ts.iter()
                    .map(|t| super::links::link_type(t, "via"))
                    .collect::<AppResult<Vec<_>>>()
            })
            .transpose()?;
        if !self.owns_active(&self.db, viewer, start).await? {
            return Err(AppError::NotFound("`from` names nothing of yours".into()));
        }
        let steps = store::graph::walk(
            &self.db,
            viewer,
            start,
            types.as_deref(),
            direction,
            max_depth,
        )
        .await?;
        let mut reached = shortest(start.1, &steps);
        let total = reached.len();
        reached.truncate(first);
        Ok((reached, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn step(node: u128, depth: i32, via: u128, prev: u128) -> Step {
        Step {
            node: id(node),
            kind: "media".into(),
            depth,
            via: id(via),
            prev: id(prev),
        }
    }

    #[test]
    fn each_node_once_at_its_shallowest_depth() {
        // 0 -> 1 -> 2 -> 0 (a cycle) and 0 -> 2 directly.
        let steps = vec![
            step(1, 1, 10, 0),
            step(2, 1, 12, 0),
            step(2, 2, 11, 1),
            step(0, 2, 13, 2),
            step(1, 3, 10, 0),
        ];
        let reached = shortest(id(0), &steps);
        assert_eq!(reached.len(), 2);
        assert_eq!(reached[0].id, id(1));
        assert_eq!(
            reached[1],
            Reached {
                kind: ObjectKind::Media,
                id: id(2),
                depth: 1,
                path: vec![id(12)]
            }
        );
    }

    #[test]
    fn paths_follow_shortest_predecessors() {
        let steps = vec![
            step(1, 1, 10, 0),
            step(2, 2, 11, 1),
            step(3, 3, 12, 2),
            step(3, 3, 14, 2),
        ];
        let reached = shortest(id(0), &steps);
        let three = reached.iter().find(|r| r.id == id(3)).unwrap();
        assert_eq!(three.path, vec![id(10), id(11), id(12)]);
    }
}
