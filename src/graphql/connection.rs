//! Cursor connections: page arguments (`first`/`after`/`last`/`before`, 1..100, default 20)
//! and opaque keyset cursors (base64url of JSON), shared by every list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

pub(crate) const MAX_PAGE: i32 = 100;
pub(crate) const DEFAULT_PAGE: i32 = 20;

/// The paging arguments as a client gives them: `first`, `after`, `last`, `before`.
pub(crate) type PageArgs = (Option<i32>, Option<String>, Option<i32>, Option<String>);

/// The page a client asked for, checked.
#[derive(Debug)]
pub(crate) struct Page<C> {
    pub limit: u64,
    /// Where to start (exclusive), in the direction of travel.
    pub cursor: Option<C>,
    /// `last`/`before`: walk the order backwards, then reverse the rows.
    pub backward: bool,
}

pub(crate) fn encode_cursor<C: Serialize>(cursor: &C) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// A keyset cursor kept as its key and encoded only when a client asks for an edge's
/// `cursor`: a page of 1,000 nested edges would otherwise encode 1,000 unread strings.
pub(crate) struct Cursor<C>(pub C);

impl<C: Serialize + DeserializeOwned> async_graphql::connection::CursorType for Cursor<C> {
    type Error = String;

    fn decode_cursor(raw: &str) -> Result<Self, Self::Error> {
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Cursor)
            .ok_or_else(|| "not a cursor of this list".to_string())
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(&self.0)
    }
}

fn decode_cursor<C: DeserializeOwned>(raw: &str, field: &'static str) -> AppResult<C> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            AppError::bad_input(field, format!("`{field}` is not a cursor of this list"))
        })
}

fn size(n: i32, field: &'static str) -> AppResult<u64> {
    if !(1..=MAX_PAGE).contains(&n) {
        return Err(AppError::bad_input(
            field,
            format!("`{field}` must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(n as u64)
}

/// Checks page arguments: `first`/`after` walk forward, `last`/`before` backward; mixing the two
/// directions is refused.
pub(crate) fn page<C: DeserializeOwned>(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<Page<C>> {
    let backward = last.is_some() || before.is_some();
    if backward && (first.is_some() || after.is_some()) {
        return Err(AppError::bad_input(
            "first",
            "use `first`/`after` or `last`/`before`, not both",
        ));
    }
    if backward {
        Ok(Page {
            limit: size(last.unwrap_or(DEFAULT_PAGE), "last")?,
            cursor: before
                .as_deref()
                .map(|c| decode_cursor(c, "before"))
                .transpose()?,
            backward: true,
        })
    } else {
        Ok(Page {
            limit: size(first.unwrap_or(DEFAULT_PAGE), "first")?,
            cursor: after
                .as_deref()
                .map(|c| decode_cursor(c, "after"))
                .transpose()?,
            backward: false,
        })
    }
}

/// Rows fetched with `limit + 1`, trimmed and put in display order, with the page flags
/// `(has_previous_page, has_next_page)`.
pub(crate) fn finish<T, C>(page: &Page<C>, mut rows: Vec<T>) -> (Vec<T>, bool, bool) {
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.backward {
        rows.reverse();
        (rows, more, page.cursor.is_some())
    } else {
        (rows, page.cursor.is_some(), more)
    }
}

/// The complexity of a connection field: its page size times what each item selects.
pub(crate) fn cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first.or(last).unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    n.saturating_mul(child).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&("2024-01-01", 7));
        let p: Page<(String, i32)> = page(Some(2), Some(c), None, None).unwrap();
        assert_eq!(p.cursor, Some(("2024-01-01".to_string(), 7)));
        assert!(page::<(String, i32)>(None, Some("!!".into()), None, None).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page::<i32>(None, None, None, None).unwrap().limit, 20);
        assert!(page::<i32>(Some(0), None, None, None).is_err());
        assert!(page::<i32>(Some(101), None, None, None).is_err());
        assert!(page::<i32>(None, None, Some(101), None).is_err());
        assert!(page::<i32>(Some(1), None, Some(1), None).is_err());
    }

    #[test]
    fn backward_pages_come_out_in_display_order() {
        let p: Page<i32> = page(None, None, Some(2), Some(encode_cursor(&9))).unwrap();
        let (rows, prev, next) = finish(&p, vec![8, 7, 6]);
        assert_eq!(rows, vec![7, 8]);
        assert!(prev && next);
    }
}
