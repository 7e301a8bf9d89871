use async_graphql::{Context, Object, Result};

use crate::graphql::context::{services, viewer};
use crate::graphql::types::user::User;

#[derive(Default)]
pub(crate) struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        let id = viewer(ctx)?;
        Ok(User(services(ctx).viewer_user(id).await?))
    }
}
