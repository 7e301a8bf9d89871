//! `Integration`.

use async_graphql::{InputType, ServerError, Value};
use entity::integrations;

use super::media::time;
use super::user::library_conn;
use super::{link, load, unknown};
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::ids::{self, NodeKind};
use crate::graphql::json;
use crate::graphql::types::integration::IntegrationStatus;
use crate::graphql::types::media::{LibraryArgs, MediaFilterInput};

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "id" => direct(|i, out| ids::write_json(out, NodeKind::Integration, i.id)),
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
/// taken first.
fn media(f: &FieldCx) -> Result<Answer, ServerError> {
    let first: Option<i32> = f.arg("first")?;
    let after: Option<String> = f.arg("after")?;
    let columns = f.child().map_or(
        crate::store::rows::MediaColumns::ALL,
        super::album::node_columns,
    );
    Ok(Answer::batch(move |cx, parents| {
        let after = after.clone();
        Box::pin(async move {
            let pages = parents.iter().map(|p| {
                let after = after.clone();
                async move {
                    let Obj::Integration(i) = p else {
                        return Out::Null;
                    };
                    let filter = MediaFilterInput::from_integration(ids::encode(
                        NodeKind::Integration,
                        i.id,
                    ));
                    let args =
                        match LibraryArgs::new(Some(filter), None, (first, after, None, None)) {
                            Ok(args) => args,
                            Err(e) => return Out::Err(e.into()),
                        };
                    match args.read(&cx.services, i.user_id, columns).await {
                        Ok(page) => Out::One(library_conn(&args, i.user_id, page)),
                        Err(e) => Out::Err(e.into()),
                    }
                }
            });
            futures_util::future::join_all(pages).await
        })
    }))
}
