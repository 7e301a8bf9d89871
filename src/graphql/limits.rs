//! Bounds on what one query document may ask for, checked before any resolver runs: aliases
//! and introspection when the document is parsed, depth when it is validated, and its cost
//! (see `exec::cost`) before it runs.
//! Every refusal carries `extensions.code` and, for limits, `extensions.limit`.
//!
//! This is deliberately not an async-graphql extension: with any extension installed,
//! async-graphql routes every field of every object through the extension chain (a boxed
//! future and a type-name lookup per field), a cost every field of a large page would pay.
//! The HTTP layer calls [`admit`] before and [`give_codes`] after the execution instead.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Value};
use lru::LruCache;

use crate::config::Config;

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub introspection: bool,
}

impl Limits {
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_aliases: config.max_aliases,
            introspection: config.introspection,
        }
    }
}

/// Sets `extensions.code` (and `extensions.limit`) on a server error.
pub(crate) fn with_code(mut err: ServerError, code: &str, limit: Option<&str>) -> ServerError {
    set_code(&mut err, code, limit);
    bound_message(&mut err);
    err
}

/// Cuts a message longer than [`MAX_MESSAGE`] bytes.
fn bound_message(err: &mut ServerError) {
    if err.message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !err.message.is_char_boundary(end) {
            end -= 1;
        }
        err.message.truncate(end);
        err.message.push('…');
    }
}

fn set_code(err: &mut ServerError, code: &str, limit: Option<&str>) {
    let ext = err
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    ext.set("code", code);
    if let Some(limit) = limit {
        ext.set("limit", limit);
    }
}

fn refuse(message: String, limit: &str) -> ServerError {
    with_code(
        ServerError::new(message, None),
        "BAD_USER_INPUT",
        Some(limit),
    )
}

/// Parsed documents by their text, most recently used kept. Clients send the same few
/// documents again and again with new variables, and parsing one (async-graphql's parser is
/// built on pest) was a tenth of the server's CPU on a `node(id:)` lookup.
pub(crate) struct Documents(Mutex<LruCache<String, Arc<Parsed>>>);

/// A parsed document and what the limits need to know of it.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub doc: ExecutableDocument,
    shape: DocumentShape,
}

