//! `Tag`.

use async_graphql::ServerError;
use entity::tags;

use super::media::time;
use super::user::linked_media;
use super::{link, unknown};
use crate::graphql::exec::obj::Obj;
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::ids;
use crate::graphql::json;
use crate::kinds::Kind;
use crate::store::tags::TAGGED;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|t, out| ids::write_json(out, Kind::Tag, t.id)),
        "name" => direct(|t, out| json::string(out, &t.name)),
        "createdAt" => direct(|t, out| time(out, Some(t.created_at))),
        "updatedAt" => direct(|t, out| time(out, Some(t.updated_at))),
        "deletedAt" => direct(|t, out| time(out, t.deleted_at)),
        // The media carrying each tag of the level, one statement for them all.
        "media" => linked_media(f, TAGGED, |obj| match obj {
            Obj::Tag(t) => Some((t.id, t.user_id)),
            _ => None,
        })?,
        "links" => link::links_of(f, |obj| match obj {
            Obj::Tag(t) => Some((t.id, t.user_id)),
            _ => None,
        })?,
        _ => return Err(unknown("Tag", f)),
    })
}

fn direct(f: impl Fn(&tags::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Tag(t) => f(t, out),
        _ => out.extend_from_slice(b"null"),
    })
}
