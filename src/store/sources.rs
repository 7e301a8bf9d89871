//! The library by source: the media each integration brought, for many integrations in one
//! statement (`Integration.media` of a whole page of integrations), newest taken first as
//! the library orders them.

use chrono::{DateTime, Utc};
use entity::media;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::media::VARIANT_SOURCE;
use super::rows::{self, MediaColumns};
use super::sql;

/// `FROM` and `WHERE` of `owner`'s active originals with an active `source` link to one of
/// `sources` (the `?` marks are the sources, then the owner).
fn from_sources(sources: usize) -> String {
    format!(
        "FROM links l JOIN media m ON m.id = l.from_object_id
         WHERE l.to_object_id IN ({marks}) AND l.link_type = 'source' AND l.deleted_at IS NULL
           AND m.user_id = ? AND m.deleted_at IS NULL
           AND (m.source_type IS NULL OR m.source_type <> '{VARIANT_SOURCE}')",
        marks = sql::marks(sources)
    )
}

fn values(owner: Uuid, sources: &[Uuid]) -> Vec<sea_orm::Value> {
    let mut values: Vec<sea_orm::Value> = sources.iter().map(|id| (*id).into()).collect();
    values.push(owner.into());
    values
}

/// The first `limit` media of each source in the order `taken_at DESC NULLS LAST, id DESC`,
/// after the position `after` (a `taken_at` and an id), as (source id, media with
/// `columns` and `taken_at`).
pub(crate) async fn pages(
    db: &impl ConnectionTrait,
    owner: Uuid,
    sources: &[Uuid],
    after: Option<(Option<DateTime<Utc>>, Uuid)>,
    limit: u64,
    columns: MediaColumns,
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let columns = columns.with("taken_at");
    let mut values = values(owner, sources);
    let cursor = match after {
        Some((Some(taken), id)) => {
            values.extend([taken.into(), taken.into(), id.into()]);
            "AND (m.taken_at < ? OR (m.taken_at = ? AND m.id < ?) OR m.taken_at IS NULL)"
        }
        Some((None, id)) => {
            values.push(id.into());
            "AND m.taken_at IS NULL AND m.id < ?"
        }
        None => "",
    };
    values.push((limit as i64).into());
    let text = format!(
        "SELECT * FROM (
           SELECT l.to_object_id AS source_id, {mcols},
                  ROW_NUMBER() OVER (PARTITION BY l.to_object_id
                                     ORDER BY m.taken_at DESC NULLS LAST, m.id DESC) AS rn
           {from} {cursor}
         ) t WHERE t.rn <= ? ORDER BY t.source_id, t.rn",
        mcols = columns.select_list("m", "m_"),
        from = from_sources(sources.len()),
    );
    let found = db
        .query_all_raw(sql::statement(db.get_database_backend(), &text, values))
        .await?;
    found
        .iter()
        .map(|row| Ok((rows::get(row, 0)?, rows::media_columns_at(row, 1, columns)?)))
        .collect()
}

/// How many media each source brought (sources with none are left out).
pub(crate) async fn counts(
    db: &impl ConnectionTrait,
    owner: Uuid,
    sources: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let text = format!(
        "SELECT l.to_object_id AS source_id, COUNT(*) AS n {from} GROUP BY l.to_object_id",
        from = from_sources(sources.len()),
    );
    let found = db
        .query_all_raw(sql::statement(
            db.get_database_backend(),
            &text,
            values(owner, sources),
        ))
        .await?;
    found
        .iter()
        .map(|row| Ok((rows::get(row, 0)?, rows::get(row, 1)?)))
        .collect()
}
