//! Persisted documents in requests: automatic persisted queries (Apollo's `persistedQuery`
//! extension with the SHA-256 of the text: the hash alone runs a known document, the hash
//! with the text registers it), documents by id (Relay's `doc_id`, GraphQL over HTTP's
//! `documentId`), and the trusted mode, which runs only the operator's documents.

use async_graphql::{Request, ServerError, Value};

use super::AppState;
use crate::config::DocumentsMode;
use crate::graphql::limits::with_code;
use crate::service::documents::sha256_id;

/// The key under which a request's document id travels in its extensions (set when the body
/// or the query string names one).
pub(crate) const DOCUMENT_ID: &str = "documentId";

fn error(code: &str, message: &str) -> ServerError {
    with_code(ServerError::new(message, None), code, None)
}

/// A service failure (the database busy, say) as a request error, with its code.
fn failed(err: crate::error::AppError) -> ServerError {
    async_graphql::Error::from(err).into_server_error(Default::default())
}

/// The Apollo client's persisted-query link retries with the text on this exact message.
fn not_found() -> ServerError {
    error("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
}

fn trusted_only() -> ServerError {
    error(
        "TRUSTED_DOCUMENT_REQUIRED",
        "this server runs only trusted documents: send the id of one the operator added",
    )
}

/// Puts the text of the request's persisted document in `request.query` (registering a new
/// one), or refuses it.
pub(crate) async fn resolve(state: &AppState, request: &mut Request) -> Result<(), ServerError> {
    let trusted_mode = state.documents_mode == DocumentsMode::Trusted;
    let document_id = match request.extensions.remove(DOCUMENT_ID) {
        Some(Value::String(id)) => Some(id),
        _ => None,
    };
    let hash = match request.extensions.get("persistedQuery") {
        Some(Value::Object(pq)) => {
            if pq.get("version") != Some(&Value::from(1)) {
                return Err(error(
                    "PERSISTED_QUERY_NOT_SUPPORTED",
                    "only version 1 of persisted queries is supported",
                ));
            }
            match pq.get("sha256Hash") {
                Some(Value::String(h)) => Some(h.to_ascii_lowercase()),
                _ => return Err(error("BAD_REQUEST", "`persistedQuery` has no `sha256Hash`")),
            }
        }
        _ => None,
    };
    let lookup = |id: String| async move {
        let svc = &state.services;
        match svc.persisted_document(&id, trusted_mode).await {
            Ok(Some(doc)) if doc.trusted || !trusted_mode => Ok(doc.body.clone()),
            Ok(_) => Err(not_found()),
            Err(e) => Err(failed(e)),
        }
    };
    if let Some(id) = document_id {
        request.query = lookup(id).await?;
        return Ok(());
    }
    match hash {
        Some(hash) if request.query.is_empty() => {
            request.query = lookup(hash).await?;
            Ok(())
        }
        Some(hash) => {
            if sha256_id(&request.query) != hash {
                return Err(error(
                    "BAD_REQUEST",
                    "`sha256Hash` is not the SHA-256 of the query",
                ));
            }
            if trusted_mode {
                lookup(hash).await.map(|_| ()).map_err(|_| trusted_only())
            } else {
                state
                    .services
                    .register_document(&request.query)
                    .await
                    .map_err(failed)
            }
        }
        None if trusted_mode && !request.query.is_empty() => {
            // The text of a trusted document runs too (its id being its SHA-256).
            lookup(sha256_id(&request.query))
                .await
                .map(|_| ())
                .map_err(|_| trusted_only())
        }
        None => Ok(()),
    }
}