impl Documents {
    /// How many documents are kept.
    const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).unwrap();
    /// Longer documents are parsed each time: they are rare, and would crowd the cache.
    const MAX_TEXT: usize = 8 * 1024;

    pub(crate) fn new() -> Self {
        Self(Mutex::new(LruCache::new(Self::CAPACITY)))
    }

    /// The parse of `query`, from the cache or parsed now (and kept when it parses).
    pub(crate) fn parse(&self, query: &str) -> Result<Arc<Parsed>, ServerError> {
        let cache = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(parsed) = cache().get(query) {
            return Ok(parsed.clone());
        }
        let doc = async_graphql::parser::parse_query(query)
            .map_err(|e| with_code(e.into(), "GRAPHQL_PARSE_FAILED", None))?;
        let parsed = Arc::new(Parsed {
            shape: DocumentShape::of(&doc),
            doc,
        });
        if query.len() <= Self::MAX_TEXT {
            cache().put(query.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Parses `request` (through `documents`; the document is put in the request, so async-graphql
/// does not parse it again) and checks what the parse shows: aliases and introspection. `Err`
/// is the error to answer instead of running it.
pub(crate) fn admit(
    limits: &Limits,
    documents: &Documents,
    request: &mut Request,
) -> Result<Arc<Parsed>, ServerError> {
    let parsed = documents.parse(&request.query)?;
    let shape = &parsed.shape;
    if shape.aliases > limits.max_aliases {
        return Err(refuse(
            format!(
                "the query uses {} aliases; at most {} are allowed",
                shape.aliases, limits.max_aliases
            ),
            "aliases",
        ));
    }
    if !limits.introspection && shape.introspects {
        return Err(refuse(
            "introspection is disabled on this server".into(),
            "introspection",
        ));
    }
    request.set_parsed_query(parsed.doc.clone());
    Ok(parsed)
}

/// async-graphql's own message for its depth limit (`limit_depth` on the schema), checked
/// during validation.
const TOO_DEEP: &str = "Query is nested too deep.";

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
fn nul_in_literals(path: &mut Vec<String>, set: &SelectionSet) -> bool {
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

/// The mutations that check a password (argon2): one of them per HTTP request, batch or not.
const AUTHENTICATION: [&str; 4] = ["login", "register", "refreshSession", "changePassword"];

/// How many authentication mutations `op` runs: its root fields as CollectFields gathers
/// them (fragments expanded, `@skip`/`@include` applied, one per response key).
pub(crate) fn authentications(
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    variables: &async_graphql::Variables,
) -> usize {
    use crate::graphql::exec::{collect, schema_info};
    let info = schema_info();
    let (OperationType::Mutation, Some(mutation)) = (op.ty, info.mutation.as_deref()) else {
        return 0;
    };
    let doc = collect::Document {
        fragments: &doc.fragments,
        variables,
    };
    collect::collect(doc, info, mutation, [&op.selection_set])
        .iter()
        .filter(|group| AUTHENTICATION.contains(&group.name()))
        .count()
}

/// Refuses a second authentication mutation in one HTTP request; `claimed` is that request's.
pub(crate) fn check_authentications(
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    variables: &async_graphql::Variables,
    claimed: &std::sync::atomic::AtomicBool,
) -> Result<(), ServerError> {
    let n = authentications(doc, op, variables);
    let again = n == 1 && claimed.swap(true, std::sync::atomic::Ordering::AcqRel);
    if n > 1 || again {
        return Err(refuse(
            "one sign-in mutation (`login`, `register`, `refreshSession`, `changePassword`) \
             per request: send the others in requests of their own"
                .into(),
            "authentication",
        ));
    }
    Ok(())
}

/// Refuses a document whose cost (see [`crate::graphql::exec::cost`]) is above the limit.
pub(crate) fn check_cost(limits: &Limits, cost: u64) -> Result<(), ServerError> {
    if cost <= limits.max_complexity as u64 {
        return Ok(());
    }
    Err(refuse(
        format!(
            "the query's cost is {cost}, above this server's limit of {}: each object counts \
             1, and a page counts its size times what one item selects; ask for smaller pages",
            limits.max_complexity
        ),
        "complexity",
    ))
}

/// Tells the client what the request cost: `extensions.cost { requested limit }`.
pub(crate) fn report_cost(limits: &Limits, cost: u64, response: &mut Response) {
    let mut report = async_graphql::indexmap::IndexMap::new();
    report.insert(async_graphql::Name::new("requested"), Value::from(cost));
    report.insert(
        async_graphql::Name::new("limit"),
        Value::from(limits.max_complexity as u64),
    );
    response
        .extensions
        .insert("cost".to_string(), Value::Object(report));
}

/// The longest error message sent: a parse error quotes the line it failed on, and a line can
/// be a whole body.
const MAX_MESSAGE: usize = 1024;

/// Gives a code to every error async-graphql raised itself: its limits, its validation (which
/// runs before anything executes, so those errors have no path) and the errors it raises while
/// executing (an argument that cannot be coerced, say).
pub(crate) fn give_codes(limits: &Limits, response: &mut Response) {
    for err in &mut response.errors {
        bound_message(err);
        let has_code = err
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if has_code {
            continue;
        }
        let (code, limit) = if err.message == TOO_DEEP {
            err.message = format!(
                "the query is nested more than {} levels deep",
                limits.max_depth
            );
            ("BAD_USER_INPUT", Some("depth"))
        } else if err.path.is_empty() {
            if !limits.introspection {
                // The validator's messages name the schema's types and fields; a server that
                // keeps its schema to itself says only where the document is wrong.
                err.message = "the document is not valid against this server's schema \
                               (introspection is off, so details are not shown)"
                    .into();
            }
            ("GRAPHQL_VALIDATION_FAILED", None)
        } else {
            ("BAD_USER_INPUT", None)
        };
        set_code(err, code, limit);
    }
}

/// What the limits need to know of a parsed document.
#[derive(Debug, Default, PartialEq, Eq)]
struct DocumentShape {
    aliases: usize,
    introspects: bool,
    /// The path of an argument literal holding a NUL character, if one does.
    nul_literal: Option<String>,
}

impl DocumentShape {
    fn of(doc: &ExecutableDocument) -> Self {
        let mut shape = DocumentShape::default();
        let sets = || {
            doc.operations
                .iter()
                .map(|(_, op)| &op.node.selection_set.node)
                .chain(doc.fragments.values().map(|f| &f.node.selection_set.node))
        };
        for set in sets() {
            shape.visit(set);
        }
        let mut path = Vec::new();
        if sets().any(|set| nul_in_literals(&mut path, set)) {
            shape.nul_literal = Some(path.join("."));
        }
        shape
    }

    fn visit(&mut self, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.alias.is_some() {
                        self.aliases += 1;
                    }
                    if matches!(field.name.node.as_str(), "__schema" | "__type") {
                        self.introspects = true;
                    }
                    self.visit(&field.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.visit(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> DocumentShape {
        DocumentShape::of(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn aliases_are_counted_everywhere() {
        let q = "query { a: viewer { b: id } ...F ... on Query { c: viewer { id } } }
                 fragment F on Query { d: viewer { id } }";
        assert_eq!(shape(q).aliases, 4);
        assert!(!shape(q).introspects);
    }

    #[test]
    fn a_nul_in_a_literal_is_found_once_with_its_path() {
        let q = r#"{ ...F } fragment F on Query { nodes(ids: ["ok", "a\u0000"]) { id } }"#;
        assert_eq!(shape(q).nul_literal.as_deref(), Some("ids.1"));
        let q = r#"mutation { createAlbum(input: { name: "x\u0000" }) { album { id } } }"#;
        assert_eq!(shape(q).nul_literal.as_deref(), Some("input.name"));
        assert_eq!(shape("{ viewer { id } }").nul_literal, None);
    }

    fn limits() -> Limits {
        Limits {
            max_depth: 10,
            max_complexity: 1000,
            max_aliases: 1,
            introspection: false,
        }
    }

    #[test]
    fn documents_are_parsed_once_and_checked_every_time() {
        let documents = Documents::new();
        let query = "query Q { viewer { id } }";
        for _ in 0..3 {
            let mut request = Request::new(query);
            admit(&limits(), &documents, &mut request).unwrap();
            let doc = request.parsed_query().unwrap();
            let fresh = async_graphql::parser::parse_query(query).unwrap();
            assert_eq!(format!("{doc:?}"), format!("{fresh:?}"));
        }
        assert_eq!(documents.len(), 1);
        let (first, again) = (documents.parse(query), documents.parse(query));
        assert!(
            Arc::ptr_eq(&first.unwrap(), &again.unwrap()),
            "parsed again"
        );

        // A kept document is refused each time it breaks a limit.
        let aliased = "{ a: viewer { b: id } }";
        for _ in 0..2 {
            let err = admit(&limits(), &documents, &mut Request::new(aliased)).unwrap_err();
            assert_eq!(code(&err), "BAD_USER_INPUT");
        }
        assert_eq!(documents.len(), 2);

        // What does not parse is not kept.
        let err = admit(&limits(), &documents, &mut Request::new("{ viewer { ")).unwrap_err();
        assert_eq!(code(&err), "GRAPHQL_PARSE_FAILED");
        assert_eq!(documents.len(), 2);
    }

    fn code(err: &ServerError) -> &str {
        let ext = err.extensions.as_ref().unwrap();
        match ext.get("code") {
            Some(async_graphql::Value::String(code)) => code,
            other => panic!("no code: {other:?}"),
        }
    }

    #[test]
    fn introspection_is_found_inside_fragments() {
        assert!(shape("{ ...F } fragment F on Query { __schema { types { name } } }").introspects);
        assert!(shape("{ x: __type(name: \"User\") { name } }").introspects);
        assert!(!shape("{ __typename }").introspects);
    }
}
