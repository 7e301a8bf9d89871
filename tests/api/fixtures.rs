//! Builders for test media, made in memory so the suite needs no binary
//! fixtures in the repository and every size/field is chosen by the test.
//!
//! Used from integration tests with `mod fixtures;`. Cargo also builds this
//! file as a test target of its own (with no tests), hence `dead_code` off.
#![allow(dead_code)]

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// The EXIF fields [`jpeg`] writes; values are raw EXIF (rationals as
/// numerator/denominator) so tests can check the inspector's conversions.
pub struct ExifSpec {
    pub make: &'static str,
    pub model: &'static str,
    pub lens: Option<&'static str>,
    /// "YYYY:MM:DD HH:MM:SS" wall-clock time, as cameras write it.
    pub taken: &'static str,
    /// "+HH:MM"; `None` leaves the time zone unknown.
    pub offset: Option<&'static str>,
    pub orientation: u16,
    pub exposure: (u32, u32),
    pub f_number: (u32, u32),
    pub iso: u16,
    pub focal_length: (u32, u32),
    /// Signed decimal degrees (lat, lon), written as DMS plus N/S/E/W refs.
    pub gps: Option<(f64, f64)>,
}

/// A typical phone photo's EXIF: portrait (orientation 6), taken in Paris
/// at 12:30 local time in UTC+2.
pub fn iphone() -> ExifSpec {
    ExifSpec {
        make: "Apple",
        model: "iPhone 15",
        lens: Some("iPhone 15 back dual wide camera 6.86mm f/1.6"),
        taken: "2024:06:01 12:30:00",
        offset: Some("+02:00"),
        orientation: 6,
        exposure: (1, 125),
        f_number: (18, 10),
        iso: 64,
        focal_length: (686, 100),
        gps: Some((48.8584, 2.2945)),
    }
}

/// A non-uniform picture, so encoders produce realistic, non-trivial data.
fn gradient(width: u32, height: u32) -> DynamicImage {
    let (w, h) = (width.max(1), height.max(1));
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x + y) % 256) as u8,
        ])
    }))
}

fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    gradient(width, height)
        .write_to(&mut out, format)
        .expect("in-memory encode");
    out.into_inner()
}

/// A real baseline JPEG; with `exif`, an APP1 "Exif" segment right after SOI.
pub fn jpeg(width: u32, height: u32, exif: Option<&ExifSpec>) -> Vec<u8> {
    let mut out = encode(width, height, ImageFormat::Jpeg);
    if let Some(spec) = exif {
        let tiff = exif_tiff(spec);
        let len = u16::try_from(2 + 6 + tiff.len()).expect("EXIF fits a segment");
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&len.to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&tiff);
        out.splice(2..2, app1);
    }
    out
}

/// A real PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Png)
}

/// A real GIF.
pub fn gif(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Gif)
}

/// A real (lossless) WebP.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::WebP)
}

// ---- EXIF (little-endian TIFF) -------------------------------------------

enum Val {
    Byte(Vec<u8>),
    Ascii(String),
    Short(u16),
    Long(u32),
    Rational(Vec<(u32, u32)>),
    Undefined(Vec<u8>),
}

impl Val {
    /// (TIFF type, count, value bytes).
    fn encode(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Val::Byte(b) => (1, b.len() as u32, b.clone()),
            Val::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u32, b)
            }
            Val::Short(v) => (3, 1, v.to_le_bytes().to_vec()),
            Val::Long(v) => (4, 1, v.to_le_bytes().to_vec()),
            Val::Rational(rs) => {
                let b = rs
                    .iter()
                    .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
                    .collect();
                (5, rs.len() as u32, b)
            }
            Val::Undefined(b) => (7, b.len() as u32, b.clone()),
        }
    }
}

type Ifd = Vec<(u16, Val)>;

/// Bytes an IFD occupies: entry table plus out-of-line values (even-padded).
fn ifd_size(ifd: &Ifd) -> usize {
    let data: usize = ifd
        .iter()
        .map(|(_, v)| v.encode().2.len())
        .filter(|&n| n > 4)
        .map(|n| n + n % 2)
        .sum();
    2 + 12 * ifd.len() + 4 + data
}

