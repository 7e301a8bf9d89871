//! Sealing integration credentials at rest, and re-sealing them all under a new key. Every
//! secret is bound to its integration and field (the associated data of the seal), so a sealed
//! value copied to another row or column does not open.

use uuid::Uuid;

use super::Credentials;
use crate::auth::secret_box::aad;
use crate::error::{AppError, AppResult};
use crate::service::Services;
use crate::store;
use crate::store::integrations::SealedSecrets;

impl Services {
    /// Seals the credentials of `integration`, each value bound to its integration and field.
    pub(super) fn seal(&self, integration: Uuid, c: &Credentials) -> AppResult<SealedSecrets> {
        let seal = |value: &Option<String>, field: &str| -> AppResult<Option<String>> {
            value
                .as_deref()
                .map(|v| self.secrets.seal(v, &aad(integration, field)))
                .transpose()
                .map_err(AppError::Internal)
        };
        Ok(SealedSecrets {
            access_token: seal(&c.access_token, "access_token")?,
            refresh_token: seal(&c.refresh_token, "refresh_token")?,
            token_expires_at: c.expires_at,
            scopes: seal(&c.scopes.as_ref().map(|s| s.join(" ")), "scopes")?,
            key_id: self.secrets.key_id().to_string(),
        })
    }

    /// `hypernet secrets rotate`: re-seals every secret under `new`; returns how many rows.
    pub(crate) async fn rotate_secrets(
        &self,
        new: &crate::auth::secret_box::SecretBox,
    ) -> anyhow::Result<usize> {
        let txn = self.db.begin_write().await?;
        let rows = store::integrations::all_secrets(&txn).await?;
        let count = rows.len();
        for mut row in rows {
            let id = row.integration_id;
            let reseal = |value: &Option<String>, field: &str| -> anyhow::Result<Option<String>> {
                value
                    .as_deref()
                    .map(|v| {
                        let plain = self.secrets.open(v, &aad(id, field))?;
                        new.seal(&plain, &aad(id, field))
                    })
                    .transpose()
            };
            row.access_token = reseal(&row.access_token, "access_token")?;
            row.refresh_token = reseal(&row.refresh_token, "refresh_token")?;
            row.scopes = reseal(&row.scopes, "scopes")?;
            row.key_id = Some(new.key_id().to_string());
            store::integrations::reseal(&txn, row).await?;
        }
        txn.commit().await?;
        Ok(count)
    }
}
