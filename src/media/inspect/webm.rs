//! WebM (EBML/Matroska) header validation and best-effort duration and
//! dimensions. Only the EBML header, the Segment header and the few
//! elements before the first Cluster are read.

use super::source::Source;
use super::{Details, InspectError};

const EBML_ID: u32 = 0x1A45_DFA3;
const DOC_TYPE_ID: u32 = 0x4282;
const SEGMENT_ID: u32 = 0x1853_8067;
const INFO_ID: u32 = 0x1549_A966;
const TRACKS_ID: u32 = 0x1654_AE6B;
const CLUSTER_ID: u32 = 0x1F43_B675;
const TIMECODE_SCALE_ID: u32 = 0x2A_D7B1;
const DURATION_ID: u32 = 0x4489;
const TRACK_ENTRY_ID: u32 = 0xAE;
const TRACK_TYPE_ID: u32 = 0x83;
const VIDEO_ID: u32 = 0xE0;
const PIXEL_WIDTH_ID: u32 = 0xB0;
const PIXEL_HEIGHT_ID: u32 = 0xBA;

/// Elements we are willing to load whole; anything larger is skipped, as
/// real Info/Tracks elements are a few hundred bytes.
const MAX_LOADED_ELEMENT: u64 = 1 << 20;
/// Segment children examined before giving up on finding Info/Tracks.
const MAX_SEGMENT_CHILDREN: usize = 256;

/// Reads an element ID, keeping its length marker bits as EBML IDs do.
fn read_id(buf: &[u8]) -> Option<(u32, usize)> {
    let first = *buf.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let bytes = buf.get(..len)?;
    Some((
        bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
        len,
    ))
}

/// Reads a data size; `None` inside means the reserved "unknown size" value
/// (all value bits set), used by live-streamed files.
fn read_size(buf: &[u8]) -> Option<(Option<u64>, usize)> {
    let first = *buf.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = buf.get(..len)?;
    let mask = 0xFFu8.checked_shr(len as u32).unwrap_or(0);
    let value = bytes[1..]
        .iter()
        .fold(u64::from(first & mask), |acc, &b| (acc << 8) | u64::from(b));
    let all_ones = (1u64 << (7 * len)) - 1;
    Some(((value != all_ones).then_some(value), len))
}

/// Reads an element header: (id, size, header length).
fn read_header(buf: &[u8]) -> Option<(u32, Option<u64>, usize)> {
    let (id, id_len) = read_id(buf)?;
    let (size, size_len) = read_size(buf.get(id_len..)?)?;
    Some((id, size, id_len + size_len))
}

/// Iterates over the child elements of an in-memory master element,
/// stopping quietly at the first malformed one.
struct Elements<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Elements<'a> {
    type Item = (u32, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (id, size, header) = read_header(self.buf)?;
        let size = usize::try_from(size?).ok()?;
        let end = header.checked_add(size)?;
        let body = self.buf.get(header..end)?;
        self.buf = self.buf.get(end..).unwrap_or_default();
        Some((id, body))
    }
}

fn elements(buf: &[u8]) -> Elements<'_> {
    Elements { buf }
}

