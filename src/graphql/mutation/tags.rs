//! `createTag`, `renameTag`, `deleteTag`, `restoreTag`, `tagMedia`, `untagMedia`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use crate::error::AppError;
use crate::graphql::context::{services, viewer};
use crate::graphql::exec::{Out, Planned, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::types::media::Media;
use crate::graphql::types::tag::Tag;
use crate::kinds::Kind;
use crate::service::tags::Tagging;

#[derive(InputObject)]
struct CreateTagInput {
    /// 1 to 100 characters; unique among your tags, ignoring case.
    name: String,
}

#[derive(InputObject)]
struct RenameTagInput {
    id: ID,
    name: String,
}

#[derive(InputObject)]
struct TagIdInput {
    id: ID,
}

#[derive(InputObject)]
struct TagMediaInput {
    /// Up to 100 tags.
    tag_ids: Vec<ID>,
    /// Up to 100 media; each gets every tag.
    media_ids: Vec<ID>,
}

#[derive(SimpleObject)]
struct TagPayload {
    tag: Tag,
}

#[derive(SimpleObject)]
struct DeleteTagPayload {
    deleted_id: ID,
}

#[derive(SimpleObject)]
struct TagMediaPayload {
    /// The tags, in the order given.
    tags: Vec<Tag>,
    /// The media, in the order given (for `untagMedia`, those not in the trash).
    media: Vec<Media>,
}

impl TagMediaPayload {
    fn new(done: Tagging) -> Self {
        Self {
            tags: done.tags.into_iter().map(Tag).collect(),
            media: done.media.into_iter().map(Media::from).collect(),
        }
    }
}

impl ToOut for TagPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj("TagPayload", vec![("tag", self.tag.to_out())]))
    }
}

impl ToOut for DeleteTagPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "DeleteTagPayload",
            vec![("deletedId", self.deleted_id.to_out())],
        ))
    }
}

impl ToOut for TagMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "TagMediaPayload",
            vec![("tags", self.tags.to_out()), ("media", self.media.to_out())],
        ))
    }
}

fn tag_id(id: &ID, field: &'static str) -> Result<uuid::Uuid, AppError> {
    ids::expect(id, Kind::Tag, field)
}

fn all_of(list: &[ID], kind: Kind, field: &'static str) -> Result<Vec<uuid::Uuid>, AppError> {
    list.iter().map(|id| ids::expect(id, kind, field)).collect()
}

#[derive(Default)]
pub(crate) struct TagMutation;

#[Object]
impl TagMutation {
    /// Makes a tag; `CONFLICT` if you have one of that name (ignoring case).
    async fn create_tag(
        &self,
        ctx: &Context<'_>,
        input: CreateTagInput,
    ) -> Result<Planned<TagPayload>> {
        let tag = services(ctx).create_tag(viewer(ctx)?, &input.name).await?;
        Ok(Planned(TagPayload { tag: Tag(tag) }))
    }

    /// Renames a tag (a new case of the same name included); `CONFLICT` if another of your
    /// tags has that name.
    async fn rename_tag(
        &self,
        ctx: &Context<'_>,
        input: RenameTagInput,
    ) -> Result<Planned<TagPayload>> {
        let tag = services(ctx)
            .rename_tag(viewer(ctx)?, tag_id(&input.id, "id")?, &input.name)
            .await?;
        Ok(Planned(TagPayload { tag: Tag(tag) }))
    }

    /// Moves a tag to the trash: it leaves every media it was on until it is restored.
    async fn delete_tag(
        &self,
        ctx: &Context<'_>,
        input: TagIdInput,
    ) -> Result<Planned<DeleteTagPayload>> {
        let id = services(ctx)
            .delete_tag(viewer(ctx)?, tag_id(&input.id, "id")?)
            .await?;
        Ok(Planned(DeleteTagPayload {
            deleted_id: ids::encode(Kind::Tag, id),
        }))
    }

    /// Brings a tag back from the trash, on the media it was on; `CONFLICT` if you have made
    /// another tag of its name since.
    async fn restore_tag(
        &self,
        ctx: &Context<'_>,
        input: TagIdInput,
    ) -> Result<Planned<TagPayload>> {
        let tag = services(ctx)
            .restore_tag(viewer(ctx)?, tag_id(&input.id, "id")?)
            .await?;
        Ok(Planned(TagPayload { tag: Tag(tag) }))
    }

    /// Puts every tag on every media (those already tagged stay so).
    async fn tag_media(
        &self,
        ctx: &Context<'_>,
        input: TagMediaInput,
    ) -> Result<Planned<TagMediaPayload>> {
        let done = services(ctx)
            .tag_media(
                viewer(ctx)?,
                &all_of(&input.tag_ids, Kind::Tag, "tagIds")?,
                &all_of(&input.media_ids, Kind::Media, "mediaIds")?,
            )
            .await?;
        Ok(Planned(TagMediaPayload::new(done)))
    }

    /// Takes every tag off every media (pairs that were not tagged are ignored).
    async fn untag_media(
        &self,
        ctx: &Context<'_>,
        input: TagMediaInput,
    ) -> Result<Planned<TagMediaPayload>> {
        let done = services(ctx)
            .untag_media(
                viewer(ctx)?,
                &all_of(&input.tag_ids, Kind::Tag, "tagIds")?,
                &all_of(&input.media_ids, Kind::Media, "mediaIds")?,
            )
            .await?;
        Ok(Planned(TagMediaPayload::new(done)))
    }
}
