//! `AuditEvent`: a security event, answered from its row.

use async_graphql::ServerError;
use entity::audit_log;

use super::media::time;
use super::unknown;
use crate::graphql::exec::obj::Obj;
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::json;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    fn text(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => json::string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }
    Ok(match name {
        "action" => direct(|e, out| json::string(out, &e.action)),
        "ip" => direct(|e, out| text(out, e.ip.as_deref())),
        "userAgent" => direct(|e, out| text(out, e.user_agent.as_deref())),
        "details" => direct(|e, out| {
            json::value(
                out,
                &async_graphql::to_value(&e.details).unwrap_or_default(),
            )
        }),
        "createdAt" => direct(|e, out| time(out, Some(e.created_at))),
        _ => return Err(unknown("AuditEvent", f)),
    })
}

fn direct(f: impl Fn(&audit_log::Model, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::AuditEvent(e) => f(e, out),
        _ => out.extend_from_slice(b"null"),
    })
}
