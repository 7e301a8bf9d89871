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
    Ok(media::Model {
        id: get(row, at)?,
        user_id: get(row, at + 1)?,
        filename: get(row, at + 2)?,
        media_type: get(row, at + 3)?,
        mime_type: get(row, at + 4)?,
        size: get(row, at + 5)?,
        width: get(row, at + 6)?,
        height: get(row, at + 7)?,
        duration_ms: get(row, at + 8)?,
        file_path: get(row, at + 9)?,
        hash: get(row, at + 10)?,
        taken_at: get(row, at + 11)?,
        source_type: get(row, at + 12)?,
        source_id: get(row, at + 13)?,
        metadata: get(row, at + 14)?,
        created_at: get(row, at + 15)?,
        updated_at: get(row, at + 16)?,
        deleted_at: get(row, at + 17)?,
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
}
