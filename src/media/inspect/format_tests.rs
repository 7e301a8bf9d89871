//! End-to-end tests of `inspect` on files built by the fixtures the API tests use too.

#[path = "../../../tests/api/fixtures.rs"]
mod fixtures;

use std::io::Write;
use std::path::Path;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::{InspectError, Inspection, MediaKind, inspect};

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
    tmp.write_all(bytes).expect("write fixture");
    tmp.flush().expect("flush");
    tmp
}

fn inspect_bytes(bytes: &[u8]) -> Result<Inspection, InspectError> {
    let tmp = write_temp(bytes);
    inspect(tmp.path())
}

fn ok(bytes: &[u8]) -> Inspection {
    inspect_bytes(bytes).unwrap_or_else(|e| panic!("expected success, got {e}"))
}

fn assert_corrupt(label: &str, bytes: &[u8]) {
    match inspect_bytes(bytes) {
        Err(InspectError::Corrupt(_)) => {}
        other => panic!("{label}: expected Corrupt, got {other:?}"),
    }
}

fn unsupported_message(bytes: &[u8]) -> String {
    match inspect_bytes(bytes) {
        Err(InspectError::Unsupported(m)) => m,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// All well-formed fixtures, named, for the table-driven tests.
fn all_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("jpeg", fixtures::jpeg(64, 48, Some(&fixtures::iphone()))),
        ("png", fixtures::png(40, 30)),
        ("gif", fixtures::gif(33, 17)),
        ("webp", fixtures::webp(50, 20)),
        (
            "heic",
            fixtures::heic_with_exif(640, 480, &fixtures::iphone()),
        ),
        ("mp4", fixtures::mp4(1280, 720, 4000, 2048)),
        ("mov", fixtures::mov(1920, 1080, 1500, 2048)),
        ("webm", fixtures::webm(320, 240)),
    ]
}

#[test]
fn images_are_sniffed_with_their_dimensions() {
    let cases = [
        (fixtures::jpeg(64, 48, None), "image/jpeg", (64, 48)),
        (fixtures::png(40, 30), "image/png", (40, 30)),
        (fixtures::gif(33, 17), "image/gif", (33, 17)),
        (fixtures::webp(50, 20), "image/webp", (50, 20)),
        (fixtures::heic(640, 480), "image/heic", (640, 480)),
    ];
    for (bytes, mime, (w, h)) in cases {
        let found = ok(&bytes);
        assert_eq!(found.mime_type, mime);
        assert_eq!(found.kind, MediaKind::Photo, "{mime}");
        assert_eq!((found.width, found.height), (Some(w), Some(h)), "{mime}");
        assert_eq!(found.duration_ms, None, "{mime}");
    }
}

#[test]
fn generic_heif_brands_give_image_heif() {
    let mut bytes = fixtures::heic(100, 80);
    bytes[8..12].copy_from_slice(b"mif1");
    bytes[20..24].copy_from_slice(b"miaf");
    let found = ok(&bytes);
    assert_eq!(found.mime_type, "image/heif");
    assert_eq!((found.width, found.height), (Some(100), Some(80)));
}

#[test]
fn the_name_does_not_matter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("holiday.jpg");
    std::fs::write(&path, fixtures::png(10, 10)).expect("write");
    assert_eq!(inspect(&path).expect("inspects").mime_type, "image/png");
}

fn assert_iphone_exif(found: &Inspection) {
    let expected_time = Utc.with_ymd_and_hms(2024, 6, 1, 10, 30, 0).single();
    assert_eq!(found.taken_at, expected_time);
    assert_eq!(found.orientation, Some(6));
    let m = &found.metadata;
    assert_eq!(m["make"], json!("Apple"));
    assert_eq!(m["camera"], json!("iPhone 15"));
    assert_eq!(
        m["lens"],
        json!("iPhone 15 back dual wide camera 6.86mm f/1.6")
    );
    assert_eq!(m["exposure"], json!("1/125"));
    assert_eq!(m["aperture"], json!(1.8));
    assert_eq!(m["iso"], json!(64));
    assert_eq!(m["focalLength"], json!(6.86));
    assert_eq!(m["orientation"], json!(6));
    let lat = m["location"]["lat"].as_f64().expect("lat");
    let lon = m["location"]["lon"].as_f64().expect("lon");
    assert!((lat - 48.8584).abs() < 1e-6, "lat {lat}");
    assert!((lon - 2.2945).abs() < 1e-6, "lon {lon}");
}

