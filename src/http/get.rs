//! `GET /graphql`: GraphiQL for a browser, and queries (never mutations) for other clients,
//! with their variables and extensions in the URL, answered as `POST` answers them.

use std::net::SocketAddr;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, Request};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::graphql::{WireRequest, execute, not_acceptable, refuse};
use super::negotiate;

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
