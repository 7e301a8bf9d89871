//! Unit tests that need a real file behind [`Source`]: box walking and the
//! read-accounting guarantee for huge files.

use std::io::Write;

use super::*;

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = (8 + body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn source_of(bytes: &[u8], extra_zeros: u64) -> (tempfile::NamedTempFile, Source) {
    let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
    tmp.write_all(bytes).expect("write");
    // Sparse tail: costs no disk and no time, however large.
    tmp.as_file()
        .set_len(bytes.len() as u64 + extra_zeros)
        .expect("extend");
    let file = tmp.reopen().expect("reopen");
    let len = file.metadata().expect("metadata").len();
    (tmp, Source::new(file, len))
}

fn ftyp_isom() -> Vec<u8> {
    boxed(b"ftyp", b"isom\0\0\0\0isommp42")
}

fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut body = vec![0u8; 100];
    body[12..16].copy_from_slice(&timescale.to_be_bytes());
    body[16..20].copy_from_slice(&duration.to_be_bytes());
    boxed(b"mvhd", &body)
}

#[test]
fn top_level_walk_handles_every_size_form() {
    let mut bytes = ftyp_isom();
    bytes.extend(boxed(b"moov", &mvhd(1000, 1234)));
    // 64-bit largesize box.
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend_from_slice(&20u64.to_be_bytes());
    bytes.extend_from_slice(&[0; 4]);
    // Size 0: runs to the end of the file.
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    let (_tmp, mut src) = source_of(&bytes, 1000);
    let top = bmff::walk_top_level(&mut src).expect("walks");
    assert_eq!(top.ftyp.map(|b| b.kind), Some(*b"ftyp"));
    let moov = top.moov.expect("moov found");
    let details = movie::inspect(&mut src, &moov).expect("moov parses");
    assert_eq!(details.duration_ms, Some(1234));
}

#[test]
fn moov_after_mdat_is_found() {
    // Cameras write the moov last, after the media data is known.
    let mut bytes = ftyp_isom();
    bytes.extend(boxed(b"mdat", &[0; 4096]));
    bytes.extend(boxed(b"moov", &mvhd(90_000, 180_000)));
    let (_tmp, mut src) = source_of(&bytes, 0);
    let found = inspect_source(&mut src).expect("inspects");
    assert_eq!(found.duration_ms, Some(2000));
    assert_eq!((found.width, found.height), (None, None));
}

#[test]
fn top_level_walk_rejects_overruns_and_stray_bytes() {
    let mut overrun = ftyp_isom();
    overrun.extend_from_slice(&100u32.to_be_bytes());
    overrun.extend_from_slice(b"moov");
    let (_tmp, mut src) = source_of(&overrun, 0);
    assert!(matches!(
        bmff::walk_top_level(&mut src),
        Err(InspectError::Corrupt(_))
    ));

    let mut stray = ftyp_isom();
    stray.extend_from_slice(&[0, 0, 0]);
    let (_tmp, mut src) = source_of(&stray, 0);
    assert!(matches!(
        bmff::walk_top_level(&mut src),
        Err(InspectError::Corrupt(_))
    ));

    let mut tiny = ftyp_isom();
    tiny.extend_from_slice(&4u32.to_be_bytes());
    tiny.extend_from_slice(b"free");
    let (_tmp, mut src) = source_of(&tiny, 0);
    assert!(matches!(
        bmff::walk_top_level(&mut src),
        Err(InspectError::Corrupt(_))
    ));
}

#[test]
fn huge_mp4_is_inspected_from_a_few_kib() {
    let mdat_len: u64 = 5 << 30;
    let mut bytes = ftyp_isom();
    bytes.extend(boxed(b"moov", &mvhd(600, 6000)));
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(b"mdat");
    bytes.extend_from_slice(&(16 + mdat_len).to_be_bytes());
    let (_tmp, mut src) = source_of(&bytes, mdat_len);
    let found = inspect_source(&mut src).expect("inspects");
    assert_eq!(found.mime_type, "video/mp4");
    assert_eq!(found.duration_ms, Some(10_000));
    assert!(
        src.bytes_read() < 16 * 1024,
        "read {} bytes",
        src.bytes_read()
    );
}

#[test]
fn jpeg_without_exif_is_not_scanned_to_the_end() {
    // SOI, a bare SOF0 with a size, SOS, then megabytes of "scan data".
    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 30, 1, 1, 0x11, 0]);
    bytes.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]);
    let (tmp, _) = source_of(&bytes, 64 << 20);
    let mut file = tmp.reopen().expect("reopen");
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).expect("seek");
    file.write_all(&[0xFF, 0xD9]).expect("eoi");
    let file = tmp.reopen().expect("reopen");
    let len = file.metadata().expect("metadata").len();
    let mut src = Source::new(file, len);
    let found = inspect_source(&mut src).expect("inspects");
    assert_eq!((found.width, found.height), (Some(30), Some(20)));
    assert!(found.metadata.is_empty());
    assert!(
        src.bytes_read() < 64 * 1024,
        "read {} bytes",
        src.bytes_read()
    );
}

#[test]
fn errors_display_their_cause() {
    let e = InspectError::Corrupt("PNG does not end with an IEND chunk".into());
    assert_eq!(
        e.to_string(),
        "corrupt media file: PNG does not end with an IEND chunk"
    );
    let e: InspectError = io::Error::new(io::ErrorKind::NotFound, "gone").into();
    assert!(std::error::Error::source(&e).is_some());
}

const PACKET: &[u8] = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
    xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:subject><rdf:Bag><rdf:li>Sea</rdf:li>\
    </rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>";

fn png_chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    // The inspector does not check CRCs.
    v.extend_from_slice(&[0; 4]);
    v
}

#[test]
fn xmp_is_found_in_png_itxt_after_other_text_chunks() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(png_chunk(b"iTXt", b"Comment\0\0\0\0\0not this one"));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(PACKET);
    png.extend(png_chunk(b"iTXt", &itxt));
    png.extend(png_chunk(b"IEND", &[]));
    let (_tmp, mut src) = source_of(&png, 0);
    let packet = still::xmp_packet(&mut src, Format::Png).unwrap().unwrap();
    assert_eq!(xmp::subjects(&packet), ["Sea"]);

    // A compressed packet is left alone rather than misread.
    let compressed = png
        .windows(22)
        .position(|w| w == b"XML:com.adobe.xmp\0\0\0\0\0")
        .unwrap();
    let mut flagged = png.clone();
    flagged[compressed + 18] = 1;
    let (_tmp, mut src) = source_of(&flagged, 0);
    assert!(still::xmp_packet(&mut src, Format::Png).unwrap().is_none());
}

#[test]
fn xmp_is_found_in_a_webp_chunk() {
    let mut body = b"WEBP".to_vec();
    for (fourcc, payload) in [(b"VP8X", &[0u8; 10][..]), (b"XMP ", PACKET)] {
        body.extend_from_slice(fourcc);
        body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        body.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
    webp.extend(body);
    let (_tmp, mut src) = source_of(&webp, 0);
    let packet = still::xmp_packet(&mut src, Format::WebP).unwrap().unwrap();
    assert_eq!(xmp::subjects(&packet), ["Sea"]);
}
