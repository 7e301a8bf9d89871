//! Thumbnails: for each photo, JPEG variants at 256 and 1024 px on the long edge (EXIF
//! orientation applied), stored as media linked `variant_of` to the original. Made by a
//! background worker, off the request path; a sweep finds photos that still lack them (after a
//! restart, or made by another instance).

use std::io::Cursor;
use std::sync::Arc;

use anyhow::Context;
use entity::media;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageReader};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Services;
use super::blobs::BlobSource;
use crate::error::AppError;
use crate::storage::{blob_key, spool};
use crate::store;
use crate::store::media::{NewMedia, VARIANT_SOURCE};

/// Long-edge sizes of the variants.
pub(crate) const VARIANT_SIZES: [u32; 2] = [256, 1024];
/// Photo types we can decode (HEIC/HEIF has no pure-Rust decoder: no thumbnails for it).
pub(crate) const DECODABLE: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];
const JPEG_QUALITY: u8 = 82;

/// The queue of photos waiting for thumbnails.
#[derive(Clone)]
pub(crate) struct VariantJobs {
    tx: mpsc::UnboundedSender<Uuid>,
}

impl VariantJobs {
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<Uuid>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }

    pub(crate) fn enqueue(&self, media_id: Uuid) {
        // The worker is gone only during shutdown; the sweep catches up on the next start.
        let _ = self.tx.send(media_id);
    }
}

/// Runs the thumbnail worker until the queue closes: one photo at a time, so that decoding
/// large images never takes more than one core from the requests.
pub(crate) async fn run_worker(services: Arc<Services>, mut rx: mpsc::UnboundedReceiver<Uuid>) {
    while let Some(id) = rx.recv().await {
        // Thumbnails are made for whichever user uploaded: the system's work.
        if let Err(err) = crate::db::as_system(services.make_variants(id)).await {
            tracing::warn!(media = %id, error = format!("{err:#}"), "could not make thumbnails");
        }
    }
}

struct Rendered {
    size: u32,
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

fn orientation_of(m: &media::Model) -> Option<Orientation> {
    m.metadata
        .get("orientation")
        .and_then(serde_json::Value::as_u64)
        .and_then(|o| u8::try_from(o).ok())
        .and_then(Orientation::from_exif)
}

fn render(
    path: &std::path::Path,
    orientation: Option<Orientation>,
    sizes: &[u32],
) -> anyhow::Result<Vec<Rendered>> {
    let mut reader = ImageReader::open(path)?.with_guessed_format()?;
    reader.limits(image::Limits::default());
    let mut img: DynamicImage = reader.decode().context("decoding the photo")?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let long_edge = img.width().max(img.height());
    let mut out = Vec::new();
    for &size in sizes {
        let thumb = if long_edge > size {
            img.resize(size, size, FilterType::Triangle)
        } else {
            img.clone()
        };
        let rgb = DynamicImage::ImageRgb8(thumb.to_rgb8());
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), JPEG_QUALITY)
            .encode_image(&rgb)
            .context("encoding a thumbnail")?;
        out.push(Rendered {
            size,
            bytes,
            width: rgb.width(),
            height: rgb.height(),
        });
    }
    Ok(out)
}

fn variant_id(original: Uuid, size: u32) -> Uuid {
    Uuid::new_v5(&original, format!("variant-{size}").as_bytes())
}

impl Services {
    /// Makes the missing thumbnails of one photo. Idempotent: a variant's id derives from its
    /// original and size, so two workers cannot make two of the same.
    pub(crate) async fn make_variants(&self, id: Uuid) -> anyhow::Result<()> {
        let Some(original) = store::media::find_by_id(&self.db, id).await? else {
            return Ok(());
        };
        let eligible = original.deleted_at.is_none()
            && original.media_type == "photo"
            && original.source_type.as_deref() != Some(VARIANT_SOURCE)
            && DECODABLE.contains(&original.mime_type.as_str());
        if !eligible {
            return Ok(());
        }
        let existing = store::links::all_variant_ids(&self.db, &[id]).await?;
        let missing: Vec<u32> = VARIANT_SIZES
            .into_iter()
            .filter(|s| !existing.contains(&variant_id(id, *s)))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let read = self.blobs.read(&original.file_path, None).await?;
        let reader = tokio_util::io::StreamReader::new(read.stream);
        let spooled = spool::from_async_reader(&self.spool_dir, reader, u64::MAX)
            .await
            .map_err(|e| match e {
                spool::SpoolError::Io(e) => e,
                spool::SpoolError::TooLarge(_) => anyhow::anyhow!("unbounded spool overflowed"),
            })?;
        let path = spooled.path.to_path_buf();
        let orientation = orientation_of(&original);
        let rendered = tokio::task::spawn_blocking(move || render(&path, orientation, &missing))
            .await
            .context("thumbnail task")??;
        drop(spooled);
        for r in rendered {
            let hash = hex::encode(Sha256::digest(&r.bytes));
            let key = blob_key(&hash);
            if !self.blobs.exists(&key).await? {
                self.blobs.put_bytes(&key, r.bytes.clone().into()).await?;
            }
            let stem = original
                .filename
                .rsplit_once('.')
                .map_or(original.filename.as_str(), |(stem, _)| stem);
            let txn = self.db.begin_write().await?;
            // The original may have been deleted or purged while we rendered.
            let still_there = store::media::find_by_id(&txn, id)
                .await?
                .is_some_and(|m| m.deleted_at.is_none());
            if !still_there {
                return Ok(());
            }
            let inserted = store::media::insert_ignoring_conflict(
                &txn,
                NewMedia {
                    id: variant_id(id, r.size),
                    user_id: original.user_id,
                    filename: format!("{stem}-{}.jpg", r.size),
                    media_type: "photo",
                    mime_type: "image/jpeg".into(),
                    size: r.bytes.len() as i64,
                    width: i32::try_from(r.width).ok(),
                    height: i32::try_from(r.height).ok(),
                    duration_ms: None,
                    file_path: key,
                    hash: hash.clone(),
                    taken_at: original.taken_at,
                    source_type: Some(VARIANT_SOURCE.into()),
                    source_id: Some(id.to_string()),
                    metadata: serde_json::json!({ "variant": r.size }),
                },
            )
            .await?;
            self.keep_blobs(&txn, &[(&hash, BlobSource::Bytes(&r.bytes))])
                .await
                .map_err(AppError::into_anyhow)?;
            if inserted {
                store::links::insert_variant_link(
                    &txn,
                    original.user_id,
                    variant_id(id, r.size),
                    id,
                    r.size,
                )
                .await?;
            }
            txn.commit().await?;
        }
        Ok(())
    }

    /// Queues every photo that still lacks thumbnails (at most `limit` per call).
    pub(crate) async fn queue_missing_variants(&self, limit: u64) -> anyhow::Result<usize> {
        let ids = store::media::missing_variants(&self.db, &DECODABLE, limit).await?;
        for id in &ids {
            self.variant_jobs.enqueue(*id);
        }
        Ok(ids.len())
    }
}