/// Appends `ifd` at `out.len()`, which must be its offset in the TIFF.
fn write_ifd(out: &mut Vec<u8>, ifd: &Ifd) {
    let start = out.len();
    let mut data_at = start + 2 + 12 * ifd.len() + 4;
    let mut data = Vec::new();
    out.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
    for (tag, val) in ifd {
        let (kind, count, bytes) = val.encode();
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..bytes.len()].copy_from_slice(&bytes);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&(data_at as u32).to_le_bytes());
            data.extend_from_slice(&bytes);
            if bytes.len() % 2 == 1 {
                data.push(0);
            }
            data_at += bytes.len() + bytes.len() % 2;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
}

fn to_dms(degrees: f64) -> Vec<(u32, u32)> {
    let a = degrees.abs();
    let d = a.floor();
    let minutes = (a - d) * 60.0;
    let m = minutes.floor();
    let s = (minutes - m) * 60.0;
    vec![
        (d as u32, 1),
        (m as u32, 1),
        ((s * 10_000.0).round() as u32, 10_000),
    ]
}

/// The TIFF structure of an EXIF block: IFD0 pointing at an Exif IFD and,
/// when `gps` is set, a GPS IFD.
fn exif_tiff(spec: &ExifSpec) -> Vec<u8> {
    let mut ifd0: Ifd = vec![
        (0x010F, Val::Ascii(spec.make.into())),
        (0x0110, Val::Ascii(spec.model.into())),
        (0x0112, Val::Short(spec.orientation)),
        (0x8769, Val::Long(0)),
    ];
    if spec.gps.is_some() {
        ifd0.push((0x8825, Val::Long(0)));
    }
    let mut exif: Ifd = vec![
        (0x829A, Val::Rational(vec![spec.exposure])),
        (0x829D, Val::Rational(vec![spec.f_number])),
        (0x8827, Val::Short(spec.iso)),
        (0x9000, Val::Undefined(b"0232".to_vec())),
        (0x9003, Val::Ascii(spec.taken.into())),
    ];
    if let Some(offset) = spec.offset {
        exif.push((0x9011, Val::Ascii(offset.into())));
    }
    exif.push((0x920A, Val::Rational(vec![spec.focal_length])));
    if let Some(lens) = spec.lens {
        exif.push((0xA434, Val::Ascii(lens.into())));
    }
    let gps: Ifd = match spec.gps {
        Some((lat, lon)) => vec![
            (0x0000, Val::Byte(vec![2, 3, 0, 0])),
            (0x0001, Val::Ascii(if lat < 0.0 { "S" } else { "N" }.into())),
            (0x0002, Val::Rational(to_dms(lat))),
            (0x0003, Val::Ascii(if lon < 0.0 { "W" } else { "E" }.into())),
            (0x0004, Val::Rational(to_dms(lon))),
        ],
        None => Vec::new(),
    };

    let exif_at = 8 + ifd_size(&ifd0);
    let gps_at = exif_at + ifd_size(&exif);
    for (tag, val) in &mut ifd0 {
        match tag {
            0x8769 => *val = Val::Long(exif_at as u32),
            0x8825 => *val = Val::Long(gps_at as u32),
            _ => {}
        }
    }
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    write_ifd(&mut out, &ifd0);
    write_ifd(&mut out, &exif);
    if !gps.is_empty() {
        write_ifd(&mut out, &gps);
    }
    out
}

// ---- ISO-BMFF (MP4, MOV, HEIC) -------------------------------------------

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = (8 + body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full_box(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![version, 0, 0, 0];
    b.extend_from_slice(body);
    bx(kind, &b)
}

fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let mut body = major.to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    for brand in compatible {
        body.extend_from_slice(*brand);
    }
    bx(b"ftyp", &body)
}

const IDENTITY_MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn mvhd(duration_ms: u64) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0; 8]); // creation/modification time: unset
    b.extend_from_slice(&1000u32.to_be_bytes());
    b.extend_from_slice(&(duration_ms as u32).to_be_bytes());
    b.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    b.extend_from_slice(&[0; 10]);
    IDENTITY_MATRIX
        .iter()
        .for_each(|m| b.extend_from_slice(&m.to_be_bytes()));
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&3u32.to_be_bytes()); // next track ID
    full_box(b"mvhd", 0, &b)
}

fn tkhd(track_id: u32, duration_ms: u64, width: u32, height: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&track_id.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&(duration_ms as u32).to_be_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0; 4]); // layer, alternate group
    let volume: u16 = if width == 0 { 0x0100 } else { 0 };
    b.extend_from_slice(&volume.to_be_bytes());
    b.extend_from_slice(&[0; 2]);
    IDENTITY_MATRIX
        .iter()
        .for_each(|m| b.extend_from_slice(&m.to_be_bytes()));
    b.extend_from_slice(&(width << 16).to_be_bytes());
    b.extend_from_slice(&(height << 16).to_be_bytes());
    full_box(b"tkhd", 0, &b)
}

