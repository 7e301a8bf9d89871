//! The queries every kind's table answers alike: a user's active rows by id, and the trash (a
//! page in deletion order, a count, what retention ended, deleting for good). They are written
//! once over [`KindTable`], which each kind's table implements beside its own queries.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A kind's table: the columns the shared queries read.
pub(crate) trait KindTable: EntityTrait {
    /// The primary key.
    const ID: Self::Column;
    /// The user whose row it is.
    const OWNER: Self::Column;
    /// When it went to the trash (null while active).
    const DELETED_AT: Self::Column;

    /// A row's id.
    fn id(row: &Self::Model) -> Uuid;

    /// Which rows are items of their own in the trash (media: not thumbnails, which go with
    /// their original); every row unless a kind says otherwise.
    fn items() -> Condition {
        Condition::all()
    }
}

/// The user's active rows with these ids (in no particular order).
pub(crate) async fn find_active<E: KindTable>(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<E::Model>, DbErr> {
    E::find()
        .filter(E::OWNER.eq(user_id))
        .filter(E::ID.is_in(ids.iter().copied()))
        .filter(E::DELETED_AT.is_null())
        .all(db)
        .await
}

/// A page of the user's rows in the trash, most recently deleted first (oldest first when
/// `backward`), after `(deleted_at, id)`.
pub(crate) async fn trash_page<E: KindTable>(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    cursor: Option<(DateTime<Utc>, Uuid)>,
    backward: bool,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    let mut query = E::find()
        .filter(E::OWNER.eq(user_id))
        .filter(E::DELETED_AT.is_not_null())
        .filter(E::items());
    if let Some((at, id)) = cursor {
        let (t, i) = if backward {
            (E::DELETED_AT.gt(at), E::ID.gt(id))
        } else {
            (E::DELETED_AT.lt(at), E::ID.lt(id))
        };
        query = query.filter(
            Condition::any()
                .add(t)
                .add(Condition::all().add(E::DELETED_AT.eq(at)).add(i)),
        );
    }
    let query = if backward {
        query.order_by_asc(E::DELETED_AT).order_by_asc(E::ID)
    } else {
        query.order_by_desc(E::DELETED_AT).order_by_desc(E::ID)
    };
    query.limit(limit).all(db).await
}

/// How many of the user's rows are in the trash.
pub(crate) async fn trash_count<E: KindTable>(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<u64, DbErr>
where
    E::Model: Sync,
{
    E::find()
        .filter(E::OWNER.eq(user_id))
        .filter(E::DELETED_AT.is_not_null())
        .filter(E::items())
        .count(db)
        .await
}

/// Rows in the trash since before `cutoff`, any user's, oldest first.
pub(crate) async fn expired_trash<E: KindTable>(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    E::find()
        .filter(E::DELETED_AT.lt(cutoff))
        .filter(E::items())
        .order_by_asc(E::DELETED_AT)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes rows for good.
pub(crate) async fn delete_rows<E: KindTable>(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<u64, DbErr> {
    let res = E::delete_many()
        .filter(E::ID.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
