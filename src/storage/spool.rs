//! Spooling incoming bytes to a local temporary file while hashing them, so that a file is never
//! held whole in memory and its SHA-256 is known when it lands.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A local copy of incoming bytes; the file is deleted when this is dropped.
pub(crate) struct Spooled {
    pub path: TempPath,
    pub size: u64,
    /// SHA-256 in lower-case hex.
    pub sha256: String,
}

/// Why spooling stopped.
#[derive(Debug)]
pub(crate) enum SpoolError {
    /// More than the limit arrived.
    TooLarge(u64),
    Io(anyhow::Error),
}

const BUF: usize = 256 * 1024;

fn new_temp(dir: &Path) -> anyhow::Result<(std::fs::File, TempPath)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = tempfile::Builder::new()
        .prefix("spool-")
        .tempfile_in(dir)
        .context("creating a spool file")?;
    Ok(file.into_parts())
}

/// Copies a reader into a new temporary file in `dir`, hashing as it goes.
pub(crate) async fn from_async_reader(
    dir: &Path,
    mut reader: impl AsyncRead + Unpin,
    limit: u64,
) -> Result<Spooled, SpoolError> {
    let (file, path) = new_temp(dir).map_err(SpoolError::Io)?;
    let mut out = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("reading the upload")))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > limit {
            return Err(SpoolError::TooLarge(limit));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .await
            .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("writing a spool file")))?;
    }
    out.flush()
        .await
        .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("flushing a spool file")))?;
    Ok(Spooled {
        path,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Blocking: copies an open file (e.g. a multipart upload's temporary file) into a new
/// temporary file in `dir`, hashing as it goes.
pub(crate) fn from_file(
    dir: &Path,
    mut source: std::fs::File,
    limit: u64,
) -> Result<Spooled, SpoolError> {
    let (mut file, path) = new_temp(dir).map_err(SpoolError::Io)?;
    std::io::Seek::rewind(&mut source)
        .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("rewinding the upload")))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = source
            .read(&mut buf)
            .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("reading the upload")))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > limit {
            return Err(SpoolError::TooLarge(limit));
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("writing a spool file")))?;
    }
    file.flush()
        .map_err(|e| SpoolError::Io(anyhow::Error::new(e).context("flushing a spool file")))?;
    Ok(Spooled {
        path,
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Removes spool files older than a day left behind by a crash.
pub(crate) fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if stale {
            let path: PathBuf = entry.path();
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_while_copying() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"hello world".to_vec();
        let spooled = from_async_reader(dir.path(), &data[..], 100).await.unwrap();
        assert_eq!(spooled.size, 11);
        assert_eq!(
            spooled.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(std::fs::read(&spooled.path).unwrap(), data);
        let path = spooled.path.to_path_buf();
        drop(spooled);
        assert!(!path.exists(), "the spool file goes away with it");
    }

    #[tokio::test]
    async fn stops_at_the_limit_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![7u8; 1000];
        let err = from_async_reader(dir.path(), &data[..], 999).await;
        assert!(matches!(err, Err(SpoolError::TooLarge(999))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
