//! Bounds on what one query document may ask for, checked before any resolver runs: aliases
//! and introspection when the document is parsed, depth when it is validated, and its cost
//! (see `exec::cost`) before it runs.
//! Every refusal carries `extensions.code` and, for limits, `extensions.limit`.
//!
//! This is deliberately not an async-graphql extension: with any extension installed,
//! async-graphql routes every field of every object through the extension chain (a boxed
//! future and a type-name lookup per field), a cost every field of a large page would pay.
//! The HTTP layer calls [`admit`] before and [`give_codes`] after the execution instead.

use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Value};

use crate::config::Config;
use crate::graphql::documents::{Documents, Parsed};

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
