//! Responses written as JSON bytes, with room for values rendered ahead of time.
//!
//! The planned executor ([`exec`](super::exec)) answers each root field as JSON text while it
//! walks the rows, so that a page of a thousand media never becomes a tree of maps. async-graphql's `Value`
//! has no variant for JSON text; the nearest is `Value::Binary`, which no output type of this
//! schema produces (GraphQL has no byte scalar). So here, in a response's data, a `Binary`
//! value *is* JSON text, and [`response`] copies it as it is. Everything else is written as
//! serde would write async-graphql's `Response` (a test compares the two).

use async_graphql::{BatchResponse, Name, Response, Value};

/// The JSON body of a (batch) response. `executed[i]` says whether response `i` ran: one that
/// was refused before execution began (it does not parse or validate) has no `data` entry, as
/// the GraphQL spec and GraphQL over HTTP have it.
pub(crate) fn response(batch: &BatchResponse, executed: &[bool]) -> serde_json::Result<Vec<u8>> {
    let data = match batch {
        BatchResponse::Single(one) => size_hint(&one.data),
        BatchResponse::Batch(all) => all.iter().map(|one| size_hint(&one.data)).sum(),
    };
    // Sized once: a page of a thousand media is some 100 KB, grown to in a dozen copies.
    let mut out = Vec::with_capacity(256 + data);
    let ran = |i: usize| executed.get(i).copied().unwrap_or(true);
    match batch {
        BatchResponse::Single(one) => single(&mut out, one, ran(0))?,
        BatchResponse::Batch(all) => {
            out.push(b'[');
            for (i, one) in all.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                single(&mut out, one, ran(i))?;
            }
            out.push(b']');
        }
    }
    Ok(out)
}

/// `{"data":…,"extensions":…,"errors":…}`, the last two only when not empty (as upstream),
/// `data` only when the operation ran.
fn single(out: &mut Vec<u8>, response: &Response, executed: bool) -> serde_json::Result<()> {
    out.push(b'{');
    if executed {
        out.extend_from_slice(b"\"data\":");
        value(out, &response.data);
    }
    let mut comma = executed;
    let mut separate = |out: &mut Vec<u8>| {
        if comma {
            out.push(b',');
        }
        comma = true;
    };
    if !response.extensions.is_empty() {
        separate(out);
        out.extend_from_slice(b"\"extensions\":{");
        for (i, (key, v)) in response.extensions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            key_of(out, key);
            value(out, v);
        }
        out.push(b'}');
    }
    if !response.errors.is_empty() {
        separate(out);
        out.extend_from_slice(b"\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors)?;
    }
    out.push(b'}');
    Ok(())
}

/// A value; `Binary` is JSON text (see the module's comment).
pub(crate) fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        // serde_json displays a number as it serialises it (itoa, ryu).
        Value::Number(n) => display(out, n),
        Value::String(s) => string(out, s),
        Value::Enum(name) => string(out, name),
        Value::Binary(json) => out.extend_from_slice(json),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (i, (key, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                key_of(out, key);
                value(out, v);
            }
            out.push(b'}');
        }
    }
}

/// About the length of `v` as JSON: exact for the JSON text inside, a guess for the rest.
fn size_hint(v: &Value) -> usize {
    match v {
        Value::Binary(json) => json.len(),
        Value::String(s) => s.len() + 2,
        Value::List(items) => items.iter().map(|item| size_hint(item) + 1).sum::<usize>() + 2,
        Value::Object(fields) => {
            let each = |(k, v): (&Name, &Value)| k.len() + 4 + size_hint(v);
            fields.iter().map(each).sum::<usize>() + 2
        }
        _ => 8,
    }
}

/// `"key":`.
pub(crate) fn key_of(out: &mut Vec<u8>, key: &str) {
    string(out, key);
    out.push(b':');
}

/// A JSON string, escaped as serde_json escapes it.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(&[
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A number, as JSON.
pub(crate) fn number(out: &mut Vec<u8>, n: i64) {
    display(out, n);
}

fn display(out: &mut Vec<u8>, x: impl std::fmt::Display) {
    use std::io::Write;
    // Writing to a `Vec` cannot fail.
    let _ = write!(out, "{x}");
}

#[cfg(test)]
mod tests {
    use async_graphql::indexmap::IndexMap;
    use async_graphql::{ErrorExtensionValues, Pos, ServerError};

    use super::*;

    fn strings() -> Vec<String> {
        let mut all: Vec<String> = [
            "",
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\rcr",
            "\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "é, 日本, 🦀",
            "</script>",
            "\u{2028}\u{2029}",
        ]
        .map(String::from)
        .to_vec();
        all.push((0u8..=0x7f).map(char::from).collect());
        all
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in strings() {
            let mut out = Vec::new();
            string(&mut out, &s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
        for n in [0, -1, 42, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(out, serde_json::to_vec(&n).unwrap());
        }
    }

    #[test]
    fn responses_are_written_as_serde_writes_them_and_binary_is_json_text() {
        let mut object = IndexMap::new();
        for (i, s) in strings().into_iter().enumerate() {
            object.insert(Name::new(format!("k{i}\"")), Value::String(s));
        }
        for (i, x) in [-3.25, 0.1, 1e21, 1.5e-7, -0.0, f64::MAX]
            .into_iter()
            .enumerate()
        {
            object.insert(Name::new(format!("f{i}")), Value::from(x));
        }
        object.insert(Name::new("big"), Value::from(u64::MAX));
        object.insert(Name::new("e"), Value::Enum(Name::new("PHOTO")));
        object.insert(Name::new("b"), Value::Boolean(false));
        object.insert(
            Name::new("list"),
            Value::List(vec![
                Value::Null,
                Value::Boolean(true),
                Value::Object(IndexMap::new()),
            ]),
        );
        let mut response = Response::new(Value::Object(object));
        response.extensions.insert("cost".into(), Value::from(12));
        let mut error = ServerError::new("no \"such\" thing", Some(Pos { line: 1, column: 2 }));
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", "NOT_FOUND");
        error.extensions = Some(extensions);
        response.errors.push(error);
        for batch in [
            BatchResponse::Single(response),
            BatchResponse::Batch(vec![Response::new(Value::Null), Response::default()]),
        ] {
            let ours: serde_json::Value =
                serde_json::from_slice(&super::response(&batch, &[]).unwrap()).unwrap();
            assert_eq!(ours, serde_json::to_value(&batch).unwrap());
            // Byte for byte, too: the same order of keys, the same escapes.
            assert_eq!(
                super::response(&batch, &[]).unwrap(),
                serde_json::to_vec(&batch).unwrap()
            );
        }

        let mut object = IndexMap::new();
        object.insert(
            Name::new("page"),
            Value::Binary(br#"{"edges":[{"n":1}]}"#.to_vec().into()),
        );
        let ours = super::response(
            &BatchResponse::Single(Response::new(Value::Object(object))),
            &[true],
        )
        .unwrap();
        assert_eq!(ours, br#"{"data":{"page":{"edges":[{"n":1}]}}}"#);

        // A request that never ran has no data entry.
        let refused = Response::from_errors(vec![ServerError::new("bad", None)]);
        let ours = super::response(&BatchResponse::Single(refused), &[false]).unwrap();
        assert_eq!(ours, br#"{"errors":[{"message":"bad"}]}"#);
    }
}
