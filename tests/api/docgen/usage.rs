//! What a generated document uses, read back from its text (so the coverage test does not
//! trust the generator's own bookkeeping): the fields per type, the features, depth, aliases.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use async_graphql::Positioned;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, Selection, SelectionSet, VariableDefinition,
};
use serde_json::Value;

use super::Generated;
use super::schema::{Kind, SCHEMA, named};

/// What the documents must each often do.
pub(super) const FEATURES: &[&str] = &[
    "alias",
    "key repeated in one selection",
    "key both in a selection and in a fragment of it",
    "field both aliased and not",
    "key naming other fields on other types",
    "named fragment",
    "named fragment spread twice",
    "fragment spread inside a fragment",
    "fragment on an interface",
    "fragment on a union",
    "inline fragment without type condition",
    "inline fragment on another type",
    "__typename on an abstract type",
    "@skip",
    "@include",
    "directive with a variable",
    "variable",
    "variable defaulted and not given",
    "variable given over its default",
    "variable left out or null",
    "variable inside a list or object",
    "node(id:)",
    "nodes(ids:)",
    "traverse",
    "viewer",
];

/// What one document uses.
#[derive(Default)]
pub(super) struct Usage {
    /// (type, field) pairs.
    pub(super) fields: BTreeSet<(String, String)>,
    /// Which of [`FEATURES`] it has.
    pub(super) features: BTreeSet<&'static str>,
    /// Fields written (a fragment's once).
    pub(super) field_count: usize,
    /// Field nesting, fragments included.
    pub(super) depth: usize,
    pub(super) aliases: usize,
}

/// A walk over one document, with the types the schema gives each selection.
struct Reader<'d> {
    doc: &'d ExecutableDocument,
    usage: Usage,
    /// Spreads of each named fragment.
    spreads: BTreeMap<String, usize>,
    /// The fields each alias names.
    aliased: BTreeMap<String, BTreeSet<String>>,
}

impl Usage {
    pub(super) fn of(generated: &Generated) -> Usage {
        let doc =
            parse_query(&generated.query).unwrap_or_else(|e| panic!("{e}:\n{}", generated.query));
        let mut reader = Reader {
            doc: &doc,
            usage: Usage::default(),
            spreads: BTreeMap::new(),
            aliased: BTreeMap::new(),
        };
        for (_, op) in doc.operations.iter() {
            let set = &op.node.selection_set.node;
            reader.walk(&SCHEMA.query, set, false);
            reader.usage.depth = reader.usage.depth.max(depth(&doc, set));
            let definitions = &op.node.variable_definitions;
            reader.usage.variables(definitions, &generated.variables);
        }
        for (_, fragment) in doc.fragments.iter() {
            let on = fragment.node.type_condition.node.on.node.as_str();
            reader.usage.features.insert("named fragment");
            match SCHEMA.kind(on) {
                Kind::Interface => reader.usage.features.insert("fragment on an interface"),
                Kind::Union => reader.usage.features.insert("fragment on a union"),
                _ => false,
            };
            reader.walk(on, &fragment.node.selection_set.node, true);
        }
        let mut usage = reader.usage;
        if reader.spreads.values().any(|n| *n > 1) {
            usage.features.insert("named fragment spread twice");
        }
        if reader.aliased.values().any(|fields| fields.len() > 1) {
            usage
                .features
                .insert("key naming other fields on other types");
        }
        if generated.query.contains('$') {
            usage.features.insert("variable");
        }
        usage
    }

    /// Features of one selection: keys it repeats, keys it shares with its fragments,
    /// fields both aliased and not.
    fn merges(&mut self, set: &SelectionSet, fragment_keys: &[String]) {
        let keys = direct_keys(set);
        let unique: HashSet<&String> = keys.iter().collect();
        if unique.len() < keys.len() {
            self.features.insert("key repeated in one selection");
        }
        if fragment_keys.iter().any(|k| unique.contains(k)) {
            let feature = "key both in a selection and in a fragment of it";
            self.features.insert(feature);
        }
        let fields = set.items.iter().filter_map(|item| match &item.node {
            Selection::Field(f) => Some((f.node.alias.is_some(), f.node.name.node.as_str())),
            _ => None,
        });
        let (aliased, plain): (Vec<_>, Vec<_>) = fields.partition(|(aliased, _)| *aliased);
        if aliased
            .iter()
            .any(|(_, n)| plain.iter().any(|(_, m)| m == n))
        {
            self.features.insert("field both aliased and not");
        }
    }

