//! `uploadMedia` (a multipart request), and the resumable upload's `beginUpload` and
//! `completeUpload` (the bytes go to `/uploads`, see `http::uploads`).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::context::{request, services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::scalars::BigInt;
use crate::graphql::types::media::Media;
use crate::kinds::Kind;
use crate::service::albums::Position;
use crate::service::media::{Ingested, NewUpload};
use crate::service::uploads::BeginUpload;
use crate::service::validate;

#[derive(InputObject)]
struct UploadMediaInput {
    /// The file, as a part of a GraphQL multipart request.
    file: Upload,
    /// Defaults to the name of the uploaded file.
    filename: Option<String>,
    /// Defaults to the EXIF DateTimeOriginal, when there is one.
    taken_at: Option<DateTime<Utc>>,
    /// Also add the media at the end of this album.
    album_id: Option<ID>,
}

#[derive(SimpleObject)]
struct UploadMediaPayload {
    media: Media,
    /// True when the viewer already had these bytes: `media` is that copy, nothing was stored.
    deduplicated: bool,
}

#[derive(InputObject)]
struct BeginUploadInput {
    /// SHA-256 of the whole file, in hex.
    sha256: String,
    /// Bytes in the whole file.
    size: BigInt,
    mime_type: Option<String>,
    filename: String,
}

/// A resumable upload: `PATCH` chunks to `uploadUrl` (tus core protocol: `Upload-Offset`,
/// `Content-Type: application/offset+octet-stream`), `HEAD` it to learn the offset, then call
/// `completeUpload`.
#[derive(SimpleObject)]
struct UploadSession {
    id: ID,
    /// Bytes received so far.
    offset: BigInt,
    size: BigInt,
    expires_at: DateTime<Utc>,
    upload_url: String,
}

#[derive(SimpleObject)]
struct BeginUploadPayload {
    /// Set when the viewer already has these bytes: there is nothing to send.
    existing: Option<Media>,
    /// Set otherwise.
    upload: Option<UploadSession>,
}

#[derive(InputObject)]
struct CompleteUploadInput {
    upload_id: ID,
    taken_at: Option<DateTime<Utc>>,
    /// Also add the media at the end of this album.
    album_id: Option<ID>,
}

#[derive(SimpleObject)]
struct CompleteUploadPayload {
    media: Media,
    deduplicated: bool,
}

/// The viewer's active album named by `albumId`, checked before any bytes are stored.
async fn checked_album(
    ctx: &Context<'_>,
    viewer: Uuid,
    id: Option<&ID>,
) -> Result<Option<Uuid>, AppError> {
    let Some(id) = id else {
        return Ok(None);
    };
    let album = ids::expect(id, Kind::Album, "albumId")?;
    services(ctx).album(viewer, album).await?;
    Ok(Some(album))
}

#[derive(Default)]
pub(crate) struct UploadMutation;

#[Object]
impl UploadMutation {
    /// Uploads one photo or video (GraphQL multipart request). Bytes the viewer already has
    /// come back as that media with `deduplicated: true`.
    async fn upload_media(
        &self,
        ctx: &Context<'_>,
        input: UploadMediaInput,
    ) -> Result<Planned<UploadMediaPayload>> {
        let viewer = viewer(ctx)?;
        let value = input.file.value(ctx).map_err(|_| {
            AppError::bad_input("file", "`file` must be a file part of a multipart request")
        })?;
        let filename = validate::filename(
            input.filename.as_deref().unwrap_or(&value.filename),
            "filename",
        )?;
        let svc = services(ctx);
        let album = checked_album(ctx, viewer, input.album_id.as_ref()).await?;
        let spooled = svc.spool_file(value.content).await?;
        let Ingested {
            media,
            deduplicated,
        } = svc
            .upload_media(
                viewer,
                NewUpload {
                    spooled,
                    filename,
                    taken_at: input.taken_at,
                },
            )
            .await?;
        if let Some(album) = album {
            svc.add_media_to_album(viewer, album, &[media.id], Position::End)
                .await?;
        }
        Ok(Planned(UploadMediaPayload {
            media: Media::from(media),
            deduplicated,
        }))
    }

    /// Starts a checksum-first, resumable upload.
    async fn begin_upload(
        &self,
        ctx: &Context<'_>,
        input: BeginUploadInput,
    ) -> Result<Planned<BeginUploadPayload>> {
        let viewer = viewer(ctx)?;
        let svc = services(ctx);
        let begun = svc
            .begin_upload(
                viewer,
                &input.sha256,
                input.size.0,
                input.mime_type.as_deref(),
                &input.filename,
            )
            .await?;
        Ok(Planned(match begun {
            BeginUpload::Existing(media) => BeginUploadPayload {
                existing: Some(Media::from(media)),
                upload: None,
            },
            BeginUpload::Session(s) => {
                let id = ids::encode(Kind::Upload, s.id);
                BeginUploadPayload {
                    existing: None,
                    upload: Some(UploadSession {
                        upload_url: format!("{}/uploads/{}", request(ctx).base_url, id.as_str()),
                        id,
                        offset: BigInt(s.upload_offset),
                        size: BigInt(s.size),
                        expires_at: s.expires_at,
                    }),
                }
            }
        }))
    }

    /// Finishes a resumable upload: checks the bytes against the declared size and SHA-256.
    async fn complete_upload(
        &self,
        ctx: &Context<'_>,
        input: CompleteUploadInput,
    ) -> Result<Planned<CompleteUploadPayload>> {
        let viewer = viewer(ctx)?;
        let id = ids::expect(&input.upload_id, Kind::Upload, "uploadId")?;
        // Checked before the upload is completed: someone else's album is NOT_FOUND and
        // leaves the session as it was.
        let album = checked_album(ctx, viewer, input.album_id.as_ref()).await?;
        let svc = services(ctx);
        let Ingested {
            media,
            deduplicated,
        } = svc.complete_upload(viewer, id, input.taken_at).await?;
        if let Some(album) = album {
            svc.add_media_to_album(viewer, album, &[media.id], Position::End)
                .await?;
        }
        Ok(Planned(CompleteUploadPayload {
            media: Media::from(media),
            deduplicated,
        }))
    }
}

impl ToOut for UploadMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "UploadMediaPayload",
            vec![
                ("media", self.media.to_out()),
                ("deduplicated", self.deduplicated.to_out()),
            ],
        ))
    }
}

impl ToOut for UploadSession {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "UploadSession",
            vec![
                ("id", self.id.to_out()),
                ("offset", self.offset.to_out()),
                ("size", self.size.to_out()),
                ("expiresAt", self.expires_at.to_out()),
                ("uploadUrl", self.upload_url.to_out()),
            ],
        ))
    }
}

impl ToOut for BeginUploadPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "BeginUploadPayload",
            vec![
                ("existing", self.existing.to_out()),
                ("upload", self.upload.to_out()),
            ],
        ))
    }
}

impl ToOut for CompleteUploadPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "CompleteUploadPayload",
            vec![
                ("media", self.media.to_out()),
                ("deduplicated", self.deduplicated.to_out()),
            ],
        ))
    }
}