#[test]
fn jpeg_exif_fields() {
    let found = ok(&fixtures::jpeg(64, 48, Some(&fixtures::iphone())));
    assert_eq!((found.width, found.height), (Some(64), Some(48)));
    assert_iphone_exif(&found);
}

#[test]
fn exif_text_ends_at_its_first_nul() {
    // Cameras pad with NULs, and some leave bytes after one; PostgreSQL stores no NUL.
    let spec = fixtures::ExifSpec {
        make: "Canon\0junk",
        model: "EOS\0",
        ..fixtures::iphone()
    };
    let found = ok(&fixtures::jpeg(64, 48, Some(&spec)));
    assert_eq!(found.metadata["make"], json!("Canon"));
    assert_eq!(found.metadata["camera"], json!("EOS"));
}

#[test]
fn heic_exif_fields() {
    let found = ok(&fixtures::heic_with_exif(640, 480, &fixtures::iphone()));
    assert_eq!(found.mime_type, "image/heic");
    assert_iphone_exif(&found);
}

#[test]
fn exif_without_offset_is_taken_as_utc_and_absent_fields_are_omitted() {
    let spec = fixtures::ExifSpec {
        offset: None,
        lens: None,
        gps: None,
        exposure: (2, 1),
        ..fixtures::iphone()
    };
    let found = ok(&fixtures::jpeg(32, 32, Some(&spec)));
    assert_eq!(
        found.taken_at,
        Utc.with_ymd_and_hms(2024, 6, 1, 12, 30, 0).single()
    );
    assert_eq!(found.metadata["exposure"], json!("2"));
    assert!(!found.metadata.contains_key("lens"));
    assert!(!found.metadata.contains_key("location"));
}

#[test]
fn southern_and_western_coordinates_are_negative() {
    let spec = fixtures::ExifSpec {
        gps: Some((-33.8568, -151.2153)),
        ..fixtures::iphone()
    };
    let found = ok(&fixtures::jpeg(16, 16, Some(&spec)));
    let lat = found.metadata["location"]["lat"].as_f64().expect("lat");
    let lon = found.metadata["location"]["lon"].as_f64().expect("lon");
    assert!((lat + 33.8568).abs() < 1e-6 && (lon + 151.2153).abs() < 1e-6);
}

#[test]
fn images_without_exif_have_no_exif_fields() {
    for bytes in [
        fixtures::jpeg(8, 8, None),
        fixtures::png(8, 8),
        fixtures::heic(8, 8),
    ] {
        let found = ok(&bytes);
        assert!(found.metadata.is_empty(), "{:?}", found.metadata);
        assert_eq!((found.taken_at, found.orientation), (None, None));
    }
}

#[test]
fn broken_exif_is_not_an_error() {
    let mut bytes = fixtures::jpeg(16, 16, Some(&fixtures::iphone()));
    // Corrupt the TIFF byte-order mark right after "Exif\0\0".
    bytes[10..12].copy_from_slice(b"XX");
    let found = ok(&bytes);
    assert_eq!(found.mime_type, "image/jpeg");
    assert!(found.metadata.is_empty());
}

#[test]
fn videos_report_duration_and_dimensions() {
    let mp4 = ok(&fixtures::mp4(1280, 720, 4000, 2048));
    assert_eq!((mp4.mime_type, mp4.kind), ("video/mp4", MediaKind::Video));
    assert_eq!(
        (mp4.width, mp4.height, mp4.duration_ms),
        (Some(1280), Some(720), Some(4000))
    );

    let mov = ok(&fixtures::mov(1920, 1080, 1500, 0));
    assert_eq!(
        (mov.mime_type, mov.kind),
        ("video/quicktime", MediaKind::Video)
    );
    assert_eq!(
        (mov.width, mov.height, mov.duration_ms),
        (Some(1920), Some(1080), Some(1500))
    );

    let webm = ok(&fixtures::webm(320, 240));
    assert_eq!(
        (webm.mime_type, webm.kind),
        ("video/webm", MediaKind::Video)
    );
    assert_eq!(
        (webm.width, webm.height, webm.duration_ms),
        (Some(320), Some(240), Some(fixtures::WEBM_DURATION_MS))
    );
}

