//! `POST /graphql` (JSON) and `GET /graphql` (GraphiQL for browsers; queries only otherwise).

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::caller::request_context;
use super::negotiate::{self, Format};
use super::persisted;
use crate::config::ExecutorMode;
use crate::db::{self, Scope};
use crate::graphql::batch::drive;
use crate::graphql::context::RequestContext;
use crate::graphql::exec::{self, reorder};
use crate::graphql::json;
use crate::graphql::limits;
use crate::graphql::loaders::Loaders;
use crate::metrics::{self, SqlUse};

/// A refusal before GraphQL runs, shaped like a GraphQL error response in `format`.
pub(super) fn refuse(
    format: Format,
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    let content_type = header::HeaderValue::from_static(format.content_type());
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

/// 406: the client accepts no format we answer in.
fn not_acceptable() -> Response {
    refuse(
        Format::Json,
        StatusCode::NOT_ACCEPTABLE,
        "BAD_REQUEST",
        "accept `application/graphql-response+json` or `application/json`",
    )
}

/// The answers of a request: each operation's response and whether it ran (an operation
/// refused before it ran has no `data`, and makes the status 4xx in the GraphQL-over-HTTP
/// format). `revalidate`: the request's headers, for an answer the client may cache (see
/// [`cacheable`]); an unchanged one is `304 Not Modified` with no body.
fn graphql_response(
    format: Format,
    response: BatchResponse,
    executed: &[bool],
    revalidate: Option<&HeaderMap>,
) -> Response {
    let body = match json::response(&response, executed) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "a GraphQL response could not be serialised");
            return refuse(
                format,
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "the response could not be serialised",
            );
        }
    };
    let unavailable = match &response {
        BatchResponse::Single(r) if format == Format::GraphqlResponse => unavailable(r),
        _ => None,
    };
    let status = match (&response, executed) {
        _ if unavailable.is_some() => StatusCode::SERVICE_UNAVAILABLE,
        (BatchResponse::Single(_), [false]) if format == Format::GraphqlResponse => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    };
    let mut headers = response.http_headers();
    if let Some(secs) = unavailable {
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Some(request) = revalidate
        && cacheable(request, &body, &mut headers)
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(format.content_type()),
    );
    (status, headers, body).into_response()
}

/// When an answer with no data failed because the database was busy or unreachable: the
/// seconds to wait (GraphQL over HTTP answers such a request 503 with `Retry-After`).
fn unavailable(response: &async_graphql::Response) -> Option<u64> {
    use async_graphql::Value;
    if response.data != Value::Null {
        return None;
    }
    response.errors.iter().find_map(|err| {
        let ext = err.extensions.as_ref()?;
        let code = ext.get("code")?;
        (*code == Value::from("SERVICE_UNAVAILABLE")).then(|| match ext.get("retryAfter") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(1),
            _ => 1,
        })
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case("application/graphql-response+json")
        })
}

