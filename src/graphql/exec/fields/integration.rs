//! `Integration`.

use async_graphql::{InputType, ServerError, Value};
use entity::integrations;

use super::media::time;
use super::user::linked_media;
use super::{link, load, unknown};
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::ids;
use crate::graphql::json;
use crate::graphql::types::integration::IntegrationStatus;
use crate::kinds::Kind;
use crate::store::sources::SOURCE;

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
    linked_media(f, SOURCE, |obj| match obj {
        Obj::Integration(i) => Some((i.id, i.user_id)),
        _ => None,
    })
}
