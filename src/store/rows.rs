//! Decoding joined rows by column position.
//!
//! A row that carries two entities needs prefixed column names (`m_id`, `l_id`), and decoding
//! those by name formats and hashes a name per column per row, which dominates the decoding
//! of a large page. These decoders read the columns by position, from select lists built from
//! the same column lists.

use entity::{links, media};
use sea_orm::sqlx::postgres::Postgres;
use sea_orm::{DbErr, QueryResult, TryGetable};

/// `alias.col AS prefixcol, …`: a select list whose columns [`media_at`] / [`link_at`] read
/// by position (the names keep subqueries addressable).
pub(crate) fn select_list(alias: &str, prefix: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subset of `media`'s columns: what a page reads when its selection needs less than the
/// whole row (decoding the unread text and JSON columns was a third of an album page's CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MediaColumns(u32);

impl MediaColumns {
    pub(crate) const ALL: Self = Self(u32::MAX);
    /// `id` and `user_id`, which every read has: ownership checks and loaders go by them.
    pub(crate) const KEYS: Self = Self(0b11);

    /// These columns and `name` (a name that is not a column of `media`: all of them).
    pub(crate) fn with(self, name: &str) -> Self {
        use sea_orm::{IdenStatic, Iterable};
        match media::Column::iter().position(|c| c.as_str() == name) {
            Some(i) => Self(self.0 | 1 << i),
            None => Self::ALL,
        }
    }

    pub(crate) fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    fn has(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// These columns, in the entity's order.
    pub(crate) fn columns(self) -> impl Iterator<Item = media::Column> {
        use sea_orm::Iterable;
        media::Column::iter()
            .enumerate()
            .filter(move |(i, _)| self.has(*i))
            .map(|(_, c)| c)
    }

    /// `alias.col AS prefixcol, …` for these columns, in the entity's order.
    pub(crate) fn select_list(self, alias: &str, prefix: &str) -> String {
        use sea_orm::IdenStatic;
        let names: Vec<&str> = self.columns().map(|c| c.as_str()).collect();
        select_list(alias, prefix, &names)
    }
}

/// Column `at` of `row`. On PostgreSQL straight from the driver's row: SeaORM reads a
/// nullable column through an error it formats for every NULL, a string per NULL per row.
/// The driver's check that the column's type suits `T` is skipped: the select lists come from
/// the entities' own columns, and a value that does not decode as `T` is still an error.
pub(crate) fn get<T>(row: &QueryResult, at: usize) -> Result<T, DbErr>
where
    T: TryGetable + for<'r> sea_orm::sqlx::Decode<'r, Postgres> + sea_orm::sqlx::Type<Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => sea_orm::sqlx::Row::try_get_unchecked::<T, usize>(pg, at)
            .map_err(|e| DbErr::Type(format!("column {at}: {e}"))),
        None => row.try_get_by_index(at),
    }
}

/// The media whose columns (all, in the entity's order) start at column `at`.
pub(crate) fn media_at(row: &QueryResult, at: usize) -> Result<media::Model, DbErr> {
    media_columns_at(row, at, MediaColumns::ALL)
}

/// The media whose `columns` (as [`MediaColumns::select_list`] lists them) start at column
/// `at`. The columns not read hold empty values: only a caller that knows no one reads them
/// asks for fewer than all.
pub(crate) fn media_columns_at(
    row: &QueryResult,
    at: usize,
    columns: MediaColumns,
) -> Result<media::Model, DbErr> {
    let (mut next, mut i) = (at, 0);
    // The position of the entity's next column in the row, if it was read.
    let mut slot = || {
        let read = columns.has(i);
        i += 1;
        read.then(|| {
            next += 1;
            next - 1
        })
    };
    macro_rules! read {
        () => {
            match slot() {
                Some(at) => get(row, at)?,
                None => Default::default(),
            }
        };
    }
    Ok(media::Model {
        id: read!(),
        user_id: read!(),
        filename: read!(),
        media_type: read!(),
        mime_type: read!(),
        size: read!(),
        width: read!(),
        height: read!(),
        duration_ms: read!(),
        file_path: read!(),
        hash: read!(),
        taken_at: read!(),
        source_type: read!(),
        source_id: read!(),
        metadata: read!(),
        created_at: read!(),
        updated_at: read!(),
        deleted_at: read!(),
    })
}

/// The link whose columns (all, in the entity's order) start at column `at`.
pub(crate) fn link_at(row: &QueryResult, at: usize) -> Result<links::Model, DbErr> {
    Ok(links::Model {
        id: get(row, at)?,
        user_id: get(row, at + 1)?,
        from_object_id: get(row, at + 2)?,
        from_object_type: get(row, at + 3)?,
        to_object_id: get(row, at + 4)?,
        to_object_type: get(row, at + 5)?,
        link_type: get(row, at + 6)?,
        strength: get(row, at + 7)?,
        sort_order: get(row, at + 8)?,
        metadata: get(row, at + 9)?,
        created_at: get(row, at + 10)?,
        updated_at: get(row, at + 11)?,
        deleted_at: get(row, at + 12)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql;
    use sea_orm::{IdenStatic, Iterable};

    #[test]
    fn column_sets_list_their_columns_in_entity_order() {
        // One bit per column.
        assert!(media::Column::iter().count() <= 32);
        let set = MediaColumns::KEYS.with("taken_at").with("filename");
        assert_eq!(
            set.select_list("m", "m_"),
            "m.id AS m_id, m.user_id AS m_user_id, m.filename AS m_filename, m.taken_at AS m_taken_at"
        );
        assert_eq!(
            set.columns().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["id", "user_id", "filename", "taken_at"]
        );
        assert_eq!(MediaColumns::KEYS.with("no_such_column"), MediaColumns::ALL);
        assert_eq!(
            MediaColumns::ALL.select_list("m", "m_"),
            sql::columns::<media::Entity>("m", "m_")
        );
        assert_eq!(set.union(MediaColumns::ALL), MediaColumns::ALL);
    }
}