/// Everything before the mdat payload: ftyp, a moov with an audio track
/// (no picture size) before the video track, and a 64-bit mdat header.
fn movie_head(
    major: &[u8; 4],
    compatible: &[&[u8; 4]],
    width: u32,
    height: u32,
    duration_ms: u64,
    mdat_len: u64,
) -> Vec<u8> {
    let audio = bx(b"trak", &tkhd(1, duration_ms, 0, 0));
    let video = bx(b"trak", &tkhd(2, duration_ms, width, height));
    let mut moov_body = mvhd(duration_ms);
    moov_body.extend(audio);
    moov_body.extend(video);
    let mut out = ftyp(major, compatible);
    out.extend(bx(b"moov", &moov_body));
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&(16 + mdat_len).to_be_bytes());
    out
}

/// The bytes of [`mp4`] before its mdat payload, so a test can stream a
/// huge file to disk (head, then `mdat_len` zeros) without building it.
pub fn mp4_head(width: u32, height: u32, duration_ms: u64, mdat_len: u64) -> Vec<u8> {
    let compatible: &[&[u8; 4]] = &[b"isom", b"iso2", b"avc1", b"mp41"];
    movie_head(b"isom", compatible, width, height, duration_ms, mdat_len)
}

/// A structurally valid MP4 whose mdat is `mdat_len` zero bytes.
pub fn mp4(width: u32, height: u32, duration_ms: u64, mdat_len: u64) -> Vec<u8> {
    let mut v = mp4_head(width, height, duration_ms, mdat_len);
    v.resize(v.len() + mdat_len as usize, 0);
    v
}

/// Like [`mp4`] but a QuickTime movie (brand `qt  `).
pub fn mov(width: u32, height: u32, duration_ms: u64, mdat_len: u64) -> Vec<u8> {
    let mut v = movie_head(b"qt  ", &[b"qt  "], width, height, duration_ms, mdat_len);
    v.resize(v.len() + mdat_len as usize, 0);
    v
}

/// A minimal HEIC: one 'hvc1' item (placeholder data) with an ispe
/// property, which is what imagesize reads dimensions from.
pub fn heic(width: u32, height: u32) -> Vec<u8> {
    heif_file(width, height, None)
}

/// [`heic`] plus an 'Exif' item, located through iinf/iloc like Apple's.
pub fn heic_with_exif(width: u32, height: u32, exif: &ExifSpec) -> Vec<u8> {
    heif_file(width, height, Some(exif))
}

const HEVC_PLACEHOLDER_LEN: u32 = 64;

fn heif_meta(width: u32, height: u32, exif_len: Option<u32>, data_at: u32) -> Vec<u8> {
    let mut hdlr = vec![0u8; 4];
    hdlr.extend_from_slice(b"pict");
    hdlr.extend_from_slice(&[0; 13]);
    let infe = |id: u16, kind: &[u8; 4]| {
        let mut b = id.to_be_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(kind);
        b.push(0);
        full_box(b"infe", 2, &b)
    };
    let items = 1 + u16::from(exif_len.is_some());
    let mut iinf = items.to_be_bytes().to_vec();
    iinf.extend(infe(1, b"hvc1"));
    let mut iloc = vec![0x44, 0x00];
    iloc.extend_from_slice(&items.to_be_bytes());
    let mut extent = |id: u16, offset: u32, len: u32| {
        iloc.extend_from_slice(&id.to_be_bytes());
        iloc.extend_from_slice(&[0, 0, 0, 1]);
        iloc.extend_from_slice(&offset.to_be_bytes());
        iloc.extend_from_slice(&len.to_be_bytes());
    };
    extent(1, data_at, HEVC_PLACEHOLDER_LEN);
    if let Some(len) = exif_len {
        iinf.extend(infe(2, b"Exif"));
        extent(2, data_at + HEVC_PLACEHOLDER_LEN, len);
    }
    let mut ispe = width.to_be_bytes().to_vec();
    ispe.extend_from_slice(&height.to_be_bytes());
    let ipco = bx(b"ipco", &full_box(b"ispe", 0, &ispe));
    let ipma = full_box(b"ipma", 0, &[0, 0, 0, 1, 0, 1, 1, 0x81]);
    let mut iprp = ipco;
    iprp.extend(ipma);

    let mut body = full_box(b"hdlr", 0, &hdlr);
    body.extend(full_box(b"pitm", 0, &1u16.to_be_bytes()));
    body.extend(full_box(b"iinf", 0, &iinf));
    body.extend(full_box(b"iloc", 0, &iloc));
    body.extend(bx(b"iprp", &iprp));
    full_box(b"meta", 0, &body)
}

