//! Checksum-first, resumable uploads: the client declares the SHA-256 and size, learns whether
//! the bytes are already there, and otherwise sends them in chunks (tus core semantics) that
//! survive dropped connections and reach any instance.

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use entity::{media, upload_sessions};
use futures_util::{Stream, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::media::{Ingested, NewUpload};
use super::{Services, validate};
use crate::error::{AppError, AppResult};
use crate::storage::spool;
use crate::store;
use crate::store::upload_sessions::NewSession;

/// What `beginUpload` decided.
pub(crate) enum BeginUpload {
    /// The viewer already has these bytes: nothing to send.
    Existing(media::Model),
    /// Send the bytes to this session.
    Session(upload_sessions::Model),
}

/// Why a chunk was refused, in tus terms.
pub(crate) enum ChunkError {
    /// No live session of the caller has this id (404).
    NotFound,
    /// `Upload-Offset` is not where the upload stands (409).
    OffsetMismatch {
        current: i64,
    },
    /// The chunk goes past the declared size (413).
    TooLarge,
    Internal(anyhow::Error),
}

impl From<sea_orm::DbErr> for ChunkError {
    fn from(e: sea_orm::DbErr) -> Self {
        ChunkError::Internal(e.into())
    }
}

impl From<anyhow::Error> for ChunkError {
    fn from(e: anyhow::Error) -> Self {
        ChunkError::Internal(e)
    }
}

fn session_not_found() -> AppError {
    AppError::NotFound("no such upload (it may have expired)".into())
}

impl Services {
    /// `beginUpload`.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn begin_upload(
        &self,
        viewer: Uuid,
        sha256: &str,
        size: i64,
        mime_type: Option<&str>,
        filename: &str,
    ) -> AppResult<BeginUpload> {
        let sha256 = validate::sha256(sha256, "sha256")?;
        let filename = validate::filename(filename, "filename")?;
        if size <= 0 || size as u64 > self.max_upload_bytes {
            return Err(AppError::bad_input(
                "size",
                format!(
                    "`size` must be between 1 and {} bytes",
                    self.max_upload_bytes
                ),
            ));
        }
        let mime_type = mime_type
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty());
        if mime_type
            .as_ref()
            .is_some_and(|m| m.len() > 100 || !m.contains('/'))
        {
            return Err(AppError::bad_input(
                "mimeType",
                "`mimeType` must look like type/subtype",
            ));
        }
        if let Some(existing) = store::media::find_active_by_hash(&self.db, viewer, &sha256).await?
        {
            return Ok(BeginUpload::Existing(existing));
        }
        if !store::quota::reserve(&self.db, viewer, size).await? {
            return Err(AppError::QuotaExceeded(format!(
                "this file ({size} bytes) would exceed your storage quota"
            )));
        }
        let session = store::upload_sessions::insert(
            &self.db,
            NewSession {
                user_id: viewer,
                sha256,
                size,
                mime_type,
                filename,
                expires_at: store::now() + self.upload_session_ttl,
            },
        )
        .await;
        match session {
            Ok(session) => Ok(BeginUpload::Session(session)),
            Err(e) => {
                store::quota::release(&self.db, viewer, size).await.ok();
                Err(e.into())
            }
        }
    }

    /// The caller's live session, for `HEAD`.
    pub(crate) async fn upload_session(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> AppResult<upload_sessions::Model> {
        store::upload_sessions::find_live(&self.db, viewer, id)
            .await?
            .ok_or_else(session_not_found)
    }

    /// `PATCH`: appends `body` at `offset`. Returns the new offset.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, upload = %id, offset))]
    pub(crate) async fn append_chunk<S, E>(
        &self,
        viewer: Uuid,
        id: Uuid,
        offset: i64,
        body: S,
    ) -> Result<i64, ChunkError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::error::Error + Send + Sync + 'static,
    {
        let session = store::upload_sessions::find_live(&self.db, viewer, id)
            .await?
            .ok_or(ChunkError::NotFound)?;
        if offset != session.upload_offset {
            return Err(ChunkError::OffsetMismatch {
                current: session.upload_offset,
            });
        }
        let key = format!("uploads/{id}/{offset:020}-{}", Uuid::now_v7().simple());
        let room = (session.size - offset) as u64;
        let Some(len) = self.blobs.put_stream(&key, body, room).await? else {
            return Err(ChunkError::TooLarge);
        };
        if len == 0 {
            self.blobs.delete(&key).await?;
            return Ok(offset);
        }
        let to = offset + len as i64;
        let advanced = async {
            let txn = self.db.begin_write().await?;
            let ok = store::upload_sessions::advance(&txn, id, offset, to, key.clone()).await?;
            txn.commit().await?;
            Ok::<_, sea_orm::DbErr>(ok)
        }
        .await;
        match advanced {
            Ok(true) => Ok(to),
            Ok(false) | Err(_) => {
                // Another writer moved the offset first: our chunk is not part of the upload.
                self.blobs.delete(&key).await?;
                let current = store::upload_sessions::find_live(&self.db, viewer, id)
                    .await?
                    .ok_or(ChunkError::NotFound)?
                    .upload_offset;
                Err(ChunkError::OffsetMismatch { current })
            }
        }
    }

    /// `completeUpload`: checks the size and SHA-256 of what arrived and makes it media. Bytes
    /// that do not match are refused and nothing of the upload is kept.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, upload = %id))]
    pub(crate) async fn complete_upload(
        &self,
        viewer: Uuid,
        id: Uuid,
        taken_at: Option<DateTime<Utc>>,
    ) -> AppResult<Ingested> {
        let session = store::upload_sessions::find_live(&self.db, viewer, id)
            .await?
            .ok_or_else(session_not_found)?;
        if session.upload_offset != session.size {
            return Err(AppError::bad_input(
                "uploadId",
                format!(
                    "the upload is incomplete: {} of {} bytes arrived",
                    session.upload_offset, session.size
                ),
            ));
        }
        let chunks = store::upload_sessions::chunks(&self.db, id).await?;
        // Claim the session: of two concurrent completions, one goes on.
        if !store::upload_sessions::delete(&self.db, id).await? {
            return Err(session_not_found());
        }
        let result = self
            .assemble_and_ingest(viewer, &session, &chunks, taken_at)
            .await;
        for chunk in &chunks {
            self.blobs.delete(&chunk.object_key).await.ok();
        }
        result
    }

    async fn assemble_and_ingest(
        &self,
        viewer: Uuid,
        session: &upload_sessions::Model,
        chunks: &[entity::upload_chunks::Model],
        taken_at: Option<DateTime<Utc>>,
    ) -> AppResult<Ingested> {
        let blobs = self.blobs.clone();
        let keys: Vec<String> = chunks.iter().map(|c| c.object_key.clone()).collect();
        let stream = futures_util::stream::iter(keys)
            .then(move |key| {
                let blobs = blobs.clone();
                async move { blobs.read(&key, None).await.map_err(std::io::Error::other) }
            })
            .map_ok(|read| read.stream)
            .try_flatten();
        let reader = tokio_util::io::StreamReader::new(Box::pin(stream));
        let spooled =
            match spool::from_async_reader(&self.spool_dir, reader, session.size as u64).await {
                Ok(s) => s,
                Err(spool::SpoolError::TooLarge(_)) => {
                    store::quota::release(&self.db, viewer, session.size).await?;
                    return Err(AppError::bad_input(
                        "uploadId",
                        "more bytes arrived than declared",
                    ));
                }
                Err(spool::SpoolError::Io(e)) => {
                    store::quota::release(&self.db, viewer, session.size).await?;
                    return Err(AppError::Internal(e.context("assembling an upload")));
                }
            };
        if spooled.size != session.size as u64 || spooled.sha256 != session.sha256 {
            store::quota::release(&self.db, viewer, session.size).await?;
            return Err(AppError::bad_input(
                "uploadId",
                "the bytes that arrived do not match the declared size and sha256; nothing was kept",
            ));
        }
        self.ingest(
            viewer,
            NewUpload {
                spooled,
                filename: session.filename.clone(),
                taken_at,
            },
            true,
        )
        .await
    }

    /// Drops sessions that expired: their chunks, their rows, their reservations.
    pub(crate) async fn expire_upload_sessions(&self) -> anyhow::Result<usize> {
        let mut count = 0;
        loop {
            let expired = store::upload_sessions::expired(&self.db, store::now(), 100).await?;
            if expired.is_empty() {
                return Ok(count);
            }
            for session in expired {
                let chunks = store::upload_sessions::chunks(&self.db, session.id).await?;
                if store::upload_sessions::delete(&self.db, session.id).await? {
                    store::quota::release(&self.db, session.user_id, session.size)
                        .await
                        .context("releasing an expired reservation")?;
                    count += 1;
                }
                for chunk in chunks {
                    self.blobs.delete(&chunk.object_key).await?;
                }
            }
        }
    }
}
