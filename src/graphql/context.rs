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
    /// A token was sent but is invalid or expired.
    pub bad_token: bool,
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
    let req = request(ctx);
    match req.viewer {
        Some(id) => Ok(id),
        None if req.bad_token => Err(AppError::Unauthenticated(
            "the access token is invalid or expired".into(),
        )),
        None => Err(AppError::Unauthenticated(
            "sign in first: send `Authorization: Bearer <accessToken>`".into(),
        )),
    }
}
