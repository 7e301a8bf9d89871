//! `Integration`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{InputType, ServerError, Value};
use entity::{integrations, media};
use uuid::Uuid;

use super::media::time;
use super::user::library_conn;
use super::{link, load, unknown};
use crate::graphql::exec::obj::{Obj, Out, Total};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::ids;
use crate::graphql::json;
use crate::graphql::types::integration::IntegrationStatus;
use crate::graphql::types::media::LibraryArgs;
use crate::kinds::Kind;
use crate::store::rows::MediaColumns;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|i, out| ids::write_json(out, Kind::Integration, i.id)),
        "integrationType" => direct(|i, out| json::string(out, &i.integration_type)),
        "name" => direct(|i, out| json::string(out, &i.name)),
        "status" => {
            direct(|i, out| json::value(out, &IntegrationStatus::from_db(&i.status).to_value()))
        }
        "syncCursor" => direct(|i, out| optional(out, i.sync_cursor.as_deref())),
        "lastSyncAt" => direct(|i, out| time(out, i.last_sync_at)),
        "lastError" => direct(|i, out| optional(out, i.last_error.as_deref())),
        "config" => direct(|i, out| {
            json::value(out, &async_graphql::to_value(&i.config).unwrap_or_default())
        }),
        "createdAt" => direct(|i, out| time(out, Some(i.created_at))),
        "hasCredentials" => Answer::batch(|cx, parents| {
            Box::pin(load(&cx.loaders.has_credentials, parents, id, |found| {
                Out::Value(Value::Boolean(found.copied().unwrap_or(false)))
            }))
        }),
        "media" => media(f)?,
        "links" => link::links_of(f, |obj| match obj {
            Obj::Integration(i) => Some((i.id, i.user_id)),
            _ => None,
        })?,
        _ => return Err(unknown("Integration", f)),
    })
}

fn direct(f: impl Fn(&integrations::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Integration(i) => f(i, out),
        _ => out.extend_from_slice(b"null"),
    })
}

fn id(obj: &Obj) -> Option<uuid::Uuid> {
    match obj {
        Obj::Integration(i) => Some(i.id),
        _ => None,
    }
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json::string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// `Integration.media`: the library filtered to what each integration brought, newest
/// taken first; one statement for every integration of the level.
fn media(f: &FieldCx) -> Result<Answer, ServerError> {
    let first: Option<i32> = f.arg("first")?;
    let after: Option<String> = f.arg("after")?;
    let args = LibraryArgs::new(None, None, (first, after, None, None)).map_err(|e| f.refuse(e))?;
    let columns = f
        .child()
        .map_or(MediaColumns::ALL, super::album::node_columns);
    let args = Arc::new(args);
    Ok(Answer::batch(move |cx, parents| {
        let args = args.clone();
        Box::pin(async move {
            let sources: Vec<&integrations::Model> = parents
                .iter()
                .filter_map(|p| match p {
                    Obj::Integration(i) => Some(&**i),
                    _ => None,
                })
                .collect();
            // Integrations the viewer reads are the viewer's: one owner per level.
            let mut by_owner: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            for i in &sources {
                by_owner.entry(i.user_id).or_default().push(i.id);
            }
            let mut rows: HashMap<Uuid, Vec<media::Model>> = HashMap::new();
            for (owner, ids) in by_owner {
                let found = cx
                    .services
                    .library_by_source(owner, &ids, args.after_taken(), args.read_limit(), columns)
                    .await;
                match found {
                    Ok(found) => {
                        for (source, m) in found {
                            rows.entry(source).or_default().push(m);
                        }
                    }
                    Err(e) => {
                        let e = async_graphql::Error::from(e);
                        return parents.iter().map(|_| Out::Err(e.clone())).collect();
                    }
                }
            }
            parents
                .iter()
                .map(|p| match p {
                    Obj::Integration(i) => {
                        let page = args.finish(rows.get(&i.id).cloned().unwrap_or_default());
                        let total = Total::Source {
                            owner: i.user_id,
                            source: i.id,
                        };
                        Out::One(library_conn(&args, total, page))
                    }
                    _ => Out::Null,
                })
                .collect()
        })
    }))
}
