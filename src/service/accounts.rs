//! Accounts: registration, login, password changes, and the operator's commands.

use entity::users;
use serde_json::json;
use uuid::Uuid;

use super::sessions::AuthSession;
use super::{ClientInfo, Services, audit, login_throttle, validate};
use crate::auth::password;
use crate::config::RegistrationMode;
use crate::db::{self, Scope};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::users::NewUser;

/// What `register` needs.
pub(crate) struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
}

fn invalid_credentials() -> AppError {
    AppError::Unauthenticated("invalid email or password".into())
}

fn email_taken() -> AppError {
    AppError::Conflict("an account with this email already exists".into())
}

impl Services {
    /// Creates an account and signs it in. The first account becomes the admin; after it,
    /// registration follows `HYPERNET_REGISTRATION`.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn register(
        &self,
        input: Registration,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        let email = validate::email(&input.email)?;
        password::validate_new_password(&input.password, "password")?;
        let display_name = validate::display_name(input.display_name.as_deref())?;
        if self.registration == RegistrationMode::Closed {
            return Err(AppError::Forbidden(
                "registration is closed on this server".into(),
            ));
        }
        login_throttle::address_open(&self.db, client.ip.as_deref()).await?;
        let password_hash = password::hash(input.password).await?;

        // Registration asks about every account (is this the first? is the email taken?): the
        // transaction is the system's.
        let txn = db::as_system(self.db.begin_write()).await?;
        store::users::lock_for_registration(&txn).await?;
        let existing = store::users::count_active(&txn).await?;
        if existing > 0 && self.registration == RegistrationMode::FirstOnly {
            return Err(AppError::Forbidden(
                "registration is closed on this server".into(),
            ));
        }
        if store::users::find_active_by_email(&txn, &email)
            .await?
            .is_some()
        {
            txn.rollback().await?;
            login_throttle::address_failed(&self.db, client.ip.as_deref()).await?;
            return Err(email_taken());
        }
        let user = store::users::insert(
            &txn,
            NewUser {
                email,
                password_hash,
                display_name,
                is_admin: existing == 0,
                storage_quota: self.default_quota_bytes,
            },
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => email_taken(),
            other => other,
        })?;
        audit::record(
            &txn,
            client,
            Some(user.id),
            "auth.register",
            json!({ "is_admin": user.is_admin }),
        )
        .await?;
        let session = self
            .open_session(&txn, user, None, Uuid::now_v7(), client)
            .await?;
        txn.commit().await?;
        Ok(session)
    }

    /// Signs in. A wrong password and an unknown email get the same answer in about the same
    /// time; repeated failures for one email are answered `RATE_LIMITED` with growing back-off.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn login(
        &self,
        email: &str,
        password: String,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        let key = email.trim().to_lowercase();
        if key.is_empty() || key.len() > 254 || password.len() > password::MAX_PASSWORD_BYTES {
            return Err(invalid_credentials());
        }
        let throttle = login_throttle::Keys::new(&key, client.ip.as_deref());
        login_throttle::claim(&self.db, &throttle).await?;
        // Who is signing in is not known yet: the lookup is the system's.
        let user = db::as_system(store::users::find_active_by_email(&self.db, &key)).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        if !password::verify(password, hash).await? {
            // A failure for an unknown email is recorded without a user: the system's row.
            let scope = user.as_ref().map_or(Scope::System, |u| Scope::User(u.id));
            db::within(
                scope,
                audit::record(
                    &self.db,
                    client,
                    user.as_ref().map(|u| u.id),
                    "auth.login_failed",
                    json!({ "email": key }),
                ),
            )
            .await?;
            return Err(invalid_credentials());
        }
        let user = user.ok_or_else(invalid_credentials)?;
        login_throttle::succeeded(&self.db, &throttle).await?;
        db::within(Scope::User(user.id), async {
            let now = store::now();
            let txn = self.db.begin().await?;
            store::users::touch_last_login(&txn, user.id, now).await?;
            audit::record(&txn, client, Some(user.id), "auth.login", json!({})).await?;
            let user = users::Model {
                last_login_at: Some(now),
                ..user
            };
            let session = self
                .open_session(&txn, user, None, Uuid::now_v7(), client)
                .await?;
            txn.commit().await?;
            Ok(session)
        })
        .await
    }

    /// Changes the viewer's password after checking the current one, revokes every session,
    /// and opens a new one for the caller.
    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn change_password(
        &self,
        viewer: Uuid,
        current_password: String,
        new_password: String,
        client: &ClientInfo,
    ) -> AppResult<AuthSession> {
        password::validate_new_password(&new_password, "newPassword")?;
        let user = self.viewer_user(viewer).await?;
        let throttle = login_throttle::Keys::new(&user.email.to_lowercase(), client.ip.as_deref());
        login_throttle::claim(&self.db, &throttle).await?;
        if !password::verify(current_password, Some(user.password_hash.clone())).await? {
            audit::record(
                &self.db,
                client,
                Some(user.id),
                "auth.password_change_failed",
                json!({}),
            )
            .await?;
            return Err(AppError::bad_input(
                "currentPassword",
                "the current password is not correct",
            ));
        }
        login_throttle::succeeded(&self.db, &throttle).await?;
        let password_hash = password::hash(new_password).await?;
        let txn = self.db.begin_write().await?;
        store::users::set_password_hash(&txn, user.id, password_hash.clone()).await?;
        let revoked = store::refresh_tokens::revoke_all_for_user(&txn, user.id).await?;
        audit::record(
            &txn,
            client,
            Some(user.id),
            "auth.password_changed",
            json!({ "revoked_sessions": revoked }),
        )
        .await?;
        let user = users::Model {
            password_hash,
            ..user
        };
        let session = self
            .open_session(&txn, user, None, Uuid::now_v7(), client)
            .await?;
        txn.commit().await?;
        self.open_sessions.forget_all();
        Ok(session)
    }

    /// The viewer's account; a token for a deleted account is no longer a viewer.
    pub(crate) async fn viewer_user(&self, viewer: Uuid) -> AppResult<users::Model> {
        store::users::find_active_by_id(&self.db, viewer)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("the account no longer exists".into()))
    }

    /// `hypernet user create`: makes an account whatever the registration mode.
    pub async fn create_user_as_operator(
        &self,
        email: &str,
        password: String,
        is_admin: bool,
    ) -> AppResult<users::Model> {
        let email = validate::email(email)?;
        password::validate_new_password(&password, "password")?;
        let password_hash = password::hash(password).await?;
        let txn = self.db.begin_write().await?;
        if store::users::find_active_by_email(&txn, &email)
            .await?
            .is_some()
        {
            return Err(email_taken());
        }
        let user = store::users::insert(
            &txn,
            NewUser {
                email,
                password_hash,
                display_name: None,
                is_admin,
                storage_quota: self.default_quota_bytes,
            },
        )
        .await?;
        audit::record(
            &txn,
            &ClientInfo::default(),
            Some(user.id),
            "operator.user_created",
            json!({ "is_admin": is_admin }),
        )
        .await?;
        txn.commit().await?;
        Ok(user)
    }

    /// `hypernet user set-password`: sets a password and revokes every session of the account.
    pub async fn set_password_as_operator(&self, email: &str, password: String) -> AppResult<()> {
        password::validate_new_password(&password, "password")?;
        let user = self.operator_find(email).await?;
        let password_hash = password::hash(password).await?;
        let txn = self.db.begin_write().await?;
        store::users::set_password_hash(&txn, user.id, password_hash).await?;
        let revoked = store::refresh_tokens::revoke_all_for_user(&txn, user.id).await?;
        audit::record(
            &txn,
            &ClientInfo::default(),
            Some(user.id),
            "operator.password_set",
            json!({ "revoked_sessions": revoked }),
        )
        .await?;
        txn.commit().await?;
        self.open_sessions.forget_all();
        Ok(())
    }

    /// `hypernet user set-quota`.
    pub async fn set_quota_as_operator(&self, email: &str, bytes: i64) -> AppResult<()> {
        if bytes < 0 {
            return Err(AppError::bad_input("bytes", "a quota cannot be negative"));
        }
        let user = self.operator_find(email).await?;
        store::users::set_quota(&self.db, user.id, bytes).await?;
        audit::record(
            &self.db,
            &ClientInfo::default(),
            Some(user.id),
            "operator.quota_set",
            json!({ "bytes": bytes }),
        )
        .await?;
        Ok(())
    }

    async fn operator_find(&self, email: &str) -> AppResult<users::Model> {
        store::users::find_active_by_email(&self.db, email)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no account has the email {email}")))
    }
}
