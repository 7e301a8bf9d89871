//! The library by link end: the media linked to each of many objects by one link type, in one
//! statement, newest taken first as the library orders them: what each integration brought
//! (`source` links, `Integration.media` of a whole page of integrations) and what each tag is
//! on (`tagged` links, `Tag.media`).

use chrono::{DateTime, Utc};
use entity::media;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::media::VARIANT_SOURCE;
use super::rows::{self, MediaColumns};
use super::sql::Sql;

/// The link type that says where a media came from (media → integration).
pub(crate) const SOURCE: &str = "source";

/// `FROM` and `WHERE` of `owner`'s active originals with an active `link_type` link to one of
/// `ends` (a link to an end in the trash is hidden, as everywhere).
fn from_ends(q: &mut Sql, owner: Uuid, link_type: &str, ends: &[Uuid]) {
    q.push(" FROM links l JOIN media m ON m.id = l.from_object_id WHERE ")
        .in_ids("l.to_object_id", ends)
        .push(" AND l.link_type = ")
        .bind(link_type)
        .push(" AND l.deleted_at IS NULL AND ")
        .push(&super::sql::end_active("l", "to"))
        .push(" AND m.user_id = ")
        .bind(owner)
        .push(&format!(
            " AND m.deleted_at IS NULL \
             AND (m.source_type IS NULL OR m.source_type <> '{VARIANT_SOURCE}')"
        ));
}

/// The first `limit` media linked to each end in the order `taken_at DESC NULLS LAST, id
/// DESC`, after the position `after` (a `taken_at` and an id), as (end id, media with
/// `columns` and `taken_at`).
pub(crate) async fn pages(
    db: &impl ConnectionTrait,
    owner: Uuid,
    link_type: &str,
    sources: &[Uuid],
    after: Option<(Option<DateTime<Utc>>, Uuid)>,
    limit: u64,
    columns: MediaColumns,
) -> Result<Vec<(Uuid, media::Model)>, DbErr> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let columns = columns.with("taken_at");
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT * FROM (
           SELECT l.to_object_id AS source_id, {mcols},
                  ROW_NUMBER() OVER (PARTITION BY l.to_object_id
                                     ORDER BY m.taken_at DESC NULLS LAST, m.id DESC) AS rn",
        mcols = columns.select_list("m", "m_"),
    ));
    from_ends(&mut q, owner, link_type, sources);
    match after {
        Some((Some(taken), id)) => {
            q.push(" AND (m.taken_at < ")
                .bind(taken)
                .push(" OR (m.taken_at = ")
                .bind(taken)
                .push(" AND m.id < ")
                .bind(id)
                .push(") OR m.taken_at IS NULL)");
        }
        Some((None, id)) => {
            q.push(" AND m.taken_at IS NULL AND m.id < ").bind(id);
        }
        None => {}
    }
    q.push(") t WHERE t.rn <= ")
        .bind(limit as i64)
        .push(" ORDER BY t.source_id, t.rn");
    let found = db.query_all_raw(q.statement()).await?;
    found
        .iter()
        .map(|row| Ok((rows::get(row, 0)?, rows::media_columns_at(row, 1, columns)?)))
        .collect()
}

/// How many media are linked to each end (ends with none are left out).
pub(crate) async fn counts(
    db: &impl ConnectionTrait,
    owner: Uuid,
    link_type: &str,
    sources: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT l.to_object_id AS source_id, COUNT(*) AS n");
    from_ends(&mut q, owner, link_type, sources);
    q.push(" GROUP BY l.to_object_id");
    let found = db.query_all_raw(q.statement()).await?;
    found
        .iter()
        .map(|row| Ok((rows::get(row, 0)?, rows::get(row, 1)?)))
        .collect()
}