    fn root_feature(&mut self, on: &str, field: &str) {
        if on != SCHEMA.query {
            return;
        }
        match field {
            "node" => self.features.insert("node(id:)"),
            "nodes" => self.features.insert("nodes(ids:)"),
            "traverse" => self.features.insert("traverse"),
            "viewer" => self.features.insert("viewer"),
            _ => false,
        };
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        for directive in directives {
            match directive.node.name.node.as_str() {
                "skip" => self.features.insert("@skip"),
                "include" => self.features.insert("@include"),
                _ => false,
            };
            let text = format!("{:?}", directive.node.arguments);
            if text.contains("Variable") {
                self.features.insert("directive with a variable");
            }
        }
    }

    fn variables(&mut self, definitions: &[Positioned<VariableDefinition>], given: &Value) {
        for def in definitions {
            let def = &def.node;
            let value = given.get(def.name.node.as_str());
            match (&def.default_value, value) {
                (Some(_), None) => self.features.insert("variable defaulted and not given"),
                (Some(_), Some(_)) => self.features.insert("variable given over its default"),
                (None, None | Some(Value::Null)) => {
                    self.features.insert("variable left out or null")
                }
                (None, Some(_)) => false,
            };
        }
    }
}

impl Reader<'_> {
    /// Reads `set`, a selection on `on`.
    fn walk(&mut self, on: &str, set: &SelectionSet, in_fragment: bool) {
        let mut fragment_keys = Vec::new();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => self.field(on, &field.node, in_fragment),
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    self.usage.directives(&inline.directives);
                    let inner = match &inline.type_condition {
                        None => {
                            let feature = "inline fragment without type condition";
                            self.usage.features.insert(feature);
                            on
                        }
                        Some(cond) if cond.node.on.node != on => {
                            self.usage
                                .features
                                .insert("inline fragment on another type");
                            cond.node.on.node.as_str()
                        }
                        Some(_) => on,
                    };
                    fragment_keys.extend(direct_keys(&inline.selection_set.node));
                    self.walk(inner, &inline.selection_set.node, in_fragment);
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    self.usage.directives(&spread.directives);
                    if in_fragment {
                        self.usage
                            .features
                            .insert("fragment spread inside a fragment");
                    }
                    let fragment = &self.doc.fragments[&spread.fragment_name.node];
                    fragment_keys.extend(direct_keys(&fragment.node.selection_set.node));
                    let name = spread.fragment_name.node.to_string();
                    *self.spreads.entry(name).or_default() += 1;
                }
            }
        }
        self.usage.merges(set, &fragment_keys);
    }

    fn field(&mut self, on: &str, field: &Field, in_fragment: bool) {
        let name = field.name.node.as_str();
        let usage = &mut self.usage;
        usage.field_count += 1;
        usage.directives(&field.directives);
        if let Some(alias) = &field.alias {
            usage.aliases += 1;
            usage.features.insert("alias");
            let fields = self.aliased.entry(alias.node.to_string()).or_default();
            fields.insert(name.to_string());
        }
        // A list or object literal with a variable inside (the parser's values are not
        // public, their text is).
        let nested = |text: String| text.starts_with(['[', '{']) && text.contains('$');
        if field
            .arguments
            .iter()
            .any(|(_, v)| nested(v.node.to_string()))
        {
            usage.features.insert("variable inside a list or object");
        }
        usage.root_feature(on, name);
        let def = SCHEMA.get(on);
        if name == "__typename" && def.kind != Kind::Object {
            usage.features.insert("__typename on an abstract type");
        }
        let field_def = def.fields.iter().find(|f| f.name == name);
        let field_def = field_def.unwrap_or_else(|| panic!("{on} has no field {name}"));
        usage.fields.insert((on.to_string(), name.to_string()));
        let ty = named(&field_def.ty);
        let has_body = !field.selection_set.node.items.is_empty();
        assert_eq!(has_body, SCHEMA.is_composite(ty), "{on}.{name}");
        if has_body {
            self.walk(ty, &field.selection_set.node, in_fragment);
        }
    }
}

/// The response keys of the fields directly in `set`.
fn direct_keys(set: &SelectionSet) -> Vec<String> {
    set.items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(f) => Some(f.node.response_key().node.to_string()),
            _ => None,
        })
        .collect()
}

/// Field nesting, fragments included, as the server's depth limit counts it.
fn depth(doc: &ExecutableDocument, set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => 1 + depth(doc, &f.node.selection_set.node),
            Selection::InlineFragment(i) => depth(doc, &i.node.selection_set.node),
            Selection::FragmentSpread(s) => depth(
                doc,
                &doc.fragments[&s.node.fragment_name.node]
                    .node
                    .selection_set
                    .node,
            ),
        })
        .max()
        .unwrap_or(0)
}
