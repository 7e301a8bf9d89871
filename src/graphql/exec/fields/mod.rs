//! How each field of each object type is answered by the planned executor: one table per
//! type. A field is either written straight from the object in hand
//! ([`Answer::Direct`](super::plan::Answer)) or resolved for all the parents of a level at
//! once through the request's loaders and the services ([`Answer::Batch`]), the same reads
//! async-graphql's resolvers make one parent at a time.

mod album;
mod audit;
mod change;
mod integration;
mod link;
mod media;
mod page;
mod tag;
mod traversal;
mod user;

use std::collections::HashMap;

use async_graphql::ServerError;
use async_graphql::dataloader::Loader;

use super::obj::{ConnKind, Obj, Out};
use super::plan::{Answer, FieldCx};
use crate::graphql::batch::{Batcher, Key};

/// How `type_name.name` is answered.
pub(super) fn answer(type_name: &str, name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    if let Some(kind) = ConnKind::ALL
        .into_iter()
        .find(|k| k.connection() == type_name)
    {
        return page::connection(kind, name, f);
    }
    if let Some(kind) = ConnKind::ALL.into_iter().find(|k| k.edge() == type_name) {
        return page::edge(kind, name, f);
    }
    match type_name {
        "User" => user::field(name, f),
        "Media" => media::field(name, f),
        "Album" => album::field(name, f),
        "Link" => link::field(name, f),
        "Integration" => integration::field(name, f),
        "Tag" => tag::field(name, f),
        "AuditEvent" => audit::field(name, f),
        "Change" => change::field(name, f),
        "PageInfo" => page::page_info(name, f),
        "Traversal" => traversal::traversal(name, f),
        "TraversalEdge" => traversal::edge(name, f),
        // Payloads and other objects made of fields in hand.
        _ if is_record(type_name) => Ok(record(name)),
        _ => Err(unknown(type_name, f)),
    }
}

/// Types answered from a [`Record`](super::obj::Record) of their fields.
pub(crate) fn is_record(type_name: &str) -> bool {
    type_name.ends_with("Payload") || type_name == "UploadSession"
}

fn record(name: &str) -> Answer {
    let name = name.to_string();
    Answer::each(move |obj| match obj {
        Obj::Record(r) => r.get(&name).cloned().unwrap_or(Out::Null),
        _ => Out::Null,
    })
}

fn unknown(type_name: &str, f: &FieldCx) -> ServerError {
    f.refuse(crate::error::AppError::internal(anyhow::anyhow!(
        "the planned executor has no answer for a field of `{type_name}`"
    )))
}

/// Loads one value per parent through a loader (one statement for the level), and makes
/// each parent's value with `to_out` (`None`: nothing found for its key).
async fn load<K, L>(
    batcher: &Batcher<K, L>,
    parents: &[Obj],
    key: impl Fn(&Obj) -> Option<K>,
    to_out: impl Fn(Option<&L::Value>) -> Out,
) -> Vec<Out>
where
    K: Key,
    L: Loader<K, Error = async_graphql::Error>,
{
    let keys: Vec<Option<K>> = parents.iter().map(key).collect();
    match batcher.load_many(keys.iter().flatten().cloned()).await {
        Ok(found) => keys
            .iter()
            .map(|k| to_out(k.as_ref().and_then(|k| found.get(k))))
            .collect(),
        Err(e) => keys.iter().map(|_| Out::Err(e.clone())).collect(),
    }
}

/// Runs `read` once per distinct key among the parents (the owner of a user's lists: one in
/// practice), and gives each parent the answer for its key.
async fn per_key<K, F, Fut>(parents: &[Obj], key: impl Fn(&Obj) -> K, read: F) -> Vec<Out>
where
    K: Eq + std::hash::Hash + Clone,
    F: Fn(K) -> Fut,
    Fut: std::future::Future<Output = Out>,
{
    let keys: Vec<K> = parents.iter().map(key).collect();
    let mut distinct: Vec<K> = Vec::new();
    for k in &keys {
        if !distinct.contains(k) {
            distinct.push(k.clone());
        }
    }
    let answers = futures_util::future::join_all(distinct.iter().cloned().map(read)).await;
    let by_key: HashMap<K, Out> = distinct.into_iter().zip(answers).collect();
    keys.iter()
        .map(|k| by_key.get(k).cloned().unwrap_or(Out::Null))
        .collect()
}
