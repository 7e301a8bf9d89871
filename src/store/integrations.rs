//! Queries on `integrations` and `integration_secrets`, and the imported-item index.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{integration_secrets, integrations};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::sql::Sql;
use super::{now, sql};

pub(crate) struct NewIntegration {
    pub user_id: Uuid,
    pub integration_type: String,
    pub name: String,
    pub config: serde_json::Value,
}

impl super::kinds::KindTable for integrations::Entity {
    const ID: integrations::Column = integrations::Column::Id;
    const OWNER: integrations::Column = integrations::Column::UserId;
    const DELETED_AT: integrations::Column = integrations::Column::DeletedAt;

    fn id(row: &integrations::Model) -> Uuid {
        row.id
    }
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    i: NewIntegration,
) -> Result<integrations::Model, DbErr> {
    let now = now();
    integrations::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(i.user_id),
        integration_type: Set(i.integration_type),
        name: Set(i.name),
        status: Set("active".into()),
        sync_cursor: Set(None),
        last_sync_at: Set(None),
        last_error: Set(None),
        config: Set(i.config),
        sync_lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
}

/// The fields `updateIntegration` and a sync may change.
#[derive(Default)]
pub(crate) struct IntegrationChanges {
    pub name: Option<String>,
    pub config: Option<serde_json::Value>,
    pub status: Option<&'static str>,
    pub sync_cursor: Option<Option<String>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<Option<String>>,
    pub sync_lease_until: Option<Option<DateTime<Utc>>>,
}

