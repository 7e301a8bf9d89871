//! Keywords from an XMP packet: `dc:subject`, the list photo tools (Lightroom, digiKam,
//! darktable, Apple Photos, ExifTool) write a photo's keywords to.
//!
//! Best effort like the rest of inspection: a packet that is not well-formed XML gives the
//! keywords read before the damage, never an error.

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

/// The namespace of `dc:subject`.
const DC: &[u8] = b"http://purl.org/dc/elements/1.1/";
/// The namespace of `rdf:li`.
const RDF: &[u8] = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The items of `dc:subject` (a `rdf:Bag`), trimmed, empty ones left out, in document order.
pub(super) fn subjects(packet: &[u8]) -> Vec<String> {
    let mut reader = NsReader::from_reader(packet);
    let mut out = Vec::new();
    // Depth inside `dc:subject` (0: outside), and the item being read.
    let mut in_subject = 0usize;
    let mut item: Option<String> = None;
    while let Ok(event) = reader.read_resolved_event() {
        match event {
            (ns, Event::Start(e)) => {
                let local = e.local_name();
                if in_subject > 0 {
                    in_subject += 1;
                    if is(&ns, RDF) && local.as_ref() == b"li" {
                        item = Some(String::new());
                    }
                } else if is(&ns, DC) && local.as_ref() == b"subject" {
                    in_subject = 1;
                }
            }
            (_, Event::End(_)) if in_subject > 0 => {
                if let Some(text) = item.take() {
                    let text = text.trim();
                    if !text.is_empty() {
                        out.push(text.to_string());
                    }
                }
                in_subject -= 1;
            }
            (_, Event::Text(t)) => {
                if let (Some(item), Ok(text)) = (item.as_mut(), t.decode()) {
                    item.push_str(&text);
                }
            }
            (_, Event::CData(t)) => {
                if let (Some(item), Ok(text)) = (item.as_mut(), t.decode()) {
                    item.push_str(&text);
                }
            }
            (_, Event::GeneralRef(r)) => {
                if let Some(item) = item.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        item.push(c);
                    } else if let Ok(name) = r.decode()
                        && let Some(text) = quick_xml::escape::resolve_predefined_entity(&name)
                    {
                        item.push_str(text);
                    }
                }
            }
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    out
}

fn is(ns: &ResolveResult<'_>, want: &[u8]) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Not a keyword</rdf:li></rdf:Alt></dc:title>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Beach</rdf:li>
     <rdf:li> Family &amp; friends </rdf:li>
     <rdf:li>caf&#233;</rdf:li>
     <rdf:li>  </rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Beach</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#;

    #[test]
    fn reads_the_items_of_dc_subject_only() {
        assert_eq!(
            subjects(PACKET.as_bytes()),
            vec!["Beach", "Family & friends", "café"]
        );
    }

    #[test]
    fn the_namespace_decides_not_the_prefix() {
        let other = PACKET.replace(
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
            "xmlns:dc=\"urn:x\"",
        );
        assert!(subjects(other.as_bytes()).is_empty());
        let renamed = PACKET.replace("dc:", "d:").replace("xmlns:dc", "xmlns:d");
        assert_eq!(subjects(renamed.as_bytes()).len(), 3);
    }

    #[test]
    fn a_damaged_packet_gives_what_came_before_the_damage() {
        let cut = &PACKET[..PACKET.find("caf").unwrap()];
        assert_eq!(subjects(cut.as_bytes()), vec!["Beach", "Family & friends"]);
        assert!(subjects(b"\xff\xfe<<<").is_empty());
    }
}
