//! `User`: an account, as its owner sees it.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, connection::Connection};
use chrono::{DateTime, Utc};
use entity::users;
use uuid::Uuid;

use super::album::{AlbumConnection, albums_of};
use super::audit::{AuditEvent, AuditLogFields, audit_log_page};
use super::change::{ChangeArgs, ChangeConnection, ChangeObjectType, changes_of};
use super::integration::{IntegrationConnection, integrations_of};
use super::library::{MediaConnection, MediaFilterInput, MediaOrder, library};
use super::link::{Direction, LinkConnection, links_of};
use super::tag::{TagConnection, tags_of};
use super::trash::{TrashConnection, trash};
use crate::error::AppError;
use crate::graphql::connection::cost;
use crate::graphql::context::viewer;
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::ids;
use crate::graphql::scalars::BigInt;
use crate::kinds::Kind;

/// An account. Its row is read only when a field needs it: a `viewer` asked for nothing but
/// its lists is known by the user id its token carries (see `query::viewer`).
#[derive(Clone)]
pub(crate) struct User {
    pub(crate) id: Uuid,
    pub(crate) row: Option<users::Model>,
}

impl User {
    /// The fields answered without the account's row.
    pub(crate) const WITHOUT_ROW: &[&str] = &[
        "__typename",
        "id",
        "media",
        "albums",
        "integrations",
        "links",
        "tags",
        "changes",
        "changeCursor",
        "trash",
        "auditLog",
    ];

    pub(crate) fn from_row(row: users::Model) -> Self {
        Self {
            id: row.id,
            row: Some(row),
        }
    }

    /// The account `id`, its row unread: only for a selection of [`Self::WITHOUT_ROW`] fields.
    pub(crate) fn unread(id: Uuid) -> Self {
        Self { id, row: None }
    }

    fn row(&self) -> Result<&users::Model, AppError> {
        self.row
            .as_ref()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the account's row was not read")))
    }

    /// A user's lists are readable by that user only.
    fn check_viewer(&self, ctx: &Context<'_>) -> Result<(), AppError> {
        if viewer(ctx)? != self.id {
            return Err(AppError::NotFound("no such user".into()));
        }
        Ok(())
    }
}

#[Object]
impl User {
    /// An opaque, stable global id.
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::User, self.id)
    }

    async fn email(&self) -> Result<&str> {
        Ok(&self.row()?.email)
    }

    async fn display_name(&self) -> Result<Option<&str>> {
        Ok(self.row()?.display_name.as_deref())
    }

    /// The first account of a server is its admin.
    async fn is_admin(&self) -> Result<bool> {
        Ok(self.row()?.is_admin)
    }

    /// Bytes this account may store.
    async fn storage_quota(&self) -> Result<BigInt> {
        Ok(BigInt(self.row()?.storage_quota))
    }

    /// Bytes this account stores now.
    async fn storage_used(&self) -> Result<BigInt> {
        Ok(BigInt(self.row()?.storage_used))
    }

    async fn created_at(&self) -> Result<DateTime<Utc>> {
        Ok(self.row()?.created_at)
    }

    async fn last_login_at(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self.row()?.last_login_at)
    }

    /// Bytes promised to uploads in progress.
    async fn storage_reserved(&self) -> Result<BigInt> {
        Ok(BigInt(self.row()?.storage_reserved))
    }

    /// The library: photos and videos (thumbnails excluded), newest taken first by default.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // the arguments are the public contract
    async fn media(
        &self,
        ctx: &Context<'_>,
        filter: Option<MediaFilterInput>,
        order_by: Option<MediaOrder>,
        #[graphql(desc = "Page size, 1..100 (default 20).")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<MediaConnection> {
        self.check_viewer(ctx)?;
        library(ctx, self.id, filter, order_by, (first, after, last, before)).await
    }

    /// Albums, newest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn albums(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<AlbumConnection> {
        self.check_viewer(ctx)?;
        albums_of(ctx, self.id, first, after, last, before).await
    }

    /// Tags, by name (ignoring case).
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn tags(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<TagConnection> {
        self.check_viewer(ctx)?;
        tags_of(ctx, self.id, first, after, last, before).await
    }

    /// What changed in this account's library since `after` (a cursor of this list, or
    /// `changeCursor`), oldest first: for delta sync. `CURSOR_EXPIRED` when `after` is older
    /// than the journal keeps.
    #[graphql(complexity = "cost(first, None, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(desc = "Page size, 1..100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Only events of these types (default: all).")] types: Option<
            Vec<ChangeObjectType>,
        >,
    ) -> Result<ChangeConnection> {
        self.check_viewer(ctx)?;
        changes_of(ctx, self.id, ChangeArgs::new(after, first, types)?).await
    }

    /// The cursor of the newest event of `changes`: take it before reading the library in
    /// full, then follow `changes(after:)` from it.
    async fn change_cursor(&self, ctx: &Context<'_>) -> Result<String> {
        self.check_viewer(ctx)?;
        let seq = crate::graphql::context::services(ctx)
            .change_cursor(self.id)
            .await?;
        Ok(crate::graphql::connection::encode_cursor(&seq))
    }

    /// Connected sources of media, oldest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<IntegrationConnection> {
        self.check_viewer(ctx)?;
        integrations_of(ctx, self.id, first, after, last, before).await
    }

    /// Every link of this user, oldest first (`direction` has no meaning here).
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
        self.check_viewer(ctx)?;
        let _ = direction;
        links_of(
            ctx,
            None,
            self.id,
            types,
            Direction::Out,
            (first, after, last, before),
        )
        .await
    }

    /// Deleted items, most recently deleted first, until they are purged.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn trash(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<TrashConnection> {
        self.check_viewer(ctx)?;
        trash(ctx, self.id, first, after, last, before).await
    }

    /// Security events of this account (sign-ins, failures, password changes), newest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1..100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, AuditEvent, AuditLogFields>> {
        Ok(audit_log_page(ctx, self.id, first, after, last, before).await?)
    }
}

impl ToOut for User {
    fn to_out(&self) -> Out {
        Out::One(Obj::User(Arc::new(self.clone())))
    }
}
