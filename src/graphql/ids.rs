//! Opaque, stable global ids: `base64url("<Type>:<uuid>")`, resolvable through `node(id:)`.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The kinds of objects a global id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    User,
}

impl NodeKind {
    fn name(self) -> &'static str {
        match self {
            NodeKind::User => "User",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "User" => Some(NodeKind::User),
            _ => None,
        }
    }
}

pub(crate) fn encode(kind: NodeKind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id.simple())))
}

/// The kind and id inside a global id, or `None` when it is not one of ours.
pub(crate) fn decode(id: &str) -> Option<(NodeKind, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((NodeKind::from_name(kind)?, Uuid::try_parse(uuid).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_stable() {
        let id = Uuid::now_v7();
        let gid = encode(NodeKind::User, id);
        assert_eq!(decode(&gid), Some((NodeKind::User, id)));
        assert_eq!(gid, encode(NodeKind::User, id));
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
