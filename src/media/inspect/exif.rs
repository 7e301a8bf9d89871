//! Turning an EXIF block into the fields a photo library shows and sorts by.
//!
//! Everything here is best effort: cameras and editors write EXIF with
//! missing, mistyped or nonsensical values, and none of that should make an
//! otherwise good photo fail to import.

use std::io::{BufReader, Seek, SeekFrom};

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use exif::{Exif, In, Reader, Tag, Value};
use serde_json::{Value as Json, json};

use super::Details;
use super::source::Source;

/// Parses a raw TIFF-structured EXIF block, keeping whatever parsed before
/// the first broken IFD entry.
pub(super) fn parse_block(block: Vec<u8>) -> Option<Exif> {
    match Reader::new().continue_on_error(true).read_raw(block) {
        Ok(exif) => Some(exif),
        Err(e) => e.distill_partial_result(|_| {}).ok(),
    }
}

/// Reads EXIF from a HEIF file through kamadak-exif's item lookup (iinf,
/// iloc). The caller has checked that the boxes it loads are small.
pub(super) fn parse_heif(src: &mut Source) -> Option<Exif> {
    src.seek(SeekFrom::Start(0)).ok()?;
    let mut reader = BufReader::with_capacity(8192, src);
    match Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut reader)
    {
        Ok(exif) => Some(exif),
        Err(e) => e.distill_partial_result(|_| {}).ok(),
    }
}

/// Copies the interesting EXIF fields into `details`.
pub(super) fn apply(exif: &Exif, details: &mut Details) {
    let meta = &mut details.metadata;
    let mut put = |key: &str, value: Option<Json>| {
        if let Some(v) = value {
            meta.insert(key.to_owned(), v);
        }
    };
    put("make", ascii(exif, Tag::Make).map(Json::from));
    put("camera", ascii(exif, Tag::Model).map(Json::from));
    put("lens", ascii(exif, Tag::LensModel).map(Json::from));
    put(
        "exposure",
        rational(exif, Tag::ExposureTime)
            .and_then(|(n, d)| format_exposure(n, d))
            .map(Json::from),
    );
    let decimal = |tag| {
        rational(exif, tag)
            .and_then(|(n, d)| (d != 0 && n != 0).then(|| round_to(f64::from(n) / f64::from(d), 2)))
            .map(Json::from)
    };
    put("aperture", decimal(Tag::FNumber));
    put("focalLength", decimal(Tag::FocalLength));
    put(
        "iso",
        uint(exif, Tag::PhotographicSensitivity)
            .filter(|&v| v > 0)
            .map(Json::from),
    );
    let orientation = uint(exif, Tag::Orientation)
        .filter(|v| (1..=8).contains(v))
        .and_then(|v| u16::try_from(v).ok());
    put("orientation", orientation.map(Json::from));
    let lat = coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S', 90.0);
    let lon = coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W', 180.0);
    if let (Some(lat), Some(lon)) = (lat, lon) {
        put("location", Some(json!({ "lat": lat, "lon": lon })));
    }
    details.orientation = orientation;
    super::add_keywords(details, xp_keywords(exif));
    details.taken_at = taken_at(exif);
    if details.taken_at.is_some() {
        // The camera's zone, or null when its clock had none (see `Media.takenAtLocal`).
        let offset = time_offset(exif).map(|o| Json::from(format_offset(o)));
        details
            .metadata
            .insert(TAKEN_AT_OFFSET.to_string(), offset.unwrap_or(Json::Null));
    }
}

/// The metadata key of the zone of a photo's `takenAt`: `"+02:00"`, or null when the camera
/// wrote its wall clock without one (`takenAt` is then that wall clock, taken as UTC).
pub(crate) const TAKEN_AT_OFFSET: &str = "takenAtOffset";

fn format_offset(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let mins = secs.abs() / 60;
    format!("{sign}{:02}:{:02}", mins / 60, mins % 60)
}

fn time_offset(exif: &Exif) -> Option<FixedOffset> {
    ascii(exif, Tag::OffsetTimeOriginal)
        .and_then(|s| parse_offset(&s))
        .or_else(|| ascii(exif, Tag::OffsetTime).and_then(|s| parse_offset(&s)))
}

fn field(exif: &Exif, tag: Tag) -> Option<&Value> {
    exif.get_field(tag, In::PRIMARY).map(|f| &f.value)
}

/// First string of an ASCII field, without the padding cameras leave.
fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let Value::Ascii(parts) = field(exif, tag)? else {
        return None;
    };
    let text = String::from_utf8_lossy(parts.first()?);
    // A C string: it ends at the first NUL (no text PostgreSQL stores may hold one).
    let text = text.split('\0').next().unwrap_or_default().trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Windows' `XPKeywords` (0x9C9E): UTF-16LE, NUL-terminated, keywords separated by `;`.
fn xp_keywords(exif: &Exif) -> Vec<String> {
    let Some(Value::Byte(bytes)) = field(exif, Tag(exif::Context::Tiff, 0x9C9E)) else {
        return Vec::new();
    };
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
        .split(';')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

fn rational(exif: &Exif, tag: Tag) -> Option<(u32, u32)> {
    match field(exif, tag)? {
        Value::Rational(v) => v.first().map(|r| (r.num, r.denom)),
        _ => None,
    }
}

fn uint(exif: &Exif, tag: Tag) -> Option<u32> {
    field(exif, tag)?.get_uint(0)
}

/// When the photo was taken, in UTC. EXIF stores wall-clock time; the
/// offset tags (EXIF 2.31+) pin it down, and without them the wall clock
/// is the best guess available, so it is taken as UTC.
fn taken_at(exif: &Exif) -> Option<DateTime<Utc>> {
    let local = ascii(exif, Tag::DateTimeOriginal)
        .and_then(|s| parse_datetime(&s))
        .or_else(|| ascii(exif, Tag::DateTime).and_then(|s| parse_datetime(&s)))?;
    match time_offset(exif) {
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc)),
        None => Some(local.and_utc()),
    }
}

