//! Who the caller is: the bearer token's user, and the address and agent for the audit log.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, USER_AGENT};

use super::AppState;
use crate::graphql::context::RequestContext;
use crate::service::ClientInfo;

const MAX_USER_AGENT: usize = 512;

pub(crate) fn request_context(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> RequestContext {
    let (viewer, bad_token) = match bearer_token(headers) {
        Some(token) => match state.services.access_tokens.verify(token) {
            Some(user) => (Some(user), false),
            None => (None, true),
        },
        None => (None, false),
    };
    RequestContext {
        viewer,
        bad_token,
        client: client_info(headers, peer, state.limits.trust_forwarded_for),
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
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
