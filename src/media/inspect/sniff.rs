//! Content sniffing: the file's own bytes decide its type, because names and
//! extensions in a personal library are routinely wrong (".JPG" HEICs from
//! phones, ".mp4" QuickTime files, renamed downloads).

use super::{InspectError, webm};

/// The container formats the inspector understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
    /// HEIF still image; `hevc` tells image/heic from the generic image/heif.
    Heif {
        hevc: bool,
    },
    Mp4,
    QuickTime,
    WebM,
}

impl Format {
    pub(super) fn mime_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Heif { hevc: true } => "image/heic",
            Format::Heif { hevc: false } => "image/heif",
            Format::Mp4 => "video/mp4",
            Format::QuickTime => "video/quicktime",
            Format::WebM => "video/webm",
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const EBML_MAGIC: &[u8] = &[0x1A, 0x45, 0xDF, 0xA3];

/// HEVC-coded HEIF brands (image/heic).
const HEIC_BRANDS: &[&[u8; 4]] = &[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"];
/// Generic HEIF structural brands (image/heif when no HEVC brand is present).
const HEIF_BRANDS: &[&[u8; 4]] = &[b"mif1", b"msf1", b"mif2", b"miaf"];
/// AV1 still images share the HEIF container but are not a type we serve.
const AVIF_BRANDS: &[&[u8; 4]] = &[b"avif", b"avis"];
const QUICKTIME_BRAND: &[u8; 4] = b"qt  ";
const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41",
    b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"MSNV", b"NDAS", b"XAVC",
    b"f4v ", b"mmp4",
];
/// Audio-only and audiobook MP4 variants: MP4 containers, but not media for a
/// photo/video library, so they must not slip through via a compatible `isom`.
const AUDIO_BRANDS: &[&[u8; 4]] = &[b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "];

/// Decides the format from the first bytes of the file (`head` is at most a
/// few KiB, and shorter only when the whole file is).
pub(super) fn sniff(head: &[u8]) -> Result<Format, InspectError> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if head.starts_with(PNG_SIGNATURE) {
        return Ok(Format::Png);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return classify_ftyp(head);
    }
    if head.starts_with(EBML_MAGIC) {
        return match webm::doc_type(head)?.as_str() {
            "webm" => Ok(Format::WebM),
            "matroska" => Err(unsupported("a Matroska (MKV) video")),
            other => Err(unsupported(&format!("an EBML document of type {other:?}"))),
        };
    }
    Err(unsupported(describe_unknown(head)))
}

fn unsupported(what: &str) -> InspectError {
    InspectError::Unsupported(what.to_owned())
}

/// Reads the brands of the leading `ftyp` box and maps them to a format.
/// Major brand wins over compatible brands because that is what the writer
/// says the file *is*; compatible brands only say what it can be read as.
fn classify_ftyp(head: &[u8]) -> Result<Format, InspectError> {
    let declared = head
        .get(0..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let Some(major) = head.get(8..12) else {
        return Err(InspectError::Corrupt(
            "ISO-BMFF ftyp box is truncated before its major brand".into(),
        ));
    };
    if declared < 16 {
        return Err(InspectError::Corrupt(format!(
            "ISO-BMFF ftyp box declares an impossible size of {declared} bytes"
        )));
    }
    // Compatible brands start after major brand + minor version; look only
    // at the part of the box that is in `head` (a giant ftyp is not worth
    // more reads: its first brands decide).
    let end = usize::try_from(declared)
        .unwrap_or(usize::MAX)
        .min(head.len());
    let compatible: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    let is = |set: &[&[u8; 4]], brand: &[u8]| set.iter().any(|b| b.as_slice() == brand);
    let any = |set: &[&[u8; 4]]| compatible.iter().any(|b| is(set, b));

    if is(HEIC_BRANDS, major) {
        return Ok(Format::Heif { hevc: true });
    }
    if is(AVIF_BRANDS, major) {
        return Err(unsupported("an AVIF image"));
    }
    if major == QUICKTIME_BRAND {
        return Ok(Format::QuickTime);
    }
    if is(AUDIO_BRANDS, major) {
        return Err(unsupported("an MPEG-4 audio file"));
    }
    if is(HEIF_BRANDS, major) {
        if any(HEIC_BRANDS) {
            return Ok(Format::Heif { hevc: true });
        }
        if any(AVIF_BRANDS) {
            return Err(unsupported("an AVIF image"));
        }
        return Ok(Format::Heif { hevc: false });
    }
    if is(MP4_BRANDS, major) {
        return Ok(Format::Mp4);
    }
    if any(HEIC_BRANDS) {
        return Ok(Format::Heif { hevc: true });
    }
    if any(HEIF_BRANDS) {
        return Ok(Format::Heif { hevc: false });
    }
    if any(&[QUICKTIME_BRAND]) {
        return Ok(Format::QuickTime);
    }
    if any(MP4_BRANDS) {
        return Ok(Format::Mp4);
    }
    Err(unsupported(&format!(
        "an ISO-BMFF file with brand {:?}",
        String::from_utf8_lossy(major)
    )))
}

/// Names common non-media files so the error tells a user what they
/// actually uploaded.
fn describe_unknown(head: &[u8]) -> &'static str {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"BM", "a BMP image"),
        (b"ID3", "an MP3 audio file"),
        (b"fLaC", "a FLAC audio file"),
        (b"OggS", "an Ogg file"),
        (b"\x7fELF", "an executable"),
        (b"\x1f\x8b", "a gzip archive"),
    ];
    if head.is_empty() {
        return "an empty file";
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        match &head[8..12] {
            b"AVI " => return "an AVI video",
            b"WAVE" => return "a WAV audio file",
            _ => {}
        }
    }
    if let Some((_, name)) = KNOWN.iter().find(|(magic, _)| head.starts_with(magic)) {
        return name;
    }
    if looks_like_text(head) {
        return "a text file";
    }
    "unrecognised bytes"
}

