//! `updateMedia`, `deleteMedia`, `restoreMedia`, `purgeMedia`, `emptyTrash`.

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::types::media::Media;
use crate::kinds::Kind;

#[derive(InputObject)]
struct UpdateMediaInput {
    id: ID,
    filename: Option<String>,
    /// `null` clears it.
    taken_at: MaybeUndefined<DateTime<Utc>>,
    /// A JSON merge patch (RFC 7386) applied to the metadata: `null` values remove keys.
    metadata: Option<Json<serde_json::Value>>,
}

#[derive(SimpleObject)]
struct UpdateMediaPayload {
    media: Media,
}

#[derive(InputObject)]
struct MediaIdsInput {
    /// Up to 100 media ids.
    ids: Vec<ID>,
}

#[derive(SimpleObject)]
struct DeleteMediaPayload {
    deleted_ids: Vec<ID>,
}

#[derive(SimpleObject)]
struct RestoreMediaPayload {
    restored_ids: Vec<ID>,
    media: Vec<Media>,
}

#[derive(SimpleObject)]
struct PurgeMediaPayload {
    purged_ids: Vec<ID>,
}

#[derive(SimpleObject)]
struct EmptyTrashPayload {
    /// Media and albums deleted for good.
    purged_ids: Vec<ID>,
}

fn media_ids(ids: &[ID]) -> Result<Vec<Uuid>, AppError> {
    ids.iter()
        .map(|id| ids::expect(id, Kind::Media, "ids"))
        .collect()
}

fn gids(ids: Vec<Uuid>) -> Vec<ID> {
    ids.into_iter()
        .map(|id| ids::encode(Kind::Media, id))
        .collect()
}

#[derive(Default)]
pub(crate) struct MediaMutation;

#[Object]
impl MediaMutation {
    /// Renames, re-dates, or patches the metadata of a media.
    async fn update_media(
        &self,
        ctx: &Context<'_>,
        input: UpdateMediaInput,
    ) -> Result<Planned<UpdateMediaPayload>> {
        let viewer = viewer(ctx)?;
        let id = ids::expect(&input.id, Kind::Media, "id")?;
        let taken_at = match input.taken_at {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(t) => Some(Some(t)),
        };
        let media = services(ctx)
            .update_media(
                viewer,
                id,
                input.filename.as_deref(),
                taken_at,
                input.metadata.map(|j| j.0),
            )
            .await?;
        Ok(Planned(UpdateMediaPayload {
            media: Media::from(media),
        }))
    }

    /// Moves media to the trash (with their thumbnails). Restorable until purged.
    async fn delete_media(
        &self,
        ctx: &Context<'_>,
        input: MediaIdsInput,
    ) -> Result<Planned<DeleteMediaPayload>> {
        let viewer = viewer(ctx)?;
        let ids = services(ctx)
            .delete_media(viewer, &media_ids(&input.ids)?)
            .await?;
        Ok(Planned(DeleteMediaPayload {
            deleted_ids: gids(ids),
        }))
    }

    /// Brings media back from the trash.
    async fn restore_media(
        &self,
        ctx: &Context<'_>,
        input: MediaIdsInput,
    ) -> Result<Planned<RestoreMediaPayload>> {
        let viewer = viewer(ctx)?;
        let media = services(ctx)
            .restore_media(viewer, &media_ids(&input.ids)?)
            .await?;
        Ok(Planned(RestoreMediaPayload {
            restored_ids: gids(media.iter().map(|m| m.id).collect()),
            media: media.into_iter().map(Media::from).collect(),
        }))
    }

    /// Deletes media in the trash for good, with their bytes when nothing else uses them.
    async fn purge_media(
        &self,
        ctx: &Context<'_>,
        input: MediaIdsInput,
    ) -> Result<Planned<PurgeMediaPayload>> {
        let viewer = viewer(ctx)?;
        let ids = services(ctx)
            .purge_media(viewer, &media_ids(&input.ids)?)
            .await?;
        Ok(Planned(PurgeMediaPayload {
            purged_ids: gids(ids),
        }))
    }

    /// Purges everything in the viewer's trash.
    async fn empty_trash(&self, ctx: &Context<'_>) -> Result<Planned<EmptyTrashPayload>> {
        let viewer = viewer(ctx)?;
        let purged = services(ctx).empty_trash(viewer).await?;
        let purged_ids = purged
            .into_iter()
            .map(|(kind, id)| ids::encode(kind, id))
            .collect();
        Ok(Planned(EmptyTrashPayload { purged_ids }))
    }
}

impl ToOut for UpdateMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "UpdateMediaPayload",
            vec![("media", self.media.to_out())],
        ))
    }
}

impl ToOut for DeleteMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "DeleteMediaPayload",
            vec![("deletedIds", self.deleted_ids.to_out())],
        ))
    }
}

impl ToOut for RestoreMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "RestoreMediaPayload",
            vec![
                ("restoredIds", self.restored_ids.to_out()),
                ("media", self.media.to_out()),
            ],
        ))
    }
}

impl ToOut for PurgeMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "PurgeMediaPayload",
            vec![("purgedIds", self.purged_ids.to_out())],
        ))
    }
}

impl ToOut for EmptyTrashPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "EmptyTrashPayload",
            vec![("purgedIds", self.purged_ids.to_out())],
        ))
    }
}
