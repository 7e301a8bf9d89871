//! Blob storage behind one small interface, on the `object_store` crate: the local disk under
//! the data dir by default. Media bytes are content-addressed by their SHA-256, so identical
//! files are stored once whoever uploads them.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

pub(crate) mod spool;

/// Size of the parts a file is streamed to the store in.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// Where media bytes live.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory of a local store, where a file already on the same disk is linked into
    /// place rather than copied.
    local_root: Option<std::path::PathBuf>,
}

/// The bytes of a blob (or a range of them), streamed.
pub(crate) struct BlobRead {
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
    /// The bytes of the range that was read.
    pub range: Range<u64>,
    /// The size of the whole blob.
    pub total: u64,
}

/// The key of the blob with this SHA-256 (hex): `sha256/ab/cd/abcd…`.
pub(crate) fn blob_key(sha256: &str) -> String {
    let a = sha256.get(0..2).unwrap_or("00");
    let b = sha256.get(2..4).unwrap_or("00");
    format!("sha256/{a}/{b}/{sha256}")
}

impl BlobStore {
    /// Opens the store named by `url`: `file:///abs/path`, `s3://bucket[/prefix]` (credentials,
    /// region and endpoint from the usual `AWS_*` variables, e.g. `AWS_ENDPOINT` and
    /// `AWS_ALLOW_HTTP=true` for an S3-compatible server), or the `blobs` directory in the data
    /// dir when there is none.
    pub fn open(url: Option<&str>, data_dir: &FsPath) -> anyhow::Result<Self> {
        let root = match url {
            None => data_dir.join("blobs"),
            Some(url) if url.starts_with("s3://") => return Self::open_s3(url),
            Some(url) => match url.strip_prefix("file://") {
                Some(path) => path.into(),
                None => anyhow::bail!(
                    "HYPERNET_STORAGE_URL {url:?} is not supported: use file:///absolute/path or s3://bucket/prefix"
                ),
            },
        };
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating blob directory {}", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("opening blob directory {}", root.display()))?
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(root),
        })
    }

    fn open_s3(url: &str) -> anyhow::Result<Self> {
        // One TLS provider for the process: ring (no aws-lc, no cmake).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rest = url.trim_start_matches("s3://");
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(
            !bucket.is_empty(),
            "HYPERNET_STORAGE_URL {url:?} names no bucket"
        );
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .with_context(|| format!("configuring S3 storage for {url}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Self {
            store,
            local_root: None,
        })
    }

    /// Whether an object exists.
    pub(crate) async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        match self.store.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e).context("checking a blob"),
        }
    }

    /// Stores a local file as `key`. The object appears only once it is complete.
    pub(crate) async fn put_file(&self, key: &str, file: &FsPath) -> anyhow::Result<()> {
        if let Some(root) = &self.local_root
            && link_into(root, key, file).await.is_ok()
        {
            return Ok(());
        }
        self.copy_file(key, file).await
    }

    /// Streams a local file into `key` (a copy, never a link).
    pub(crate) async fn copy_file(&self, key: &str, file: &FsPath) -> anyhow::Result<()> {
        let mut source = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("opening {}", file.display()))?;
        let upload = self
            .store
            .put_multipart(&Path::from(key))
            .await
            .context("starting a blob upload")?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = source
                .read(&mut buf)
                .await
                .context("reading a spooled file")?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(2)
                .await
                .context("writing a blob")?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.context("completing a blob upload")?;
        Ok(())
    }

    /// Streams `body` into `key`, refusing more than `limit` bytes (then nothing is stored).
    /// Returns how many bytes were stored.
    pub(crate) async fn put_stream<S, E>(
        &self,
        key: &str,
        mut body: S,
        limit: u64,
    ) -> anyhow::Result<Option<u64>>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::error::Error + Send + Sync + 'static,
    {
        let upload = self
            .store
            .put_multipart(&Path::from(key))
            .await
            .context("starting an object upload")?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    writer.abort().await.ok();
                    return Err(anyhow::Error::new(e).context("reading the request body"));
                }
            };
            size += chunk.len() as u64;
            if size > limit {
                writer.abort().await.ok();
                return Ok(None);
            }
            writer
                .wait_for_capacity(2)
                .await
                .context("writing an object")?;
            writer.put(chunk);
        }
        writer
            .finish()
            .await
            .context("completing an object upload")?;
        Ok(Some(size))
    }

    /// Stores `bytes` under `key` at once (small objects: upload chunks, thumbnails).
    pub(crate) async fn put_bytes(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&Path::from(key), bytes.into())
            .await
            .context("storing an object")?;
        Ok(())
    }

    /// Reads `key`, or the bytes in `range` of it.
    pub(crate) async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> anyhow::Result<BlobRead> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&Path::from(key), options)
            .await
            .context("reading a blob")?;
        let total = result.meta.size;
        let range = result.range.clone();
        let stream = result
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed();
        Ok(BlobRead {
            stream,
            range,
            total,
        })
    }

    /// Deletes `key`; a missing object is not an error.
    pub(crate) async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).context("deleting a blob"),
        }
    }
}