pub(crate) async fn graphql_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(format) = negotiate::format(&headers) else {
        return not_acceptable();
    };
    if let Some(content_type) = super::multipart::content_type(&headers) {
        return super::multipart::multipart(state, peer, &headers, content_type, body, format)
            .await;
    }
    if !is_json(&headers) {
        return refuse(
            format,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "send GraphQL requests as `Content-Type: application/json` (or multipart/form-data for uploads)",
        );
    }
    let bytes: Bytes = match axum::body::to_bytes(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
                format,
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                format!(
                    "the request body is larger than {} bytes",
                    state.limits.max_body_bytes
                ),
            );
        }
    };
    let batch = match parse_body(&bytes) {
        Ok(batch) => batch,
        Err(err) => {
            return refuse(
                format,
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                format!("the body is not a GraphQL request: {err}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch {
        let max = state.limits.max_batch;
        if requests.is_empty() || requests.len() > max {
            let message = if max == 0 {
                "batched requests are disabled on this server".to_string()
            } else {
                format!(
                    "a batch holds 1 to {max} operations, not {}",
                    requests.len()
                )
            };
            return refuse(format, StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message);
        }
    }
    execute(&state, &headers, peer, batch, format, false).await
}

pub(super) async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    batch: BatchRequest,
    format: Format,
    read_only: bool,
) -> Response {
    // The request's SQL, its caller's session check included.
    let sql = Arc::new(SqlUse::default());
    let ctx =
        metrics::measuring_sql(sql.clone(), request_context(state, headers, Some(peer))).await;
    let scope = Scope::of(ctx.viewer);
    let loaders = Loaders::new(state.services.clone(), ctx.viewer);
    let jobs = loaders.jobs.clone();
    let authenticated = AtomicBool::new(false);
    let first = OnceLock::new();
    let execution = async {
        match batch.data(ctx).data(loaders) {
            BatchRequest::Single(request) => {
                let (response, ran) =
                    execute_one(state, request, read_only, &authenticated, &first).await;
                (BatchResponse::Single(response), vec![ran])
            }
            BatchRequest::Batch(requests) => {
                let all = futures_util::future::join_all(
                    requests
                        .into_iter()
                        .map(|r| execute_one(state, r, read_only, &authenticated, &first)),
                )
                .await;
                let (responses, ran) = all.into_iter().unzip();
                (BatchResponse::Batch(responses), ran)
            }
        }
    };
    // Every statement of the request shows the database only the caller's rows.
    let (response, executed) =
        metrics::measuring_sql(sql.clone(), db::within(scope, drive(&jobs, execution))).await;
    if let Some((name, ty)) = first.get() {
        state
            .services
            .metrics
            .request_sql(name.as_deref(), (*ty).into(), &sql);
    }
    let cacheable = read_only
        && matches!(&response, BatchResponse::Single(r) if r.errors.is_empty() && executed == [true]);
    graphql_response(format, response, &executed, cacheable.then_some(headers))
}

/// The caching headers of a query answered over GET without errors: the client's own cache
/// may keep it (never a shared one: every answer here is one user's) and revalidate it by its
/// ETag. Whether the request's `If-None-Match` names this answer.
fn cacheable(request: &HeaderMap, body: &[u8], headers: &mut HeaderMap) -> bool {
    use sha2::{Digest, Sha256};
    // Weak: the compression layer may send it in another encoding.
    let etag = format!("W/\"{}\"", &hex::encode(Sha256::digest(body))[..32]);
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        header::HeaderValue::from_static("authorization, accept"),
    );
    let matched = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag.trim_start_matches("W/"))
        });
    if let Ok(value) = header::HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    matched
}

/// A request error: the operation is refused before it runs.
fn request_error(err: async_graphql::ServerError) -> (async_graphql::Response, bool) {
    (async_graphql::Response::from_errors(vec![err]), false)
}

/// An operation let in: its document, type and cost.
pub(super) struct Admitted {
    pub parsed: Arc<limits::Parsed>,
    pub ty: OperationType,
    pub cost: u64,
    /// The operation's name, for the metrics (none for an anonymous operation).
    pub name: Option<String>,
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
async fn execute_one(
    state: &AppState,
    mut request: Request,
    read_only: bool,
    authenticated: &AtomicBool,
    first: &OnceLock<(Option<String>, OperationType)>,
) -> (async_graphql::Response, bool) {
    let started = Instant::now();
    let admitted = match admit(state, &mut request, read_only, authenticated).await {
        Ok(admitted) => admitted,
        Err(err) => {
            state.services.metrics.error(error_code(&err));
            return request_error(err);
        }
    };
    let _ = first.set((admitted.name.clone(), admitted.ty));
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
        admitted.name.as_deref(),
        admitted.ty.into(),
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
    if let Some(err) = limits::missing_variable(op, &request.variables) {
        return Err(err);
    }
    if let Some(err) = limits::nul_in_input(&parsed, &request.variables) {
        return Err(err);
    }
    limits::check_authentications(&parsed.doc, op, &request.variables, authenticated)?;
    let cost = exec::cost::of(&parsed.doc, op, &request.variables);
    limits::check_cost(limits, cost)?;
    let ty = op.ty;
    let name = request
        .operation_name
        .clone()
        .or_else(|| match &parsed.doc.operations {
            DocumentOperations::Multiple(ops) if ops.len() == 1 => {
                ops.keys().next().map(|name| name.to_string())
            }
            _ => None,
        });
    Ok(Admitted {
        parsed,
        ty,
        cost,
        name,
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
    let mut doc = reorder::merged_mutation(&parsed.doc, operation_name.as_deref());
    if resolvers {
        let mut injected = doc.take().unwrap_or_else(|| parsed.doc.clone());
        reorder::expand_union_conditions(&mut injected);
        reorder::inject_typenames(&mut injected);
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

/// A GraphQL request as clients send it in JSON; a persisted document's id as `documentId` or
/// `doc_id`, either name clients give it.
#[derive(serde::Deserialize)]
pub(super) struct WireRequest {
    #[serde(default)]
    query: String,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, rename = "documentId", alias = "doc_id")]
    document_id: Option<String>,
}

impl From<WireRequest> for Request {
    fn from(wire: WireRequest) -> Self {
        let mut request = Request::new(wire.query);
        request.operation_name = wire.operation_name;
        if let Some(variables) = wire.variables {
            request.variables = async_graphql::Variables::from_json(variables);
        }
        for (k, v) in wire.extensions.unwrap_or_default() {
            request
                .extensions
                .insert(k, async_graphql::Value::from_json(v).unwrap_or_default());
        }
        if let Some(id) = wire.document_id {
            request.extensions.insert(
                persisted::DOCUMENT_ID.to_string(),
                async_graphql::Value::String(id),
            );
        }
        request
    }
}

/// One request (a JSON object) or a batch (a JSON array of them); nothing else.
fn parse_body(bytes: &[u8]) -> Result<BatchRequest, serde_json::Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let all: Vec<WireRequest> = serde_json::from_slice(bytes)?;
        Ok(BatchRequest::Batch(
            all.into_iter().map(Request::from).collect(),
        ))
    } else {
        serde_json::from_slice::<WireRequest>(bytes).map(|r| BatchRequest::Single(r.into()))
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Whether the operation a GET request would run is a query (mutations and subscriptions are
/// refused over GET). A document that does not parse is left to GraphQL to report.
fn is_read_only(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    let ty = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) => {
            // GraphQL itself refuses an ambiguous document; refuse it here already if any
            // operation in it writes.
            ops.values()
                .map(|op| op.node.ty)
                .find(|ty| *ty != OperationType::Query)
                .or(Some(OperationType::Query))
        }
    };
    ty.is_none_or(|ty| ty == OperationType::Query)
}

/// The parameters of a GET request (the GraphQL-over-HTTP names; `variables` and
/// `extensions` as JSON text).
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
    #[serde(rename = "documentId", alias = "doc_id")]
    document_id: Option<String>,
}

impl GetParams {
    fn into_request(self) -> Result<Request, String> {
        let json = |text: Option<String>, what: &str| -> Result<serde_json::Value, String> {
            match text {
                Some(t) => {
                    serde_json::from_str(&t).map_err(|e| format!("`{what}` is not JSON: {e}"))
                }
                None => Ok(serde_json::Value::Null),
            }
        };
        let variables = json(self.variables, "variables")?;
        let extensions = match json(self.extensions, "extensions")? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        };
        Ok(Request::from(WireRequest {
            query: self.query,
            operation_name: self.operation_name,
            variables: Some(variables),
            extensions,
            document_id: self.document_id,
        }))
    }
}

