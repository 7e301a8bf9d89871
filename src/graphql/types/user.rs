//! `User`: an account, as its owner sees it.

use async_graphql::{Context, ID, Object, Result, connection::Connection};
use chrono::{DateTime, Utc};
use entity::users;

use super::audit::{AuditEvent, AuditLogFields, audit_log_page};
use crate::graphql::ids::{self, NodeKind};
use crate::graphql::scalars::BigInt;

pub(crate) struct User(pub users::Model);

#[Object]
impl User {
    /// An opaque, stable global id.
    pub(crate) async fn id(&self) -> ID {
        ids::encode(NodeKind::User, self.0.id)
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }

    /// The first account of a server is its admin.
    async fn is_admin(&self) -> bool {
        self.0.is_admin
    }

    /// Bytes this account may store.
    async fn storage_quota(&self) -> BigInt {
        BigInt(self.0.storage_quota)
    }

    /// Bytes this account stores now.
    async fn storage_used(&self) -> BigInt {
        BigInt(self.0.storage_used)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
    }

    /// Security events of this account (sign-ins, failures, password changes), newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1..100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, AuditEvent, AuditLogFields>> {
        Ok(audit_log_page(ctx, self.0.id, first, after).await?)
    }
}
