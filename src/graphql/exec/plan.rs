//! Compiling a selection into a plan: per concrete object type, the response keys in order,
//! each with its field's arguments coerced once and how the field is answered: written
//! straight from the object in hand, or resolved for all the parents of a level at once.

use std::sync::Arc;

use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::{Data, InputType, Pos, Positioned, QueryEnv, SchemaEnv, ServerError};
use futures_util::future::BoxFuture;

use super::collect::{Document, Group, collect};
use super::obj::{Obj, Out};
use super::run::Cx;
use super::schema::{FieldType, SchemaInfo};
use crate::graphql::connection::PageArgs;
use crate::graphql::context::RequestContext;
use crate::graphql::json;
use crate::service::Services;

/// A merged selection on one concrete object type.
pub(crate) struct Plan {
    pub type_name: String,
    pub entries: Vec<Entry>,
}

/// One response key of a plan.
pub(crate) struct Entry {
    pub key: String,
    /// The field's name (the key may be an alias).
    pub name: String,
    /// `,"key":` (no comma before the first key).
    pub prefix: Vec<u8>,
    /// Where the fields of the key are in the document, for their errors (one error for
    /// all of them, as graphql-js reports it).
    pub locations: Vec<Pos>,
    pub ty: FieldType,
    pub answer: Answer,
    /// For an object field: a plan per object type its values can have.
    pub children: Vec<Plan>,
}

/// How a field is answered.
pub(crate) enum Answer {
    /// The object's type name.
    Typename,
    /// Written from each parent as it is, with nothing to load.
    Direct(Box<WriteFn>),
    /// Resolved for every parent of the level at once.
    Batch(Box<dyn Resolve>),
    /// The arguments were refused: each parent gets this error.
    Failed(ServerError),
}

/// Writes a field's value from its parent.
pub(crate) type WriteFn = dyn Fn(&Obj, &mut Vec<u8>) + Send + Sync;

/// A field resolved for all the parents of a level together: one statement per level, not
/// one per parent.
pub(crate) trait Resolve: Send + Sync {
    /// One value per parent, in the parents' order.
    fn resolve<'a>(&'a self, cx: &'a Cx, parents: &'a [Obj]) -> BoxFuture<'a, Vec<Out>>;
}

impl<F> Resolve for F
where
    F: for<'a> Fn(&'a Cx, &'a [Obj]) -> BoxFuture<'a, Vec<Out>> + Send + Sync,
{
    fn resolve<'a>(&'a self, cx: &'a Cx, parents: &'a [Obj]) -> BoxFuture<'a, Vec<Out>> {
        self(cx, parents)
    }
}

impl Answer {
    pub(crate) fn direct(f: impl Fn(&Obj, &mut Vec<u8>) + Send + Sync + 'static) -> Self {
        Answer::Direct(Box::new(f))
    }

    pub(crate) fn batch<F>(f: F) -> Self
    where
        F: for<'a> Fn(&'a Cx, &'a [Obj]) -> BoxFuture<'a, Vec<Out>> + Send + Sync + 'static,
    {
        Answer::Batch(Box::new(f))
    }

    /// A field answered for each parent on its own, from the object in hand: for fields
    /// that read no more than the parent (records, edges, pages).
    pub(crate) fn each(f: impl Fn(&Obj) -> Out + Send + Sync + 'static) -> Self {
        Self::batch(move |_, parents| {
            let outs = parents.iter().map(&f).collect();
            Box::pin(std::future::ready(outs))
        })
    }
}

/// Builds plans for one request.
pub(crate) struct Planner<'a> {
    pub info: &'a SchemaInfo,
    pub doc: Document<'a>,
    pub query_env: &'a QueryEnv,
    pub schema_env: &'a SchemaEnv,
    pub execute_data: Option<&'a Data>,
    pub services: &'a Arc<Services>,
    /// Who asks, and where from.
    pub request: Option<&'a RequestContext>,
}

impl<'a> Planner<'a> {
    /// The plan of `sets` (merged) on an object of type `type_name`.
    pub(crate) fn plan(
        &self,
        type_name: &str,
        sets: impl IntoIterator<Item = &'a Positioned<SelectionSet>>,
    ) -> Plan {
        let groups = collect(self.doc, self.info, type_name, sets);
        let entries = groups
            .iter()
            .enumerate()
            .map(|(i, group)| self.entry(type_name, group, i == 0))
            .collect();
        Plan {
            type_name: type_name.to_string(),
            entries,
        }
    }

