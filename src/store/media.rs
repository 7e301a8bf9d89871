//! Queries on `media`: lookups, inserts and edits, trash, and the reference checks behind
//! purging bytes. The library page is [`super::library`]'s.

use chrono::{DateTime, Utc};
use entity::media;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    ExprTrait, PaginatorTrait, QueryFilter, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::sql::Sql;

/// `source_type` of thumbnails and other derived files.
pub(crate) const VARIANT_SOURCE: &str = "variant";

impl super::kinds::KindTable for media::Entity {
    const ID: media::Column = media::Column::Id;
    const OWNER: media::Column = media::Column::UserId;
    const DELETED_AT: media::Column = media::Column::DeletedAt;

    fn id(row: &media::Model) -> Uuid {
        row.id
    }

    /// A thumbnail goes with its original, in the trash as everywhere.
    fn items() -> Condition {
        Condition::any()
            .add(media::Column::SourceType.is_null())
            .add(media::Column::SourceType.ne(VARIANT_SOURCE))
    }
}

/// The user's media with this id (thumbnails included), if it is not deleted.
pub(crate) async fn find_active(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id)
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// Like [`find_active`], locking the row for the rest of the transaction (PostgreSQL; a
/// SQLite write transaction already excludes other writers).
pub(crate) async fn find_active_locked(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id)
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(db)
        .await
}