/// A local store's object made from a file on the same file system without copying its bytes:
/// a hard link under a temporary name, renamed over the object's path (atomic, and harmless
/// when the same content is already there). Fails, and the caller copies, when the file is on
/// another file system.
async fn link_into(root: &FsPath, key: &str, file: &FsPath) -> std::io::Result<()> {
    let dest = root.join(key);
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let dir = dest.parent().unwrap_or(FsPath::new("."));
        std::fs::create_dir_all(dir)?;
        let staged = dir.join(format!(".link-{}", uuid::Uuid::new_v4().simple()));
        std::fs::hard_link(&file, &staged)?;
        std::fs::rename(&staged, &dest).inspect_err(|_| {
            let _ = std::fs::remove_file(&staged);
        })
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fan_out_by_prefix() {
        let hash = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        assert_eq!(blob_key(hash), format!("sha256/ab/cd/{hash}"));
    }

    #[tokio::test]
    async fn files_round_trip_with_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(None, dir.path()).unwrap();
        let file = dir.path().join("spooled");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&file, &content).unwrap();
        assert!(!store.exists("sha256/aa/bb/x").await.unwrap());
        store.put_file("sha256/aa/bb/x", &file).await.unwrap();
        assert!(store.exists("sha256/aa/bb/x").await.unwrap());
        // The object outlives the spooled file it was linked from, and nothing else is left.
        std::fs::remove_file(&file).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("blobs/sha256/aa/bb"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x"]);

        let read = store.read("sha256/aa/bb/x", Some(10..20)).await.unwrap();
        assert_eq!(read.total, content.len() as u64);
        assert_eq!(read.range, 10..20);
        let bytes: Vec<Bytes> = read.stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(bytes.concat(), content[10..20]);

        store.delete("sha256/aa/bb/x").await.unwrap();
        store.delete("sha256/aa/bb/x").await.unwrap();
        assert!(!store.exists("sha256/aa/bb/x").await.unwrap());
    }

    #[tokio::test]
    async fn files_are_copied_when_they_cannot_be_linked() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(None, dir.path()).unwrap();
        let file = dir.path().join("spooled");
        std::fs::write(&file, b"copied bytes").unwrap();
        store.copy_file("sha256/cc/dd/y", &file).await.unwrap();
        std::fs::write(&file, b"changed").unwrap();
        let read = store.read("sha256/cc/dd/y", None).await.unwrap();
        let bytes: Vec<Bytes> = read.stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(bytes.concat(), b"copied bytes");
    }

    #[test]
    fn other_schemes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(BlobStore::open(Some("ftp://x/y"), dir.path()).is_err());
    }
}
