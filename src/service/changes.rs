//! The change journal, read for delta sync: a user's events in the order they committed, from
//! a cursor (the `seq` of the last event a client has), and the journal's retention.

use uuid::Uuid;

use super::Services;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::changes::Change;

/// A page of a user's journal.
pub(crate) struct ChangePage {
    pub changes: Vec<Change>,
    pub has_next: bool,
    /// The user's newest event when the page was read.
    pub newest: i64,
}

impl Services {
    /// Up to `limit` of the viewer's events after `after` (`None`: from the oldest kept), of
    /// these types. `CURSOR_EXPIRED` when events after `after` were already trimmed.
    pub(crate) async fn changes(
        &self,
        viewer: Uuid,
        after: Option<i64>,
        types: Option<&[String]>,
        limit: u64,
    ) -> AppResult<ChangePage> {
        let (newest, trimmed) = store::changes::head(&self.db, viewer).await?;
        let after = match after {
            Some(after) if after < 0 || after > newest => {
                return Err(AppError::bad_input(
                    "after",
                    "`after` is not a cursor of your changes",
                ));
            }
            Some(after) if after < trimmed => {
                return Err(AppError::CursorExpired(
                    "this cursor is older than the change journal keeps: read everything again, \
                     then follow `changeCursor`"
                        .into(),
                ));
            }
            Some(after) => after,
            None => trimmed,
        };
        let mut changes = store::changes::page(&self.db, viewer, after, types, limit + 1).await?;
        let has_next = changes.len() as u64 > limit;
        changes.truncate(limit as usize);
        Ok(ChangePage {
            changes,
            has_next,
            newest,
        })
    }

    /// The `seq` of the viewer's newest event: where a client that has just read everything
    /// starts following.
    pub(crate) async fn change_cursor(&self, viewer: Uuid) -> AppResult<i64> {
        Ok(store::changes::head(&self.db, viewer).await?.0)
    }

    /// Trims events older than the retention.
    pub(crate) async fn trim_changes(&self) -> AppResult<u64> {
        let cutoff = store::now() - self.change_retention;
        Ok(store::changes::trim(&self.db, cutoff).await?)
    }
}
