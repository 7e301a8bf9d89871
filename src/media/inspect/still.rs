//! Still-image containers (JPEG, PNG, GIF, WebP, HEIF): cheap truncation
//! checks, dimensions through `imagesize`, and locating the raw EXIF block.
//!
//! EXIF is located here with seeks rather than through kamadak-exif's own
//! container readers, because those stream through the whole file when a
//! JPEG has no EXIF segment, and a library holds many such JPEGs.

use std::io::{BufReader, Seek, SeekFrom};

use super::source::{Budgeted, Source};
use super::{Format, InspectError};

/// What imagesize may read. Its JPEG parser refills a 4 KiB buffer after
/// every segment it skips, so this allows a couple of hundred segments.
const SIZE_READ_BUDGET: u64 = 1 << 20;
/// Largest EXIF block accepted from PNG/WebP chunks (JPEG is capped at 64 KiB
/// by its segment length); bigger claims are treated as garbage.
const MAX_EXIF_LEN: u32 = 4 << 20;
const MAX_JPEG_SEGMENTS: usize = 1024;
const MAX_CHUNKS: usize = 10_000;
const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// What starts a JPEG APP1 segment holding XMP.
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The `iTXt` keyword of a PNG's XMP packet, with its terminator.
const PNG_XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp\0";
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// Checks the end of the file, which is where an interrupted copy or upload
/// shows: every format here has a fixed trailer or a total length up front.
pub(super) fn validate(src: &mut Source, format: Format, head: &[u8]) -> Result<(), InspectError> {
    let problem = match format {
        Format::Jpeg => (!jpeg_complete(src)?).then(|| {
            "JPEG has no end-of-image marker (FF D9) after its image data; it is truncated".into()
        }),
        Format::Png => (src.tail::<12>()? != Some(PNG_IEND))
            .then(|| "PNG does not end with an IEND chunk; it is truncated".into()),
        Format::Gif => (src.tail::<1>()? != Some([0x3B]))
            .then(|| "GIF does not end with its trailer byte (0x3B); it is truncated".into()),
        Format::WebP => {
            let riff = head
                .get(4..8)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            let expected = u64::from(riff) + 8;
            (expected != src.len()).then(|| {
                format!(
                    "WebP RIFF header says the file is {expected} bytes but it is {}",
                    src.len()
                )
            })
        }
        _ => None,
    };
    problem.map_or(Ok(()), |m| Err(InspectError::Corrupt(m)))
}

