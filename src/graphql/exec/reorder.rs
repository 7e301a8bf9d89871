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

/// Rewrites every fragment whose type condition is a union (inline, or a named fragment's
/// spread) into one inline fragment per member of the union that the selection's type can
/// be. async-graphql applies a fragment only when its condition is the object's type or an
/// interface of it, so it drops `... on TrashItem { … }` on a `Media`; the spec applies it
/// (DoesFragmentTypeApply). For each object type, exactly one of the new fragments applies,
/// where the old one stood, so the fields and their order are unchanged.
pub(crate) fn expand_union_conditions(doc: &mut ExecutableDocument) {
    let info = schema_info();
    let fragments = doc.fragments.clone();
    let expander = Expander {
        info,
        fragments: &fragments,
    };
    let root = |op: &OperationDefinition| info.root(op.ty).to_string();
    match &mut doc.operations {
        DocumentOperations::Single(op) => {
            let ty = root(&op.node);
            expander.set(&mut op.node.selection_set, &ty, 0);
        }
        DocumentOperations::Multiple(ops) => {
            for op in ops.values_mut() {
                let ty = root(&op.node);
                expander.set(&mut op.node.selection_set, &ty, 0);
            }
        }
    }
    for fragment in doc.fragments.values_mut() {
        let ty = fragment.node.type_condition.node.on.node.to_string();
        expander.set(&mut fragment.node.selection_set, &ty, 0);
    }
    // Fragments whose every spread was inlined are unused now, which validation refuses.
    let mut used = std::collections::HashSet::new();
    let mut todo: Vec<&Positioned<SelectionSet>> = doc
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set)
        .collect();
    while let Some(set) = todo.pop() {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => todo.push(&f.node.selection_set),
                Selection::InlineFragment(i) => todo.push(&i.node.selection_set),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if used.insert(name.clone())
                        && let Some(f) = doc.fragments.get(name)
                    {
                        todo.push(&f.node.selection_set);
                    }
                }
            }
        }
    }
    doc.fragments.retain(|name, _| used.contains(name));
    // And variables used only in fragments that could never apply. (The type of an argument's
    // value has no public name in async-graphql: its variables are read by making it constant.)
    let mut variables = std::collections::HashSet::new();
    macro_rules! note_variables {
        ($value:expr, $out:expr) => {{
            let _ = $value.clone().into_const_with(|name| {
                $out.insert(name);
                Ok::<_, std::convert::Infallible>(Value::Null)
            });
        }};
    }
    let mut todo: Vec<&Positioned<SelectionSet>> = doc
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set)
        .chain(doc.fragments.values().map(|f| &f.node.selection_set))
        .collect();
    while let Some(set) = todo.pop() {
        for item in &set.node.items {
            for d in item.node.directives() {
                for (_, v) in &d.node.arguments {
                    note_variables!(v.node, variables);
                }
            }
            match &item.node {
                Selection::Field(f) => {
                    for (_, v) in &f.node.arguments {
                        note_variables!(v.node, variables);
                    }
                    todo.push(&f.node.selection_set);
                }
                Selection::InlineFragment(i) => todo.push(&i.node.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    let keep_used = |op: &mut Positioned<OperationDefinition>| {
        op.node
            .variable_definitions
            .retain(|d| variables.contains(&d.node.name.node));
    };
    match &mut doc.operations {
        DocumentOperations::Single(op) => keep_used(op),
        DocumentOperations::Multiple(ops) => ops.values_mut().for_each(keep_used),
    }
}

struct Expander<'a> {
    info: &'a SchemaInfo,
    fragments: &'a std::collections::HashMap<
        Name,
        Positioned<async_graphql::parser::types::FragmentDefinition>,
    >,
}

impl Expander<'_> {
    /// The members of `condition` when it is a union, among the types `ty` can be.
    fn members(&self, condition: &str, ty: &str) -> Option<Vec<String>> {
        let union = self.info.get(condition)?;
        if !union.fields.is_empty() || union.possible == [condition] {
            return None;
        }
        let possible = &self.info.get(ty)?.possible;
        Some(
            union
                .possible
                .iter()
                .filter(|m| possible.contains(m))
                .cloned()
                .collect(),
        )
    }

    /// Whether an object can be of both types.
    fn overlaps(&self, a: &str, b: &str) -> bool {
        match (self.info.get(a), self.info.get(b)) {
            (Some(a), Some(b)) => a.possible.iter().any(|t| b.possible.contains(t)),
            _ => true,
        }
    }

    fn set(&self, set: &mut Positioned<SelectionSet>, ty: &str, depth: usize) {
        use async_graphql::parser::types::{InlineFragment, TypeCondition};
        // Documents are bounded in depth; the bound only guards against a cycle.
        if depth > 64 {
            return;
        }
        let items = std::mem::take(&mut set.node.items);
        for mut item in items {
            let pos = item.pos;
            let (condition, guarded) = match &item.node {
                Selection::InlineFragment(inline) => match &inline.node.type_condition {
                    Some(c) => {
                        let on = c.node.on.node.as_str();
                        let guarded = self.members(on, ty).map(|members| {
                            let selection = inline.node.selection_set.clone();
                            (members, selection, inline.node.directives.clone())
                        });
                        (Some(on), guarded)
                    }
                    None => (None, None),
                },
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.node.fragment_name.node) {
                        Some(f) => {
                            let on = f.node.type_condition.node.on.node.as_str();
                            let guarded = self.members(on, ty).map(|members| {
                                let selection = f.node.selection_set.clone();
                                (members, selection, spread.node.directives.clone())
                            });
                            (Some(on), guarded)
                        }
                        None => (None, None),
                    }
                }
                Selection::Field(_) => (None, None),
            };
            // A fragment that can never apply here (inlined under one member of a union, it
            // may name another): validation refuses it, and it would select nothing.
            if condition.is_some_and(|on| !self.overlaps(on, ty)) {
                continue;
            }
            // A union's members, the selection it guards and the fragment's directives.
            if let Some((members, selection, directives)) = guarded {
                for member in members {
                    let mut selection_set = selection.clone();
                    self.set(&mut selection_set, &member, depth + 1);
                    let on = Positioned::new(Name::new(&member), pos);
                    let inline = InlineFragment {
                        type_condition: Some(Positioned::new(TypeCondition { on }, pos)),
                        directives: directives.clone(),
                        selection_set,
                    };
                    set.node.items.push(Positioned::new(
                        Selection::InlineFragment(Positioned::new(inline, pos)),
                        pos,
                    ));
                }
                continue;
            }
            match &mut item.node {
                Selection::Field(f) => {
                    let child = self
                        .info
                        .field(ty, f.node.name.node.as_str())
                        .filter(|t| t.composite)
                        .map(|t| t.named.clone());
                    if let Some(child) = child {
                        self.set(&mut f.node.selection_set, &child, depth + 1);
                    }
                }
                Selection::InlineFragment(i) => {
                    let inner = i
                        .node
                        .type_condition
                        .as_ref()
                        .map_or_else(|| ty.to_string(), |c| c.node.on.node.to_string());
                    self.set(&mut i.node.selection_set, &inner, depth + 1);
                }
                Selection::FragmentSpread(_) => {}
            }
            set.node.items.push(item);
        }
    }
}
