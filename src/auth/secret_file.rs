//! Secrets the operator did not set: generated once, kept in the data dir with mode 0600.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Reads the secret in `dir/name`, or creates it with `len` random bytes (hex-encoded).
pub(crate) fn load_or_create(dir: &Path, name: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = hex::decode(text.trim())
                .with_context(|| format!("{} is not a hex-encoded secret", path.display()))?;
            anyhow::ensure!(secret.len() >= len, "{} is too short", path.display());
            return Ok(secret);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let secret: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(hex::encode(&secret).as_bytes())
                .and_then(|_| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new secret");
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(dir, name, len),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// Writes `bytes` to `path` (replacing it), readable by the owner only, and syncs it.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), "jwt_secret", 32).unwrap();
        let second = load_or_create(dir.path(), "jwt_secret", 32).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
