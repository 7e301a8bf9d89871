//! `GET /media/{id}/content`: the bytes of a media, by bearer token or signed URL, with Range
//! requests, ETag and the right Content-Type.

use std::net::SocketAddr;
use std::ops::Range;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::caller::request_context;
use crate::error::AppError;
use crate::graphql::ids;
use crate::kinds::Kind;
use crate::service::content::ContentAccess;

#[derive(Deserialize)]
pub(crate) struct Signature {
    exp: Option<i64>,
    sig: Option<String>,
}

fn status_for(err: &AppError) -> StatusCode {
    match err {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::CursorExpired(_) => StatusCode::GONE,
        AppError::QuotaExceeded(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::RateLimited { .. } | AppError::TooManySubscriptions(_) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        AppError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The plain-text answer of the content and upload routes to `err`, with `Retry-After`
/// where the server can say when to come back.
pub(crate) fn error_response(err: AppError) -> Response {
    match &err {
        AppError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error")
        }
        AppError::Unavailable { .. } | AppError::Timeout(_) | AppError::InsufficientStorage(_) => {
            tracing::warn!(code = err.code(), message = %err.message(), "operational error")
        }
        _ => {}
    }
    let mut response = (status_for(&err), err.message()).into_response();
    if let Some(secs) = err.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    response
}

/// The single byte range of a `Range` header, for a blob of `size` bytes. `Ok(None)`: no (or an
/// ignorable) header; `Err(())`: unsatisfiable.
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Multiple ranges: answer with the whole file, as RFC 9110 allows.
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let suffix: u64 = end.parse().map_err(|_| ())?;
        if suffix == 0 {
            return Err(());
        }
        size.saturating_sub(suffix)..size
    } else {
        let start: u64 = start.parse().map_err(|_| ())?;
        let end = if end.is_empty() {
            size
        } else {
            end.parse::<u64>()
                .map_err(|_| ())?
                .saturating_add(1)
                .min(size)
        };
        start..end
    };
    if range.start >= size || range.start >= range.end {
        return Err(());
    }
    Ok(Some(range))
}

pub(crate) async fn media_content(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    Query(signature): Query<Signature>,
    headers: HeaderMap,
) -> Response {
    // Any id that is not a media id of ours is simply not found.
    let Some((Kind::Media, media_id)) = ids::decode(&id) else {
        return error_response(AppError::NotFound("no such media".into()));
    };
    let access = match (signature.exp, signature.sig) {
        (Some(expires), Some(signature)) => ContentAccess::Signed { expires, signature },
        _ => {
            let caller = request_context(&state, &headers, Some(peer)).await;
            match caller.signed_in() {
                Ok(viewer) => ContentAccess::Viewer(viewer),
                Err(AppError::Unauthenticated(_)) if !caller.bad_token => {
                    return error_response(AppError::Unauthenticated(
                        "send a bearer token or use the signed `contentUrl`".into(),
                    ));
                }
                Err(err) => return error_response(err),
            }
        }
    };
    let media = match state.services.authorize_content(&access, media_id).await {
        Ok(media) => media,
        Err(err) => return error_response(err),
    };
    let size = media.size as u64;
    let etag = format!("\"{}\"", media.hash);
    let mut response_headers = HeaderMap::new();
    response_headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header"),
    );
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(mime) = HeaderValue::from_str(&media.mime_type) {
        response_headers.insert(header::CONTENT_TYPE, mime);
    }
    response_headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    let range = match parse_range(&headers, size) {
        Ok(range) => range,
        Err(()) => {
            response_headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("a valid header"),
            );
            return (StatusCode::RANGE_NOT_SATISFIABLE, response_headers).into_response();
        }
    };
    let read = match state.services.read_content(&media, range.clone()).await {
        Ok(read) => read,
        Err(err) => return error_response(err),
    };
    let length = read.range.end - read.range.start;
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let status = if range.is_some() {
        response_headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!(
                "bytes {}-{}/{}",
                read.range.start,
                read.range.end - 1,
                read.total
            ))
            .expect("a valid header"),
        );
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    (status, response_headers, Body::from_stream(read.stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<Range<u64>>, ()> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        parse_range(&h, size)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=95-200", 100), Ok(Some(95..100)));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=5-2", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }
}
