//! What `traverse` reached: answered from the walk in hand.

use async_graphql::{ServerError, Value};

use super::unknown;
use crate::graphql::exec::obj::{Obj, Out, TraversalStep};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::json;

pub(super) fn traversal(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "edges" => Answer::each(|obj| match obj {
            Obj::Traversal(t) => Out::Many(
                (0..t.edges.len())
                    .map(|i| Obj::TraversalEdge(t.clone(), i))
                    .collect(),
            ),
            _ => Out::Null,
        }),
        "totalCount" => Answer::direct(|obj, out| match obj {
            Obj::Traversal(t) => json::number(out, t.total.into()),
            _ => out.extend_from_slice(b"null"),
        }),
        "truncated" => Answer::direct(|obj, out| match obj {
            Obj::Traversal(t) => {
                out.extend_from_slice(if t.truncated { b"true" } else { b"false" })
            }
            _ => out.extend_from_slice(b"null"),
        }),
        _ => return Err(unknown("Traversal", f)),
    })
}

pub(super) fn edge(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    fn step(obj: &Obj) -> Option<&TraversalStep> {
        match obj {
            Obj::TraversalEdge(t, i) => t.edges.get(*i),
            _ => None,
        }
    }
    Ok(match name {
        "depth" => Answer::direct(|obj, out| match step(obj) {
            Some(s) => json::number(out, s.depth.into()),
            None => out.extend_from_slice(b"null"),
        }),
        "path" => Answer::direct(|obj, out| match step(obj) {
            Some(s) => json::value(
                out,
                &Value::List(
                    s.path
                        .iter()
                        .map(|id| Value::String(id.0.clone()))
                        .collect(),
                ),
            ),
            None => out.extend_from_slice(b"null"),
        }),
        "node" => Answer::each(|obj| match step(obj) {
            Some(s) => Out::One(s.node.clone()),
            None => Out::Null,
        }),
        _ => return Err(unknown("TraversalEdge", f)),
    })
}
