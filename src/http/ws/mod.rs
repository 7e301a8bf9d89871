//! `GET /graphql/ws`: GraphQL over a WebSocket with the graphql-transport-ws protocol (what
//! the `graphql-ws` client speaks), for subscriptions, and for queries and mutations too.
//!
//! - The client opens with `connection_init` within ten seconds (else the socket closes with
//!   4408). Its payload may carry the access token, as `{"authorization": "Bearer …"}` or
//!   `{"accessToken": "…"}` (the upgrade request's `Authorization` header counts too). A
//!   token that is invalid, expired or of an ended session closes the socket with 4403; no
//!   token at all is an anonymous connection (a subscription then answers `UNAUTHENTICATED`).
//! - Each `subscribe` is an operation of its own, inside the same limits as over HTTP: a
//!   query or mutation answers `next` then `complete`; a subscription answers `next` for each
//!   event until it ends (`complete`) or the client sends `complete`. An operation refused
//!   before it runs (it does not parse or validate, a limit) answers `error`.
//! - A signed-in connection closes with 4403 when its session ends (checked as often as
//!   `HYPERNET_SESSION_CHECK_SECS`, at most every 30 s) or its token expires; a `ping`
//!   whose payload is `{"accessToken": "…"}` with a newer token of the same user renews it.
//! - 1013 ("try again later") when the client has not taken a message within
//!   `HYPERNET_WS_SEND_TIMEOUT_SECS` (it resumes from the last cursor it has; graphql-ws
//!   retries this code), 1001 when the server stops, and the protocol's
//!   own codes for a client that breaks it: 4400 (not a message of the protocol), 4401
//!   (`subscribe` before the acknowledgement), 4409 (an id already in use), 4429 (a second
//!   `connection_init`).
//!
//! Nothing waits here for a slow client beyond a few messages: operations wait for the
//! socket, and a subscription reads the journal only as its events are taken.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::ServerError;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::AppState;
use super::caller::{anonymous_context, bearer_token};
use super::graphql::WireRequest;
use crate::db::{self, Scope};
use crate::graphql::context::RequestContext;
use crate::graphql::json;
use operation::Operation;

mod operation;

/// The subprotocol spoken here.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages the operations of a connection may have ready for its socket, together.
const READY: usize = 8;
/// The socket's read buffer: the client's messages are small (tungstenite's default, 128 KiB,
/// would be most of an idle subscriber's memory).
const READ_BUFFER: usize = 1024;
/// How long a closing frame may take to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A close code and its reason.
type Close = (u16, String);

fn close(code: u16, reason: impl Into<String>) -> Close {
    (code, reason.into())
}

pub(crate) async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let upgrade = upgrade
        .protocols([PROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(state.limits.max_body_bytes)
        .max_frame_size(state.limits.max_body_bytes);
    let spoken = upgrade.selected_protocol().is_some();
    upgrade.on_upgrade(move |mut socket| async move {
        if !spoken {
            let reason = format!("Subprotocol not acceptable: speak {PROTOCOL}");
            send_close(&mut socket, close(4406, reason)).await;
            return;
        }
        // What the connection needs of the upgrade request; the headers themselves go.
        let base = anonymous_context(&state, &headers, Some(peer));
        let token = bearer_token(&headers).map(str::to_string);
        drop(headers);
        serve(state, base, token, socket).await;
    })
}

/// What a client sends.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<serde_json::Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: WireRequest,
    },
    Complete {
        id: String,
    },
}

/// What an operation has for the socket; `u64` is its generation (an id may be used again
/// once its operation completed).
enum Event {
    Next(String, u64, Vec<u8>),
    Error(String, u64, Vec<ServerError>),
    Complete(String, u64),
}

/// Who the connection speaks for.
struct Session {
    user: Uuid,
    session: Uuid,
    until: DateTime<Utc>,
}

struct Connection {
    state: AppState,
    /// The caller before `connection_init`: the client and the base URL.
    base: RequestContext,
    /// The upgrade request's bearer token, if any.
    header_token: Option<String>,
    /// The caller, once `connection_init` is accepted.
    ctx: Option<RequestContext>,
    session: Option<Session>,
    /// Operations running, by id: their generation and what stops them.
    operations: HashMap<String, (u64, CancellationToken)>,
    generation: u64,
    events: mpsc::Sender<Box<Event>>,
}

impl Connection {
    fn new(
        state: AppState,
        base: RequestContext,
        header_token: Option<String>,
    ) -> (Self, mpsc::Receiver<Box<Event>>) {
        let (events, ready) = mpsc::channel(READY);
        let connection = Self {
            state,
            base,
            header_token,
            ctx: None,
            session: None,
            operations: HashMap::new(),
            generation: 0,
            events,
        };
        (connection, ready)
    }
}