    /// A plan per object type the values of `ty` can have, for the merged fields `group`.
    pub(crate) fn children(&self, ty: &FieldType, group: &Group<'a>) -> Vec<Plan> {
        if !ty.composite {
            return Vec::new();
        }
        let possible = self
            .info
            .get(&ty.named)
            .map(|t| t.possible.as_slice())
            .unwrap_or_default();
        possible
            .iter()
            .map(|object| self.plan(object, group.sets()))
            .collect()
    }

    fn entry(&self, type_name: &str, group: &Group<'a>, first: bool) -> Entry {
        let field = group.fields[0];
        let mut prefix = Vec::with_capacity(group.key.len() + 4);
        if !first {
            prefix.push(b',');
        }
        json::key_of(&mut prefix, group.key);
        let entry = |ty, answer, children| Entry {
            key: group.key.to_string(),
            name: group.name().to_string(),
            prefix: prefix.clone(),
            locations: group.fields.iter().map(|f| f.pos).collect(),
            ty,
            answer,
            children,
        };
        let name = group.name();
        if name == "__typename" {
            let ty = FieldType {
                named: "String".into(),
                nullable: false,
                list: None,
                composite: false,
            };
            return entry(ty, Answer::Typename, Vec::new());
        }
        let Some(ty) = self.info.field(type_name, name).cloned() else {
            // Validation refuses unknown fields; this would be a schema the executor does
            // not know.
            let err = ServerError::new(
                format!("the executor has no field `{type_name}.{name}`"),
                Some(field.pos),
            );
            let ty = FieldType {
                named: String::new(),
                nullable: true,
                list: None,
                composite: false,
            };
            return entry(ty, Answer::Failed(err), Vec::new());
        };
        let children = self.children(&ty, group);
        let answer = {
            let cx = FieldCx {
                planner: self,
                field,
                children: &children,
            };
            super::fields::answer(type_name, name, &cx).unwrap_or_else(Answer::Failed)
        };
        entry(ty, answer, children)
    }
}

/// What a field's table sees while it plans the field.
pub(crate) struct FieldCx<'p, 'a> {
    planner: &'p Planner<'a>,
    field: &'a Positioned<Field>,
    /// The plans of the field's value, one per object type it can have.
    pub children: &'p [Plan],
}

impl FieldCx<'_, '_> {
    /// The argument `name`, coerced as async-graphql's resolvers coerce it (variables and
    /// their defaults included).
    pub(crate) fn arg<T: InputType>(&self, name: &str) -> Result<T, ServerError> {
        self.param(name, None)
    }

    /// The argument `name`, or `default()` when it is absent.
    pub(crate) fn arg_or<T: InputType>(
        &self,
        name: &str,
        default: fn() -> T,
    ) -> Result<T, ServerError> {
        self.param(name, Some(default))
    }

    fn param<T: InputType>(
        &self,
        name: &str,
        default: Option<fn() -> T>,
    ) -> Result<T, ServerError> {
        let p = self.planner;
        let ctx = p
            .query_env
            .create_context(p.schema_env, None, self.field, p.execute_data);
        ctx.param_value(name, default).map(|(_, value)| value)
    }

    pub(crate) fn services(&self) -> &Arc<Services> {
        self.planner.services
    }

    /// The base of the absolute URLs this request is given.
    pub(crate) fn base_url(&self) -> &str {
        self.planner.request.map_or("", |r| r.base_url.as_str())
    }

    /// The plan of the field's value, when it has one object type.
    pub(crate) fn child(&self) -> Option<&Plan> {
        match self.children {
            [one] => Some(one),
            _ => None,
        }
    }
}

impl Plan {
    /// The entries that answer the field `name`, whatever their keys.
    pub(crate) fn entries_named<'p>(&'p self, name: &'p str) -> impl Iterator<Item = &'p Entry> {
        self.entries.iter().filter(move |e| e.name == name)
    }
}

impl FieldCx<'_, '_> {
    /// The paging arguments `first`, `after`, `last`, `before`.
    pub(crate) fn page_args(&self) -> Result<PageArgs, ServerError> {
        Ok((
            self.arg("first")?,
            self.arg("after")?,
            self.arg("last")?,
            self.arg("before")?,
        ))
    }

    /// `err` as this field's error.
    pub(crate) fn refuse(&self, err: impl Into<async_graphql::Error>) -> ServerError {
        err.into().into_server_error(self.field.pos)
    }
}
