//! Reading media bytes: by the owner's token or by a short-lived signed URL.

use std::ops::Range;

use chrono::{DateTime, Utc};
use entity::media;
use uuid::Uuid;

use super::Services;
use crate::db::{self, Scope};
use crate::error::{AppError, AppResult};
use crate::storage::BlobRead;
use crate::store;

/// Signed URLs expire on these boundaries, so that one URL serves many page loads and the
/// browser's cache can keep the image.
const EXPIRY_STEP_SECS: i64 = 600;

/// How a download proves it may read the bytes.
pub(crate) enum ContentAccess {
    /// The owner's access token.
    Viewer(Uuid),
    /// A signature from `Media.contentUrl`.
    Signed { expires: i64, signature: String },
}

impl Services {
    /// The expiry and signature for a `contentUrl` of `media_id`.
    pub(crate) fn sign_content(&self, media_id: Uuid) -> (i64, String) {
        let min = store::now() + self.content_url_ttl;
        let expires =
            (min.timestamp() + EXPIRY_STEP_SECS - 1) / EXPIRY_STEP_SECS * EXPIRY_STEP_SECS;
        let at = DateTime::<Utc>::from_timestamp(expires, 0).unwrap_or(min);
        (expires, self.url_signer.sign(media_id, at))
    }

    /// The media a download may read: another user's media is `NOT_FOUND`; a bad or expired
    /// signature is `FORBIDDEN`.
    pub(crate) async fn authorize_content(
        &self,
        access: &ContentAccess,
        media_id: Uuid,
    ) -> AppResult<media::Model> {
        let media = match access {
            ContentAccess::Viewer(viewer) => {
                let find = store::media::find_active(&self.db, *viewer, media_id);
                db::within(Scope::User(*viewer), find).await?
            }
            ContentAccess::Signed { expires, signature } => {
                if !self
                    .url_signer
                    .verify(media_id, *expires, signature, store::now())
                {
                    return Err(AppError::Forbidden(
                        "the link is invalid or has expired".into(),
                    ));
                }
                // The signature names the media; whose it is, the row says.
                db::as_system(store::media::find_by_id(&self.db, media_id))
                    .await?
                    .filter(|m| m.deleted_at.is_none())
            }
        };
        media.ok_or_else(|| AppError::NotFound("no such media".into()))
    }

    /// A stream of the bytes of `media`, or of `range` of them.
    pub(crate) async fn read_content(
        &self,
        media: &media::Model,
        range: Option<Range<u64>>,
    ) -> AppResult<BlobRead> {
        Ok(self.blobs.read(&media.file_path, range).await?)
    }
}