pub(crate) async fn update(
    db: &impl ConnectionTrait,
    id: Uuid,
    c: IntegrationChanges,
) -> Result<(), DbErr> {
    let mut q = integrations::Entity::update_many()
        .col_expr(integrations::Column::UpdatedAt, Expr::value(now()));
    if let Some(v) = c.name {
        q = q.col_expr(integrations::Column::Name, Expr::value(v));
    }
    if let Some(v) = c.config {
        q = q.col_expr(integrations::Column::Config, Expr::value(v));
    }
    if let Some(v) = c.status {
        q = q.col_expr(integrations::Column::Status, Expr::value(v));
    }
    if let Some(v) = c.sync_cursor {
        q = q.col_expr(integrations::Column::SyncCursor, Expr::value(v));
    }
    if let Some(v) = c.last_sync_at {
        q = q.col_expr(integrations::Column::LastSyncAt, Expr::value(v));
    }
    if let Some(v) = c.last_error {
        q = q.col_expr(integrations::Column::LastError, Expr::value(v));
    }
    if let Some(v) = c.sync_lease_until {
        q = q.col_expr(integrations::Column::SyncLeaseUntil, Expr::value(v));
    }
    q.filter(integrations::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// Takes the sync lease until `until`, only if nobody holds it (compare-and-set).
pub(crate) async fn take_lease(
    db: &impl ConnectionTrait,
    id: Uuid,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = integrations::Entity::update_many()
        .col_expr(integrations::Column::SyncLeaseUntil, Expr::value(until))
        .filter(integrations::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(integrations::Column::SyncLeaseUntil.is_null())
                .add(integrations::Column::SyncLeaseUntil.lt(now())),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub(crate) async fn set_deleted(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    integrations::Entity::update_many()
        .col_expr(integrations::Column::DeletedAt, Expr::value(at))
        .col_expr(integrations::Column::UpdatedAt, Expr::value(at))
        .filter(integrations::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the user's active integrations, oldest first (newest first when `backward`).
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    cursor: Option<Uuid>,
    backward: bool,
    limit: u64,
) -> Result<Vec<integrations::Model>, DbErr> {
    let mut q = integrations::Entity::find()
        .filter(integrations::Column::UserId.eq(user_id))
        .filter(integrations::Column::DeletedAt.is_null());
    if let Some(c) = cursor {
        q = q.filter(if backward {
            integrations::Column::Id.lt(c)
        } else {
            integrations::Column::Id.gt(c)
        });
    }
    let q = if backward {
        q.order_by_desc(integrations::Column::Id)
    } else {
        q.order_by_asc(integrations::Column::Id)
    };
    q.limit(limit).all(db).await
}

pub(crate) async fn count(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    integrations::Entity::find()
        .filter(integrations::Column::UserId.eq(user_id))
        .filter(integrations::Column::DeletedAt.is_null())
        .count(db)
        .await
}

/// Sealed credentials of one integration.
pub(crate) struct SealedSecrets {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<String>,
    pub key_id: String,
}

/// Replaces the credentials of an integration.
pub(crate) async fn put_secrets(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
    s: SealedSecrets,
) -> Result<(), DbErr> {
    delete_secrets(db, integration_id).await?;
    let now = now();
    integration_secrets::ActiveModel {
        id: Set(Uuid::now_v7()),
        integration_id: Set(integration_id),
        access_token: Set(s.access_token),
        refresh_token: Set(s.refresh_token),
        token_expires_at: Set(s.token_expires_at),
        scopes: Set(s.scopes),
        key_id: Set(Some(s.key_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(crate) async fn delete_secrets(
    db: &impl ConnectionTrait,
    integration_id: Uuid,
) -> Result<(), DbErr> {
    integration_secrets::Entity::delete_many()
        .filter(integration_secrets::Column::IntegrationId.eq(integration_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Which of these integrations of `viewer` have credentials.
pub(crate) async fn with_secrets(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    integration_secrets::Entity::find()
        .select_only()
        .column(integration_secrets::Column::IntegrationId)
        .filter(integration_secrets::Column::IntegrationId.is_in(ids.iter().copied()))
        .filter(
            integration_secrets::Column::IntegrationId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(integrations::Column::Id)
                    .from(integrations::Entity)
                    .and_where(integrations::Column::UserId.eq(viewer))
                    .to_owned(),
            ),
        )
        .into_tuple::<Uuid>()
        .all(db)
        .await
}

/// Every row of secrets (for key rotation).
pub(crate) async fn all_secrets(
    db: &impl ConnectionTrait,
) -> Result<Vec<integration_secrets::Model>, DbErr> {
    integration_secrets::Entity::find().all(db).await
}

pub(crate) async fn reseal(
    db: &impl ConnectionTrait,
    row: integration_secrets::Model,
) -> Result<(), DbErr> {
    let mut am: integration_secrets::ActiveModel = row.into();
    am.updated_at = Set(now());
    am.reset_all().update(db).await?;
    Ok(())
}

/// An item already imported through an integration.
pub(crate) struct Imported {
    pub link_id: Uuid,
    pub media_id: Uuid,
    pub metadata: serde_json::Value,
}

/// The active `source` links of `integration` whose external id is among `external_ids` (all of
/// them when `None`), by external id; served by `idx_links_source_external`.
pub(crate) async fn imported(
    db: &impl ConnectionTrait,
    integration: Uuid,
    external_ids: Option<&[String]>,
) -> Result<HashMap<String, Imported>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push(
        "SELECT l.id AS link_id, l.from_object_id AS media_id, l.metadata AS metadata,
                (l.metadata ->> 'external_id') AS external_id
         FROM links l JOIN media m ON m.id = l.from_object_id AND m.deleted_at IS NULL
         WHERE l.link_type = 'source' AND l.deleted_at IS NULL AND l.to_object_id = ",
    )
    .bind(integration);
    if let Some(ids) = external_ids {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        q.push(" AND ")
            .in_strings("(l.metadata ->> 'external_id')", ids);
    }
    let rows = db.query_all_raw(q.statement()).await?;
    let mut out = HashMap::new();
    for row in rows {
        let external: String = row.try_get("", "external_id")?;
        out.insert(
            external,
            Imported {
                link_id: row.try_get("", "link_id")?,
                media_id: row.try_get("", "media_id")?,
                metadata: row.try_get("", "metadata")?,
            },
        );
    }
    Ok(out)
}

/// Which of these media already have an active `source` link to `integration`.
pub(crate) async fn linked_media(
    db: &impl ConnectionTrait,
    integration: Uuid,
    media: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    if media.is_empty() {
        return Ok(Vec::new());
    }
    entity::links::Entity::find()
        .select_only()
        .column(entity::links::Column::FromObjectId)
        .filter(entity::links::Column::ToObjectId.eq(integration))
        .filter(entity::links::Column::LinkType.eq(super::sources::SOURCE))
        .filter(entity::links::Column::DeletedAt.is_null())
        .filter(entity::links::Column::FromObjectId.is_in(media.iter().copied()))
        .into_tuple::<Uuid>()
        .all(db)
        .await
}

/// The integration of `viewer`'s each media came from (its first active `source` link to an
/// active one).
pub(crate) async fn sources_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    media_ids: &[Uuid],
) -> Result<Vec<(Uuid, integrations::Model)>, DbErr> {
    use sea_orm::FromQueryResult;
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT l.from_object_id AS media_id, {cols} FROM links l
         JOIN integrations i ON i.id = l.to_object_id AND i.deleted_at IS NULL AND i.user_id = ",
        cols = sql::columns::<integrations::Entity>("i", "i_"),
    ))
    .bind(viewer)
    .push(" WHERE ")
    .in_ids("l.from_object_id", media_ids)
    .push(" AND l.link_type = 'source' AND l.deleted_at IS NULL ORDER BY l.id");
    let rows = db.query_all_raw(q.statement()).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "media_id")?,
                integrations::Model::from_query_result(row, "i_")?,
            ))
        })
        .collect()
}
