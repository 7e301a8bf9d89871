//! `Album` and its member page.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::ServerError;
use entity::albums;
use uuid::Uuid;

use super::media::{self, time};
use super::{link, unknown};
use crate::graphql::connection::{self, Page};
use crate::graphql::exec::obj::{Conn, ConnKind, CursorKey, EdgeExtra, EdgeRow, Obj, Out, Total};
use crate::graphql::exec::plan::{Answer, FieldCx, Plan};
use crate::graphql::ids;
use crate::graphql::json;
use crate::kinds::Kind;
use crate::store::links::{LinkColumns, MemberPage};
use crate::store::rows::MediaColumns;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|a, out| ids::write_json(out, Kind::Album, a.id)),
        "name" => direct(|a, out| json::string(out, &a.name)),
        "description" => direct(|a, out| match &a.description {
            Some(d) => json::string(out, d),
            None => out.extend_from_slice(b"null"),
        }),
        "mediaCount" => direct(|a, out| json::number(out, a.media_count.into())),
        "createdAt" => direct(|a, out| time(out, Some(a.created_at))),
        "updatedAt" => direct(|a, out| time(out, Some(a.updated_at))),
        "deletedAt" => direct(|a, out| time(out, a.deleted_at)),
        "coverMedia" => Answer::batch(|cx, parents| Box::pin(covers(cx, parents))),
        "media" => members(f)?,
        "links" => link::links_of(f, |obj| match obj {
            Obj::Album(a) => Some((a.id, a.user_id)),
            _ => None,
        })?,
        _ => return Err(unknown("Album", f)),
    })
}

fn direct(f: impl Fn(&albums::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Album(a) => f(a, out),
        _ => out.extend_from_slice(b"null"),
    })
}

fn album(obj: &Obj) -> Option<&albums::Model> {
    match obj {
        Obj::Album(a) => Some(a),
        _ => None,
    }
}

/// The chosen covers, else the first members: two statements for the whole level.
async fn covers(cx: &crate::graphql::exec::run::Cx, parents: &[Obj]) -> Vec<Out> {
    let l = &cx.loaders;
    let chosen = l
        .media
        .load_many(
            parents
                .iter()
                .filter_map(album)
                .filter_map(|a| a.cover_media_id),
        )
        .await;
    let chosen = match chosen {
        Ok(found) => found,
        Err(e) => return parents.iter().map(|_| Out::Err(e.clone())).collect(),
    };
    let cover_of = |a: &albums::Model| a.cover_media_id.and_then(|c| chosen.get(&c));
    let firsts = l
        .first_members
        .load_many(
            parents
                .iter()
                .filter_map(album)
                .filter(|a| cover_of(a).is_none())
                .map(|a| a.id),
        )
        .await;
    let firsts = match firsts {
        Ok(found) => found,
        Err(e) => return parents.iter().map(|_| Out::Err(e.clone())).collect(),
    };
    parents
        .iter()
        .map(|p| {
            let Some(a) = album(p) else {
                return Out::Null;
            };
            cover_of(a)
                .or_else(|| firsts.get(&a.id))
                .map_or(Out::Null, |m| Out::One(Obj::Media(Arc::new(m.clone()))))
        })
        .collect()
}

/// `Album.media`: a page of members per album, one statement for the level.
fn members(f: &FieldCx) -> Result<Answer, ServerError> {
    let (first, after, last, before) = f.page_args()?;
    let page: Page<(i64, Uuid)> =
        connection::page(first, after, last, before).map_err(|e| f.refuse(e))?;
    let columns = f.child().map_or(MediaColumns::ALL, node_columns);
    let link = f.child().map_or(LinkColumns::All, link_columns);
    let page = Arc::new(page);
    Ok(Answer::batch(move |cx, parents| {
        let page = page.clone();
        Box::pin(async move {
            let key = MemberPage {
                descending: page.backward,
                after: page.cursor,
                limit: page.limit + 1,
                columns,
                link,
            };
            let found = cx
                .loaders
                .members
                .load_many(parents.iter().filter_map(album).map(|a| (a.id, key)))
                .await;
            let found: HashMap<_, _> = match found {
                Ok(found) => found,
                Err(e) => return parents.iter().map(|_| Out::Err(e.clone())).collect(),
            };
            parents
                .iter()
                .map(|p| {
                    let Some(a) = album(p) else {
                        return Out::Null;
                    };
                    let rows = found.get(&(a.id, key)).cloned().unwrap_or_default();
                    let (rows, has_previous, has_next) = connection::finish(&page, rows);
                    let edges = rows
                        .into_iter()
                        .map(|m| EdgeRow {
                            node: Obj::Media(m.media.clone()),
                            cursor: CursorKey::Member(m.sort_order, m.link_id),
                            extra: EdgeExtra::Member {
                                sort_order: m.sort_order,
                                link_id: m.link_id,
                                added_at: m.added_at,
                                link: m.link.clone(),
                            },
                        })
                        .collect();
                    Out::One(Obj::Conn(Arc::new(Conn {
                        kind: ConnKind::AlbumMedia,
                        edges,
                        has_previous,
                        has_next,
                        total: Total::Known(a.media_count.into()),
                    })))
                })
                .collect()
        })
    }))
}

/// What a page's edges read of their `contains` links: a member page carries them, so that
/// `addedAt` and `link` need no read of their own.
fn link_columns(page: &Plan) -> LinkColumns {
    let edges: Vec<&Plan> = page
        .entries_named("edges")
        .flat_map(|edges| &edges.children)
        .collect();
    if edges
        .iter()
        .any(|e| e.entries_named("link").next().is_some())
    {
        LinkColumns::All
    } else if edges
        .iter()
        .any(|e| e.entries_named("addedAt").next().is_some())
    {
        LinkColumns::CreatedAt
    } else {
        LinkColumns::Key
    }
}

/// The media columns a page's selection reads of its nodes (`edges { node }`, `nodes`).
pub(crate) fn node_columns(page: &Plan) -> MediaColumns {
    let mut columns = MediaColumns::KEYS;
    let media_plans = page
        .entries_named("edges")
        .flat_map(|edges| &edges.children)
        .flat_map(|edge| edge.entries_named("node"))
        .chain(page.entries_named("nodes"))
        .flat_map(|e| &e.children);
    for plan in media_plans {
        columns = columns.union(media::columns(plan));
    }
    columns
}