fn looks_like_text(head: &[u8]) -> bool {
    // A multi-byte character may be cut at the end of the sample.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut v = size.to_be_bytes().to_vec();
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0; 4]);
        for b in compatible {
            v.extend_from_slice(*b);
        }
        v
    }

    #[test]
    fn brands_pick_the_right_format() {
        let f = |m, c: &[&[u8; 4]]| sniff(&ftyp(m, c)).ok();
        assert_eq!(f(b"heic", &[b"mif1"]), Some(Format::Heif { hevc: true }));
        assert_eq!(f(b"mif1", &[b"heic"]), Some(Format::Heif { hevc: true }));
        assert_eq!(f(b"mif1", &[b"miaf"]), Some(Format::Heif { hevc: false }));
        assert_eq!(f(b"qt  ", &[b"qt  "]), Some(Format::QuickTime));
        assert_eq!(f(b"isom", &[b"iso2", b"avc1"]), Some(Format::Mp4));
        assert_eq!(f(b"M4V ", &[]), Some(Format::Mp4));
        assert_eq!(f(b"xxxx", &[b"mp42"]), Some(Format::Mp4));
        assert_eq!(f(b"M4A ", &[b"isom"]), None);
        assert_eq!(f(b"avif", &[b"mif1"]), None);
        assert_eq!(f(b"mif1", &[b"avif"]), None);
        assert_eq!(f(b"crx ", &[]), None);
    }

    #[test]
    fn unknown_files_are_named() {
        let name = |b: &[u8]| match sniff(b) {
            Err(InspectError::Unsupported(m)) => m,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(name(b"%PDF-1.7\n"), "a PDF document");
        assert_eq!(name(b"hello, world\n"), "a text file");
        assert_eq!(name(b""), "an empty file");
        assert_eq!(name(&[0, 1, 2, 3, 0xFE]), "unrecognised bytes");
    }
}
