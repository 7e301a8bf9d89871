//! `createLink`, `updateLink`, `deleteLink`.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};

use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::types::link::Link;
use crate::kinds::Kind;
use crate::service::links::LinkRequest;

#[derive(InputObject)]
struct CreateLinkInput {
    from_id: ID,
    to_id: ID,
    /// `[a-z][a-z0-9_]{0,49}`; built-in types need their kinds of ends.
    link_type: String,
    /// 0 to 1 (default 1).
    strength: Option<f64>,
    sort_order: Option<i64>,
    metadata: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
struct UpdateLinkInput {
    id: ID,
    strength: Option<f64>,
    sort_order: Option<i64>,
    /// A JSON merge patch applied to the link's metadata.
    metadata: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
struct DeleteLinkInput {
    id: ID,
}

#[derive(SimpleObject)]
struct LinkPayload {
    link: Link,
}

#[derive(SimpleObject)]
struct DeleteLinkPayload {
    deleted_id: ID,
}

#[derive(Default)]
pub(crate) struct LinkMutation;

#[Object]
impl LinkMutation {
    async fn create_link(
        &self,
        ctx: &Context<'_>,
        input: CreateLinkInput,
    ) -> Result<Planned<LinkPayload>> {
        let viewer = viewer(ctx)?;
        let link = services(ctx)
            .create_link(
                viewer,
                LinkRequest {
                    from: ids::expect_object(&input.from_id, "fromId")?,
                    to: ids::expect_object(&input.to_id, "toId")?,
                    link_type: input.link_type,
                    strength: input.strength,
                    sort_order: input.sort_order,
                    metadata: input.metadata.map(|j| j.0),
                },
            )
            .await?;
        Ok(Planned(LinkPayload { link: Link(link) }))
    }

    async fn update_link(
        &self,
        ctx: &Context<'_>,
        input: UpdateLinkInput,
    ) -> Result<Planned<LinkPayload>> {
        let viewer = viewer(ctx)?;
        let link = services(ctx)
            .update_link(
                viewer,
                ids::expect(&input.id, Kind::Link, "id")?,
                input.strength,
                input.sort_order,
                input.metadata.map(|j| j.0),
            )
            .await?;
        Ok(Planned(LinkPayload { link: Link(link) }))
    }

    async fn delete_link(
        &self,
        ctx: &Context<'_>,
        input: DeleteLinkInput,
    ) -> Result<Planned<DeleteLinkPayload>> {
        let viewer = viewer(ctx)?;
        let id = services(ctx)
            .delete_link(viewer, ids::expect(&input.id, Kind::Link, "id")?)
            .await?;
        Ok(Planned(DeleteLinkPayload {
            deleted_id: ids::encode(Kind::Link, id),
        }))
    }
}

impl ToOut for LinkPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "LinkPayload",
            vec![("link", self.link.to_out())],
        ))
    }
}

impl ToOut for DeleteLinkPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "DeleteLinkPayload",
            vec![("deletedId", self.deleted_id.to_out())],
        ))
    }
}
