//! `POST /graphql` (JSON) and `GET /graphql` (GraphiQL for browsers; queries only otherwise).

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use async_graphql::{BatchRequest, BatchResponse, Request};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::admission::execute_one;
use super::caller::request_context;
use super::negotiate::{self, Format};
use super::persisted;
use crate::db::{self, Scope};
use crate::graphql::batch::drive;
use crate::graphql::json;
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
pub(super) fn not_acceptable() -> Response {
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
    if let Some(labels) = first.get() {
        state.services.metrics.request_sql(labels, &sql);
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

/// A GraphQL request as clients send it in JSON; a persisted document's id as `documentId` or
/// `doc_id`, either name clients give it.
#[derive(serde::Deserialize)]
pub(super) struct WireRequest {
    #[serde(default)]
    pub(super) query: String,
    #[serde(default, rename = "operationName")]
    pub(super) operation_name: Option<String>,
    #[serde(default)]
    pub(super) variables: Option<serde_json::Value>,
    #[serde(default)]
    pub(super) extensions: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, rename = "documentId", alias = "doc_id")]
    pub(super) document_id: Option<String>,
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