#[test]
fn large_mp4_streamed_to_disk_is_inspected() {
    let mdat_len: u64 = 50 << 20;
    let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
    tmp.write_all(&fixtures::mp4_head(3840, 2160, 600_000, mdat_len))
        .expect("head");
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(mdat_len / chunk.len() as u64) {
        tmp.write_all(&chunk).expect("chunk");
    }
    tmp.flush().expect("flush");
    let found = inspect(tmp.path()).expect("inspects");
    assert_eq!(found.mime_type, "video/mp4");
    assert_eq!((found.width, found.height), (Some(3840), Some(2160)));
    assert_eq!(found.duration_ms, Some(600_000));

    // One byte short of what the mdat header promises: an interrupted upload.
    tmp.as_file()
        .set_len(tmp.as_file().metadata().expect("len").len() - 1)
        .expect("truncate");
    assert!(matches!(inspect(tmp.path()), Err(InspectError::Corrupt(_))));
}

#[test]
fn truncated_files_are_corrupt() {
    for (name, bytes) in all_fixtures() {
        for cut in [1, 2, 7, 16, bytes.len() / 2] {
            let label = format!("{name} minus {cut} bytes");
            assert_corrupt(&label, &bytes[..bytes.len() - cut]);
        }
    }
}

#[test]
fn structurally_incomplete_files_are_corrupt() {
    // A movie without its moov (e.g. a recording that was never finalised).
    let mp4 = fixtures::mp4(640, 480, 1000, 0);
    let ftyp_len = u32::from_be_bytes([mp4[0], mp4[1], mp4[2], mp4[3]]) as usize;
    let mut no_moov = mp4[..ftyp_len].to_vec();
    no_moov.extend_from_slice(&[0, 0, 0, 16, b'm', b'd', b'a', b't', 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_corrupt("mp4 without moov", &no_moov);

    let heic = fixtures::heic(64, 64);
    let ftyp_len = u32::from_be_bytes([heic[0], heic[1], heic[2], heic[3]]) as usize;
    let mut no_meta = heic[..ftyp_len].to_vec();
    no_meta.extend_from_slice(&[0, 0, 0, 8, b'm', b'd', b'a', b't']);
    assert_corrupt("heic without meta", &no_meta);

    let webm = fixtures::webm(64, 64);
    assert_corrupt("webm header only", &webm[..40]);
    assert_corrupt("webm first bytes", &webm[..6]);
    assert_corrupt("tiny ftyp", b"\0\0\0\x08ftyp");
}

#[test]
fn non_media_is_unsupported() {
    assert_eq!(unsupported_message(b""), "an empty file");
    assert_eq!(
        unsupported_message(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
        "a PDF document"
    );
    assert_eq!(
        unsupported_message(b"Dear diary,\ntoday I took photos.\n"),
        "a text file"
    );
    assert!(unsupported_message(&fixtures::matroska(64, 64)).contains("Matroska"));
    assert!(unsupported_message(b"RIFF\x04\0\0\0AVI LIST").contains("AVI"));

    let mut state = 0x1234_5678_u64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| (lcg(&mut state) >> 24) as u8 | 0x80)
        .collect();
    assert_eq!(unsupported_message(&garbage), "unrecognised bytes");
}

#[test]
fn io_errors_are_reported_as_io() {
    let missing = Path::new("/nonexistent/hypernet/inspect/test.jpg");
    assert!(matches!(inspect(missing), Err(InspectError::Io(_))));
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(inspect(dir.path()), Err(InspectError::Io(_))));
}

/// Numerical Recipes' LCG: deterministic, dependency-free noise.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 16
}

/// One random edit: flipped bytes, size-field-like extremes, a cut, or a
/// duplicated run, which between them hit most header-parsing paths.
fn mutate(bytes: &[u8], state: &mut u64) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let len = v.len().max(1) as u64;
    // Bias towards the first bytes, where all the structure is.
    let pos = |state: &mut u64| {
        let limit = if lcg(state).is_multiple_of(4) {
            len
        } else {
            len.min(512)
        };
        (lcg(state) % limit) as usize
    };
    match lcg(state) % 5 {
        0 => {
            for _ in 0..=(lcg(state) % 4) {
                let p = pos(state);
                if let Some(b) = v.get_mut(p) {
                    *b ^= 1 << (lcg(state) % 8);
                }
            }
        }
        1 => {
            let p = pos(state);
            let fill = [0x00, 0xFF, 0x01, 0x7F][(lcg(state) % 4) as usize];
            for b in v.iter_mut().skip(p).take(1 + (lcg(state) % 8) as usize) {
                *b = fill;
            }
        }
        2 => v.truncate(pos(state)),
        3 => {
            let p = pos(state).min(v.len());
            let n = (lcg(state) % 64) as usize;
            let run: Vec<u8> = v.iter().skip(p).take(n).copied().collect();
            v.splice(p..p, run);
        }
        _ => {
            let p = pos(state).min(v.len());
            let junk: Vec<u8> = (0..(lcg(state) % 16)).map(|_| lcg(state) as u8).collect();
            v.splice(p..p, junk);
        }
    }
    v
}

