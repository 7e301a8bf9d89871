//! ISO base media file format (MP4, QuickTime, HEIF) box walking.
//!
//! Boxes are visited by seeking from header to header, so a multi-gigabyte
//! `mdat` costs one 16-byte read. Walking the top level to exactly the end of
//! the file is also how truncation is detected: an interrupted upload cuts
//! the last box short.

use super::InspectError;
use super::source::Source;

/// Upper bound on boxes visited in one box list. Fragmented MP4s have two
/// top-level boxes per fragment, so this allows for hours of one-second
/// fragments while still bounding work on a hostile file.
const MAX_BOXES: usize = 200_000;

/// Where one box sits in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoxRef {
    pub kind: [u8; 4],
    /// Offset of the payload (after size, type and any largesize).
    pub body: u64,
    /// Offset just past the box.
    pub end: u64,
}

impl BoxRef {
    pub(super) fn size(&self) -> u64 {
        self.end.saturating_sub(self.body)
    }
}

/// The top-level boxes that later stages need.
#[derive(Debug, Default)]
pub(super) struct TopLevel {
    pub ftyp: Option<BoxRef>,
    pub moov: Option<BoxRef>,
    pub meta: Option<BoxRef>,
}

/// A four-character code for messages; binary junk is shown in hex so a
/// fuzzed file cannot put control characters in an error string.
fn fourcc(kind: [u8; 4]) -> String {
    if kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("'{}'", String::from_utf8_lossy(&kind))
    } else {
        format!("0x{:08x}", u32::from_be_bytes(kind))
    }
}

/// Reads the box header at `pos`; the box must fit before `limit`.
fn read_box(src: &mut Source, pos: u64, limit: u64) -> Result<BoxRef, InspectError> {
    let room = limit.saturating_sub(pos);
    if room < 8 {
        return Err(InspectError::Corrupt(format!(
            "{room} stray bytes at offset {pos} where a box header should start"
        )));
    }
    let mut head = [0u8; 16];
    let want = room.min(16) as usize;
    src.read_exact_at(pos, &mut head[..want], "box header")?;
    let kind = [head[4], head[5], head[6], head[7]];
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let (header, size) = match size32 {
        0 => (8, room),
        1 => {
            if want < 16 {
                return Err(InspectError::Corrupt(format!(
                    "{} box at offset {pos} is cut off inside its 64-bit size",
                    fourcc(kind)
                )));
            }
            let mut large = [0u8; 8];
            large.copy_from_slice(&head[8..16]);
            (16, u64::from_be_bytes(large))
        }
        s => (8, u64::from(s)),
    };
    if size < header {
        return Err(InspectError::Corrupt(format!(
            "{} box at offset {pos} declares an impossible size of {size} bytes",
            fourcc(kind)
        )));
    }
    if size > room {
        return Err(InspectError::Corrupt(format!(
            "{} box at offset {pos} declares {size} bytes but only {room} remain",
            fourcc(kind)
        )));
    }
    Ok(BoxRef {
        kind,
        body: pos + header,
        end: pos + size,
    })
}

/// The boxes inside `[start, end)`, which must tile the range exactly.
pub(super) fn children(
    src: &mut Source,
    start: u64,
    end: u64,
) -> Result<Vec<BoxRef>, InspectError> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        if out.len() >= MAX_BOXES {
            break;
        }
        let b = read_box(src, pos, end)?;
        pos = b.end;
        out.push(b);
    }
    Ok(out)
}

/// Walks the top level to the end of the file, keeping only what later
/// stages need so memory stays flat however many fragments a file has.
pub(super) fn walk_top_level(src: &mut Source) -> Result<TopLevel, InspectError> {
    let mut top = TopLevel::default();
    let mut pos = 0;
    for _ in 0..MAX_BOXES {
        if pos >= src.len() {
            break;
        }
        let b = read_box(src, pos, src.len())?;
        let slot = match &b.kind {
            b"ftyp" => Some(&mut top.ftyp),
            b"moov" => Some(&mut top.moov),
            b"meta" => Some(&mut top.meta),
            _ => None,
        };
        if let Some(slot) = slot {
            slot.get_or_insert(b);
        }
        pos = b.end;
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourcc_is_printable() {
        assert_eq!(fourcc(*b"moov"), "'moov'");
        assert_eq!(fourcc([0, 1, 2, 0xFF]), "0x000102ff");
    }
}