/// Serves one socket until it closes, then stops its operations.
async fn serve(
    state: AppState,
    base: RequestContext,
    header_token: Option<String>,
    mut socket: WebSocket,
) {
    let (mut connection, mut ready) = Connection::new(state, base, header_token);
    let closing = connection.run(&mut socket, &mut ready).await;
    for (_, (_, stop)) in connection.operations.drain() {
        stop.cancel();
    }
    match closing {
        Some(closing) => send_close(&mut socket, closing).await,
        // The client closed: its close frame is answered as the socket closes.
        None => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, SinkExt::close(&mut socket)).await;
        }
    }
}

impl Connection {
    /// Serves the socket until it closes: `Some` when the server closes it, with the code.
    async fn run(
        &mut self,
        socket: &mut WebSocket,
        ready: &mut mpsc::Receiver<Box<Event>>,
    ) -> Option<Close> {
        let send_timeout = self.state.limits.ws_send_timeout;
        let check_every = self.state.limits.session_check_secs.clamp(1, 30);
        let mut check = tokio::time::interval(Duration::from_secs(check_every));
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let init_by = tokio::time::Instant::now() + INIT_TIMEOUT;
        let stopping = self.state.services.feed.stopping().clone();
        loop {
            // Until `connection_init`, then until the token expires (anonymous: none).
            let deadline = match (&self.ctx, &self.session) {
                (None, _) => Some(init_by),
                (Some(_), Some(session)) => Some(instant_of(session.until)),
                (Some(_), None) => None,
            };
            let out = tokio::select! {
                incoming = socket.recv() => match incoming {
                    // Boxed, as below: what a message sets off (a session check, an
                    // operation's start) is large and brief, and the connection lives long.
                    Some(Ok(Message::Text(text))) => match Box::pin(self.receive(text.as_str())).await {
                        Ok(reply) => reply,
                        Err(closing) => return Some(closing),
                    },
                    Some(Ok(Message::Binary(_))) => {
                        return Some(close(4400, "messages are JSON text"));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
                },
                Some(event) = ready.recv() => self.deliver(*event),
                () = tokio::time::sleep_until(deadline.unwrap_or(init_by)), if deadline.is_some() => {
                    return Some(match self.ctx {
                        None => close(4408, "Connection initialisation timeout"),
                        Some(_) => close(4403, "the access token expired: connect again with a new one"),
                    });
                }
                _ = check.tick(), if self.session.is_some() => {
                    if let Err(closing) = Box::pin(self.check_session()).await {
                        return Some(closing);
                    }
                    None
                }
                () = stopping.cancelled() => {
                    return Some(close(1001, "the server is stopping: connect again"));
                }
            };
            let Some(text) = out else { continue };
            match tokio::time::timeout(send_timeout, socket.send(Message::Text(text.into()))).await
            {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => {
                    return Some(close(
                        1013,
                        "too slow: messages were not taken in time; resume from your last cursor",
                    ));
                }
            }
        }
    }

    /// Handles a client's message: what to answer at once, or why to close.
    async fn receive(&mut self, text: &str) -> Result<Option<String>, Close> {
        let message: ClientMessage = serde_json::from_str(text)
            .map_err(|e| close(4400, format!("not a graphql-transport-ws message: {e}")))?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.ctx.is_some() {
                    return Err(close(4429, "Too many initialisation requests"));
                }
                self.init(payload).await?;
                Ok(Some(r#"{"type":"connection_ack"}"#.to_string()))
            }
            ClientMessage::Ping { payload } => {
                if let Some(token) = payload.as_ref().and_then(token_of) {
                    self.renew(&token).await?;
                }
                Ok(Some(r#"{"type":"pong"}"#.to_string()))
            }
            ClientMessage::Pong {} => Ok(None),
            ClientMessage::Subscribe { id, payload } => {
                let Some(ctx) = self.ctx.clone() else {
                    return Err(close(4401, "Unauthorized"));
                };
                if self.operations.contains_key(&id) {
                    return Err(close(4409, format!("Subscriber for {id} already exists")));
                }
                self.generation += 1;
                let stop = CancellationToken::new();
                self.operations
                    .insert(id.clone(), (self.generation, stop.clone()));
                let operation = Operation {
                    state: self.state.clone(),
                    id,
                    generation: self.generation,
                    events: self.events.clone(),
                    stop,
                };
                let scope = Scope::of(ctx.viewer);
                tokio::spawn(db::within(scope, operation.run(ctx, payload.into())));
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                if let Some((_, stop)) = self.operations.remove(&id) {
                    stop.cancel();
                }
                Ok(None)
            }
        }
    }

    /// Accepts `connection_init`: the caller, from the payload's token or the upgrade
    /// request's.
    async fn init(&mut self, payload: Option<serde_json::Value>) -> Result<(), Close> {
        let mut ctx = self.base.clone();
        let token = match payload.as_ref().and_then(token_of) {
            Some(token) => Some(token),
            None => self.header_token.clone(),
        };
        if let Some(token) = token {
            let session = self.authenticate(&token).await?;
            ctx.viewer = Some(session.user);
            self.session = Some(session);
        }
        self.ctx = Some(ctx);
        Ok(())
    }

    /// The session a token speaks for, while it is open.
    async fn authenticate(&self, token: &str) -> Result<Session, Close> {
        let services = &self.state.services;
        let Some((user, session, until)) = services.access_tokens.verify_until(token) else {
            return Err(close(
                4403,
                "Forbidden: the access token is invalid or expired",
            ));
        };
        match services.session_open(user, session).await {
            Ok(true) => Ok(Session {
                user,
                session,
                until,
            }),
            Ok(false) => Err(close(4403, "Forbidden: the token's session has ended")),
            Err(_) => Err(close(
                1013,
                "the session could not be checked: try again shortly",
            )),
        }
    }

    /// A newer token of the same user: the connection lives on with it.
    async fn renew(&mut self, token: &str) -> Result<(), Close> {
        let session = self.authenticate(token).await?;
        if self.session.as_ref().map(|s| s.user) != Some(session.user) {
            return Err(close(4403, "Forbidden: the token is another user's"));
        }
        self.session = Some(session);
        Ok(())
    }

    async fn check_session(&self) -> Result<(), Close> {
        let Some(session) = &self.session else {
            return Ok(());
        };
        match self
            .state
            .services
            .session_open(session.user, session.session)
            .await
        {
            Ok(false) => Err(close(4403, "Forbidden: the session has ended")),
            // A database away for a moment does not end anyone's session.
            Ok(true) | Err(_) => Ok(()),
        }
    }

    /// The text of an operation's event, unless the client completed that operation.
    fn deliver(&mut self, event: Event) -> Option<String> {
        let (id, generation, kind, payload) = match event {
            Event::Next(id, g, payload) => (id, g, "next", Some(payload)),
            Event::Error(id, g, errors) => (id, g, "error", serde_json::to_vec(&errors).ok()),
            Event::Complete(id, g) => (id, g, "complete", None),
        };
        if self.operations.get(&id).map(|(g, _)| *g) != Some(generation) {
            return None;
        }
        let mut out = Vec::with_capacity(64 + payload.as_ref().map_or(0, Vec::len));
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\",\"id\":");
        json::string(&mut out, &id);
        if let Some(payload) = payload {
            out.extend_from_slice(b",\"payload\":");
            out.extend_from_slice(&payload);
        }
        out.push(b'}');
        if kind != "next" {
            // `error` and `complete` end the operation.
            self.operations.remove(&id);
        }
        String::from_utf8(out).ok()
    }
}

/// The access token in a `connection_init` or `ping` payload.
fn token_of(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let value = object.iter().find_map(|(key, value)| {
        (key.eq_ignore_ascii_case("authorization") || key == "accessToken")
            .then(|| value.as_str())
            .flatten()
    })?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token,
        _ => value,
    };
    Some(token.trim().to_string()).filter(|t| !t.is_empty())
}

/// The runtime's instant at wall-clock time `at` (now, when it has passed).
fn instant_of(at: DateTime<Utc>) -> tokio::time::Instant {
    let left = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::Instant::now() + left
}

async fn send_close(socket: &mut WebSocket, (code, reason): Close) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_from_either_key_with_or_without_the_scheme() {
        let token = |v: serde_json::Value| token_of(&v);
        assert_eq!(
            token(serde_json::json!({"authorization": "Bearer abc"})),
            Some("abc".into())
        );
        assert_eq!(
            token(serde_json::json!({"Authorization": "abc"})),
            Some("abc".into())
        );
        assert_eq!(
            token(serde_json::json!({"accessToken": "abc"})),
            Some("abc".into())
        );
        assert_eq!(token(serde_json::json!({"accessToken": " "})), None);
        assert_eq!(token(serde_json::json!({"other": "abc"})), None);
        assert_eq!(token(serde_json::json!("abc")), None);
    }

    #[test]
    fn client_messages_are_read_by_type() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","id":"1","payload":{"query":"{a}"}}"#)
                .unwrap();
        assert!(matches!(m, ClientMessage::Subscribe { id, .. } if id == "1"));
        let m: ClientMessage = serde_json::from_str(r#"{"type":"pong","payload":{}}"#).unwrap();
        assert!(matches!(m, ClientMessage::Pong {}));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"start","id":"1"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"id":"1"}"#).is_err());
    }
}
