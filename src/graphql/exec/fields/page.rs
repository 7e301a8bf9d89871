//! The pages of lists: connections, their edges and `PageInfo`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{ServerError, Value};

use super::link::objects;
use super::media::time;
use futures_util::future::join_all;
use uuid::Uuid;

use super::unknown;
use crate::error::AppError;
use crate::graphql::exec::obj::{Conn, ConnKind, EdgeExtra, EdgeRow, Obj, Out, Total};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::exec::run::Cx;
use crate::graphql::json;

pub(super) fn connection(kind: ConnKind, name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "edges" => each_conn(|c| {
            Out::Many(
                (0..c.edges.len())
                    .map(|i| Obj::Edge(c.clone(), i))
                    .collect(),
            )
        }),
        "nodes" => each_conn(|c| Out::Many(c.edges.iter().map(|e| e.node.clone()).collect())),
        "pageInfo" => each_conn(|c| Out::One(Obj::PageInfo(c.clone()))),
        "totalCount" => Answer::batch(|cx, parents| Box::pin(total_counts(cx, parents))),
        _ => return Err(unknown(kind.connection(), f)),
    })
}

fn each_conn(f: impl Fn(&Arc<Conn>) -> Out + Send + Sync + 'static) -> Answer {
    Answer::each(move |obj| match obj {
        Obj::Conn(c) => f(c),
        _ => Out::Null,
    })
}

/// `totalCount` of every page of the level: link counts in one statement, each of the
/// user's lists counted once however many pages of it the level has.
async fn total_counts(cx: &Cx, parents: &[Obj]) -> Vec<Out> {
    let totals: Vec<Option<&Total>> = parents
        .iter()
        .map(|p| match p {
            Obj::Conn(c) => Some(&c.total),
            _ => None,
        })
        .collect();
    let link_keys = totals.iter().flatten().filter_map(|t| match t {
        Total::Links {
            parent,
            types,
            direction,
        } => Some((*parent, types.clone(), *direction)),
        _ => None,
    });
    let link_counts = cx.loaders.link_counts.load_many(link_keys).await;
    let linked_counts = linked_counts(cx, &totals).await;
    // The lists counted by a statement of their own, each once.
    let mut lists: Vec<(String, &Total)> = Vec::new();
    let list_of: Vec<Option<usize>> = totals
        .iter()
        .map(|t| match t {
            Some(Total::Known(_) | Total::Links { .. } | Total::Linked { .. }) | None => None,
            Some(t) => {
                let key = format!("{t:?}");
                Some(match lists.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        lists.push((key, t));
                        lists.len() - 1
                    }
                })
            }
        })
        .collect();
    let list_counts = join_all(lists.iter().map(|(_, t)| count_list(cx, t))).await;
    totals
        .iter()
        .zip(list_of)
        .map(|(total, list)| match (total, list) {
            (_, Some(i)) => list_counts[i].clone(),
            (Some(Total::Known(n)), _) => Out::Value(Value::from(*n)),
            (
                Some(Total::Links {
                    parent,
                    types,
                    direction,
                }),
                _,
            ) => match &link_counts {
                Ok(found) => Out::Value(Value::from(
                    found
                        .get(&(*parent, types.clone(), *direction))
                        .copied()
                        .unwrap_or(0),
                )),
                Err(e) => Out::Err(e.clone()),
            },
            (Some(Total::Linked { end, .. }), _) => match &linked_counts {
                Ok(found) => Out::Value(Value::from(found.get(end).copied().unwrap_or(0))),
                Err(e) => Out::Err(e.clone()),
            },
            _ => Out::Null,
        })
        .collect()
}

