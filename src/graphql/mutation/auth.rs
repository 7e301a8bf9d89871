//! `register`, `login`, `refreshSession`, `logout`, `logoutAll`, `changePassword`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::context::{request, services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::types::user::User;
use crate::service::accounts::Registration;
use crate::service::sessions::AuthSession;

macro_rules! auth_payload {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(SimpleObject)]
        pub(crate) struct $name {
            /// Send as `Authorization: Bearer <accessToken>`; expires at `expiresAt`.
            access_token: String,
            /// Exchange for a new pair with `refreshSession`; each is good for one use.
            refresh_token: String,
            /// When the access token expires.
            expires_at: DateTime<Utc>,
            user: User,
        }

        impl ToOut for $name {
            fn to_out(&self) -> Out {
                Out::One(Record::obj(
                    stringify!($name),
                    vec![
                        ("accessToken", self.access_token.to_out()),
                        ("refreshToken", self.refresh_token.to_out()),
                        ("expiresAt", self.expires_at.to_out()),
                        ("user", self.user.to_out()),
                    ],
                ))
            }
        }

        impl From<AuthSession> for $name {
            fn from(s: AuthSession) -> Self {
                Self {
                    access_token: s.access_token,
                    refresh_token: s.refresh_token,
                    expires_at: s.expires_at,
                    user: User::from_row(s.user),
                }
            }
        }
    };
}

auth_payload!(
    /// A new account, signed in.
    RegisterPayload
);
auth_payload!(
    /// A new session.
    LoginPayload
);
auth_payload!(
    /// The rotated session.
    RefreshSessionPayload
);
auth_payload!(
    /// A new session; every other session was revoked.
    ChangePasswordPayload
);

#[derive(InputObject)]
struct RegisterInput {
    email: String,
    /// At least 10 characters.
    password: String,
    display_name: Option<String>,
}

#[derive(InputObject)]
struct LoginInput {
    email: String,
    password: String,
}

#[derive(InputObject)]
struct RefreshSessionInput {
    refresh_token: String,
}

#[derive(InputObject)]
struct LogoutInput {
    refresh_token: String,
}

#[derive(InputObject)]
struct ChangePasswordInput {
    current_password: String,
    /// At least 10 characters.
    new_password: String,
}

#[derive(SimpleObject)]
struct LogoutPayload {
    /// Refresh tokens revoked (0 when the token was unknown or already revoked).
    revoked_sessions: i32,
}

#[derive(SimpleObject)]
struct LogoutAllPayload {
    /// Refresh tokens revoked.
    revoked_sessions: i32,
}

#[derive(Default)]
pub(crate) struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates an account and signs it in. The first account of a server becomes its admin;
    /// after that, registration is open only if the operator opened it.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> Result<Planned<RegisterPayload>> {
        let session = services(ctx)
            .register(
                Registration {
                    email: input.email,
                    password: input.password,
                    display_name: input.display_name,
                },
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(session.into()))
    }

    /// Signs in with email and password.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<Planned<LoginPayload>> {
        let session = services(ctx)
            .login(&input.email, input.password, &request(ctx).client)
            .await?;
        Ok(Planned(session.into()))
    }

    /// Exchanges a refresh token for a new access token and refresh token.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> Result<Planned<RefreshSessionPayload>> {
        let session = services(ctx)
            .refresh_session(&input.refresh_token, &request(ctx).client)
            .await?;
        Ok(Planned(session.into()))
    }

    /// Ends the session of this refresh token.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> Result<Planned<LogoutPayload>> {
        let req = request(ctx);
        let revoked = services(ctx)
            .logout(req.viewer, &input.refresh_token, &req.client)
            .await?;
        Ok(Planned(LogoutPayload {
            revoked_sessions: revoked.try_into().unwrap_or(i32::MAX),
        }))
    }

    /// Ends every session of the viewer.
    async fn logout_all(&self, ctx: &Context<'_>) -> Result<Planned<LogoutAllPayload>> {
        let viewer = viewer(ctx)?;
        let revoked = services(ctx)
            .logout_all(viewer, &request(ctx).client)
            .await?;
        Ok(Planned(LogoutAllPayload {
            revoked_sessions: revoked.try_into().unwrap_or(i32::MAX),
        }))
    }

    /// Changes the viewer's password, ends every session, and opens a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> Result<Planned<ChangePasswordPayload>> {
        let viewer = viewer(ctx)?;
        let session = services(ctx)
            .change_password(
                viewer,
                input.current_password,
                input.new_password,
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(session.into()))
    }
}

impl ToOut for LogoutPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "LogoutPayload",
            vec![("revokedSessions", self.revoked_sessions.to_out())],
        ))
    }
}

impl ToOut for LogoutAllPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "LogoutAllPayload",
            vec![("revokedSessions", self.revoked_sessions.to_out())],
        ))
    }
}
