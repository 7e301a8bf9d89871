//! Queries on `leases` and `blob_deletions`: who holds a job that one instance at a time does,
//! the holds a backup keeps on stored bytes, and the deletions of bytes that wait for them.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::now;
use super::sql::Sql;

/// The prefix of a backup's hold: no stored bytes are deleted while one is live.
pub(crate) const BACKUP_HOLD: &str = "backup/";

/// Takes (or renews) the lease `name` for `holder` until `until`, if it is free, expired, or
/// already `holder`'s. Returns whether `holder` has it now.
pub(crate) async fn take(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO leases (name, holder, expires_at) VALUES (")
        .bind(name)
        .push(", ")
        .bind(holder)
        .push(", ")
        .bind(until)
        .push(
            ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ",
        )
        .bind(now());
    Ok(db.execute_raw(sql.statement()).await?.rows_affected() == 1)
}

/// Gives the lease `name` up, if `holder` has it.
pub(crate) async fn release(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
) -> Result<(), DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM leases WHERE name = ")
        .bind(name)
        .push(" AND holder = ")
        .bind(holder);
    db.execute_raw(sql.statement()).await?;
    Ok(())
}

/// Whether a backup holds the stored bytes now.
pub(crate) async fn backup_holds(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT 1 FROM leases WHERE name LIKE ")
        .bind(format!("{BACKUP_HOLD}%"))
        .push(" AND expires_at > ")
        .bind(now())
        .push(" LIMIT 1");
    Ok(db.query_one_raw(sql.statement()).await?.is_some())
}

/// Records that the bytes with this hash are to be deleted once no backup holds them.
pub(crate) async fn defer_deletion(db: &impl ConnectionTrait, hash: &str) -> Result<(), DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO blob_deletions (hash, requested_at) VALUES (")
        .bind(hash)
        .push(", ")
        .bind(now())
        .push(") ON CONFLICT (hash) DO NOTHING");
    db.execute_raw(sql.statement()).await?;
    Ok(())
}

/// Up to `limit` hashes whose deletion waits, oldest first.
pub(crate) async fn deferred(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<String>, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT hash FROM blob_deletions ORDER BY requested_at, hash LIMIT ")
        .bind(limit as i64);
    db.query_all_raw(sql.statement())
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
}

/// Drops a waiting deletion (done, or no longer wanted).
pub(crate) async fn forget_deletion(db: &impl ConnectionTrait, hash: &str) -> Result<(), DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("DELETE FROM blob_deletions WHERE hash = ")
        .bind(hash);
    db.execute_raw(sql.statement()).await?;
    Ok(())
}
