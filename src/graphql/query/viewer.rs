use async_graphql::{Context, Object, Result};

use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::types::user::User;

#[derive(Default)]
pub(crate) struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Planned<User>> {
        let id = viewer(ctx)?;
        // A page of the viewer's albums or media needs only the id: one statement fewer. The
        // row is still read, and its absence refused, whenever a field of it is asked for.
        // The lists are the token holder's own either way. An account marked deleted (an
        // operator's doing; the server never marks one) reads its own lists until its access
        // token expires, as it reads `node(id:)`; refreshing its session is refused.
        let field = ctx.field();
        if field
            .selection_set()
            .all(|f| User::WITHOUT_ROW.contains(&f.name()))
        {
            return Ok(Planned(User::unread(id)));
        }
        Ok(Planned(User::from_row(
            services(ctx).viewer_user(id).await?,
        )))
    }
}
