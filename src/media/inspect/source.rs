//! Positioned, accounted reads over the file being inspected.
//!
//! Every byte the inspector looks at goes through [`Source`], so a unit test
//! can prove that a multi-gigabyte video is inspected by reading only a few
//! kilobytes, and so that truncation surfaces as [`InspectError::Corrupt`]
//! rather than as a bare end-of-file I/O error.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use super::InspectError;

/// A file plus its length, and a counter of bytes actually read from it.
pub(super) struct Source {
    file: File,
    len: u64,
    bytes_read: u64,
}

impl Source {
    pub(super) fn new(file: File, len: u64) -> Self {
        Self {
            file,
            len,
            bytes_read: 0,
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Total bytes pulled from the OS; only tests look at it, to guard the
    /// "never read the whole file" promise.
    #[cfg(test)]
    pub(super) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Fills as much of `buf` as the file allows from `offset`, returning how
    /// many bytes were read; short only at end of file.
    pub(super) fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.seek(SeekFrom::Start(offset))?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }

    /// Like [`Source::read_at`] but a short read means the structure that
    /// `what` names runs past the end of the file.
    pub(super) fn read_exact_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
        what: &str,
    ) -> Result<(), InspectError> {
        let n = self.read_at(offset, buf)?;
        if n < buf.len() {
            return Err(InspectError::Corrupt(format!(
                "{what} at offset {offset} is truncated (wanted {} bytes, file has {})",
                buf.len(),
                n
            )));
        }
        Ok(())
    }

    /// Reads `len` bytes at `offset` into a fresh buffer. Callers cap `len`
    /// first, so a lying size field can never make us allocate gigabytes.
    pub(super) fn read_vec_at(
        &mut self,
        offset: u64,
        len: usize,
        what: &str,
    ) -> Result<Vec<u8>, InspectError> {
        let mut buf = vec![0; len];
        self.read_exact_at(offset, &mut buf, what)?;
        Ok(buf)
    }

    /// The last `N` bytes of the file, or `None` when it is shorter than that.
    pub(super) fn tail<const N: usize>(&mut self) -> Result<Option<[u8; N]>, InspectError> {
        let n = N as u64;
        if self.len < n {
            return Ok(None);
        }
        let mut buf = [0; N];
        self.read_exact_at(self.len - n, &mut buf, "file tail")?;
        Ok(Some(buf))
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.bytes_read = self.bytes_read.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// A read budget for third-party parsers (imagesize) that walk structures
/// with their own loops: once the budget is spent every read fails, so a
/// hostile file can make them give up but never make them crawl gigabytes.
pub(super) struct Budgeted<'a> {
    inner: &'a mut Source,
    left: u64,
}

impl<'a> Budgeted<'a> {
    pub(super) fn new(inner: &'a mut Source, budget: u64) -> Self {
        Self {
            inner,
            left: budget,
        }
    }
}

impl Read for Budgeted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            return Err(io::Error::other("inspection read budget exhausted"));
        }
        let cap = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..cap])?;
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

impl Seek for Budgeted<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}
