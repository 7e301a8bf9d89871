//! An integration's life: creating, renaming, reconfiguring, pausing and deleting it, setting
//! or removing its credentials, and reading the viewer's integrations. Each write that changes
//! what the integration may reach (its credentials, its existence) is audited in the same
//! transaction.

use entity::integrations;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Credentials, LOCAL_FOLDER, confined_folder};
use crate::error::{AppError, AppResult};
use crate::service::{ClientInfo, Services, audit};
use crate::store;
use crate::store::integrations::{IntegrationChanges, NewIntegration};

const MAX_NAME_CHARS: usize = 255;

fn not_found() -> AppError {
    AppError::NotFound("no such integration".into())
}

fn name(raw: &str) -> AppResult<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            "name",
            format!("`name` must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(n.to_string())
}

impl Services {
    fn check_config(&self, integration_type: &str, config: &Value) -> AppResult<()> {
        if !config.is_object() {
            return Err(AppError::bad_input(
                "config",
                "`config` must be a JSON object",
            ));
        }
        if integration_type == LOCAL_FOLDER {
            confined_folder(config, &self.import_roots)?;
        }
        Ok(())
    }

    /// The viewer's active integration.
    pub(crate) async fn integration(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> AppResult<integrations::Model> {
        store::kinds::find_active::<entity::integrations::Entity>(&self.db, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer))]
    pub(crate) async fn create_integration(
        &self,
        viewer: Uuid,
        integration_type: &str,
        raw_name: &str,
        config: Option<Value>,
        credentials: Option<Credentials>,
        client: &ClientInfo,
    ) -> AppResult<integrations::Model> {
        let kind = crate::service::links::link_type(integration_type, "integrationType")?;
        let name = name(raw_name)?;
        let config = config.unwrap_or_else(|| json!({}));
        self.check_config(&kind, &config)?;
        let txn = self.db.begin_write().await?;
        let integration = store::integrations::insert(
            &txn,
            NewIntegration {
                user_id: viewer,
                integration_type: kind.clone(),
                name,
                config,
            },
        )
        .await?;
        if let Some(c) = &credentials {
            store::integrations::put_secrets(&txn, integration.id, self.seal(integration.id, c)?)
                .await?;
        }
        audit::record_object(
            &txn,
            client,
            viewer,
            "integration.created",
            ("integration", integration.id),
            json!({ "integration_type": kind, "credentials": credentials.is_some() }),
        )
        .await?;
        txn.commit().await?;
        Ok(integration)
    }

    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn update_integration(
        &self,
        viewer: Uuid,
        id: Uuid,
        raw_name: Option<&str>,
        config: Option<Value>,
        status: Option<&'static str>,
    ) -> AppResult<integrations::Model> {
        let current = self.integration(viewer, id).await?;
        let name = raw_name.map(name).transpose()?;
        if let Some(c) = &config {
            self.check_config(&current.integration_type, c)?;
        }
        store::integrations::update(
            &self.db,
            id,
            IntegrationChanges {
                name,
                config,
                status,
                ..Default::default()
            },
        )
        .await?;
        self.integration(viewer, id).await
    }

    /// Replaces the credentials (or removes them, with `None`).
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn set_integration_credentials(
        &self,
        viewer: Uuid,
        id: Uuid,
        credentials: Option<Credentials>,
        client: &ClientInfo,
    ) -> AppResult<integrations::Model> {
        let integration = self.integration(viewer, id).await?;
        let txn = self.db.begin_write().await?;
        match &credentials {
            Some(c) => store::integrations::put_secrets(&txn, id, self.seal(id, c)?).await?,
            None => store::integrations::delete_secrets(&txn, id).await?,
        }
        let action = if credentials.is_some() {
            "integration.credentials_set"
        } else {
            "integration.credentials_removed"
        };
        audit::record_object(&txn, client, viewer, action, ("integration", id), json!({})).await?;
        txn.commit().await?;
        Ok(integration)
    }

    /// Deletes the secrets at once and moves the integration (with its `source` links) to the
    /// trash; the media it brought stay.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, integration = %id))]
    pub(crate) async fn delete_integration(
        &self,
        viewer: Uuid,
        id: Uuid,
        client: &ClientInfo,
    ) -> AppResult<Uuid> {
        self.integration(viewer, id).await?;
        let txn = self.db.begin_write().await?;
        store::integrations::delete_secrets(&txn, id).await?;
        store::integrations::set_deleted(&txn, id, store::now()).await?;
        audit::record_object(
            &txn,
            client,
            viewer,
            "integration.deleted",
            ("integration", id),
            json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    pub(crate) async fn integrations_page(
        &self,
        viewer: Uuid,
        cursor: Option<Uuid>,
        backward: bool,
        limit: u64,
    ) -> AppResult<Vec<integrations::Model>> {
        Ok(store::integrations::page(&self.db, viewer, cursor, backward, limit).await?)
    }

    pub(crate) async fn integrations_count(&self, viewer: Uuid) -> AppResult<u64> {
        Ok(store::integrations::count(&self.db, viewer).await?)
    }
}
