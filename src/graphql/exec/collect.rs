//! The spec's CollectFields: the fields a selection asks of an object of one type, grouped
//! by response key in the order keys first appear, with fragments expanded where their type
//! condition applies and `@skip`/`@include` applied. Fields of one key are merged later by
//! planning their selection sets together (MergeSelectionSets).

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{Directive, Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value, Variables};

use super::schema::SchemaInfo;

/// The fields of one response key.
pub(crate) struct Group<'a> {
    pub key: &'a str,
    /// Every field selected under the key, in document order; the first gives the name and
    /// the arguments (validation made them the same for all).
    pub fields: Vec<&'a Positioned<Field>>,
}

impl<'a> Group<'a> {
    pub(crate) fn name(&self) -> &'a str {
        self.fields[0].node.name.node.as_str()
    }

    /// The selection sets of every field of the key, to be planned as one.
    pub(crate) fn sets(&self) -> impl Iterator<Item = &'a Positioned<SelectionSet>> + '_ {
        self.fields.iter().map(|f| &f.node.selection_set)
    }
}

/// What collecting needs of the request: its fragments and variables.
#[derive(Clone, Copy)]
pub(crate) struct Document<'a> {
    pub fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// With the operation's defaults filled in.
    pub variables: &'a Variables,
}

/// Collects `sets` (the selections of one merged field, or of the operation) as asked of an
/// object of type `object`.
pub(crate) fn collect<'a>(
    doc: Document<'a>,
    info: &SchemaInfo,
    object: &str,
    sets: impl IntoIterator<Item = &'a Positioned<SelectionSet>>,
) -> Vec<Group<'a>> {
    let mut out = Collector {
        doc,
        info,
        object,
        groups: Vec::new(),
        index: HashMap::new(),
        visited: HashSet::new(),
    };
    for set in sets {
        out.set(set);
    }
    out.groups
}

struct Collector<'a, 'i> {
    doc: Document<'a>,
    info: &'i SchemaInfo,
    object: &'i str,
    groups: Vec<Group<'a>>,
    index: HashMap<&'a str, usize>,
    /// Fragment spreads already expanded: the spec expands each named fragment once.
    visited: HashSet<&'a str>,
}

impl<'a> Collector<'a, '_> {
    fn set(&mut self, set: &'a Positioned<SelectionSet>) {
        for selection in &set.node.items {
            if skipped(selection.node.directives(), self.doc.variables) {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    match self.index.get(key) {
                        Some(&i) => self.groups[i].fields.push(field),
                        None => {
                            self.index.insert(key, self.groups.len());
                            self.groups.push(Group {
                                key,
                                fields: vec![field],
                            });
                        }
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !self.visited.insert(name) {
                        continue;
                    }
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    if self.info.applies(self.object, on) {
                        self.set(&fragment.node.selection_set);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let applies = match &inline.node.type_condition {
                        Some(on) => self.info.applies(self.object, on.node.on.node.as_str()),
                        None => true,
                    };
                    if applies {
                        self.set(&inline.node.selection_set);
                    }
                }
            }
        }
    }
}

/// Whether `@skip(if: true)` or `@include(if: false)` leaves the selection out.
pub(crate) fn skipped(directives: &[Positioned<Directive>], variables: &Variables) -> bool {
    directives.iter().any(|d| {
        let include = match d.node.name.node.as_str() {
            "skip" => false,
            "include" => true,
            _ => return false,
        };
        let Some(arg) = d.node.get_argument("if") else {
            return false;
        };
        let value = arg
            .node
            .clone()
            .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
            .unwrap_or(Value::Null);
        // Validation made `if` a `Boolean!`.
        value == Value::Boolean(!include)
    })
}

/// `variables` with the defaults of the operation's variable definitions filled in where
/// the request gave none, as the spec's CoerceVariableValues does.
pub(crate) fn with_defaults(
    variables: &mut Variables,
    definitions: &[Positioned<async_graphql::parser::types::VariableDefinition>],
) {
    for def in definitions {
        let name = &def.node.name.node;
        if variables.contains_key(name) {
            continue;
        }
        if let Some(default) = &def.node.default_value {
            variables.insert(name.clone(), default.node.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    fn keys(query: &str, object: &str, variables: serde_json::Value) -> Vec<(String, usize)> {
        let doc = parse_query(query).unwrap();
        let op = match &doc.operations {
            DocumentOperations::Single(op) => op,
            DocumentOperations::Multiple(_) => panic!("one operation"),
        };
        let mut variables = Variables::from_json(variables);
        with_defaults(&mut variables, &op.node.variable_definitions);
        let info = crate::graphql::schema_info();
        let document = Document {
            fragments: &doc.fragments,
            variables: &variables,
        };
        // The operation's fields on Query, then the first field's selection on `object`.
        let root = collect(document, info, "Query", [&op.node.selection_set]);
        collect(document, info, object, root[0].sets())
            .iter()
            .map(|g| (g.key.to_string(), g.fields.len()))
            .collect()
    }

    #[test]
    fn keys_come_in_first_appearance_order_with_fragments_expanded_once() {
        let q = "{ node(id: \"x\") { ...F id ... on Media { filename a: id ...F }
                   ... on Album { name } ... on Node { id } } }
                 fragment F on Media { takenAt a: id }";
        let got = keys(q, "Media", serde_json::json!({}));
        assert_eq!(
            got,
            [
                ("takenAt".into(), 1),
                ("a".into(), 2),
                ("id".into(), 2),
                ("filename".into(), 1)
            ]
        );
        let album = keys(q, "Album", serde_json::json!({}));
        assert_eq!(album, [("id".into(), 2), ("name".into(), 1)]);
    }

    #[test]
    fn skip_and_include_use_the_variables_and_their_defaults() {
        let q = "query($s: Boolean = true, $i: Boolean!) { viewer {
                   a: id @skip(if: $s) b: id @include(if: $i) c: id @skip(if: false)
                   ... @include(if: $s) { d: id } } }";
        let got = keys(q, "User", serde_json::json!({ "i": false }));
        assert_eq!(got, [("c".into(), 1), ("d".into(), 1)]);
        let got = keys(q, "User", serde_json::json!({ "s": false, "i": true }));
        assert_eq!(got, [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)]);
    }
}
