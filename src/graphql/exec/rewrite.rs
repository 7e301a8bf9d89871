//! Rewrites of a document before async-graphql's resolvers run it, so that what they answer
//! can be put in order and merged as the spec says ([`super::reorder`]): `__typename` added
//! to every selection set, a mutation selected twice under one key merged into one field, and
//! inline fragments on a union's member repeated under every type condition they apply to.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Value};

use super::reorder::{TYPENAME_KEY, operation};
use super::schema::SchemaInfo;
use super::schema_info;

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
