//! The use-cases: rules, transactions and audit entries. No HTTP and no GraphQL here.

pub(crate) mod accounts;
pub(crate) mod audit;
mod login_throttle;
pub(crate) mod sessions;
pub(crate) mod validate;

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::AccessTokens;
use crate::config::{Config, RegistrationMode};

/// Who is calling, as far as the audit log is concerned.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything the use-cases need, shared by all requests.
pub struct Services {
    pub(crate) db: DatabaseConnection,
    pub(crate) access_tokens: AccessTokens,
    pub(crate) registration: RegistrationMode,
    pub(crate) refresh_token_ttl: Duration,
    pub(crate) default_quota_bytes: i64,
}

impl Services {
    pub(crate) fn new(
        db: DatabaseConnection,
        config: &Config,
        jwt_secret: &[u8],
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            access_tokens: AccessTokens::new(jwt_secret, config.access_token_ttl())?,
            registration: config.registration,
            refresh_token_ttl: config.refresh_token_ttl(),
            default_quota_bytes: config.default_quota_bytes,
        })
    }
}
