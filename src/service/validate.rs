//! Input rules shared by several use-cases.

use crate::error::{AppError, AppResult};

const MAX_EMAIL_LEN: usize = 254;
const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// The normalised form of an email (trimmed, lower case), or `BAD_USER_INPUT`.
pub(crate) fn email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || {
        AppError::bad_input(
            "email",
            "email must be a valid address like name@example.com",
        )
    };
    if email.is_empty() || email.len() > MAX_EMAIL_LEN {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let well_formed = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !well_formed {
        return Err(invalid());
    }
    Ok(email)
}

/// A display name: trimmed, empty means none, at most 100 characters.
pub(crate) fn display_name(raw: Option<&str>) -> AppResult<Option<String>> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(AppError::bad_input(
            "displayName",
            format!("displayName must be at most {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "displayName",
            "displayName must not contain control characters",
        ));
    }
    Ok(Some(name.to_string()))
}

const MAX_FILENAME_CHARS: usize = 255;

/// A file name as stored: the last path component, trimmed, 1 to 255 characters, no control
/// characters.
pub(crate) fn filename(raw: &str, field: &'static str) -> AppResult<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must name a file"),
        ));
    }
    if base.chars().count() > MAX_FILENAME_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be at most {MAX_FILENAME_CHARS} characters"),
        ));
    }
    if base.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must not contain control characters"),
        ));
    }
    Ok(base.to_string())
}

/// A SHA-256 in hex, normalised to lower case.
pub(crate) fn sha256(raw: &str, field: &'static str) -> AppResult<String> {
    let hash = raw.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be a SHA-256 in hex (64 characters)"),
        ));
    }
    Ok(hash)
}

/// Applies a JSON merge patch (RFC 7386): objects merge key by key, `null` removes a key,
/// anything else replaces.
pub(crate) fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = target {
                for (key, value) in patch {
                    if value.is_null() {
                        map.remove(key);
                    } else {
                        merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(email("  Ann@Example.COM ").unwrap(), "ann@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@example..com",
            "ann@.example.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name(Some("  Ann ")).unwrap(), Some("Ann".into()));
        assert_eq!(display_name(Some("   ")).unwrap(), None);
        assert!(display_name(Some(&"x".repeat(101))).is_err());
    }

    #[test]
    fn filenames_lose_their_directories() {
        assert_eq!(filename("../../etc/passwd", "f").unwrap(), "passwd");
        assert_eq!(filename("C:\\photos\\a.jpg", "f").unwrap(), "a.jpg");
        assert!(filename("dir/", "f").is_err());
        assert!(filename("..", "f").is_err());
        assert!(filename("a\u{7}b.jpg", "f").is_err());
        assert!(filename(&"x".repeat(256), "f").is_err());
    }

    #[test]
    fn hashes_are_checked() {
        let h = "A".repeat(64);
        assert_eq!(sha256(&h, "sha256").unwrap(), "a".repeat(64));
        assert!(sha256("abc", "sha256").is_err());
        assert!(sha256(&"g".repeat(64), "sha256").is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut doc,
            &serde_json::json!({"a": null, "b": {"c": 9}, "e": [2], "f": "new"}),
        );
        assert_eq!(
            doc,
            serde_json::json!({"b": {"c": 9, "d": 3}, "e": [2], "f": "new"})
        );
    }
}
