//! Media inspection: what a file in the library is, how big it is, how long
//! it plays and when it was taken, learned from its headers alone.
//!
//! Inspection runs on every import and rescan, over libraries holding
//! multi-gigabyte videos, so it reads headers and box/segment tables with
//! seeks and never pulls a whole file into memory. It is also the gate that
//! keeps truncated uploads and non-media files out of the library, hence the
//! split between [`InspectError::Unsupported`] and [`InspectError::Corrupt`].

mod bmff;
mod exif;

pub(crate) use exif::TAKEN_AT_OFFSET;
mod movie;
mod sniff;
mod source;
mod still;
mod webm;
mod xmp;

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use sniff::Format;
use source::Source;

/// How much of the file sniffing looks at; every signature we recognise,
/// including a WebM EBML header, fits well inside this.
const HEAD_LEN: u64 = 4096;
/// HEIF boxes that kamadak-exif loads whole to find EXIF; real ones are a
/// few KiB, so anything bigger is skipped rather than read into memory.
const MAX_HEIF_EXIF_BOX: u64 = 16 << 20;

/// Whether a file is shown as a still or played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaKind {
    Photo,
    Video,
}

/// Everything learned about one media file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inspection {
    pub mime_type: &'static str,
    pub kind: MediaKind,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub taken_at: Option<DateTime<Utc>>,
    pub orientation: Option<u16>,
    pub metadata: Map<String, Value>,
}

/// Why a file could not be inspected; the variants drive different user
/// messages ("not a photo or video" vs "this upload is damaged").
#[derive(Debug)]
pub(crate) enum InspectError {
    Unsupported(String),
    Corrupt(String),
    Io(io::Error),
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Unsupported(what) => write!(f, "unsupported file type: {what}"),
            InspectError::Corrupt(why) => write!(f, "corrupt media file: {why}"),
            InspectError::Io(e) => write!(f, "I/O error while inspecting media: {e}"),
        }
    }
}

impl std::error::Error for InspectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InspectError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for InspectError {
    fn from(e: io::Error) -> Self {
        InspectError::Io(e)
    }
}

/// What the format-specific parsers found; merged into [`Inspection`].
#[derive(Debug, Default)]
struct Details {
    width: Option<u32>,
    height: Option<u32>,
    duration_ms: Option<u64>,
    taken_at: Option<DateTime<Utc>>,
    orientation: Option<u16>,
    metadata: Map<String, Value>,
}

/// The key of [`Inspection::metadata`] that lists a photo's keywords (EXIF `XPKeywords`, XMP
/// `dc:subject`), the names tags are made from when keywords are imported.
pub(crate) const KEYWORDS: &str = "keywords";
/// Most keywords kept of one file, and the longest one (in characters).
const MAX_KEYWORDS: usize = 50;
const MAX_KEYWORD_CHARS: usize = 100;

/// Adds `found` to the file's keywords: trimmed, without repeats (ignoring case), at most
/// [`MAX_KEYWORDS`] of at most [`MAX_KEYWORD_CHARS`] characters (longer ones are left out).
fn add_keywords(details: &mut Details, found: Vec<String>) {
    let list = details
        .metadata
        .entry(KEYWORDS)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(list) = list else {
        return;
    };
    for keyword in found {
        let keyword = keyword.trim();
        let fresh = !list.iter().any(|k| {
            k.as_str()
                .is_some_and(|k| k.to_lowercase() == keyword.to_lowercase())
        });
        if !keyword.is_empty()
            && keyword.chars().count() <= MAX_KEYWORD_CHARS
            && fresh
            && list.len() < MAX_KEYWORDS
        {
            list.push(Value::String(keyword.to_string()));
        }
    }
    if list.is_empty() {
        details.metadata.remove(KEYWORDS);
    }
}

/// Blocking. Reads only what it needs (headers, boxes, EXIF) with seeks:
/// NEVER reads a whole large file into memory (files can be several GB; a
/// 200 MB MP4 with a huge `mdat` must be inspected in a few KB of memory).
pub(crate) fn inspect(path: &Path) -> Result<Inspection, InspectError> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        // Reading a FIFO or device could block forever or never end.
        return Err(InspectError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    inspect_source(&mut Source::new(file, meta.len()))
}

fn inspect_source(src: &mut Source) -> Result<Inspection, InspectError> {
    let mut head = vec![0u8; src.len().min(HEAD_LEN) as usize];
    let n = src.read_at(0, &mut head)?;
    head.truncate(n);
    let format = sniff::sniff(&head)?;

    let details = match format {
        Format::Jpeg | Format::Png | Format::Gif | Format::WebP => image(src, format, &head)?,
        Format::Heif { .. } => heif(src)?,
        Format::Mp4 | Format::QuickTime => {
            let top = bmff::walk_top_level(src)?;
            let moov = top.moov.ok_or_else(|| {
                InspectError::Corrupt(
                    "movie has no 'moov' box (header missing or upload incomplete)".into(),
                )
            })?;
            movie::inspect(src, &moov)?
        }
        Format::WebM => webm::inspect(src, &head)?,
    };

    let kind = match format {
        Format::Mp4 | Format::QuickTime | Format::WebM => MediaKind::Video,
        _ => MediaKind::Photo,
    };
    Ok(Inspection {
        mime_type: format.mime_type(),
        kind,
        width: details.width,
        height: details.height,
        duration_ms: details.duration_ms,
        taken_at: details.taken_at,
        orientation: details.orientation,
        metadata: details.metadata,
    })
}

fn image(src: &mut Source, format: Format, head: &[u8]) -> Result<Details, InspectError> {
    still::validate(src, format, head)?;
    let mut details = Details::default();
    if let Some((w, h)) = still::dimensions(src)? {
        details.width = Some(w);
        details.height = Some(h);
    }
    if let Some(exif) = still::exif_block(src, format)?.and_then(exif::parse_block) {
        exif::apply(&exif, &mut details);
    }
    if let Some(packet) = still::xmp_packet(src, format)? {
        add_keywords(&mut details, xmp::subjects(&packet));
    }
    Ok(details)
}

fn heif(src: &mut Source) -> Result<Details, InspectError> {
    let top = bmff::walk_top_level(src)?;
    let meta = top
        .meta
        .ok_or_else(|| InspectError::Corrupt("HEIF image has no 'meta' box".into()))?;
    let mut details = Details::default();
    if let Some((w, h)) = still::dimensions(src)? {
        details.width = Some(w);
        details.height = Some(h);
    }
    let small = |b: Option<bmff::BoxRef>| b.is_some_and(|b| b.size() <= MAX_HEIF_EXIF_BOX);
    if small(top.ftyp)
        && small(Some(meta))
        && let Some(exif) = exif::parse_heif(src)
    {
        exif::apply(&exif, &mut details);
    }
    Ok(details)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod format_tests;