fn uint(body: &[u8]) -> Option<u64> {
    (body.len() <= 8).then(|| body.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn float(body: &[u8]) -> Option<f64> {
    match body.len() {
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

/// Parses the EBML header in `head`, returning its DocType (Matroska's
/// default when absent) and the offset just past the header.
fn parse_header(head: &[u8]) -> Result<(String, usize), InspectError> {
    let corrupt = |m: &str| InspectError::Corrupt(format!("EBML header {m}"));
    let (id, size, header) = read_header(head).ok_or_else(|| corrupt("is truncated"))?;
    if id != EBML_ID {
        return Err(corrupt("has a bad element ID"));
    }
    let size = size.ok_or_else(|| corrupt("has an unknown size"))?;
    let end = usize::try_from(size)
        .ok()
        .and_then(|s| s.checked_add(header))
        .filter(|&end| end <= head.len())
        .ok_or_else(|| corrupt("is truncated or implausibly large"))?;
    let doc_type = elements(&head[header..end])
        .find(|(id, _)| *id == DOC_TYPE_ID)
        .map(|(_, body)| {
            String::from_utf8_lossy(body)
                .trim_end_matches('\0')
                .to_owned()
        })
        .unwrap_or_else(|| "matroska".to_owned());
    Ok((doc_type, end))
}

/// The DocType of an EBML file, used by sniffing to tell WebM from MKV.
pub(super) fn doc_type(head: &[u8]) -> Result<String, InspectError> {
    parse_header(head).map(|(doc_type, _)| doc_type)
}

/// Validates the Segment against the file length and pulls duration and
/// dimensions out of Info and Tracks when they precede the first Cluster.
pub(super) fn inspect(src: &mut Source, head: &[u8]) -> Result<Details, InspectError> {
    let (_, header_end) = parse_header(head)?;
    let seg_start = header_end as u64;
    if seg_start >= src.len() {
        return Err(InspectError::Corrupt(
            "WebM file ends right after its EBML header (no Segment)".into(),
        ));
    }
    let mut buf = [0u8; 12];
    let n = src.read_at(seg_start, &mut buf)?;
    let (id, size, seg_header) = read_header(&buf[..n]).ok_or_else(|| {
        InspectError::Corrupt("WebM Segment header is truncated or malformed".into())
    })?;
    if id != SEGMENT_ID {
        return Err(InspectError::Corrupt(format!(
            "expected a WebM Segment after the EBML header, found element {id:#x}"
        )));
    }
    let data_start = seg_start + seg_header as u64;
    let seg_end = match size {
        Some(size) => {
            let end = data_start.saturating_add(size);
            if end > src.len() {
                return Err(InspectError::Corrupt(format!(
                    "WebM Segment declares {size} bytes but only {} remain",
                    src.len().saturating_sub(data_start)
                )));
            }
            end
        }
        None => src.len(),
    };

    let mut details = Details::default();
    let mut timecode_scale = 1_000_000u64;
    let mut duration = None;
    let mut pos = data_start;
    for _ in 0..MAX_SEGMENT_CHILDREN {
        if pos >= seg_end {
            break;
        }
        let n = src.read_at(pos, &mut buf)?;
        let Some((id, Some(size), header)) = read_header(&buf[..n]) else {
            break;
        };
        let body_start = pos + header as u64;
        let end = body_start.saturating_add(size);
        if id == CLUSTER_ID || end > seg_end {
            break;
        }
        if (id == INFO_ID || id == TRACKS_ID) && size <= MAX_LOADED_ELEMENT {
            let body = src.read_vec_at(body_start, size as usize, "WebM element")?;
            if id == INFO_ID {
                for (child, value) in elements(&body) {
                    match child {
                        TIMECODE_SCALE_ID => timecode_scale = uint(value).unwrap_or(timecode_scale),
                        DURATION_ID => duration = float(value),
                        _ => {}
                    }
                }
            } else if let Some((w, h)) = video_dimensions(&body) {
                details.width = Some(w);
                details.height = Some(h);
            }
        }
        pos = end;
    }
    details.duration_ms = duration.and_then(|ticks| duration_ms(ticks, timecode_scale));
    Ok(details)
}

/// Duration is stored in Segment ticks of `timecode_scale` nanoseconds.
fn duration_ms(ticks: f64, timecode_scale: u64) -> Option<u64> {
    let ms = ticks * timecode_scale as f64 / 1_000_000.0;
    // The range check also rejects NaN.
    (0.0..1e15).contains(&ms).then(|| ms.round() as u64)
}

/// The pixel size of the first video track in a Tracks element body.
fn video_dimensions(tracks: &[u8]) -> Option<(u32, u32)> {
    elements(tracks)
        .filter(|(id, _)| *id == TRACK_ENTRY_ID)
        .find_map(|(_, entry)| {
            let is_video = elements(entry)
                .any(|(id, v)| id == VIDEO_ID || (id == TRACK_TYPE_ID && uint(v) == Some(1)));
            let video = elements(entry).find(|(id, _)| *id == VIDEO_ID)?.1;
            let dim = |want| {
                elements(video)
                    .find(|(id, _)| *id == want)
                    .and_then(|(_, v)| uint(v))
                    .and_then(|v| u32::try_from(v).ok())
                    .filter(|&v| v > 0)
            };
            if !is_video {
                return None;
            }
            Some((dim(PIXEL_WIDTH_ID)?, dim(PIXEL_HEIGHT_ID)?))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_decode() {
        assert_eq!(read_id(&[0x1A, 0x45, 0xDF, 0xA3]), Some((EBML_ID, 4)));
        assert_eq!(read_id(&[0x83]), Some((0x83, 1)));
        assert_eq!(read_id(&[0x08, 0, 0, 0, 0]), None);
        assert_eq!(read_size(&[0x81]), Some((Some(1), 1)));
        assert_eq!(read_size(&[0x40, 0x02]), Some((Some(2), 2)));
        assert_eq!(read_size(&[0xFF]), Some((None, 1)));
        assert_eq!(
            read_size(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Some((None, 8))
        );
        assert_eq!(read_size(&[0x00]), None);
        assert_eq!(read_size(&[0x40]), None);
    }

    #[test]
    fn duration_scales_ticks() {
        assert_eq!(duration_ms(2500.0, 1_000_000), Some(2500));
        assert_eq!(duration_ms(2.5, 1_000_000_000), Some(2500));
        assert_eq!(duration_ms(f64::NAN, 1_000_000), None);
        assert_eq!(duration_ms(-1.0, 1_000_000), None);
    }
}
