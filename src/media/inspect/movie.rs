//! Movie facts (duration, picture size, rotation, creation time) from the
//! `moov` box of MP4/QuickTime files. Only `mvhd` and each track's `tkhd`
//! are read, a few dozen bytes each; sample tables are never touched.

use chrono::{DateTime, Utc};

use super::bmff::{BoxRef, children};
use super::source::Source;
use super::{Details, InspectError};

/// Seconds between the ISO-BMFF epoch (1904-01-01) and the Unix epoch.
const EPOCH_1904_OFFSET: i64 = 2_082_844_800;

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be_u64(buf: &[u8], at: usize) -> Option<u64> {
    let hi = be_u32(buf, at)?;
    let lo = be_u32(buf, at.checked_add(4)?)?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// Reads at most `cap` bytes of a box payload; full boxes we parse are tiny.
fn read_body(src: &mut Source, b: &BoxRef, cap: u64) -> Result<Vec<u8>, InspectError> {
    let len = b.size().min(cap) as usize;
    src.read_vec_at(b.body, len, "box payload")
}

/// Duration, dimensions, rotation and creation time of a movie, from
/// `moov/mvhd` and the first `moov/trak/tkhd` that has a picture size.
pub(super) fn inspect(src: &mut Source, moov: &BoxRef) -> Result<Details, InspectError> {
    let mut details = Details::default();
    let boxes = children(src, moov.body, moov.end)?;
    if let Some(mvhd) = boxes.iter().find(|b| &b.kind == b"mvhd") {
        let body = read_body(src, mvhd, 32)?;
        if let Some(h) = parse_mvhd(&body) {
            details.duration_ms = h.duration_ms;
            details.taken_at = h.created;
        }
    }
    for trak in boxes.iter().filter(|b| &b.kind == b"trak") {
        let parts = children(src, trak.body, trak.end)?;
        let Some(tkhd) = parts.iter().find(|b| &b.kind == b"tkhd") else {
            continue;
        };
        let body = read_body(src, tkhd, 96)?;
        if let Some(t) = parse_tkhd(&body).filter(|t| t.width > 0 && t.height > 0) {
            details.width = Some(t.width);
            details.height = Some(t.height);
            if t.rotation != 0 {
                details
                    .metadata
                    .insert("rotation".into(), t.rotation.into());
            }
            break;
        }
    }
    Ok(details)
}

#[derive(Debug, PartialEq)]
struct MovieHeader {
    duration_ms: Option<u64>,
    created: Option<DateTime<Utc>>,
}

fn parse_mvhd(body: &[u8]) -> Option<MovieHeader> {
    let (created, timescale, duration) = match body.first()? {
        0 => {
            let d = be_u32(body, 16)?;
            (
                u64::from(be_u32(body, 4)?),
                be_u32(body, 12)?,
                (d != u32::MAX).then_some(u64::from(d)),
            )
        }
        1 => {
            let d = be_u64(body, 24)?;
            (
                be_u64(body, 4)?,
                be_u32(body, 20)?,
                (d != u64::MAX).then_some(d),
            )
        }
        _ => return None,
    };
    let duration_ms = duration
        .filter(|_| timescale > 0)
        .map(|d| u128::from(d) * 1000 / u128::from(timescale))
        .and_then(|ms| u64::try_from(ms).ok());
    // Zero means "not set"; anything before 1970 is an unset clock.
    let created = i64::try_from(created)
        .ok()
        .and_then(|s| s.checked_sub(EPOCH_1904_OFFSET))
        .filter(|&s| s > 0)
        .and_then(|s| DateTime::from_timestamp(s, 0));
    Some(MovieHeader {
        duration_ms,
        created,
    })
}

#[derive(Debug, PartialEq)]
struct TrackHeader {
    width: u32,
    height: u32,
    /// Clockwise display rotation in degrees from the transform matrix;
    /// phones store portrait video as landscape pixels plus a rotation.
    rotation: u32,
}

fn parse_tkhd(body: &[u8]) -> Option<TrackHeader> {
    let matrix = match body.first()? {
        0 => 40,
        1 => 52,
        _ => return None,
    };
    let fixed = |at: usize| be_u32(body, at).map(|v| (v.saturating_add(0x8000)) >> 16);
    let coeff = |i: usize| be_u32(body, matrix + 4 * i).map(|v| v as i32);
    let (a, b) = (coeff(0)?, coeff(1)?);
    let rotation = match (a.signum(), b.signum()) {
        (0, 1) => 90,
        (-1, 0) => 180,
        (0, -1) => 270,
        _ => 0,
    };
    Some(TrackHeader {
        width: fixed(matrix + 36)?,
        height: fixed(matrix + 40)?,
        rotation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mvhd_versions() {
        let mut v0 = vec![0u8; 20];
        v0[4..8].copy_from_slice(&(EPOCH_1904_OFFSET as u32 + 86_400).to_be_bytes());
        v0[12..16].copy_from_slice(&600u32.to_be_bytes());
        v0[16..20].copy_from_slice(&1500u32.to_be_bytes());
        let h = parse_mvhd(&v0).expect("v0 parses");
        assert_eq!(h.duration_ms, Some(2500));
        assert_eq!(h.created.map(|c| c.timestamp()), Some(86_400));

        let mut v1 = vec![0u8; 32];
        v1[0] = 1;
        v1[20..24].copy_from_slice(&1000u32.to_be_bytes());
        v1[24..32].copy_from_slice(&(u64::from(u32::MAX) + 1).to_be_bytes());
        let h = parse_mvhd(&v1).expect("v1 parses");
        assert_eq!(h.duration_ms, Some(u64::from(u32::MAX) + 1));
        assert_eq!(h.created, None);

        v1[20..24].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(parse_mvhd(&v1).and_then(|h| h.duration_ms), None);
        assert_eq!(parse_mvhd(&v1[..10]), None);
        assert_eq!(parse_mvhd(&[7; 40]), None);
    }

    #[test]
    fn tkhd_versions_and_rotation() {
        let mut v0 = vec![0u8; 84];
        v0[40..44].copy_from_slice(&0u32.to_be_bytes());
        v0[44..48].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        v0[76..80].copy_from_slice(&(1920u32 << 16).to_be_bytes());
        v0[80..84].copy_from_slice(&(1080u32 << 16).to_be_bytes());
        let t = parse_tkhd(&v0).expect("v0 parses");
        assert_eq!((t.width, t.height, t.rotation), (1920, 1080, 90));

        let mut v1 = vec![0u8; 96];
        v1[0] = 1;
        v1[52..56].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        v1[88..92].copy_from_slice(&(640u32 << 16 | 0x8000).to_be_bytes());
        v1[92..96].copy_from_slice(&(480u32 << 16).to_be_bytes());
        let t = parse_tkhd(&v1).expect("v1 parses");
        assert_eq!((t.width, t.height, t.rotation), (641, 480, 0));
        assert_eq!(parse_tkhd(&v1[..90]), None);
    }
}
