//! Property tests where parsers meet input: global ids and cursors from clients, and the
//! JSON writer against serde_json (its oracle). The media inspectors' and the multipart
//! path's are beside them (`media::inspect::format_tests`, `http::graphql`). Each property
//! runs `PROPTEST_CASES` cases (proptest's default, 256, in `cargo test`); a long run:
//! `PROPTEST_CASES=200000 cargo test --release --lib prop_`.

use async_graphql::{Name, Number, Value};
use proptest::prelude::*;
use uuid::Uuid;

use crate::graphql::ids;
use crate::graphql::{connection, json};
use crate::kinds::Kind;

fn kind() -> impl Strategy<Value = Kind> {
    proptest::sample::select(Kind::ALL.to_vec())
}

/// Text a client might send: anything, or base64url of something id-shaped.
fn id_text() -> impl Strategy<Value = String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    prop_oneof![
        ".{0,64}",
        "[A-Za-z0-9_-]{0,80}",
        ("[A-Za-z]{0,12}", ".{0,40}")
            .prop_map(|(kind, rest)| URL_SAFE_NO_PAD.encode(format!("{kind}:{rest}"))),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
    ]
}

/// A GraphQL value of any shape the writer sees: deep, with every kind of string.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x1f\"\\\\\\u{7f}\\u{2028}\\u{2029}\\u{fffd}]{0,12}".prop_map(Value::String),
        "[A-Z_]{1,10}".prop_map(|s| Value::Enum(Name::new(s))),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            proptest::collection::vec((any::<String>(), inner), 0..8).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (Name::new(k), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn prop_global_ids_round_trip(kind in kind(), id in any::<u128>()) {
        let id = Uuid::from_u128(id);
        let encoded = ids::encode(kind, id);
        prop_assert_eq!(ids::decode(encoded.as_str()), Some((kind, id)));
        // The writer's fast path writes the same JSON string.
        let mut out = Vec::new();
        ids::write_json(&mut out, kind, id);
        prop_assert_eq!(out, serde_json::to_vec(encoded.as_str()).unwrap());
    }

    #[test]
    fn prop_any_text_decodes_to_an_id_or_to_nothing(text in id_text()) {
        if let Some((kind, id)) = ids::decode(&text) {
            // Whatever decodes is what it encodes to (no two texts name one object).
            prop_assert_eq!(ids::decode(ids::encode(kind, id).as_str()), Some((kind, id)));
        }
    }

    #[test]
    fn prop_any_cursor_is_a_page_or_bad_input(text in id_text(), first in 1i32..=100) {
        let page = connection::page::<(i64, Uuid)>(Some(first), Some(text.clone()), None, None);
        if let Err(err) = page {
            prop_assert_eq!(err.code(), "BAD_USER_INPUT");
        }
        let page = connection::page::<(String, i64)>(None, None, Some(first), Some(text));
        if let Err(err) = page {
            prop_assert_eq!(err.code(), "BAD_USER_INPUT");
        }
    }

    #[test]
    fn prop_cursors_round_trip(sort in any::<i64>(), id in any::<u128>(), first in 1i32..=100) {
        let cursor = (sort, Uuid::from_u128(id));
        let text = connection::encode_cursor(&cursor);
        let page = connection::page::<(i64, Uuid)>(Some(first), Some(text), None, None);
        prop_assert!(page.is_ok());
    }

    /// The JSON writer against serde_json, as text: same bytes, keys in the same order.
    #[test]
    fn prop_the_json_writer_writes_what_serde_json_writes(v in value()) {
        let mut out = Vec::new();
        json::value(&mut out, &v);
        let ours = String::from_utf8(out).expect("UTF-8");
        prop_assert_eq!(ours, serde_json::to_string(&v).unwrap());
    }
}
