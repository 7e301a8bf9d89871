//! Checks of a request's input made before anything runs: every required variable is given,
//! and no text (a variable's strings and keys, an argument's string literals) holds a NUL
//! character, which PostgreSQL cannot store.

use async_graphql::parser::types::{OperationDefinition, Selection, SelectionSet};
use async_graphql::{ServerError, Value};

use crate::graphql::documents::Parsed;
use crate::graphql::limits::with_code;

/// The error of a required variable (non-null, with no default) the request leaves out or
/// sends as null: a request error, before anything runs, as the spec's CoerceVariableValues
/// has it (async-graphql would find it only where the variable is used, and as a field error).
pub(crate) fn missing_variable(
    op: &OperationDefinition,
    variables: &async_graphql::Variables,
) -> Option<ServerError> {
    op.variable_definitions.iter().find_map(|def| {
        let def = &def.node;
        let given = variables
            .get(&def.name.node)
            .is_some_and(|v| *v != async_graphql::Value::Null);
        (!def.var_type.node.nullable && def.default_value.is_none() && !given).then(|| {
            let err = ServerError::new(
                format!(
                    "Variable \"${}\" of required type \"{}\" was not provided.",
                    def.name.node, def.var_type.node
                ),
                Some(def.name.pos),
            );
            with_code(err, "BAD_USER_INPUT", None)
        })
    })
}

/// Runs `check` one step further along `path`, and keeps the step only where it found.
fn at(path: &mut Vec<String>, step: String, check: impl FnOnce(&mut Vec<String>) -> bool) -> bool {
    path.push(step);
    let found = check(path);
    if !found {
        path.pop();
    }
    found
}

/// Whether `v` holds a NUL character in a string or an object key; `path` leads to it.
fn nul_in(path: &mut Vec<String>, v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items
            .iter()
            .enumerate()
            .any(|(i, item)| at(path, i.to_string(), |p| nul_in(p, item))),
        Value::Object(fields) => fields.iter().any(|(k, item)| {
            at(path, k.escape_debug().to_string(), |p| {
                k.contains('\0') || nul_in(p, item)
            })
        }),
        _ => false,
    }
}

/// The path of the first argument literal of `set` (fragments' own sets are visited by the
/// caller) that holds a NUL character.
pub(super) fn nul_in_literals(path: &mut Vec<String>, set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            field.node.arguments.iter().any(|(name, arg)| {
                // Variables inside are checked with the variables.
                at(path, name.node.to_string(), |p| {
                    arg.node.clone().into_const().is_some_and(|v| nul_in(p, &v))
                })
            }) || nul_in_literals(path, &field.node.selection_set.node)
        }
        Selection::InlineFragment(f) => nul_in_literals(path, &f.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

/// Refuses text PostgreSQL cannot store (a NUL character, in `text` and in `jsonb` alike)
/// anywhere in the input: every string and object key of the variables, and every string
/// literal of the document's arguments (found once, when the document is parsed). On SQLite
/// too, so both backends answer alike. The error names the variable or argument path
/// (`input.email`).
pub(crate) fn nul_in_input(
    parsed: &Parsed,
    variables: &async_graphql::Variables,
) -> Option<ServerError> {
    let mut path = Vec::new();
    let field = if variables
        .iter()
        .any(|(name, v)| at(&mut path, name.to_string(), |p| nul_in(p, v)))
    {
        path.join(".")
    } else {
        parsed.shape.nul_literal.clone()?
    };
    let mut err = with_code(
        ServerError::new(
            format!("`{field}` holds a NUL character (U+0000), which no text may contain"),
            None,
        ),
        "BAD_USER_INPUT",
        None,
    );
    if let Some(ext) = err.extensions.as_mut() {
        ext.set("field", field);
    }
    Some(err)
}
