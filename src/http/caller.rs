//! Who the caller is: the bearer token's user, and the address and agent for the audit log.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, USER_AGENT};

use super::AppState;
use crate::graphql::context::RequestContext;
use crate::service::ClientInfo;

const MAX_USER_AGENT: usize = 512;

pub(crate) async fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> RequestContext {
    let (viewer, bad_token, session_unchecked) = match bearer_token(headers) {
        Some(token) => match state.services.access_tokens.verify(token) {
            // A token counts while its session is open. A database that cannot say leaves
            // the caller signed out for this request (fail closed), told to retry.
            Some((user, session)) => match state.services.session_open(user, session).await {
                Ok(true) => (Some(user), false, false),
                Ok(false) => (None, true, false),
                Err(err) => {
                    tracing::warn!(code = err.code(), error = %err.message(), "could not check a session");
                    (None, false, true)
                }
            },
            None => (None, true, false),
        },
        None => (None, false, false),
    };
    RequestContext {
        viewer,
        bad_token,
        session_unchecked,
        ..anonymous_context(state, headers, peer)
    }
}

/// The caller as far as the headers tell without a token: the client and the base URL (a
/// WebSocket's, whose token comes later).
pub(super) fn anonymous_context(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> RequestContext {
    RequestContext {
        viewer: None,
        bad_token: false,
        session_unchecked: false,
        client: client_info(headers, peer, state.limits.trust_forwarded_for),
        base_url: base_url(
            &state.services.public_url,
            headers,
            state.limits.trust_forwarded_for,
        ),
    }
}

/// The configured public URL, else the scheme and host the request came to (from a trusted
/// proxy's `X-Forwarded-Proto` / `X-Forwarded-Host` when there is one).
fn base_url(public_url: &str, headers: &HeaderMap, trust_forwarded: bool) -> String {
    if !public_url.is_empty() {
        return public_url.to_string();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let forwarded = |name| trust_forwarded.then(|| header(name)).flatten();
    let scheme = match forwarded("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| header("host"))
        // A host is letters, digits, dots, dashes, a port, or a bracketed IPv6 address.
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    match host {
        Some(host) => format!("{scheme}://{host}"),
        None => String::new(),
    }
}

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn client_info(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> ClientInfo {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
    let ip = forwarded.or_else(|| peer.map(|p| p.ip().to_string()));
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT).collect());
    ClientInfo { ip, user_agent }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn urls_are_based_on_the_configured_or_the_requested_host() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("photos.local:8080"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("photos.example.com"),
        );
        assert_eq!(base_url("", &h, false), "http://photos.local:8080");
        assert_eq!(base_url("", &h, true), "https://photos.example.com");
        assert_eq!(
            base_url("https://cdn.example", &h, true),
            "https://cdn.example"
        );
        h.insert("host", HeaderValue::from_static("evil.example/<script>"));
        assert_eq!(base_url("", &h, false), "");
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.1"),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            client_info(&h, Some(peer), false).ip.as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            client_info(&h, Some(peer), true).ip.as_deref(),
            Some("203.0.113.9")
        );
    }
}
