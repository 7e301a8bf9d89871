//! `Link`, the `links(...)` page every object has, and the objects at a link's ends.

use std::sync::Arc;

use async_graphql::{ServerError, Value};
use entity::links;
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::media::time;
use super::unknown;
use crate::graphql::connection::{self, Page};
use crate::graphql::exec::obj::{Conn, ConnKind, CursorKey, EdgeExtra, EdgeRow, Obj, Out, Total};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::exec::run::Cx;
use crate::graphql::ids;
use crate::graphql::json;
use crate::graphql::types::link::{Direction, checked_types, other_end};
use crate::kinds::{Kind, ObjectKind};
use crate::store::links::Direction as StoreDirection;
use crate::store::links::LinkPage;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|l, out| ids::write_json(out, Kind::Link, l.id)),
        "linkType" => direct(|l, out| json::string(out, &l.link_type)),
        "strength" => direct(|l, out| json::value(out, &Value::from(l.strength))),
        "sortOrder" => direct(|l, out| json::number(out, l.sort_order)),
        "metadata" => direct(|l, out| {
            json::value(
                out,
                &async_graphql::to_value(&l.metadata).unwrap_or_default(),
            )
        }),
        "createdAt" => direct(|l, out| time(out, Some(l.created_at))),
        "updatedAt" => direct(|l, out| time(out, Some(l.updated_at))),
        "from" => Answer::batch(|cx, parents| {
            ends(cx, parents, |l| {
                (l.from_object_type.clone(), l.from_object_id)
            })
        }),
        "to" => Answer::batch(|cx, parents| {
            ends(cx, parents, |l| (l.to_object_type.clone(), l.to_object_id))
        }),
        _ => return Err(unknown("Link", f)),
    })
}

fn direct(f: impl Fn(&links::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Link(l) => f(l, out),
        _ => out.extend_from_slice(b"null"),
    })
}

fn ends<'a>(
    cx: &'a Cx,
    parents: &'a [Obj],
    end: fn(&links::Model) -> (String, Uuid),
) -> BoxFuture<'a, Vec<Out>> {
    let keys = parents
        .iter()
        .map(|p| match p {
            Obj::Link(l) => Some(end(l)),
            _ => None,
        })
        .collect();
    Box::pin(objects(cx, keys))
}

/// The viewer's active objects named by `(kind, id)`, one statement per kind; `Null` where
/// there is none (deleted, someone else's, or of a kind that is not an object).
pub(crate) async fn objects(cx: &Cx, keys: Vec<Option<(String, Uuid)>>) -> Vec<Out> {
    let kinds: Vec<Option<(ObjectKind, Uuid)>> = keys
        .into_iter()
        .map(|k| k.and_then(|(kind, id)| Some((ObjectKind::parse(&kind)?, id))))
        .collect();
    let ids_of = |wanted: ObjectKind| {
        kinds
            .iter()
            .flatten()
            .filter(move |(kind, _)| *kind == wanted)
            .map(|(_, id)| *id)
    };
    let l = &cx.loaders;
    let (media, albums, integrations, tags) = futures_util::join!(
        l.media.load_many(ids_of(ObjectKind::Media)),
        l.albums.load_many(ids_of(ObjectKind::Album)),
        l.integrations.load_many(ids_of(ObjectKind::Integration)),
        l.tags.load_many(ids_of(ObjectKind::Tag)),
    );
    let (media, albums, integrations, tags) = match (media, albums, integrations, tags) {
        (Ok(m), Ok(a), Ok(i), Ok(t)) => (m, a, i, t),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            return kinds.iter().map(|_| Out::Err(e.clone())).collect();
        }
    };
    kinds
        .iter()
        .map(|key| {
            let found = match key {
                Some((ObjectKind::Media, id)) => {
                    media.get(id).map(|m| Obj::Media(Arc::new(m.clone())))
                }
                Some((ObjectKind::Album, id)) => {
                    albums.get(id).map(|a| Obj::Album(Arc::new(a.clone())))
                }
                Some((ObjectKind::Integration, id)) => integrations
                    .get(id)
                    .map(|i| Obj::Integration(Arc::new(i.clone()))),
                Some((ObjectKind::Tag, id)) => tags.get(id).map(|t| Obj::Tag(Arc::new(t.clone()))),
                None => None,
            };
            found.map_or(Out::Null, Out::One)
        })
        .collect()
}

/// The arguments of a `links(...)` field, checked as the resolvers check them.
pub(crate) struct LinkArgs {
    pub types: Option<Vec<String>>,
    pub direction: StoreDirection,
    pub page: Page<Uuid>,
}

impl LinkArgs {
    pub(crate) fn new(f: &FieldCx) -> Result<Self, ServerError> {
        let types: Option<Vec<String>> = f.arg("types")?;
        let direction: Direction = f.arg_or("direction", || Direction::Out)?;
        let (first, after, last, before) = f.page_args()?;
        let types = checked_types(types).map_err(|e| f.refuse(e))?;
        let page = connection::page::<Uuid>(first, after, last, before).map_err(|e| f.refuse(e))?;
        Ok(Self {
            types,
            direction: direction.into(),
            page,
        })
    }

    /// The page of links from `rows` (fetched with one more than the page size), as seen
    /// from `parent` (none: every link of `owner`).
    pub(crate) fn conn(&self, parent: Option<Uuid>, owner: Uuid, rows: Vec<links::Model>) -> Obj {
        let (rows, has_previous, has_next) = connection::finish(&self.page, rows);
        let edges = rows
            .into_iter()
            .map(|link| {
                let (kind, id) = other_end(parent, &link);
                EdgeRow {
                    cursor: CursorKey::Id(link.id),
                    node: Obj::Link(Arc::new(link)),
                    extra: EdgeExtra::Other { kind, id },
                }
            })
            .collect();
        let total = match parent {
            Some(parent) => Total::Links {
                parent,
                types: self.types.clone(),
                direction: self.direction,
            },
            None => Total::UserLinks {
                owner,
                types: self.types.clone(),
            },
        };
        Obj::Conn(Arc::new(Conn {
            kind: ConnKind::Links,
            edges,
            has_previous,
            has_next,
            total,
        }))
    }
}

/// `links(...)` of media, albums and integrations: one statement for all the parents of a
/// level. `parent` gives a parent's id and owner.
pub(super) fn links_of(
    f: &FieldCx,
    parent: fn(&Obj) -> Option<(Uuid, Uuid)>,
) -> Result<Answer, ServerError> {
    let args = Arc::new(LinkArgs::new(f)?);
    Ok(Answer::batch(move |cx, parents| {
        let args = args.clone();
        Box::pin(async move {
            let page = LinkPage {
                types: args.types.clone(),
                direction: args.direction,
                cursor: args.page.cursor,
                backward: args.page.backward,
                limit: args.page.limit + 1,
            };
            let keys: Vec<Option<(Uuid, Uuid)>> = parents.iter().map(parent).collect();
            let found = cx
                .loaders
                .link_pages
                .load_many(keys.iter().flatten().map(|(id, _)| (*id, page.clone())))
                .await;
            keys.iter()
                .map(|key| match (key, &found) {
                    (_, Err(e)) => Out::Err(e.clone()),
                    (None, _) => Out::Null,
                    (Some((id, owner)), Ok(found)) => {
                        let rows = found.get(&(*id, page.clone())).cloned().unwrap_or_default();
                        Out::One(args.conn(Some(*id), *owner, rows))
                    }
                })
                .collect()
        })
    }))
}
