//! `createAlbum`, `updateAlbum`, `deleteAlbum`, `restoreAlbum`, `addMediaToAlbum`,
//! `removeMediaFromAlbum`, `moveAlbumMedia`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use crate::error::AppError;
use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::types::album::Album;
use crate::graphql::types::link::Link;
use crate::kinds::Kind;
use crate::service::albums::Position;

#[derive(InputObject)]
struct CreateAlbumInput {
    name: String,
    description: Option<String>,
}

#[derive(InputObject)]
struct UpdateAlbumInput {
    id: ID,
    name: Option<String>,
    /// `null` clears it.
    description: MaybeUndefined<String>,
    /// A media of the album; `null` goes back to the first media.
    cover_media_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
struct AlbumIdInput {
    id: ID,
}

#[derive(InputObject)]
struct AddMediaToAlbumInput {
    album_id: ID,
    /// Up to 100; those already in the album stay where they are.
    media_ids: Vec<ID>,
    /// Insert after this member; `null` inserts first; absent appends at the end.
    after_media_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
struct RemoveMediaFromAlbumInput {
    album_id: ID,
    media_ids: Vec<ID>,
}

#[derive(InputObject)]
struct MoveAlbumMediaInput {
    album_id: ID,
    media_id: ID,
    /// Move after this member; `null` moves it first.
    after_media_id: Option<ID>,
}

#[derive(SimpleObject)]
struct AlbumPayload {
    album: Album,
}

#[derive(SimpleObject)]
#[graphql(name = "DeleteAlbumPayload")]
struct DeleteAlbumPayload {
    deleted_id: ID,
}

#[derive(SimpleObject)]
struct MoveAlbumMediaPayload {
    album: Album,
    /// The member's `contains` link, with its new `sortOrder`.
    link: Link,
}

fn album_id(id: &ID, field: &'static str) -> Result<uuid::Uuid, AppError> {
    ids::expect(id, Kind::Album, field)
}

fn media_ids(ids: &[ID], field: &'static str) -> Result<Vec<uuid::Uuid>, AppError> {
    ids.iter()
        .map(|id| ids::expect(id, Kind::Media, field))
        .collect()
}

#[derive(Default)]
pub(crate) struct AlbumMutation;

#[Object]
impl AlbumMutation {
    async fn create_album(
        &self,
        ctx: &Context<'_>,
        input: CreateAlbumInput,
    ) -> Result<Planned<AlbumPayload>> {
        let viewer = viewer(ctx)?;
        let album = services(ctx)
            .create_album(viewer, &input.name, input.description.as_deref())
            .await?;
        Ok(Planned(AlbumPayload {
            album: Album(album),
        }))
    }

    async fn update_album(
        &self,
        ctx: &Context<'_>,
        input: UpdateAlbumInput,
    ) -> Result<Planned<AlbumPayload>> {
        let viewer = viewer(ctx)?;
        let id = album_id(&input.id, "id")?;
        let description = match &input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d.as_str())),
        };
        let cover = match &input.cover_media_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(m) => Some(Some(ids::expect(m, Kind::Media, "coverMediaId")?)),
        };
        let album = services(ctx)
            .update_album(viewer, id, input.name.as_deref(), description, cover)
            .await?;
        Ok(Planned(AlbumPayload {
            album: Album(album),
        }))
    }

    /// Moves an album to the trash; its media stay in the library.
    async fn delete_album(
        &self,
        ctx: &Context<'_>,
        input: AlbumIdInput,
    ) -> Result<Planned<DeleteAlbumPayload>> {
        let viewer = viewer(ctx)?;
        let id = services(ctx)
            .delete_album(viewer, album_id(&input.id, "id")?)
            .await?;
        Ok(Planned(DeleteAlbumPayload {
            deleted_id: ids::encode(Kind::Album, id),
        }))
    }

    /// Brings an album back from the trash with its members, order and cover.
    async fn restore_album(
        &self,
        ctx: &Context<'_>,
        input: AlbumIdInput,
    ) -> Result<Planned<AlbumPayload>> {
        let viewer = viewer(ctx)?;
        let album = services(ctx)
            .restore_album(viewer, album_id(&input.id, "id")?)
            .await?;
        Ok(Planned(AlbumPayload {
            album: Album(album),
        }))
    }

    async fn add_media_to_album(
        &self,
        ctx: &Context<'_>,
        input: AddMediaToAlbumInput,
    ) -> Result<Planned<AlbumPayload>> {
        let viewer = viewer(ctx)?;
        let position = match &input.after_media_id {
            MaybeUndefined::Undefined => Position::End,
            MaybeUndefined::Null => Position::First,
            MaybeUndefined::Value(m) => {
                Position::After(ids::expect(m, Kind::Media, "afterMediaId")?)
            }
        };
        let album = services(ctx)
            .add_media_to_album(
                viewer,
                album_id(&input.album_id, "albumId")?,
                &media_ids(&input.media_ids, "mediaIds")?,
                position,
            )
            .await?;
        Ok(Planned(AlbumPayload {
            album: Album(album),
        }))
    }

    async fn remove_media_from_album(
        &self,
        ctx: &Context<'_>,
        input: RemoveMediaFromAlbumInput,
    ) -> Result<Planned<AlbumPayload>> {
        let viewer = viewer(ctx)?;
        let album = services(ctx)
            .remove_media_from_album(
                viewer,
                album_id(&input.album_id, "albumId")?,
                &media_ids(&input.media_ids, "mediaIds")?,
            )
            .await?;
        Ok(Planned(AlbumPayload {
            album: Album(album),
        }))
    }

    async fn move_album_media(
        &self,
        ctx: &Context<'_>,
        input: MoveAlbumMediaInput,
    ) -> Result<Planned<MoveAlbumMediaPayload>> {
        let viewer = viewer(ctx)?;
        let album = album_id(&input.album_id, "albumId")?;
        let after = input
            .after_media_id
            .as_ref()
            .map(|m| ids::expect(m, Kind::Media, "afterMediaId"))
            .transpose()?;
        let svc = services(ctx);
        let link = svc
            .move_album_media(
                viewer,
                album,
                ids::expect(&input.media_id, Kind::Media, "mediaId")?,
                after,
            )
            .await?;
        let album = svc.album(viewer, album).await?;
        Ok(Planned(MoveAlbumMediaPayload {
            album: Album(album),
            link: Link(link),
        }))
    }
}

impl ToOut for AlbumPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "AlbumPayload",
            vec![("album", self.album.to_out())],
        ))
    }
}

impl ToOut for DeleteAlbumPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "DeleteAlbumPayload",
            vec![("deletedId", self.deleted_id.to_out())],
        ))
    }
}

impl ToOut for MoveAlbumMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "MoveAlbumMediaPayload",
            vec![("album", self.album.to_out()), ("link", self.link.to_out())],
        ))
    }
}