pub(crate) async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() && wants_html(&headers) {
        return super::graphiql::page();
    }
    let Some(format) = negotiate::format(&headers) else {
        return not_acceptable();
    };
    if raw.is_empty() {
        return refuse(
            format,
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "GET /graphql needs a `query` parameter (or open it in a browser for GraphiQL)",
        );
    }
    let params = serde_urlencoded_params(&raw).and_then(GetParams::into_request);
    let request = match params {
        Ok(request) => request,
        Err(err) => {
            return refuse(
                format,
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                format!("the query string is not a GraphQL request: {err}"),
            );
        }
    };
    // Parsed through the documents' cache, where executing it finds it again; a document
    // that does not parse is refused there.
    let read_only = match state.documents.parse(&request.query) {
        Ok(parsed) => is_read_only(&parsed.doc, request.operation_name.as_deref()),
        Err(_) => true,
    };
    if !read_only {
        let mut response = refuse(
            format,
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "mutations and subscriptions are not allowed over GET; use POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
        return response;
    }
    execute(
        &state,
        &headers,
        peer,
        BatchRequest::Single(request),
        format,
        true,
    )
    .await
}

fn serde_urlencoded_params(raw: &str) -> Result<GetParams, String> {
    let uri: axum::http::Uri = format!("/?{raw}").parse().map_err(|e| format!("{e}"))?;
    axum::extract::Query::<GetParams>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| e.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn ro(query: &str, operation_name: Option<&str>) -> bool {
        is_read_only(
            &async_graphql::parser::parse_query(query).unwrap(),
            operation_name,
        )
    }

    #[test]
    fn only_queries_are_read_only() {
        assert!(ro("{ viewer { id } }", None));
        assert!(ro("query Q { viewer { id } }", Some("Q")));
        assert!(!ro("mutation { logoutAll { revokedSessions } }", None));
        assert!(!ro(
            "query Q { viewer { id } } mutation M { logoutAll { revokedSessions } }",
            Some("M")
        ));
        assert!(!ro(
            "query Q { viewer { id } } mutation M { logoutAll { revokedSessions } }",
            None
        ));
        assert!(!ro("subscription { x }", None));
    }
}
