//! Scalars of the contract that async-graphql does not bring (`BigInt`, for byte sizes), and
//! the descriptions of those it does.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// The largest whole number a JavaScript `number` holds exactly (2^53 − 1).
pub(crate) const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A count of bytes, beyond GraphQL's 32-bit `Int`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BigInt(pub i64);

/// A whole number, such as a count of bytes, beyond the 32 bits of `Int`. Sent and read as a
/// JSON number between -(2^53 − 1) and 2^53 − 1, so that JavaScript's `number` holds it
/// exactly (9 PB of bytes); a string of digits in that range is read too.
#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        let n = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        match n {
            Some(n) if n.abs() <= MAX_SAFE_INTEGER => Ok(BigInt(n)),
            _ => Err(InputValueError::custom(format!(
                "BigInt must be a whole number between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}"
            ))),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

/// `DateTime`'s contract, where async-graphql describes its Rust type instead.
pub(crate) const DATE_TIME: &str = "A moment, as an RFC 3339 date-time with an offset \
(`2024-06-01T10:30:00+00:00`). Answers are in UTC; `Media.takenAtLocal` keeps a photo's local \
time.";

/// `JSON`'s contract.
pub(crate) const JSON: &str = "Any JSON value, sent as it is (an object for `metadata`, `config` \
and `details`). Keys of objects in answers are in sorted order.";

/// `Upload`'s contract.
pub(crate) const UPLOAD: &str = "A file sent with the request, as the GraphQL multipart \
request specification has it (https://github.com/jaydenseric/graphql-multipart-request-spec): \
`null` in `variables`, mapped to a part of the body by `map`.";
