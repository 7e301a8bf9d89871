//! `Change`: an event of the change journal, and the object it is about as it is now.

use std::sync::Arc;

use async_graphql::{InputType, ServerError, Value};
use uuid::Uuid;

use super::link::objects;
use super::media::time;
use super::unknown;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::exec::run::Cx;
use crate::graphql::json;
use crate::graphql::types::change::{ChangeKind, ChangeObjectType, object_id};
use crate::graphql::types::user::User;
use crate::kinds::Kind;
use crate::store::changes::Change;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    Ok(match name {
        "kind" => direct(|c, out| json::value(out, &ChangeKind::of(c).to_value())),
        "objectType" => direct(|c, out| match ChangeObjectType::of(c) {
            Some(t) => json::value(out, &t.to_value()),
            None => out.extend_from_slice(b"null"),
        }),
        "objectId" => direct(|c, out| json::string(out, object_id(c).as_str())),
        "fields" => direct(|c, out| {
            json::value(
                out,
                &Value::List(c.fields.iter().map(|f| Value::from(f.as_str())).collect()),
            )
        }),
        "at" => direct(|c, out| time(out, Some(c.at))),
        "object" => Answer::batch(|cx, parents| Box::pin(current(cx, parents))),
        _ => return Err(unknown("Change", f)),
    })
}

fn direct(f: impl Fn(&Change, &mut Vec<u8>) + Send + Sync + 'static) -> Answer {
    Answer::direct(move |obj, out| match obj {
        Obj::Change(c) => f(c, out),
        _ => out.extend_from_slice(b"null"),
    })
}

/// The objects of the level's events as the viewer sees them now (null when they are not
/// visible any more): the viewer's account, links, and the other kinds, each kind in one
/// statement.
async fn current(cx: &Cx, parents: &[Obj]) -> Vec<Out> {
    let keys: Vec<Option<(Kind, Uuid)>> = parents
        .iter()
        .map(|p| match p {
            Obj::Change(c) => Kind::from_type_name(&c.object_type).map(|kind| (kind, c.object_id)),
            _ => None,
        })
        .collect();
    let of_kind = |wanted: Kind| {
        keys.iter()
            .flatten()
            .filter(move |(kind, _)| *kind == wanted)
            .map(|(_, id)| *id)
            .collect::<Vec<Uuid>>()
    };
    let users = of_kind(Kind::User)
        .into_iter()
        .filter(|id| Some(*id) == cx.viewer);
    let (users, links) = futures_util::join!(
        cx.loaders.users.load_many(users),
        cx.loaders.links.load_many(of_kind(Kind::Link)),
    );
    let (users, links) = match (users, links) {
        (Ok(u), Ok(l)) => (u, l),
        (Err(e), _) | (_, Err(e)) => return parents.iter().map(|_| Out::Err(e.clone())).collect(),
    };
    let others = objects(
        cx,
        keys.iter()
            .map(|k| k.and_then(|(kind, id)| Some((kind.object()?.as_str().to_string(), id))))
            .collect(),
    )
    .await;
    keys.iter()
        .zip(others)
        .map(|(key, other)| match key {
            Some((Kind::User, id)) => users.get(id).map_or(Out::Null, |u| {
                Out::One(Obj::User(Arc::new(User::from_row(u.clone()))))
            }),
            Some((Kind::Link, id)) => links
                .get(id)
                .map_or(Out::Null, |l| Out::One(Obj::Link(Arc::new(l.clone())))),
            _ => other,
        })
        .collect()
}
