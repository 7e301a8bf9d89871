//! Letting an operation in and running it, for every door (`POST` and `GET /graphql`, the
//! WebSocket): the document parsed and checked against the limits, the operation run in the
//! caller's scope with the request's loaders, and its metrics.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_graphql::Request;
use async_graphql::parser::types::{DocumentOperations, OperationType};

use super::{AppState, persisted};
use crate::config::ExecutorMode;
use crate::graphql::batch::drive;
use crate::graphql::context::RequestContext;
use crate::graphql::exec::{self, reorder, rewrite};
use crate::graphql::loaders::Loaders;
use crate::graphql::{documents, input, limits};
use crate::metrics::OperationLabels;

/// A request error: the operation is refused before it runs.
fn request_error(err: async_graphql::ServerError) -> (async_graphql::Response, bool) {
    (async_graphql::Response::from_errors(vec![err]), false)
}

/// An operation let in: its document, type and cost.
pub(super) struct Admitted {
    pub parsed: Arc<documents::Parsed>,
    pub ty: OperationType,
    pub cost: u64,
    /// What the metrics count it under (its name and type).
    pub labels: OperationLabels,
}

/// A query or mutation [`admit`]ted, run for the caller `ctx` with loaders of its own (a
/// WebSocket's operations; the caller's scope is the task's), and whether it ran.
pub(super) async fn execute_admitted(
    state: &AppState,
    ctx: RequestContext,
    request: Request,
    admitted: &Admitted,
) -> (async_graphql::Response, bool) {
    let loaders = Loaders::new(state.services.clone(), ctx.viewer);
    let jobs = loaders.jobs.clone();
    let request = request.data(ctx).data(loaders);
    drive(&jobs, run(state, request, admitted)).await
}

/// Whether an operation ran: errors raised before execution (validation) have no path, and
/// leave no data; an operation whose every root field was skipped ran, with no data and no
/// error.
pub(super) fn ran(response: &async_graphql::Response) -> bool {
    response.data != async_graphql::Value::Null
        || response.errors.is_empty()
        || response.errors.iter().any(|e| !e.path.is_empty())
}

/// One operation, inside the query limits, and whether it ran. `read_only`: a GET request,
/// which runs queries only; `authenticated`: whether an operation of this HTTP request has
/// already claimed its one password check.
pub(super) async fn execute_one(
    state: &AppState,
    mut request: Request,
    read_only: bool,
    authenticated: &AtomicBool,
    first: &OnceLock<OperationLabels>,
) -> (async_graphql::Response, bool) {
    let started = Instant::now();
    let admitted = match admit(state, &mut request, read_only, authenticated).await {
        Ok(admitted) => admitted,
        Err(err) => {
            state.services.metrics.error(error_code(&err));
            return request_error(err);
        }
    };
    let _ = first.set(admitted.labels.clone());
    let (response, ran) = run(state, request, &admitted).await;
    observe(state, &admitted, started, &response);
    (response, ran)
}

/// The `extensions.code` of an error (`NONE` when it has none).
pub(super) fn error_code(err: &async_graphql::ServerError) -> &str {
    match err.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        Some(async_graphql::Value::Enum(code)) => code.as_str(),
        _ => "NONE",
    }
}

/// Counts an operation that ran, its time and its errors.
pub(super) fn observe(
    state: &AppState,
    admitted: &Admitted,
    started: Instant,
    response: &async_graphql::Response,
) {
    state.services.metrics.operation(
        &admitted.labels,
        started.elapsed(),
        response.errors.iter().map(error_code),
    );
}

/// What is checked of an operation before it runs: its document (persisted, parsed, within
/// the limits), that it names one operation that this transport may run, its variables, its
/// password checks and its cost. `request` gets the parsed document and the variables'
/// defaults.
pub(super) async fn admit(
    state: &AppState,
    request: &mut Request,
    read_only: bool,
    authenticated: &AtomicBool,
) -> Result<Admitted, async_graphql::ServerError> {
    persisted::resolve(state, request).await?;
    let limits = &state.graphql_limits;
    let parsed = limits::admit(limits, &state.documents, request)?;
    let Some(op) = reorder::operation(&parsed.doc, request.operation_name.as_deref()) else {
        let message = match &request.operation_name {
            Some(name) => format!("the document has no operation named `{name}`"),
            None => "the document holds several operations: name the one to run in `operationName`"
                .to_string(),
        };
        return Err(limits::with_code(
            async_graphql::ServerError::new(message, None),
            "BAD_REQUEST",
            None,
        ));
    };
    if read_only && op.ty != OperationType::Query {
        return Err(limits::with_code(
            async_graphql::ServerError::new(
                "mutations and subscriptions are not allowed over GET; use POST",
                None,
            ),
            "BAD_REQUEST",
            None,
        ));
    }
    // The spec's CoerceVariableValues fills in the defaults before anything runs (async-graphql
    // only reads them where a field argument names the variable, not in `@skip`/`@include`),
    // and refuses a request that leaves out a required variable.
    exec::with_defaults(&mut request.variables, &op.variable_definitions);
    if let Some(err) = input::missing_variable(op, &request.variables) {
        return Err(err);
    }
    if let Some(err) = input::nul_in_input(&parsed, &request.variables) {
        return Err(err);
    }
    limits::check_authentications(&parsed.doc, op, &request.variables, authenticated)?;
    let cost = exec::cost::of(&parsed.doc, op, &request.variables);
    limits::check_cost(limits, cost)?;
    let ty = op.ty;
    let name = request
        .operation_name
        .as_deref()
        .or_else(|| match &parsed.doc.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                ops.keys().next().map(|name| name.as_str())
            }
            _ => None,
        });
    let labels = state.services.metrics.labels(name, ty.into());
    Ok(Admitted {
        parsed,
        ty,
        cost,
        labels,
    })
}

/// Runs an admitted operation.
async fn run(
    state: &AppState,
    mut request: Request,
    admitted: &Admitted,
) -> (async_graphql::Response, bool) {
    let (parsed, cost) = (&admitted.parsed, admitted.cost);
    let limits = &state.graphql_limits;
    let variables = request.variables.clone();
    let operation_name = request.operation_name.clone();
    let resolvers = state.executor == ExecutorMode::Resolvers;
    let mut doc = rewrite::merged_mutation(&parsed.doc, operation_name.as_deref());
    if resolvers {
        let mut injected = doc.take().unwrap_or_else(|| parsed.doc.clone());
        rewrite::expand_union_conditions(&mut injected);
        rewrite::inject_typenames(&mut injected);
        doc = Some(injected);
    }
    if let Some(doc) = doc {
        request.set_parsed_query(doc);
    }
    let mut response = state.schema.execute(request).await;
    limits::give_codes(limits, &mut response);
    if !ran(&response) {
        return (response, false);
    }
    let operation_name = operation_name.as_deref();
    if resolvers {
        reorder::finish_resolved(&parsed.doc, operation_name, &variables, &mut response);
    } else {
        reorder::finish_root(&parsed.doc, operation_name, &variables, &mut response);
    }
    limits::report_cost(limits, cost, &mut response);
    (response, true)
}