/// The user's media with these ids, deleted or not.
pub(crate) async fn find_any_of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The user's active original (not a thumbnail) with these bytes.
pub(crate) async fn find_active_by_hash(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    hash: &str,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find()
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Hash.eq(hash))
        .filter(media::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(media::Column::SourceType.is_null())
                .add(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .one(db)
        .await
}

/// The fields of a new media row.
pub(crate) struct NewMedia {
    pub id: Uuid,
    pub user_id: Uuid,
    pub filename: String,
    pub media_type: &'static str,
    pub mime_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub file_path: String,
    pub hash: String,
    pub taken_at: Option<DateTime<Utc>>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub metadata: serde_json::Value,
}

pub(crate) async fn insert(db: &impl ConnectionTrait, m: NewMedia) -> Result<media::Model, DbErr> {
    active(m).insert(db).await
}

/// Inserts rows in one statement.
pub(crate) async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<NewMedia>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    media::Entity::insert_many(rows.into_iter().map(active))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn active(m: NewMedia) -> media::ActiveModel {
    let now = super::now();
    media::ActiveModel {
        id: Set(m.id),
        user_id: Set(m.user_id),
        filename: Set(m.filename),
        media_type: Set(m.media_type.to_string()),
        mime_type: Set(m.mime_type),
        size: Set(m.size),
        width: Set(m.width),
        height: Set(m.height),
        duration_ms: Set(m.duration_ms),
        file_path: Set(m.file_path),
        hash: Set(m.hash),
        taken_at: Set(m.taken_at),
        source_type: Set(m.source_type),
        source_id: Set(m.source_id),
        metadata: Set(m.metadata),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
}

/// Inserts a row unless one with its id exists; returns whether it was inserted.
pub(crate) async fn insert_ignoring_conflict(
    db: &impl ConnectionTrait,
    m: NewMedia,
) -> Result<bool, DbErr> {
    let id = m.id;
    if media::Entity::find_by_id(id).one(db).await?.is_some() {
        return Ok(false);
    }
    insert(db, m).await?;
    Ok(true)
}

/// Any media row by id, whoever owns it (for background jobs).
pub(crate) async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<media::Model>, DbErr> {
    media::Entity::find_by_id(id).one(db).await
}

/// Changes the editable fields of one media row.
pub(crate) async fn update_fields(
    db: &impl ConnectionTrait,
    current: media::Model,
    filename: Option<String>,
    taken_at: Option<Option<DateTime<Utc>>>,
    metadata: Option<serde_json::Value>,
) -> Result<media::Model, DbErr> {
    let mut am: media::ActiveModel = current.into();
    if let Some(f) = filename {
        am.filename = Set(f);
    }
    if let Some(t) = taken_at {
        am.taken_at = Set(t);
    }
    if let Some(m) = metadata {
        am.metadata = Set(m);
    }
    am.updated_at = Set(super::now());
    am.update(db).await
}

/// Sets `deleted_at` on these rows of the user that are not deleted yet.
pub(crate) async fn soft_delete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = media::Entity::update_many()
        .col_expr(media::Column::DeletedAt, Expr::value(at))
        .col_expr(media::Column::UpdatedAt, Expr::value(at))
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .filter(media::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Clears `deleted_at` on these rows of the user, only where it equals `deleted_at` (so that
/// restoring brings back exactly what was deleted together).
pub(crate) async fn restore(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    deleted_at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let res = media::Entity::update_many()
        .col_expr(
            media::Column::DeletedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(media::Column::UpdatedAt, Expr::value(super::now()))
        .filter(media::Column::UserId.eq(user_id))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .filter(media::Column::DeletedAt.eq(deleted_at))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// How [`lock_hashes`] holds its locks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HashLock {
    /// Taken by a transaction whose rows start using the bytes: any number at once.
    Shared,
    /// Taken to decide that no row uses the bytes, and delete them: alone.
    Exclusive,
}

/// The class of the advisory locks on hashes: the two-key form's first key, so that they have
/// a key space of their own, apart from the users' one-key locks.
pub(crate) const HASH_LOCK_CLASS: i32 = 0x6862_6c62;

/// A hash's key in [`HASH_LOCK_CLASS`]: its first 32 bits. Two hashes sharing a key only wait
/// for each other.
pub(crate) fn hash_lock_key(hash: &str) -> i32 {
    hash.get(..8)
        .and_then(|prefix| u32::from_str_radix(prefix, 16).ok())
        .map_or(0, |key| key as i32)
}

/// Locks the bytes with these hashes until the transaction ends, so that deciding they are
/// unused (and deleting them) cannot interleave with a transaction whose rows start using
/// them. PostgreSQL: transaction-scoped advisory locks, in key order so that two holders of
/// several never wait for each other in a cycle; SQLite: nothing, because its write
/// transactions (`Db::begin_write`) already exclude each other, which is what both sides use.
pub(crate) async fn lock_hashes(
    db: &impl ConnectionTrait,
    hashes: &[&str],
    lock: HashLock,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres || hashes.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<i32> = hashes.iter().map(|h| hash_lock_key(h)).collect();
    keys.sort_unstable();
    keys.dedup();
    let function = match lock {
        HashLock::Shared => "pg_advisory_xact_lock_shared",
        HashLock::Exclusive => "pg_advisory_xact_lock",
    };
    // One statement whatever the count, the locks taken in the list's order (a lock taken
    // twice, as the padding does, is held once more until the same end).
    let mut sql = Sql::new(DbBackend::Postgres);
    sql.push("SELECT count(")
        .push(function)
        .push("(")
        .bind(HASH_LOCK_CLASS)
        .push(", k)) FROM (")
        .values(keys.into_iter().map(sea_orm::Value::from).collect(), "int4")
        .push(") AS v(k)");
    db.query_one_raw(sql.statement()).await?;
    Ok(())
}

/// Whether any row, of any user, still uses the bytes with this hash. On PostgreSQL the
/// question goes through `hypernet_hash_in_use`, which answers it across users without
/// showing the caller any other user's row (row-level security, see `db::scope`).
pub(crate) async fn hash_in_use(db: &impl ConnectionTrait, hash: &str) -> Result<bool, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT hypernet_hash_in_use($1)",
            [hash.into()],
        );
        let row = db.query_one_raw(stmt).await?;
        return Ok(row
            .map(|r| r.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false));
    }
    Ok(media::Entity::find()
        .filter(media::Column::Hash.eq(hash))
        .limit(1)
        .count(db)
        .await?
        > 0)
}

/// Originals that can have thumbnails but have none yet (any user), for the background job.
pub(crate) async fn missing_variants(
    db: &impl ConnectionTrait,
    mime_types: &[&str],
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let rows = media::Entity::find()
        .select_only()
        .column(media::Column::Id)
        .filter(media::Column::DeletedAt.is_null())
        .filter(media::Column::MediaType.eq("photo"))
        .filter(media::Column::MimeType.is_in(mime_types.iter().copied()))
        .filter(
            media::Column::SourceType
                .is_null()
                .or(media::Column::SourceType.ne(VARIANT_SOURCE)),
        )
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM links l WHERE l.to_object_id = media.id \
             AND l.link_type = 'variant_of')",
        ))
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    Ok(rows)
}
