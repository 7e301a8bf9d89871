//! `POST /graphql` (JSON) and `GET /graphql` (GraphiQL for browsers; queries only otherwise).

use std::net::SocketAddr;

use async_graphql::ParseRequestError;
use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Request};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::json;
use tokio_util::compat::TokioAsyncReadCompatExt;

use super::AppState;
use super::caller::request_context;
use super::paced::Paced;
use crate::config::ExecutorMode;
use crate::graphql::batch::drive;
use crate::graphql::exec::{self, reorder};
use crate::graphql::json;
use crate::graphql::limits;
use crate::graphql::loaders::Loaders;

/// Most files one multipart request may carry.
const MAX_FILES_PER_REQUEST: usize = 10;

/// A refusal before GraphQL runs, shaped like a GraphQL error response.
fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

fn graphql_response(response: BatchResponse) -> Response {
    let body = match json::response(&response) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "a GraphQL response could not be serialised");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "the response could not be serialised",
            );
        }
    };
    let mut headers = response.http_headers();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    (headers, body).into_response()
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
    if let Some(content_type) = multipart_content_type(&headers) {
        return multipart(state, peer, &headers, content_type, body).await;
    }
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "send GraphQL requests as `Content-Type: application/json` (or multipart/form-data for uploads)",
        );
    }
    let bytes: Bytes = match axum::body::to_bytes(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
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
            return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message);
        }
    }
    execute(&state, &headers, peer, batch).await
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    batch: BatchRequest,
) -> Response {
    let ctx = request_context(state, headers, Some(peer));
    let loaders = Loaders::new(state.services.clone(), ctx.viewer);
    let jobs = loaders.jobs.clone();
    let execution = async {
        match batch.data(ctx).data(loaders) {
            BatchRequest::Single(request) => {
                BatchResponse::Single(execute_one(state, request).await)
            }
            BatchRequest::Batch(requests) => BatchResponse::Batch(
                futures_util::future::join_all(requests.into_iter().map(|r| execute_one(state, r)))
                    .await,
            ),
        }
    };
    graphql_response(drive(&jobs, execution).await)
}

/// One operation, inside the query limits.
async fn execute_one(state: &AppState, mut request: Request) -> async_graphql::Response {
    let limits = &state.graphql_limits;
    let parsed = match limits::admit(limits, &state.documents, &mut request) {
        Ok(parsed) => parsed,
        Err(refusal) => return async_graphql::Response::from_errors(vec![refusal]),
    };
    // The spec's CoerceVariableValues fills in the defaults before anything runs (async-graphql
    // only reads them where a field argument names the variable, not in `@skip`/`@include`).
    if let Some(op) = reorder::operation(&parsed.doc, request.operation_name.as_deref()) {
        exec::with_defaults(&mut request.variables, &op.variable_definitions);
    }
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
    let operation_name = operation_name.as_deref();
    if resolvers {
        reorder::finish_resolved(&parsed.doc, operation_name, &variables, &mut response);
    } else {
        reorder::finish_root(&parsed.doc, operation_name, &variables, &mut response);
    }
    response
}

fn multipart_content_type(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = content_type.split(';').next()?.trim();
    mime.eq_ignore_ascii_case("multipart/form-data")
        .then(|| content_type.to_string())
}

/// A GraphQL multipart request (uploads): files are streamed to temporary files as they
/// arrive, each bounded by the upload limit.
async fn multipart(
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    content_type: String,
    body: Body,
) -> Response {
    let stream = Paced::new(body.into_data_stream()).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream).compat();
    let options = MultipartOptions::default()
        .max_file_size(usize::try_from(state.services.max_upload_bytes).unwrap_or(usize::MAX))
        .max_num_files(MAX_FILES_PER_REQUEST);
    let batch = match async_graphql::http::receive_batch_body(Some(content_type), reader, options)
        .await
    {
        Ok(batch) => batch,
        Err(ParseRequestError::PayloadTooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                format!(
                    "an uploaded file is larger than this server's limit of {} bytes (or more than {MAX_FILES_PER_REQUEST} files were sent)",
                    state.services.max_upload_bytes
                ),
            );
        }
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                format!("the body is not a GraphQL multipart request: {err}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > state.limits.max_batch.max(1)
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "too many operations in one multipart request",
        );
    }
    execute(&state, headers, peer, batch).await
}

/// One request (a JSON object) or a batch (a JSON array of them); nothing else.
fn parse_body(bytes: &[u8]) -> Result<BatchRequest, serde_json::Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        serde_json::from_slice::<Vec<Request>>(bytes).map(BatchRequest::Batch)
    } else {
        serde_json::from_slice::<Request>(bytes).map(BatchRequest::Single)
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
fn is_read_only(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return true;
    };
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

pub(crate) async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        if wants_html(&headers) {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .title("Hypernet GraphiQL")
                    .finish(),
            )
            .into_response();
        }
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "GET /graphql needs a `query` parameter (or open it in a browser for GraphiQL)",
        );
    }
    let request = match async_graphql::http::parse_query_string(&raw) {
        Ok(request) => request,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                format!("the query string is not a GraphQL request: {err}"),
            );
        }
    };
    if !is_read_only(&request.query, request.operation_name.as_deref()) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "mutations and subscriptions are not allowed over GET; use POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
        return response;
    }
    execute(&state, &headers, peer, BatchRequest::Single(request)).await
}

#[cfg(test)]
mod tests {
    use super::is_read_only;

    #[test]
    fn only_queries_are_read_only() {
        assert!(is_read_only("{ viewer { id } }", None));
        assert!(is_read_only("query Q { viewer { id } }", Some("Q")));
        assert!(!is_read_only(
            "mutation { logoutAll { revokedSessions } }",
            None
        ));
        assert!(!is_read_only(
            "query Q { viewer { id } } mutation M { logoutAll { revokedSessions } }",
            Some("M")
        ));
        assert!(!is_read_only(
            "query Q { viewer { id } } mutation M { logoutAll { revokedSessions } }",
            None
        ));
        assert!(!is_read_only("subscription { x }", None));
    }
}
