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
//! ([`inject_typenames`]), which this pass reads and removes.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
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
    let root_type = match op.ty {
        OperationType::Query => info.query.as_str(),
        _ => info.mutation.as_deref().unwrap_or_default(),
    };
    let mut pass = Pass {
        info,
        doc: Document {
            fragments: &doc.fragments,
            variables,
        },
        deep,
        path: Vec::new(),
        reached: Vec::new(),
    };
    let ok = match &mut response.data {
        // Nothing ran: a refused request, or every root field skipped.
        Value::Null if response.errors.is_empty() => {
            response.data = Value::Object(IndexMap::new());
            true
        }
        Value::Null => true,
        data => pass.object(data, root_type, vec![&op.selection_set]),
    };
    if !ok {
        response.data = Value::Null;
    }
    if deep {
        // As graphql-js (and the planned executor) report them: the error of each null that
        // was written or that nulled a parent, not those of fields a failed sibling cut off.
        let reached = pass.reached;
        response
            .errors
            .retain(|e| e.path.is_empty() || reached.contains(&e.path));
    }
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

/// Adds `_hnTypename: __typename` to every selection set of `doc` but those under
/// introspection fields (their types are all objects).
pub(crate) fn inject_typenames(doc: &mut ExecutableDocument) {
    fn visit(set: &mut Positioned<SelectionSet>) {
        let pos = set.pos;
        for item in &mut set.node.items {
            match &mut item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if !field.node.selection_set.node.items.is_empty()
                        && !matches!(name, "__schema" | "__type")
                    {
                        visit(&mut field.node.selection_set);
                    }
                }
                Selection::InlineFragment(inline) => visit(&mut inline.node.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
        let field = Field {
            alias: Some(Positioned::new(Name::new(TYPENAME_KEY), pos)),
            name: Positioned::new(Name::new("__typename"), pos),
            arguments: Vec::new(),
            directives: Vec::new(),
            selection_set: Positioned::new(SelectionSet::default(), pos),
        };
        set.node.items.push(Positioned::new(
            Selection::Field(Positioned::new(field, pos)),
            pos,
        ));
    }
    match &mut doc.operations {
        DocumentOperations::Single(op) => visit(&mut op.node.selection_set),
        DocumentOperations::Multiple(ops) => {
            for op in ops.values_mut() {
                visit(&mut op.node.selection_set);
            }
        }
    }
    for fragment in doc.fragments.values_mut() {
        visit(&mut fragment.node.selection_set);
    }
}

/// A copy of `doc` whose mutation has its root fields that share a response key (the same
/// field with the same arguments and no directives) merged into the first of them, their
/// selections concatenated; `None` when there is nothing to merge. The spec's CollectFields
/// makes them one field, executed once; async-graphql would run the mutation once per
/// occurrence. Validation refuses fields of one key that differ otherwise.
pub(crate) fn merged_mutation(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<ExecutableDocument> {
    let op = operation(doc, operation_name)?;
    if op.ty != OperationType::Mutation {
        return None;
    }
    let mut keys = std::collections::HashSet::new();
    let repeated = op
        .selection_set
        .node
        .items
        .iter()
        .any(|item| match &item.node {
            Selection::Field(f) => !keys.insert(f.node.response_key().node.as_str()),
            _ => false,
        });
    if !repeated {
        return None;
    }
    let mut doc = doc.clone();
    let op = match (&mut doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => &mut op.node,
        (DocumentOperations::Multiple(ops), Some(name)) => &mut ops.get_mut(name)?.node,
        (DocumentOperations::Multiple(ops), None) => &mut ops.values_mut().next()?.node,
    };
    let items = std::mem::take(&mut op.selection_set.node.items);
    let mut kept: Vec<Positioned<Selection>> = Vec::with_capacity(items.len());
    for item in items {
        if let Selection::Field(field) = &item.node
            && field.node.directives.is_empty()
        {
            let same = kept.iter_mut().find_map(|k| match &mut k.node {
                Selection::Field(f)
                    if f.node.directives.is_empty()
                        && f.node.response_key().node == field.node.response_key().node
                        && f.node.name.node == field.node.name.node
                        && f.node.arguments == field.node.arguments =>
                {
                    Some(f)
                }
                _ => None,
            });
            if let Some(first) = same {
                let more = field.node.selection_set.node.items.iter().cloned();
                first.node.selection_set.node.items.extend(more);
                continue;
            }
        }
        kept.push(item);
    }
    op.selection_set.node.items = kept;
    Some(doc)
}
