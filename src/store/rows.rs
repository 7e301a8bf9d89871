//! Decoding joined rows by column position.
//!
//! A row that carries two entities needs prefixed column names (`m_id`, `l_id`), and decoding
//! those by name formats and hashes a name per column per row: on a page of 1,000 album
//! members that was most of the server's time. These decoders read the columns by position,
//! from select lists built from the same column lists.

use entity::{links, media};
use sea_orm::sqlx::postgres::Postgres;
use sea_orm::{DbErr, QueryResult, TryGetable};

/// `media`'s columns, in the entity's order (a test keeps them in step).
pub(crate) const MEDIA_COLUMNS: [&str; 18] = [
    "id",
    "user_id",
    "filename",
    "media_type",
    "mime_type",
    "size",
    "width",
    "height",
    "duration_ms",
    "file_path",
    "hash",
    "taken_at",
    "source_type",
    "source_id",
    "metadata",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// `links`' columns, in the entity's order.
pub(crate) const LINK_COLUMNS: [&str; 13] = [
    "id",
    "user_id",
    "from_object_id",
    "from_object_type",
    "to_object_id",
    "to_object_type",
    "link_type",
    "strength",
    "sort_order",
    "metadata",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// `alias.col AS prefixcol, …`: a select list whose columns [`media_at`] / [`link_at`] read
/// by position (the names keep subqueries addressable).
pub(crate) fn select_list(alias: &str, prefix: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subset of [`MEDIA_COLUMNS`]: what a page reads when its selection needs less than the
/// whole row (decoding the unread text and JSON columns was a third of an album page's CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MediaColumns(u32);

impl MediaColumns {
    pub(crate) const ALL: Self = Self((1 << MEDIA_COLUMNS.len()) - 1);
    /// `id` and `user_id`, which every read has: ownership checks and loaders go by them.
    pub(crate) const KEYS: Self = Self(0b11);

    /// These columns and `name`; `name` must be one of [`MEDIA_COLUMNS`].
    pub(crate) fn with(self, name: &str) -> Self {
        match MEDIA_COLUMNS.iter().position(|c| *c == name) {
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

    /// These columns, in [`MEDIA_COLUMNS`] order.
    pub(crate) fn columns(self) -> impl Iterator<Item = media::Column> {
        use sea_orm::Iterable;
        media::Column::iter()
            .enumerate()
            .filter(move |(i, _)| self.has(*i))
            .map(|(_, c)| c)
    }

    /// `alias.col AS prefixcol, …` for these columns, in [`MEDIA_COLUMNS`] order.
    pub(crate) fn select_list(self, alias: &str, prefix: &str) -> String {
        let names: Vec<&str> = (0..MEDIA_COLUMNS.len())
            .filter(|i| self.has(*i))
            .map(|i| MEDIA_COLUMNS[i])
            .collect();
        select_list(alias, prefix, &names)
    }
}

/// Column `at` of `row`. On PostgreSQL straight from the driver's row: SeaORM reads a
/// nullable column through an error it formats for every NULL, a string per NULL per row.
pub(crate) fn get<T>(row: &QueryResult, at: usize) -> Result<T, DbErr>
where
    T: TryGetable + for<'r> sea_orm::sqlx::Decode<'r, Postgres> + sea_orm::sqlx::Type<Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => sea_orm::sqlx::Row::try_get::<T, usize>(pg, at)
            .map_err(|e| DbErr::Type(format!("column {at}: {e}"))),
        None => row.try_get_by_index(at),
    }
}

/// The media whose [`MEDIA_COLUMNS`] start at column `at`.
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

/// The link whose [`LINK_COLUMNS`] start at column `at`.
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
    use sea_orm::{IdenStatic, Iterable};

    fn names<C: IdenStatic + Iterable>() -> Vec<&'static str> {
        C::iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn column_lists_follow_the_entities() {
        assert_eq!(MEDIA_COLUMNS.to_vec(), names::<media::Column>());
        assert_eq!(LINK_COLUMNS.to_vec(), names::<links::Column>());
    }

    #[test]
    fn column_sets_list_their_columns_in_entity_order() {
        let set = MediaColumns::KEYS.with("taken_at").with("filename");
        assert_eq!(
            set.select_list("m", "m_"),
            "m.id AS m_id, m.user_id AS m_user_id, m.filename AS m_filename, m.taken_at AS m_taken_at"
        );
        assert_eq!(MediaColumns::KEYS.with("no_such_column"), MediaColumns::ALL);
        assert_eq!(
            MediaColumns::ALL.select_list("m", "m_"),
            select_list("m", "m_", &MEDIA_COLUMNS)
        );
        assert_eq!(set.union(MediaColumns::ALL), MediaColumns::ALL);
        assert_eq!(
            set.columns().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["id", "user_id", "filename", "taken_at"]
        );
    }
}
