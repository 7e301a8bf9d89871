//! `traverse`: a bounded breadth-first walk over the viewer's links, each node once at its
//! shallowest depth with the path of links that reaches it. The walk goes level by level
//! and expands each node once, so a dense graph costs the nodes it visits, not the paths
//! between them; it stops at the visit cap or the time budget, and says so.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Services;
use crate::error::{AppError, AppResult};
use crate::kinds::ObjectKind;
use crate::store;
use crate::store::graph::Step;
use crate::store::links::Direction;

pub(crate) const MAX_DEPTH: i32 = 5;
/// Wall-clock time one walk may take before it stops where it is.
const TIME_BUDGET: Duration = Duration::from_secs(5);

/// What a walk reached.
pub(crate) struct Walk {
    /// At most `first` of the reached nodes, by depth then id.
    pub reached: Vec<Reached>,
    /// Nodes reached in all.
    pub total: usize,
    /// The walk stopped at the visit cap or the time budget before it went `maxDepth` deep.
    pub truncated: bool,
}

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
    /// `traverse`: the reached nodes (at most `first`), how many there were, and whether the
    /// walk was cut short.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn traverse(
        &self,
        viewer: Uuid,
        start: (ObjectKind, Uuid),
        types: Option<Vec<String>>,
        direction: Direction,
        max_depth: i32,
        first: usize,
    ) -> AppResult<Walk> {
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
        let started = Instant::now();
        let mut visited: HashSet<Uuid> = HashSet::from([start.1]);
        let mut frontier = vec![start.1];
        let mut steps = Vec::new();
        let mut truncated = false;
        for depth in 1..=max_depth {
            if frontier.is_empty() {
                break;
            }
            if started.elapsed() > TIME_BUDGET {
                truncated = true;
                break;
            }
            let level = store::graph::level(
                &self.db,
                viewer,
                &frontier,
                types.as_deref(),
                direction,
                depth,
            )
            .await?;
            // Nodes first met at this depth, in id order so that a cut is deterministic.
            let mut new: Vec<Uuid> = level
                .iter()
                .map(|s| s.node)
                .filter(|n| !visited.contains(n))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            new.sort();
            let room = self.traverse_max_nodes.saturating_sub(visited.len() - 1);
            if new.len() > room {
                new.truncate(room);
                truncated = true;
            }
            let kept: HashSet<Uuid> = new.iter().copied().collect();
            steps.extend(level.into_iter().filter(|s| kept.contains(&s.node)));
            visited.extend(new.iter().copied());
            frontier = new;
            if truncated {
                break;
            }
        }
        let mut reached = shortest(start.1, &steps);
        let total = reached.len();
        reached.truncate(first);
        Ok(Walk {
            reached,
            total,
            truncated,
        })
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