/// "YYYY:MM:DD HH:MM:SS", tolerating the dashes some software writes.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.get(..19)?;
    NaiveDateTime::parse_from_str(s, "%Y:%m:%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

/// "+HH:MM" / "-HH:MM" as written in OffsetTime*.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let b = s.trim().as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).ok()?.parse::<i32>().ok();
    let (h, m) = (num(1..3)?, num(4..6)?);
    if m >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Formats a shutter speed the way photographers read it: "1/125" for
/// fractions of a second, "2" or "2.5" for long exposures.
pub(super) fn format_exposure(num: u32, den: u32) -> Option<String> {
    if num == 0 || den == 0 {
        return None;
    }
    let g = gcd(num, den);
    let (n, d) = (num / g, den / g);
    if d == 1 {
        return Some(n.to_string());
    }
    if n == 1 {
        return Some(format!("1/{d}"));
    }
    let seconds = f64::from(n) / f64::from(d);
    if seconds <= 0.25 {
        return Some(format!("1/{}", (1.0 / seconds).round()));
    }
    Some(trim_decimal(round_to(seconds, 1)))
}

fn trim_decimal(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn round_to(v: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (v * scale).round() / scale
}

fn coordinate(exif: &Exif, value: Tag, reference: Tag, negative: u8, limit: f64) -> Option<f64> {
    let Value::Rational(parts) = field(exif, value)? else {
        return None;
    };
    let dms: Vec<(u32, u32)> = parts.iter().map(|r| (r.num, r.denom)).collect();
    let negate = ascii(exif, reference)
        .and_then(|r| r.bytes().next())
        .is_some_and(|c| c.eq_ignore_ascii_case(&negative));
    dms_to_degrees(&dms, negate, limit)
}

/// Degrees/minutes/seconds rationals to signed decimal degrees, rounded to
/// 6 decimals (about 10 cm, finer than any phone GPS fix).
pub(super) fn dms_to_degrees(dms: &[(u32, u32)], negate: bool, limit: f64) -> Option<f64> {
    let (&deg, rest) = dms.split_first()?;
    let part = |(n, d): (u32, u32)| match (n, d) {
        (0, _) => Some(0.0),
        (_, 0) => None,
        (n, d) => Some(f64::from(n) / f64::from(d)),
    };
    let minutes = rest.first().copied().map_or(Some(0.0), part)?;
    let seconds = rest.get(1).copied().map_or(Some(0.0), part)?;
    let value = part(deg)? + minutes / 60.0 + seconds / 3600.0;
    if !(0.0..=limit).contains(&value) {
        return None;
    }
    let value = round_to(value, 6);
    Some(if negate { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_reads_like_a_camera() {
        assert_eq!(format_exposure(1, 125).as_deref(), Some("1/125"));
        assert_eq!(format_exposure(10, 1250).as_deref(), Some("1/125"));
        assert_eq!(format_exposure(2, 1).as_deref(), Some("2"));
        assert_eq!(format_exposure(5, 2).as_deref(), Some("2.5"));
        assert_eq!(format_exposure(3, 10).as_deref(), Some("0.3"));
        assert_eq!(format_exposure(10, 1251).as_deref(), Some("1/125"));
        assert_eq!(format_exposure(0, 1), None);
        assert_eq!(format_exposure(1, 0), None);
    }

    #[test]
    fn gps_converts_to_signed_degrees() {
        let paris = [(48, 1), (51, 1), (3024, 100)];
        assert_eq!(dms_to_degrees(&paris, false, 90.0), Some(48.8584));
        assert_eq!(dms_to_degrees(&paris, true, 90.0), Some(-48.8584));
        assert_eq!(
            dms_to_degrees(&[(2, 1), (17, 1), (402, 10)], true, 180.0),
            Some(-2.2945)
        );
        assert_eq!(dms_to_degrees(&[(12, 1)], false, 90.0), Some(12.0));
        assert_eq!(
            dms_to_degrees(&[(12, 1), (0, 0), (0, 0)], false, 90.0),
            Some(12.0)
        );
        assert_eq!(dms_to_degrees(&[(12, 0)], false, 90.0), None);
        assert_eq!(dms_to_degrees(&[(91, 1)], false, 90.0), None);
        assert_eq!(dms_to_degrees(&[], false, 90.0), None);
    }

    #[test]
    fn dates_and_offsets() {
        let t = parse_datetime("2024:06:01 12:30:00").expect("parses");
        assert_eq!(t.to_string(), "2024-06-01 12:30:00");
        assert!(parse_datetime("0000:00:00 00:00:00").is_none());
        assert!(parse_datetime("    :  :     :  :  ").is_none());
        assert_eq!(
            parse_offset("+02:00").map(|o| o.local_minus_utc()),
            Some(7200)
        );
        assert_eq!(
            parse_offset("-05:30").map(|o| o.local_minus_utc()),
            Some(-19800)
        );
        assert!(parse_offset("02:00").is_none());
        assert!(parse_offset("+25:00").is_none());
    }
}
