//! Queries on the change journal (`changes`, `change_heads`), which the database's triggers
//! write (migration 11): a user's events after a cursor, the newest one, and trimming.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::sql::Sql;

/// One event of a user's journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub seq: i64,
    /// `created`, `updated`, `deleted`, `restored` or `purged`.
    pub kind: String,
    /// The GraphQL type of the object (`Media`, `Album`, …, `User`).
    pub object_type: String,
    pub object_id: Uuid,
    /// The GraphQL fields that changed (for `updated`).
    pub fields: Vec<String>,
    pub at: DateTime<Utc>,
}

/// Up to `limit` of the user's events after `after` (exclusive), oldest first, of these
/// object types (all of them: `None`).
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: i64,
    types: Option<&[String]>,
    limit: u64,
) -> Result<Vec<Change>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    let fields = if q.is_postgres() {
        "fields::text"
    } else {
        "fields"
    };
    q.push(&format!(
        "SELECT seq, kind, object_type, object_id, {fields} AS fields, created_at FROM changes \
         WHERE user_id = "
    ))
    .bind(user_id)
    .push(" AND seq > ")
    .bind(after);
    if let Some(types) = types {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        q.push(" AND ").in_strings("object_type", types);
    }
    q.push(" ORDER BY seq LIMIT ").bind(limit as i64);
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| {
            let fields: String = row.try_get("", "fields")?;
            Ok(Change {
                seq: row.try_get("", "seq")?,
                kind: row.try_get("", "kind")?,
                object_type: row.try_get("", "object_type")?,
                object_id: row.try_get("", "object_id")?,
                fields: serde_json::from_str(&fields)
                    .map_err(|e| DbErr::Type(format!("changes.fields: {e}")))?,
                at: row.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// The user's newest event and the last one trimmed away (0 and 0 before any).
pub(crate) async fn head(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(i64, i64), DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT seq, trimmed_through FROM change_heads WHERE user_id = ")
        .bind(user_id);
    Ok(match db.query_one_raw(q.statement()).await? {
        Some(row) => (row.try_get("", "seq")?, row.try_get("", "trimmed_through")?),
        None => (0, 0),
    })
}

/// The newest event of each of `users` that has one.
pub(crate) async fn heads(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push("SELECT user_id, seq FROM change_heads WHERE ")
        .in_ids("user_id", users);
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "user_id")?, row.try_get("", "seq")?)))
        .collect()
}

/// Trims every user's events recorded before `cutoff`, noting how far each journal was
/// trimmed (so that older cursors answer `CURSOR_EXPIRED`). Returns the events removed.
pub(crate) async fn trim(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push(
        "UPDATE change_heads SET trimmed_through = (SELECT MAX(c.seq) FROM changes c \
         WHERE c.user_id = change_heads.user_id AND c.created_at < ",
    )
    .bind(cutoff)
    .push(
        ") WHERE EXISTS (SELECT 1 FROM changes c \
         WHERE c.user_id = change_heads.user_id AND c.created_at < ",
    )
    .bind(cutoff)
    .push(")");
    db.execute_raw(q.statement()).await?;
    let mut q = Sql::new(db.get_database_backend());
    q.push("DELETE FROM changes WHERE created_at < ")
        .bind(cutoff);
    Ok(db.execute_raw(q.statement()).await?.rows_affected())
}
