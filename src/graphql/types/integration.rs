//! `Integration`: an outside source of media. Its credentials are never readable.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Json, Object, Result};
use chrono::{DateTime, Utc};
use entity::integrations;
use uuid::Uuid;

use super::library::{MediaConnection, MediaFilterInput, library};
use super::link::{Direction, LinkConnection, links_of};
use crate::graphql::connection::{self, cost, encode_cursor};
use crate::graphql::context::{loaders, services};
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::ids;
use crate::kinds::Kind;

pub(crate) struct Integration(pub integrations::Model);

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum IntegrationStatus {
    Active,
    Paused,
    /// The last sync failed; see `lastError`.
    Error,
    Disconnected,
}

impl IntegrationStatus {
    pub(crate) fn from_db(s: &str) -> Self {
        match s {
            "paused" => Self::Paused,
            "error" => Self::Error,
            "disconnected" => Self::Disconnected,
            _ => Self::Active,
        }
    }
}

#[Object]
impl Integration {
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::Integration, self.0.id)
    }

    /// `local_folder`, or the type a sync worker gave (e.g. `google_photos`).
    async fn integration_type(&self) -> &str {
        &self.0.integration_type
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn status(&self) -> IntegrationStatus {
        IntegrationStatus::from_db(&self.0.status)
    }

    /// Where the last import or sync stopped, as the worker (or the folder sync) recorded it.
    async fn sync_cursor(&self) -> Option<&str> {
        self.0.sync_cursor.as_deref()
    }

    async fn last_sync_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sync_at
    }

    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    async fn config(&self) -> Json<serde_json::Value> {
        Json(self.0.config.clone())
    }

    /// Whether credentials are stored (they are never readable).
    async fn has_credentials(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(loaders(ctx)
            .has_credentials
            .load_one(self.0.id)
            .await?
            .unwrap_or(false))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Media imported through this integration.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn media(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<MediaConnection> {
        let filter = MediaFilterInput::from_integration(ids::encode(Kind::Integration, self.0.id));
        library(
            ctx,
            self.0.user_id,
            Some(filter),
            None,
            (first, after, None, None),
        )
        .await
    }

    /// Links from or to this integration.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // the arguments are the public contract
    async fn links(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        #[graphql(default_with = "Direction::Out")] direction: Direction,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LinkConnection> {
        links_of(
            ctx,
            Some(self.0.id),
            self.0.user_id,
            types,
            direction,
            (first, after, last, before),
        )
        .await
    }
}

pub(crate) struct IntegrationConnectionFields {
    owner: Uuid,
}

#[Object]
impl IntegrationConnectionFields {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(services(ctx).integrations_count(self.owner).await? as i64)
    }
}

pub(crate) type IntegrationConnection =
    Connection<String, Integration, IntegrationConnectionFields>;

/// `User.integrations`, oldest first.
pub(crate) async fn integrations_of(
    ctx: &Context<'_>,
    owner: Uuid,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<IntegrationConnection> {
    let page = connection::page::<Uuid>(first, after, last, before)?;
    let rows = services(ctx)
        .integrations_page(owner, page.cursor, page.backward, page.limit + 1)
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn = Connection::with_additional_fields(
        has_previous,
        has_next,
        IntegrationConnectionFields { owner },
    );
    conn.edges.extend(
        rows.into_iter()
            .map(|i| Edge::new(encode_cursor(&i.id), Integration(i))),
    );
    Ok(conn)
}

impl ToOut for Integration {
    fn to_out(&self) -> Out {
        Out::One(Obj::Integration(Arc::new(self.0.clone())))
    }
}