/// The counts of the pages of `Integration.media` and `Tag.media`: one statement per owner
/// and link type (one or two in practice). The ends are objects (integrations, tags), whose
/// ids never repeat across kinds.
async fn linked_counts(
    cx: &Cx,
    totals: &[Option<&Total>],
) -> Result<HashMap<Uuid, i64>, async_graphql::Error> {
    let mut groups: HashMap<(Uuid, &'static str), Vec<Uuid>> = HashMap::new();
    for total in totals.iter().flatten() {
        if let Total::Linked {
            owner,
            link_type,
            end,
        } = total
        {
            groups.entry((*owner, link_type)).or_default().push(*end);
        }
    }
    let mut counts = HashMap::new();
    for ((owner, link_type), ends) in groups {
        counts.extend(
            cx.services
                .library_count_by_end(owner, link_type, &ends)
                .await?,
        );
    }
    Ok(counts)
}

async fn count_list(cx: &Cx, total: &Total) -> Out {
    let svc = &cx.services;
    let n = match total {
        Total::Library { owner, filter } => svc.library_count(*owner, filter).await,
        Total::Albums(owner) => svc.albums_count(*owner).await,
        Total::Integrations(owner) => svc.integrations_count(*owner).await,
        Total::Tags(owner) => svc.tags_count(*owner).await,
        Total::Trash(owner) => svc.trash_count(*owner).await,
        Total::Audit(owner) => svc.audit_count(*owner).await,
        Total::UserLinks { owner, types } => svc.user_links_count(*owner, types.as_deref()).await,
        Total::Known(n) => return Out::Value(Value::from(*n)),
        Total::Links { .. } | Total::Linked { .. } => return Out::Null,
    };
    match n {
        Ok(n) => Out::Value(Value::from(n as i64)),
        Err(e) => Out::Err(e.into()),
    }
}

pub(super) fn edge(kind: ConnKind, name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match (name, kind) {
        ("cursor", _) => direct(|e, out| json::string(out, &e.cursor.encode())),
        ("node", _) => Answer::each(|obj| match obj {
            Obj::Edge(c, i) => Out::One(c.edges[*i].node.clone()),
            _ => Out::Null,
        }),
        ("sortOrder", ConnKind::AlbumMedia) => direct(|e, out| match e.extra {
            EdgeExtra::Member { sort_order, .. } => json::number(out, sort_order),
            _ => out.extend_from_slice(b"null"),
        }),
        ("addedAt", ConnKind::AlbumMedia) => member_link(
            |link| Out::Time(link.created_at),
            |extra| match extra {
                EdgeExtra::Member {
                    added_at: Some(t), ..
                } => Some(Out::Time(*t)),
                _ => None,
            },
        ),
        ("link", ConnKind::AlbumMedia) => member_link(
            |link| Out::One(Obj::Link(Arc::new(link.clone()))),
            |extra| match extra {
                EdgeExtra::Member { link: Some(l), .. } => Some(Out::One(Obj::Link(l.clone()))),
                _ => None,
            },
        ),
        ("other", ConnKind::Links) => Answer::batch(|cx, parents| {
            let keys = parents
                .iter()
                .map(|p| match edge_row(p).map(|e| &e.extra) {
                    Some(EdgeExtra::Other { kind, id }) => Some((kind.clone(), *id)),
                    _ => None,
                })
                .collect();
            Box::pin(objects(cx, keys))
        }),
        ("deletedAt", ConnKind::Trash) => direct(|e, out| match e.extra {
            EdgeExtra::Trash { deleted_at, .. } => time(out, Some(deleted_at)),
            _ => out.extend_from_slice(b"null"),
        }),
        ("purgeAt", ConnKind::Trash) => direct(|e, out| match e.extra {
            EdgeExtra::Trash { purge_at, .. } => time(out, Some(purge_at)),
            _ => out.extend_from_slice(b"null"),
        }),
        _ => return Err(unknown(kind.edge(), f)),
    })
}

fn edge_row(obj: &Obj) -> Option<&EdgeRow> {
    match obj {
        Obj::Edge(c, i) => c.edges.get(*i),
        _ => None,
    }
}

fn direct(f: impl Fn(&EdgeRow, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match edge_row(obj) {
        Some(e) => f(e, out),
        None => out.extend_from_slice(b"null"),
    })
}

/// A field of an album member's `contains` link: from what the member page read of it,
/// else read for the whole level at once.
fn member_link(
    value: fn(&entity::links::Model) -> Out,
    in_hand: fn(&EdgeExtra) -> Option<Out>,
) -> Answer {
    fn extra(p: &Obj) -> Option<&EdgeExtra> {
        edge_row(p).map(|e| &e.extra)
    }
    Answer::batch(move |cx, parents| {
        let missing = move |p: &Obj| match extra(p) {
            Some(e @ EdgeExtra::Member { link_id, .. }) if in_hand(e).is_none() => Some(*link_id),
            _ => None,
        };
        Box::pin(async move {
            if parents.iter().all(|p| missing(p).is_none()) {
                return parents
                    .iter()
                    .map(|p| extra(p).and_then(in_hand).unwrap_or(Out::Null))
                    .collect();
            }
            super::load(
                &cx.loaders.links,
                parents,
                missing,
                move |found| match found {
                    Some(link) => value(link),
                    None => Out::Err(
                        AppError::NotFound("the album member was just removed".into()).into(),
                    ),
                },
            )
            .await
        })
    })
}

pub(super) fn page_info(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    let page = |f: fn(&Conn, &mut Vec<u8>)| {
        Answer::direct(move |obj, out| match obj {
            Obj::PageInfo(c) => f(c, out),
            _ => out.extend_from_slice(b"null"),
        })
    };
    fn flag(out: &mut Vec<u8>, b: bool) {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    }
    fn cursor(out: &mut Vec<u8>, e: Option<&EdgeRow>) {
        match e {
            Some(e) => json::string(out, &e.cursor.encode()),
            None => out.extend_from_slice(b"null"),
        }
    }
    Ok(match name {
        "hasPreviousPage" => page(|c, out| flag(out, c.has_previous)),
        "hasNextPage" => page(|c, out| flag(out, c.has_next)),
        "startCursor" => page(|c, out| cursor(out, c.edges.first())),
        "endCursor" => page(|c, out| cursor(out, c.edges.last())),
        _ => return Err(unknown("PageInfo", f)),
    })
}