#[test]
fn random_mutations_never_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mutant");
    // INSPECT_FUZZ_ITERATIONS raises the count for a longer local soak.
    let iterations: usize = std::env::var("INSPECT_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut outcomes = [0usize; 3];
    let mut state = 42u64;
    for (name, bytes) in all_fixtures() {
        for i in 0..iterations {
            let mutant = mutate(&bytes, &mut state);
            std::fs::write(&path, &mutant).expect("write mutant");
            let result = std::panic::catch_unwind(|| inspect(&path));
            match result {
                Err(_) => panic!("{name} mutation {i} panicked"),
                Ok(Err(InspectError::Io(e))) => panic!("{name} mutation {i}: I/O error {e}"),
                Ok(Ok(_)) => outcomes[0] += 1,
                Ok(Err(InspectError::Corrupt(_))) => outcomes[1] += 1,
                Ok(Err(InspectError::Unsupported(_))) => outcomes[2] += 1,
            }
        }
    }
    println!(
        "mutants: {} ok, {} corrupt, {} unsupported",
        outcomes[0], outcomes[1], outcomes[2]
    );
    // The mutations must exercise the parsers, not just fail at sniffing.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

#[test]
fn jpegs_with_data_after_the_end_marker_are_accepted() {
    // A motion photo: the JPEG, then an MP4 appended after FF D9.
    let mut motion = fixtures::jpeg(64, 48, Some(&fixtures::iphone()));
    motion.extend_from_slice(&fixtures::mp4(64, 48, 1000, 2000));
    let found = ok(&motion);
    assert_eq!(found.mime_type, "image/jpeg");
    assert_eq!((found.width, found.height), (Some(64), Some(48)));
    // Cut inside the image data, it is still truncated.
    let jpeg = fixtures::jpeg(64, 48, None);
    assert_corrupt("cut jpeg", &jpeg[..jpeg.len() - 40]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The fixtures, made once.
    static FIXTURES: std::sync::LazyLock<Vec<Vec<u8>>> =
        std::sync::LazyLock::new(|| all_fixtures().into_iter().map(|(_, b)| b).collect());

    /// Every fixture, then bytes from nowhere behind each format's magic number.
    fn start() -> impl Strategy<Value = Vec<u8>> {
        let n = FIXTURES.len();
        prop_oneof![
            (0..n).prop_map(|i| FIXTURES[i].clone()),
            (
                prop_oneof![
                    Just(b"\xff\xd8\xff\xe1".to_vec()),
                    Just(b"\x89PNG\r\n\x1a\n".to_vec()),
                    Just(b"\0\0\0\x18ftypheic".to_vec()),
                    Just(b"\0\0\0\x18ftypisom".to_vec()),
                    Just(b"\x1a\x45\xdf\xa3".to_vec()),
                    Just(b"RIFF\0\0\0\0WEBP".to_vec()),
                    Just(b"GIF89a".to_vec()),
                ],
                proptest::collection::vec(any::<u8>(), 0..2048),
            )
                .prop_map(|(magic, rest)| [magic, rest].concat()),
        ]
    }

    proptest! {
        /// Whatever the bytes, an inspector answers (what it found, or why not) and never
        /// panics; a corrupt file's message carries no control characters.
        #[test]
        fn prop_inspectors_answer_any_bytes(
            base in start(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut bytes = base;
            if !bytes.is_empty() {
                for (at, byte) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
                if let Some(cut) = cut {
                    bytes.truncate(cut.index(bytes.len()));
                }
            }
            match inspect_bytes(&bytes) {
                Ok(found) => prop_assert!(!found.mime_type.is_empty()),
                Err(InspectError::Corrupt(m)) | Err(InspectError::Unsupported(m)) => {
                    prop_assert!(!m.chars().any(char::is_control), "{m:?}");
                }
                Err(InspectError::Io(e)) => prop_assert!(false, "io error on a plain file: {e}"),
            }
        }
    }
}
