//! Putting what async-graphql's own resolvers answered into selection order, with the spec's
//! null propagation.
//!
//! async-graphql resolves the fields of an object concurrently and inserts each value when
//! it completes, so fields that wait on a load land last; a field that fails is left out
//! instead of being null. This pass rebuilds each object in the order CollectFields gives
//! (the same collection the planned executor uses) and applies null propagation. Upstream,
//! the fix would be for `resolve_container` to keep its futures in a `FuturesOrdered` (or
//! insert by selection index) and to write `null` for a failed nullable field.
//!
//! The planned executor leaves only the root to async-graphql ([`finish_root`]). In the
//! resolvers mode the whole answer is async-graphql's ([`finish_resolved`]): the concrete
//! type of an object under an interface or a union is not in the value, so the document is
//! sent with an extra `__typename` under [`TYPENAME_KEY`] in every selection
//! ([`super::rewrite::inject_typenames`]), which this pass reads and removes.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, SelectionSet,
};
use async_graphql::{Name, PathSegment, Positioned, Response, Value, Variables};

use super::collect::{Document, collect};
use super::schema::{FieldType, SchemaInfo};
use super::schema_info;

/// The response key of the `__typename` added by [`inject_typenames`].
pub(crate) const TYPENAME_KEY: &str = "_hnTypename";

/// Puts the root keys of a planned response in selection order, and nulls the data when a
/// non-null root field is null or was left out by a failure.
pub(crate) fn finish_root(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    response: &mut Response,
) {
    finish(doc, operation_name, variables, response, false);
}

/// Puts a whole answer of async-graphql's resolvers in selection order (see the module's
/// documentation), reading and removing the `__typename`s [`inject_typenames`] added.
pub(crate) fn finish_resolved(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    response: &mut Response,
) {
    finish(doc, operation_name, variables, response, true);
}

fn finish(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    response: &mut Response,
    deep: bool,
) {
    let Some(op) = operation(doc, operation_name) else {
        return;
    };
    let info = schema_info();
    let root_type = info.root(op.ty);
    let mut pass = Pass {
        info,
        doc: Document {
            fragments: &doc.fragments,
            variables,
        },
        deep,
        path: Vec::new(),
        reached: Vec::new(),
        visited: Vec::new(),
    };
    if response.data == Value::Null {
        // async-graphql answers null when no root field gave a value: every one was skipped
        // (an empty object), or every one failed (which the pass below finds).
        response.data = Value::Object(IndexMap::new());
    }
    let ok = pass.object(&mut response.data, root_type, vec![&op.selection_set]);
    if !ok {
        response.data = Value::Null;
    }
    // As graphql-js (and the planned executor) report them: the error of each null that was
    // written or that nulled a parent, not those of fields a failed sibling cut off. Below
    // the root, the planned executor's own errors are already so.
    // A mutation's fields all ran, one after another (async-graphql does not stop at the first
    // that fails, as graphql-js does): each one's error stays.
    let ran_all = op.ty == OperationType::Mutation;
    let (reached, visited) = (pass.reached, pass.visited);
    response.errors.retain(|e| match e.path.first() {
        None => true,
        Some(_) if ran_all => true,
        Some(_) if deep => reached.contains(&e.path),
        Some(root) => visited.contains(root),
    });
    // A key selected twice is one field, with one error: async-graphql resolves (and fails)
    // each selection of it apart (the root's, and everything in the resolvers mode).
    let mut kept: Vec<async_graphql::ServerError> = Vec::new();
    for err in std::mem::take(&mut response.errors) {
        match kept
            .iter_mut()
            .find(|k| !k.path.is_empty() && k.path == err.path && k.message == err.message)
        {
            Some(k) => {
                for at in err.locations {
                    if !k.locations.contains(&at) {
                        k.locations.push(at);
                    }
                }
            }
            None => kept.push(err),
        }
    }
    response.errors = kept;
}

/// The operation a request runs.
pub(crate) fn operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

struct Pass<'a> {
    info: &'a SchemaInfo,
    doc: Document<'a>,
    /// Below the root too (the resolvers mode); else the root only.
    deep: bool,
    /// Where the pass is.
    path: Vec<PathSegment>,
    /// Every path where the pass met a null or a field left out.
    reached: Vec<Vec<PathSegment>>,
    /// The root keys the pass went through.
    visited: Vec<PathSegment>,
}

/// A field async-graphql answers from its own registry, left as it is.
fn introspection(name: &str) -> Option<FieldType> {
    let ty = |nullable| FieldType {
        named: String::new(),
        nullable,
        list: None,
        composite: false,
    };
    match name {
        "__typename" | "__schema" => Some(ty(false)),
        "__type" => Some(ty(true)),
        _ => None,
    }
}

impl<'a> Pass<'a> {
    /// Rebuilds the object `value` of static type `ty`; `false` when it must be null.
    fn object(
        &mut self,
        value: &mut Value,
        ty: &str,
        sets: Vec<&'a Positioned<SelectionSet>>,
    ) -> bool {
        let Value::Object(map) = value else {
            return true;
        };
        let concrete = match map.shift_remove(TYPENAME_KEY) {
            Some(Value::String(name)) => name,
            _ => ty.to_string(),
        };
        let mut out = IndexMap::with_capacity(map.len());
        for group in collect(self.doc, self.info, &concrete, sets) {
            let name = group.name();
            let Some(field) = self
                .info
                .field(&concrete, name)
                .cloned()
                .or_else(|| introspection(name))
            else {
                continue;
            };
            let mut v = map.shift_remove(group.key).unwrap_or(Value::Null);
            if self.path.is_empty() {
                self.visited.push(PathSegment::Field(group.key.to_string()));
            }
            self.path.push(PathSegment::Field(group.key.to_string()));
            let ok = match &v {
                Value::Null => {
                    self.reached.push(self.path.clone());
                    field.nullable
                }
                _ if !self.deep || !field.composite => true,
                _ => self.value(&mut v, &field, group.fields.iter().copied()),
            };
            self.path.pop();
            if !ok && !field.nullable {
                return false;
            }
            if !ok {
                v = Value::Null;
            }
            out.insert(Name::new(group.key), v);
        }
        *map = out;
        true
    }

    /// Rebuilds a composite field's value; `false` when it must be null.
    fn value(
        &mut self,
        v: &mut Value,
        field: &FieldType,
        fields: impl Iterator<Item = &'a Positioned<Field>> + Clone,
    ) -> bool {
        let sets = || fields.clone().map(|f| &f.node.selection_set).collect();
        match (v, field.list) {
            (Value::List(items), Some(items_nullable)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.path.push(PathSegment::Index(i));
                    let ok = match item {
                        Value::Null => {
                            self.reached.push(self.path.clone());
                            items_nullable
                        }
                        _ => self.object(item, &field.named, sets()),
                    };
                    self.path.pop();
                    if !ok && !items_nullable {
                        return false;
                    }
                    if !ok {
                        *item = Value::Null;
                    }
                }
                true
            }
            (v, _) => self.object(v, &field.named, sets()),
        }
    }
}
