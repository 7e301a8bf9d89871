//! GraphQL multipart requests (the upload spec): files are streamed to temporary files as they
//! arrive, whatever the chunks' cuts, each bounded by the upload limit.

use std::net::SocketAddr;

use async_graphql::http::MultipartOptions;
use async_graphql::{BatchRequest, ParseRequestError};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::compat::TokioAsyncReadCompatExt;

use super::AppState;
use super::graphql::{execute, refuse};
use super::negotiate::Format;
use super::paced::Paced;
use crate::metrics::UploadPath;

/// Most files one multipart request may carry.
const MAX_FILES_PER_REQUEST: usize = 10;

/// The content type of a GraphQL multipart request (uploads), if the body is one.
pub(super) fn content_type(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = content_type.split(';').next()?.trim();
    mime.eq_ignore_ascii_case("multipart/form-data")
        .then(|| content_type.to_string())
}

/// Reads a GraphQL multipart request from the body's chunks, however they are cut.
async fn receive_multipart<S, E>(
    content_type: String,
    chunks: S,
    options: MultipartOptions,
) -> Result<BatchRequest, ParseRequestError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = Paced::new(chunks).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream).compat();
    async_graphql::http::receive_batch_body(Some(content_type), reader, options).await
}

/// A GraphQL multipart request (uploads): files are streamed to temporary files as they
/// arrive, each bounded by the upload limit.
pub(super) async fn multipart(
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    content_type: String,
    body: Body,
    format: Format,
) -> Response {
    let options = MultipartOptions::default()
        .max_file_size(usize::try_from(state.services.max_upload_bytes).unwrap_or(usize::MAX))
        .max_num_files(MAX_FILES_PER_REQUEST);
    let started = std::time::Instant::now();
    let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = received.clone();
    let body = body.into_data_stream().inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            counted.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let batch = match receive_multipart(content_type, body, options).await {
        Ok(batch) => batch,
        Err(ParseRequestError::PayloadTooLarge) => {
            return refuse(
                format,
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
                format,
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
            format,
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "too many operations in one multipart request",
        );
    }
    let response = execute(&state, headers, peer, batch, format, false).await;
    let bytes = received.load(std::sync::atomic::Ordering::Relaxed);
    let metrics = &state.services.metrics;
    metrics.upload(UploadPath::multipart, bytes, started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----hypernetboundary7MA4YWxkTrZu0gW";

    /// A GraphQL multipart request with one file of `file` bytes.
    fn body(file: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let part = |out: &mut Vec<u8>, headers: &str, content: &[u8]| {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        };
        part(
            &mut out,
            "Content-Disposition: form-data; name=\"operations\"",
            br#"{"query":"mutation($f: Upload!) { uploadMedia(input: { file: $f }) { deduplicated } }","variables":{"f":null}}"#,
        );
        part(
            &mut out,
            "Content-Disposition: form-data; name=\"map\"",
            br#"{"0":["variables.f"]}"#,
        );
        part(
            &mut out,
            "Content-Disposition: form-data; name=\"0\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream",
            file,
        );
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    async fn parse(chunks: Vec<Vec<u8>>) -> Result<Vec<u8>, String> {
        let stream = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
        );
        let batch = receive_multipart(
            format!("multipart/form-data; boundary={BOUNDARY}"),
            stream,
            MultipartOptions::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let BatchRequest::Single(request) = batch else {
            return Err("not one request".into());
        };
        let upload = request.uploads.first().ok_or("no file")?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut upload.try_clone().map_err(|e| e.to_string())?.content,
            &mut bytes,
        )
        .map_err(|e| e.to_string())?;
        Ok(bytes)
    }

    /// Every cut of the body into two chunks, and into three around the file's closing
    /// boundary, reads the same file: the parser must not care where the network cut.
    #[tokio::test]
    async fn a_multipart_body_reads_the_same_however_it_is_cut() {
        let file: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = body(&file);
        assert_eq!(parse(vec![whole.clone()]).await.unwrap(), file);
        for cut in 1..whole.len() {
            let chunks = vec![whole[..cut].to_vec(), whole[cut..].to_vec()];
            assert_eq!(
                parse(chunks).await.as_deref(),
                Ok(file.as_slice()),
                "cut at {cut}"
            );
        }
        let end = whole.len() - BOUNDARY.len() - 10;
        for a in end - 40..end + 10 {
            for b in a + 1..(a + 50).min(whole.len()) {
                let chunks = vec![
                    whole[..a].to_vec(),
                    whole[a..b].to_vec(),
                    whole[b..].to_vec(),
                ];
                assert_eq!(
                    parse(chunks).await.as_deref(),
                    Ok(file.as_slice()),
                    "cuts at {a}, {b}"
                );
            }
        }
        // An empty chunk in the middle of the stream is not its end.
        let mid = whole.len() / 2;
        let chunks = vec![whole[..mid].to_vec(), Vec::new(), whole[mid..].to_vec()];
        assert_eq!(
            parse(chunks).await.as_deref(),
            Ok(file.as_slice()),
            "an empty chunk"
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn runtime() -> tokio::runtime::Runtime {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime")
        }

        fn cut(body: &[u8], at: &[prop::sample::Index]) -> Vec<Vec<u8>> {
            let mut points: Vec<usize> = at.iter().map(|i| i.index(body.len())).collect();
            points.sort_unstable();
            points.dedup();
            let mut chunks = Vec::new();
            let mut from = 0;
            for p in points {
                chunks.push(body[from..p].to_vec());
                from = p;
            }
            chunks.push(body[from..].to_vec());
            chunks
        }

        proptest! {
            /// Files of any size, cut anywhere into any number of chunks: the same bytes.
            #[test]
            fn prop_any_cutting_reads_the_same_file(
                file in proptest::collection::vec(any::<u8>(), 0..20_000),
                at in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
            ) {
                let whole = body(&file);
                let read = runtime().block_on(parse(cut(&whole, &at)));
                prop_assert_eq!(read, Ok(file));
            }

            /// A damaged body is an error, never a panic.
            #[test]
            fn prop_damaged_bodies_are_refused_or_read(
                file in proptest::collection::vec(any::<u8>(), 0..2_000),
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                at in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            ) {
                let mut whole = body(&file);
                for (i, byte) in flips {
                    let i = i.index(whole.len());
                    whole[i] = byte;
                }
                let _ = runtime().block_on(parse(cut(&whole, &at)));
            }
        }
    }
}
