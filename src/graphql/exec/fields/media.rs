//! `Media`.

use std::sync::Arc;

use async_graphql::{InputType, ServerError};
use chrono::{DateTime, Utc};
use entity::media;

use super::{link, load, unknown};
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::exec::plan::{Answer, FieldCx, Plan};
use crate::graphql::ids;
use crate::graphql::json;
use crate::graphql::types::media::{MediaType, column_of, content_url, taken_at_local};
use crate::kinds::Kind;
use crate::store::rows::MediaColumns;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|m, out| ids::write_json(out, Kind::Media, m.id)),
        "filename" => direct(|m, out| json::string(out, &m.filename)),
        "mediaType" => direct(|m, out| json::value(out, &MediaType::of(m).to_value())),
        "mimeType" => direct(|m, out| json::string(out, &m.mime_type)),
        "size" => direct(|m, out| json::number(out, m.size)),
        "width" => direct(|m, out| int(out, m.width)),
        "height" => direct(|m, out| int(out, m.height)),
        "durationMs" => direct(|m, out| int(out, m.duration_ms)),
        "hash" => direct(|m, out| json::string(out, &m.hash)),
        "takenAt" => direct(|m, out| time(out, m.taken_at)),
        "takenAtLocal" => direct(|m, out| match taken_at_local(m) {
            Some(t) => json::string(out, &t),
            None => out.extend_from_slice(b"null"),
        }),
        "createdAt" => direct(|m, out| time(out, Some(m.created_at))),
        "updatedAt" => direct(|m, out| time(out, Some(m.updated_at))),
        "deletedAt" => direct(|m, out| time(out, m.deleted_at)),
        // As async-graphql's `Json` writes it.
        "metadata" => direct(|m, out| {
            json::value(
                out,
                &async_graphql::to_value(&m.metadata).unwrap_or_default(),
            )
        }),
        "contentUrl" => {
            let svc = f.services().clone();
            let base = f.base_url().to_string();
            direct(move |m, out| json::string(out, &content_url(&svc, &base, m.id)))
        }
        "albums" => Answer::batch(|cx, parents| {
            Box::pin(load(&cx.loaders.albums_of_media, parents, id, |found| {
                Out::Many(
                    found
                        .into_iter()
                        .flatten()
                        .map(|a| Obj::Album(Arc::new(a.clone())))
                        .collect(),
                )
            }))
        }),
        "tags" => Answer::batch(|cx, parents| {
            Box::pin(load(&cx.loaders.tags_of_media, parents, id, |found| {
                Out::Many(
                    found
                        .into_iter()
                        .flatten()
                        .map(|t| Obj::Tag(Arc::new(t.clone())))
                        .collect(),
                )
            }))
        }),
        "source" => Answer::batch(|cx, parents| {
            Box::pin(load(&cx.loaders.sources, parents, id, |found| {
                found.map_or(Out::Null, |i| {
                    Out::One(Obj::Integration(Arc::new(i.clone())))
                })
            }))
        }),
        "duplicates" => Answer::batch(|cx, parents| {
            Box::pin(load(&cx.loaders.duplicates, parents, id, media_list))
        }),
        "variants" => {
            // Each thumbnail with the columns its selection reads.
            let columns = f.child().map_or(MediaColumns::ALL, columns);
            Answer::batch(move |cx, parents| {
                let key = move |p: &Obj| id(p).map(|id| (id, columns));
                Box::pin(load(&cx.loaders.variants, parents, key, |found| {
                    Out::Many(
                        found
                            .into_iter()
                            .flatten()
                            .map(|m| Obj::Media(m.clone()))
                            .collect(),
                    )
                }))
            })
        }
        "links" => link::links_of(f, |obj| match obj {
            Obj::Media(m) => Some((m.id, m.user_id)),
            _ => None,
        })?,
        _ => return Err(unknown("Media", f)),
    })
}

/// The columns a plan of `Media` reads.
pub(crate) fn columns(plan: &Plan) -> MediaColumns {
    plan.entries
        .iter()
        .fold(MediaColumns::KEYS, |c, e| c.union(column_of(&e.name)))
}

fn id(obj: &Obj) -> Option<uuid::Uuid> {
    match obj {
        Obj::Media(m) => Some(m.id),
        _ => None,
    }
}

fn media_list(found: Option<&Vec<media::Model>>) -> Out {
    Out::Many(
        found
            .into_iter()
            .flatten()
            .map(|m| Obj::Media(Arc::new(m.clone())))
            .collect(),
    )
}

/// A field written from the media row.
fn direct(f: impl Fn(&media::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Media(m) => f(m, out),
        _ => out.extend_from_slice(b"null"),
    })
}

fn int(out: &mut Vec<u8>, n: Option<impl Into<i64>>) {
    match n {
        Some(n) => json::number(out, n.into()),
        None => out.extend_from_slice(b"null"),
    }
}

/// A time as async-graphql's `DateTime` writes it.
pub(super) fn time(out: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
    match t {
        Some(t) => json::string(out, &t.to_rfc3339()),
        None => out.extend_from_slice(b"null"),
    }
}
