//! JSON containment (`metadataContains`), the one filter whose SQL differs by backend.
//! PostgreSQL has `@>` (served by the GIN index on `media.metadata`); SQLite gets the same
//! meaning spelled out with `json_extract` / `json_each`, one condition per leaf.

use sea_orm::sea_query::Expr;
use sea_orm::{Condition, DbBackend, Value};
use serde_json::Value as Json;

use crate::error::{AppError, AppResult};

fn invalid(message: &str) -> AppError {
    AppError::bad_input("metadataContains", message.to_string())
}

/// The condition "`column` contains `needle`" for `backend`. `needle` must be a JSON object.
pub(crate) fn contains(backend: DbBackend, column: &str, needle: &Json) -> AppResult<Condition> {
    if !needle.is_object() {
        return Err(invalid("metadataContains must be a JSON object"));
    }
    match backend {
        DbBackend::Postgres => Ok(Condition::all().add(Expr::cust_with_values(
            format!("\"{column}\" @> CAST($1 AS jsonb)"),
            [Value::from(needle.to_string())],
        ))),
        _ => {
            let mut cond = Condition::all();
            sqlite_conditions(column, "$", needle, 0, &mut cond)?;
            Ok(cond)
        }
    }
}

fn path_of(parent: &str, key: &str) -> AppResult<String> {
    if key.contains('"') || key.contains('\\') {
        return Err(invalid(
            "metadataContains keys may not contain quotes or backslashes",
        ));
    }
    Ok(format!("{parent}.\"{key}\""))
}

fn scalar_value(v: &Json) -> Option<Value> {
    match v {
        Json::String(s) => Some(Value::from(s.clone())),
        Json::Bool(b) => Some(Value::from(i64::from(*b))),
        Json::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_f64().map(Value::from)),
        _ => None,
    }
}

fn push(out: &mut Condition, expr: Expr) {
    let cond = std::mem::replace(out, Condition::all());
    *out = cond.add(expr);
}

fn sqlite_conditions(
    column: &str,
    path: &str,
    needle: &Json,
    depth: usize,
    out: &mut Condition,
) -> AppResult<()> {
    if depth > 16 {
        return Err(invalid("metadataContains is nested too deeply"));
    }
    match needle {
        Json::Object(map) => {
            push(
                out,
                Expr::cust_with_values(
                    format!("json_type(\"{column}\", ?) = 'object'"),
                    [Value::from(path.to_string())],
                ),
            );
            for (key, value) in map {
                sqlite_conditions(column, &path_of(path, key)?, value, depth + 1, out)?;
            }
        }
        Json::Array(items) => {
            push(
                out,
                Expr::cust_with_values(
                    format!("json_type(\"{column}\", ?) = 'array'"),
                    [Value::from(path.to_string())],
                ),
            );
            for item in items {
                let value = scalar_value(item).ok_or_else(|| {
                    invalid("on this server, arrays in metadataContains may hold only strings, numbers and booleans")
                })?;
                push(
                    out,
                    Expr::cust_with_values(
                        format!(
                            "EXISTS (SELECT 1 FROM json_each(\"{column}\", ?) WHERE value = ?)"
                        ),
                        [Value::from(path.to_string()), value],
                    ),
                );
            }
        }
        Json::Null => {
            push(
                out,
                Expr::cust_with_values(
                    format!("json_type(\"{column}\", ?) = 'null'"),
                    [Value::from(path.to_string())],
                ),
            );
        }
        scalar => {
            let value = scalar_value(scalar).ok_or_else(|| invalid("unsupported value"))?;
            let type_check = match scalar {
                Json::String(_) => "= 'text'",
                Json::Bool(_) => "IN ('true', 'false')",
                _ => "IN ('integer', 'real')",
            };
            push(
                out,
                Expr::cust_with_values(
                    format!(
                        "json_type(\"{column}\", ?) {type_check} AND json_extract(\"{column}\", ?) = ?"
                    ),
                    [
                        Value::from(path.to_string()),
                        Value::from(path.to_string()),
                        value,
                    ],
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_objects_are_accepted() {
        assert!(contains(DbBackend::Sqlite, "metadata", &json!([1])).is_err());
        assert!(contains(DbBackend::Postgres, "metadata", &json!("x")).is_err());
        assert!(
            contains(
                DbBackend::Sqlite,
                "metadata",
                &json!({"a": {"b": [1, "x", true]}})
            )
            .is_ok()
        );
    }

    #[test]
    fn quoted_keys_are_refused() {
        assert!(contains(DbBackend::Sqlite, "metadata", &json!({"a\"b": 1})).is_err());
    }

    #[test]
    fn arrays_of_objects_need_postgres() {
        assert!(contains(DbBackend::Sqlite, "metadata", &json!({"a": [{"b": 1}]})).is_err());
        assert!(contains(DbBackend::Postgres, "metadata", &json!({"a": [{"b": 1}]})).is_ok());
    }
}
