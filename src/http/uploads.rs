//! `PATCH` / `HEAD /uploads/{id}`: the byte transport of resumable uploads, with the semantics
//! of the tus core protocol (`Upload-Offset`, `application/offset+octet-stream`, 409 on an
//! offset mismatch). Only the session's owner reaches it; anyone else gets 404.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::AppState;
use super::caller::request_context;
use super::content::error_response;
use crate::db::{self, Scope};
use crate::error::AppError;
use crate::graphql::ids;
use crate::kinds::Kind;
use crate::metrics::UploadPath;
use crate::service::uploads::ChunkError;

const TUS_VERSION: &str = "1.0.0";

fn tus_headers(offset: Option<i64>, length: Option<i64>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(offset) = offset {
        h.insert("upload-offset", HeaderValue::from(offset));
    }
    if let Some(length) = length {
        h.insert("upload-length", HeaderValue::from(length));
    }
    h
}

/// The caller and the session id.
async fn caller_and_id(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    id: &str,
) -> Result<(Uuid, Uuid), AppError> {
    let viewer = request_context(state, headers, Some(peer))
        .await
        .signed_in()?;
    match ids::decode(id) {
        Some((Kind::Upload, upload)) => Ok((viewer, upload)),
        _ => Err(AppError::NotFound("no such upload".into())),
    }
}

pub(crate) async fn head_upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (viewer, upload) = match caller_and_id(&state, &headers, peer, &id).await {
        Ok(found) => found,
        Err(err) => return error_response(err),
    };
    let session = state.services.upload_session(viewer, upload);
    match db::within(Scope::User(viewer), session).await {
        Ok(session) => (
            StatusCode::OK,
            tus_headers(Some(session.upload_offset), Some(session.size)),
        )
            .into_response(),
        Err(err) => error_response(err),
    }
}

pub(crate) async fn patch_upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (viewer, upload) = match caller_and_id(&state, &headers, peer, &id).await {
        Ok(found) => found,
        Err(err) => return error_response(err),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.eq_ignore_ascii_case("application/offset+octet-stream") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            tus_headers(None, None),
            "chunks are sent as `Content-Type: application/offset+octet-stream`",
        )
            .into_response();
    }
    let Some(offset) = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|o| *o >= 0)
    else {
        return (
            StatusCode::BAD_REQUEST,
            tus_headers(None, None),
            "an `Upload-Offset` header with the byte offset of this chunk is required",
        )
            .into_response();
    };
    let body = body.into_data_stream();
    let started = std::time::Instant::now();
    let append = state.services.append_chunk(viewer, upload, offset, body);
    match db::within(Scope::User(viewer), append).await {
        Ok(new_offset) => {
            let bytes = (new_offset - offset).max(0) as u64;
            let metrics = &state.services.metrics;
            metrics.upload(UploadPath::resumable, bytes, started.elapsed());
            (StatusCode::NO_CONTENT, tus_headers(Some(new_offset), None)).into_response()
        }
        Err(ChunkError::NotFound) => (
            StatusCode::NOT_FOUND,
            tus_headers(None, None),
            "no such upload (it may have expired)",
        )
            .into_response(),
        Err(ChunkError::OffsetMismatch { current }) => (
            StatusCode::CONFLICT,
            tus_headers(Some(current), None),
            format!("the upload is at offset {current}, not {offset}"),
        )
            .into_response(),
        Err(ChunkError::TooLarge) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            tus_headers(None, None),
            "the chunk goes past the size declared in beginUpload",
        )
            .into_response(),
        Err(ChunkError::Internal(err)) => error_response(AppError::from(err)),
    }
}
