//! Scalars of the contract that async-graphql does not bring: `BigInt` (byte sizes).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A 64-bit integer, sent as a JSON number (byte sizes exceed GraphQL's 32-bit `Int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BigInt(pub i64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_i64()
                .map(BigInt)
                .ok_or_else(|| InputValueError::custom("BigInt must be a whole number")),
            Value::String(s) => s
                .parse()
                .map(BigInt)
                .map_err(|_| InputValueError::custom("BigInt must be a whole number")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}