/// Whether the JPEG's image data is followed by its end-of-image marker. Usually the marker
/// ends the file; phones append data after it (motion photos carry an MP4, some vendors a
/// trailer), so otherwise the entropy-coded data after the first scan is searched for it:
/// inside it, 0xFF is always followed by 0x00 or a restart/segment marker, so FF D9 can only be
/// the real end. Reads in blocks; never the whole file at once.
fn jpeg_complete(src: &mut Source) -> Result<bool, InspectError> {
    if src.tail::<2>()? == Some([0xFF, 0xD9]) {
        return Ok(true);
    }
    let Some(scan) = first_scan(src)? else {
        return Ok(false);
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = scan;
    let mut previous_ff = false;
    while pos < src.len() {
        let n = src.read_at(pos, &mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            if previous_ff && b == 0xD9 {
                return Ok(true);
            }
            previous_ff = b == 0xFF;
        }
        pos += n as u64;
    }
    Ok(false)
}

/// The offset just after the first start-of-scan segment header, if the markers lead there.
fn first_scan(src: &mut Source) -> Result<Option<u64>, InspectError> {
    let mut pos = 2u64;
    for _ in 0..MAX_JPEG_SEGMENTS {
        let mut m = [0u8; 4];
        if !read_full(src, pos, &mut m)? || m[0] != 0xFF {
            return Ok(None);
        }
        match m[1] {
            0xFF => pos += 1,
            0x01 | 0xD0..=0xD7 => pos += 2,
            0xD9 => return Ok(None),
            marker => {
                let len = u16::from_be_bytes([m[2], m[3]]);
                if len < 2 {
                    return Ok(None);
                }
                pos += 2 + u64::from(len);
                if marker == 0xDA {
                    return Ok(Some(pos));
                }
            }
        }
    }
    Ok(None)
}

/// Pixel size as stored (before EXIF orientation is applied). A header
/// imagesize cannot make sense of yields `None` rather than an error: the
/// trailer checks already catch truncation, and rejecting a photo that
/// viewers display anyway would be worse than not knowing its size.
pub(super) fn dimensions(src: &mut Source) -> Result<Option<(u32, u32)>, InspectError> {
    src.seek(SeekFrom::Start(0))?;
    let mut budget = Budgeted::new(src, SIZE_READ_BUDGET);
    let size = imagesize::reader_size(BufReader::with_capacity(4096, &mut budget));
    Ok(size.ok().and_then(|s| {
        let w = u32::try_from(s.width).ok().filter(|&w| w > 0)?;
        let h = u32::try_from(s.height).ok().filter(|&h| h > 0)?;
        Some((w, h))
    }))
}

/// The raw TIFF-structured EXIF block of a JPEG, PNG or WebP, if any.
/// Structural oddities just mean "no EXIF"; only real I/O errors surface.
pub(super) fn exif_block(
    src: &mut Source,
    format: Format,
) -> Result<Option<Vec<u8>>, InspectError> {
    match format {
        Format::Jpeg => jpeg_exif(src),
        Format::Png => png_exif(src),
        Format::WebP => webp_exif(src),
        _ => Ok(None),
    }
}

/// The XMP packet of a JPEG, PNG or WebP, if any (uncompressed; a compressed PNG `iTXt` is
/// left alone). Like [`exif_block`], oddities mean "none".
pub(super) fn xmp_packet(
    src: &mut Source,
    format: Format,
) -> Result<Option<Vec<u8>>, InspectError> {
    match format {
        Format::Jpeg => jpeg_app1(src, XMP_PREFIX),
        Format::Png => {
            let Some(chunk) = png_chunk(src, b"iTXt", PNG_XMP_KEYWORD)? else {
                return Ok(None);
            };
            // keyword \0 compression-flag compression-method language \0 translated \0 text
            let Some(text) = chunk.strip_prefix(PNG_XMP_KEYWORD) else {
                return Ok(None);
            };
            if text.first() != Some(&0) {
                return Ok(None);
            }
            let mut fields = text[2..].splitn(3, |&b| b == 0);
            let (_, _, packet) = (fields.next(), fields.next(), fields.next());
            Ok(packet.map(<[u8]>::to_vec))
        }
        Format::WebP => webp_chunk(src, b"XMP "),
        _ => Ok(None),
    }
}

/// Reads exactly `buf.len()` bytes at `pos`, or reports `false` at EOF.
fn read_full(src: &mut Source, pos: u64, buf: &mut [u8]) -> Result<bool, InspectError> {
    Ok(src.read_at(pos, buf)? == buf.len())
}

/// Reads a chunk payload that claims `len` bytes, if it is plausible.
fn read_payload(src: &mut Source, pos: u64, len: u32) -> Result<Option<Vec<u8>>, InspectError> {
    if len > MAX_EXIF_LEN || pos.saturating_add(u64::from(len)) > src.len() {
        return Ok(None);
    }
    let mut data = src.read_vec_at(pos, len as usize, "EXIF block")?;
    // Some writers keep the JPEG-style prefix inside PNG/WebP chunks.
    if data.starts_with(EXIF_PREFIX) {
        data.drain(..EXIF_PREFIX.len());
    }
    Ok(Some(data))
}

/// Walks JPEG marker segments up to the first scan; EXIF must precede it.
fn jpeg_exif(src: &mut Source) -> Result<Option<Vec<u8>>, InspectError> {
    jpeg_app1(src, EXIF_PREFIX)
}

/// The payload of the first APP1 segment that starts with `prefix` (which is left out),
/// before the first scan.
fn jpeg_app1(src: &mut Source, prefix: &[u8]) -> Result<Option<Vec<u8>>, InspectError> {
    let mut pos = 2u64;
    for _ in 0..MAX_JPEG_SEGMENTS {
        let mut m = [0u8; 4];
        if !read_full(src, pos, &mut m)? || m[0] != 0xFF {
            return Ok(None);
        }
        match m[1] {
            // Fill bytes before a marker.
            0xFF => pos += 1,
            // Stand-alone markers have no length.
            0x01 | 0xD0..=0xD7 => pos += 2,
            // Start of scan or end of image: no EXIF from here on.
            0xDA | 0xD9 => return Ok(None),
            marker => {
                let len = u16::from_be_bytes([m[2], m[3]]);
                if len < 2 {
                    return Ok(None);
                }
                if marker == 0xE1 && usize::from(len) >= 2 + prefix.len() {
                    let mut id = vec![0u8; prefix.len()];
                    if read_full(src, pos + 4, &mut id)? && id == prefix {
                        let start = pos + 4 + prefix.len() as u64;
                        let body = u32::from(len) - 2 - prefix.len() as u32;
                        return read_payload(src, start, body);
                    }
                }
                pos += 2 + u64::from(len);
            }
        }
    }
    Ok(None)
}

/// Walks PNG chunks for `eXIf`, which newer writers may place after IDAT.
fn png_exif(src: &mut Source) -> Result<Option<Vec<u8>>, InspectError> {
    png_chunk(src, b"eXIf", b"")
}

/// The payload of the first PNG chunk of type `name` whose payload starts with `prefix`.
fn png_chunk(
    src: &mut Source,
    name: &[u8; 4],
    prefix: &[u8],
) -> Result<Option<Vec<u8>>, InspectError> {
    let mut pos = 8u64;
    for _ in 0..MAX_CHUNKS {
        let mut h = [0u8; 8];
        if !read_full(src, pos, &mut h)? {
            return Ok(None);
        }
        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        match &h[4..8] {
            b"IEND" => return Ok(None),
            kind if kind == name => {
                if let Some(payload) = read_payload(src, pos + 8, len)?
                    && payload.starts_with(prefix)
                {
                    return Ok(Some(payload));
                }
                pos = pos.saturating_add(12 + u64::from(len));
            }
            _ => pos = pos.saturating_add(12 + u64::from(len)),
        }
    }
    Ok(None)
}

/// Walks the RIFF chunks of a WebP for `EXIF`, usually the last one.
fn webp_exif(src: &mut Source) -> Result<Option<Vec<u8>>, InspectError> {
    webp_chunk(src, b"EXIF")
}

/// The payload of the first RIFF chunk of a WebP named `fourcc`.
fn webp_chunk(src: &mut Source, fourcc: &[u8; 4]) -> Result<Option<Vec<u8>>, InspectError> {
    let mut pos = 12u64;
    for _ in 0..MAX_CHUNKS {
        let mut h = [0u8; 8];
        if !read_full(src, pos, &mut h)? {
            return Ok(None);
        }
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        if &h[..4] == fourcc {
            return read_payload(src, pos + 8, len);
        }
        // Chunks are padded to an even length.
        pos = pos.saturating_add(8 + u64::from(len) + u64::from(len & 1));
    }
    Ok(None)
}
