//! What the HTTP layer decided about the caller, attached to each GraphQL request.

use std::sync::Arc;

use async_graphql::Context;
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::loaders::Loaders;
use crate::service::{ClientInfo, Services};

/// The caller of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestContext {
    /// The user a valid access token speaks for.
    pub viewer: Option<Uuid>,
    /// A token was sent but is invalid, expired, or of a session that has ended.
    pub bad_token: bool,
    /// A valid token whose session could not be checked (the database busy or away).
    pub session_unchecked: bool,
    pub client: ClientInfo,
    /// Where this server is, as the client reached it (`https://photos.example.com`): the base
    /// of the absolute URLs the API hands out.
    pub base_url: String,
}

pub(crate) fn services<'a>(ctx: &Context<'a>) -> &'a Arc<Services> {
    ctx.data_unchecked::<Arc<Services>>()
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> &'a Arc<Loaders> {
    ctx.data_unchecked::<Arc<Loaders>>()
}

pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    static ANONYMOUS: std::sync::LazyLock<RequestContext> =
        std::sync::LazyLock::new(RequestContext::default);
    ctx.data_opt::<RequestContext>().unwrap_or(&ANONYMOUS)
}

/// The signed-in user, or `UNAUTHENTICATED`.
pub(crate) fn viewer(ctx: &Context<'_>) -> Result<Uuid, AppError> {
    request(ctx).signed_in()
}

impl RequestContext {
    /// The signed-in user; `UNAUTHENTICATED` without a valid token of an open session, and
    /// `SERVICE_UNAVAILABLE` when the session could not be checked.
    pub(crate) fn signed_in(&self) -> Result<Uuid, AppError> {
        match self.viewer {
            Some(id) => Ok(id),
            None if self.session_unchecked => Err(AppError::Unavailable {
                message: "the session could not be checked: the database is busy or away; \
                          try again shortly"
                    .into(),
                retry_after_secs: 1,
            }),
            None if self.bad_token => Err(AppError::Unauthenticated(
                "the access token is invalid or expired, or its session has ended".into(),
            )),
            None => Err(AppError::Unauthenticated(
                "sign in first: send `Authorization: Bearer <accessToken>`".into(),
            )),
        }
    }
}