fn heif_file(width: u32, height: u32, exif: Option<&ExifSpec>) -> Vec<u8> {
    // ExifDataBlock: offset to the TIFF header, then "Exif\0\0" + TIFF.
    let exif_item = exif.map(|spec| {
        let mut b = 6u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"Exif\0\0");
        b.extend(exif_tiff(spec));
        b
    });
    let exif_len = exif_item.as_ref().map(|b| b.len() as u32);
    let ftyp = ftyp(b"heic", &[b"mif1", b"heic"]);
    let meta_len = heif_meta(width, height, exif_len, 0).len();
    let data_at = (ftyp.len() + meta_len + 8) as u32;
    let mut mdat = vec![0u8; HEVC_PLACEHOLDER_LEN as usize];
    mdat.extend(exif_item.unwrap_or_default());
    let mut out = ftyp;
    out.extend(heif_meta(width, height, exif_len, data_at));
    out.extend(bx(b"mdat", &mdat));
    out
}

// ---- EBML (WebM, Matroska) -----------------------------------------------

/// Duration written into [`webm`] fixtures.
pub const WEBM_DURATION_MS: u64 = 2500;

fn ebml_size(n: u64) -> Vec<u8> {
    let len = (1..=8u32).find(|&l| n < (1u64 << (7 * l)) - 1).unwrap_or(8);
    let marked = n | (1u64 << (7 * len));
    marked.to_be_bytes()[(8 - len as usize)..].to_vec()
}

fn element(id: u32, body: &[u8]) -> Vec<u8> {
    let id_bytes = id.to_be_bytes();
    let skip = id_bytes.iter().take_while(|&&b| b == 0).count();
    let mut v = id_bytes[skip..].to_vec();
    v.extend(ebml_size(body.len() as u64));
    v.extend_from_slice(body);
    v
}

fn uint_element(id: u32, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    element(id, &bytes[skip..])
}

fn ebml_file(doc_type: &str, width: u32, height: u32) -> Vec<u8> {
    let header = [
        uint_element(0x4286, 1),
        uint_element(0x42F7, 1),
        uint_element(0x42F2, 4),
        uint_element(0x42F3, 8),
        element(0x4282, doc_type.as_bytes()),
        uint_element(0x4287, 4),
        uint_element(0x4285, 2),
    ]
    .concat();
    let info = [
        uint_element(0x2A_D7B1, 1_000_000),
        element(0x4489, &(WEBM_DURATION_MS as f64).to_be_bytes()),
        element(0x4D80, b"hypernet-fixtures"),
        element(0x5741, b"hypernet-fixtures"),
    ]
    .concat();
    let video = [
        uint_element(0xB0, width.into()),
        uint_element(0xBA, height.into()),
    ]
    .concat();
    let entry = [
        uint_element(0xD7, 1),
        uint_element(0x73C5, 1),
        uint_element(0x83, 1),
        element(0x86, b"V_VP9"),
        element(0xE0, &video),
    ]
    .concat();
    let cluster = [
        uint_element(0xE7, 0),
        element(0xA3, &[0x81, 0, 0, 0x80, 0, 0, 0, 0]),
    ]
    .concat();
    let segment = [
        element(0x1549_A966, &info),
        element(0x1654_AE6B, &element(0xAE, &entry)),
        element(0x1F43_B675, &cluster),
    ]
    .concat();
    let mut out = element(0x1A45_DFA3, &header);
    // Segment with an 8-byte size field, as muxers write it.
    out.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x01]);
    out.extend_from_slice(&(segment.len() as u64).to_be_bytes()[1..]);
    out.extend(segment);
    out
}

/// A minimal WebM: EBML header, then a known-size Segment with Info
/// (duration [`WEBM_DURATION_MS`]), one VP9 video track and one Cluster.
pub fn webm(width: u32, height: u32) -> Vec<u8> {
    ebml_file("webm", width, height)
}

/// The same file with DocType "matroska", which the inspector refuses.
pub fn matroska(width: u32, height: u32) -> Vec<u8> {
    ebml_file("matroska", width, height)
}
