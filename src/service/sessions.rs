//! Sessions: a login creates a refresh-token family; each refresh rotates the token; reuse of a
//! rotated token revokes the family. Access tokens name their family (`sid`), and a request's
//! token counts only while that family is open ([`Services::session_open`]): a logout, a
//! password change or a deleted account ends its access tokens at once on the instance that
//! did it, and within `HYPERNET_SESSION_CHECK_SECS` on every other.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{refresh_tokens, users};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use super::{ClientInfo, Services, audit};
use crate::auth::tokens::{hash_token, new_refresh_token};
use crate::db::{self, Scope};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::refresh_tokens::NewRefreshToken;

/// What a client gets when it signs in or refreshes.
pub(crate) struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    pub user: users::Model,
}

/// Sessions remembered at most; beyond, the memory starts over.
const MAX_REMEMBERED: usize = 100_000;

/// What this instance last read of each session, and when; trusted for `ttl`.
pub(crate) struct OpenSessions {
    seen: Mutex<HashMap<(Uuid, Uuid), (bool, Instant)>>,
    ttl: Duration,
}

impl OpenSessions {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            seen: Mutex::default(),
            ttl,
        }
    }

    fn get(&self, key: (Uuid, Uuid)) -> Option<bool> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(&key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(open, _)| *open)
    }

    fn put(&self, key: (Uuid, Uuid), open: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_REMEMBERED {
            seen.clear();
        }
        seen.insert(key, (open, Instant::now()));
    }

    /// After a revocation here: ask the database again (other instances do within the TTL).
    pub(crate) fn forget_all(&self) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn invalid_refresh_token() -> AppError {
    AppError::Unauthenticated("the refresh token is invalid, expired or revoked".into())
}

impl Services {
    /// Whether `session` of `user` is still open (see the module's doc).
    pub(crate) async fn session_open(&self, user: Uuid, session: Uuid) -> AppResult<bool> {
        if let Some(open) = self.open_sessions.get((user, session)) {
            return Ok(open);
        }
        let check = store::refresh_tokens::session_open(&self.db, user, session);
        let open = db::within(Scope::User(user), check).await?;
        self.open_sessions.put((user, session), open);
        Ok(open)
    }

    /// Stores a new refresh token in `family` (a new family when `None`) and returns the tokens.
    pub(super) async fn open_session(
        &self,
        db: &impl ConnectionTrait,
        user: users::Model,
        family: Option<Uuid>,
        id: Uuid,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        let refresh_token = new_refresh_token();
        let family_id = family.unwrap_or_else(Uuid::now_v7);
        store::refresh_tokens::insert(
            db,
            NewRefreshToken {
                id,
                user_id: user.id,
                token_hash: hash_token(&refresh_token),
                family_id,
                expires_at: store::now() + self.refresh_token_ttl,
                user_agent: client.user_agent.clone(),
                ip: client.ip.clone(),
            },
        )
        .await?;
        let (access_token, expires_at) = self.access_tokens.issue(user.id, family_id)?;
        // Open, as of now: its first request here need not ask the database again. (If the
        // transaction that stores it fails, the token is never handed out.)
        self.open_sessions.put((user.id, family_id), true);
        Ok(AuthSession {
            access_token,
            refresh_token,
            expires_at,
            user,
        })
    }

    /// Exchanges a live refresh token for a new pair. Of two concurrent refreshes of one token,
    /// one wins; a token that was already rotated revokes its whole family.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn refresh_session(
        &self,
        refresh_token: &str,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        let Some(token) = self.find_refresh_token(refresh_token).await? else {
            return Err(invalid_refresh_token());
        };
        db::within(Scope::User(token.user_id), self.rotate(token, client)).await
    }

    /// The refresh token with this secret, whoever it belongs to: the token is the caller's
    /// credential, so finding it is the system's work (like checking a signed URL).
    async fn find_refresh_token(
        &self,
        refresh_token: &str,
    ) -> AppResult<Option<refresh_tokens::Model>> {
        let hash = hash_token(refresh_token);
        Ok(db::as_system(store::refresh_tokens::find_by_hash(&self.db, &hash)).await?)
    }

    /// The second half of [`refresh_session`](Self::refresh_session), as the token's user.
    async fn rotate(
        &self,
        token: refresh_tokens::Model,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        if token.revoked_at.is_some() {
            if token.replaced_by.is_some() {
                let revoked =
                    store::refresh_tokens::revoke_family(&self.db, token.family_id).await?;
                self.open_sessions.forget_all();
                audit::record(
                    &self.db,
                    client,
                    Some(token.user_id),
                    "auth.refresh_token_reused",
                    json!({ "family_id": token.family_id, "revoked": revoked }),
                )
                .await?;
                tracing::warn!(user_id = %token.user_id, "rotated refresh token reused; family revoked");
            }
            return Err(invalid_refresh_token());
        }
        if token.expires_at <= store::now() {
            return Err(invalid_refresh_token());
        }
        let Some(user) = store::users::find_active_by_id(&self.db, token.user_id).await? else {
            return Err(invalid_refresh_token());
        };
        let txn = self.db.begin_write().await?;
        let new_id = Uuid::now_v7();
        if !store::refresh_tokens::rotate(&txn, token.id, new_id).await? {
            // Someone rotated it between our read and this update.
            return Err(invalid_refresh_token());
        }
        let session = self
            .open_session(&txn, user, Some(token.family_id), new_id, client)
            .await?;
        txn.commit().await?;
        Ok(session)
    }

    /// Revokes the session the refresh token belongs to. Unknown or already revoked tokens are
    /// not an error: logging out is idempotent.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn logout(
        &self,
        viewer: Option<Uuid>,
        refresh_token: &str,
        client: &ClientInfo,
    ) -> AppResult<u64> {
        let Some(token) = self.find_refresh_token(refresh_token).await? else {
            return Ok(0);
        };
        if viewer.is_some_and(|v| v != token.user_id) {
            return Ok(0);
        }
        let txn = db::within(Scope::User(token.user_id), self.db.begin()).await?;
        let revoked = store::refresh_tokens::revoke_family(&txn, token.family_id).await?;
        audit::record(
            &txn,
            client,
            Some(token.user_id),
            "auth.logout",
            json!({ "family_id": token.family_id, "revoked": revoked }),
        )
        .await?;
        txn.commit().await?;
        self.open_sessions.forget_all();
        Ok(revoked)
    }

    /// Revokes every session of the viewer.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn logout_all(&self, viewer: Uuid, client: &ClientInfo) -> AppResult<u64> {
        let txn = self.db.begin().await?;
        let revoked = store::refresh_tokens::revoke_all_for_user(&txn, viewer).await?;
        audit::record(
            &txn,
            client,
            Some(viewer),
            "auth.logout_all",
            json!({ "revoked": revoked }),
        )
        .await?;
        txn.commit().await?;
        self.open_sessions.forget_all();
        Ok(revoked)
    }
}
