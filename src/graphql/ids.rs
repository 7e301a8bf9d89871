//! Opaque, stable global ids: `base64url("<Type>:<uuid>")`, resolvable through `node(id:)`.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::AppError;

use crate::kinds::Kind;

pub(crate) fn encode(kind: Kind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.type_name(), id.simple())))
}

/// Writes [`encode`]'s id as a JSON string, without allocating: pages write one per row.
pub(crate) fn write_json(out: &mut Vec<u8>, kind: Kind, id: Uuid) {
    // The longest is "Integration:" and 32 hex digits: 44 bytes, 59 in base64.
    let (mut raw, mut text) = ([0u8; 48], [0u8; 64]);
    let name = kind.type_name().as_bytes();
    let hex_at = name.len() + 1;
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    id.simple().encode_lower(&mut raw[hex_at..hex_at + 32]);
    match URL_SAFE_NO_PAD.encode_slice(&raw[..hex_at + 32], &mut text) {
        Ok(n) => {
            // base64url needs no escaping.
            out.push(b'"');
            out.extend_from_slice(&text[..n]);
            out.push(b'"');
        }
        Err(_) => super::json::string(out, encode(kind, id).as_str()),
    }
}

/// The kind and id inside a global id, or `None` when it is not one of ours.
pub(crate) fn decode(id: &str) -> Option<(Kind, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((Kind::from_type_name(kind)?, Uuid::try_parse(uuid).ok()?))
}

/// The linkable object named by a global id, or `NOT_FOUND`.
pub(crate) fn expect_object(
    id: &ID,
    field: &'static str,
) -> Result<(crate::kinds::ObjectKind, Uuid), AppError> {
    decode(id)
        .and_then(|(kind, uuid)| Some((kind.object()?, uuid)))
        .ok_or_else(|| AppError::NotFound(format!("`{field}` names nothing of yours")))
}

/// The id of an object of `kind` given in argument `field`, or `NOT_FOUND` (an id that is not
/// ours names nothing, exactly like an unknown one).
pub(crate) fn expect(id: &ID, kind: Kind, field: &'static str) -> Result<Uuid, AppError> {
    match decode(id) {
        Some((k, uuid)) if k == kind => Ok(uuid),
        _ => Err(AppError::NotFound(format!(
            "`{field}` names no {} of yours",
            kind.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_written_as_json_are_the_encoded_ids() {
        for kind in [Kind::Media, Kind::Integration, Kind::Link] {
            for id in [Uuid::nil(), Uuid::max(), Uuid::now_v7()] {
                let mut out = Vec::new();
                write_json(&mut out, kind, id);
                assert_eq!(out, serde_json::to_vec(encode(kind, id).as_str()).unwrap());
            }
        }
    }

    #[test]
    fn round_trip_and_stable() {
        let id = Uuid::now_v7();
        let gid = encode(Kind::User, id);
        assert_eq!(decode(&gid), Some((Kind::User, id)));
        assert_eq!(gid, encode(Kind::User, id));
        assert!(!gid.contains(&id.simple().to_string()), "ids are opaque");
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!(decode("not base64 !"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("User:xyz")), None);
        assert_eq!(
            decode(&URL_SAFE_NO_PAD.encode(format!("Spaceship:{}", Uuid::nil()))),
            None
        );
    }
}
