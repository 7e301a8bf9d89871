//! `createIntegration`, `updateIntegration`, `setIntegrationCredentials`, `deleteIntegration`,
//! `importMedia`, `syncIntegration`.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::context::{request, services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::{Out, Record, ToOut};
use crate::graphql::ids;
use crate::graphql::types::integration::Integration;
use crate::graphql::types::media::Media;
use crate::kinds::Kind;
use crate::service::integrations::{Credentials, ImportItem, ImportOutcome};

/// Credentials of an outside service. Stored sealed; never readable through the API.
#[derive(InputObject)]
struct CredentialsInput {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    scopes: Option<Vec<String>>,
}

impl From<CredentialsInput> for Credentials {
    fn from(c: CredentialsInput) -> Self {
        Credentials {
            access_token: c.access_token,
            refresh_token: c.refresh_token,
            expires_at: c.expires_at,
            scopes: c.scopes,
        }
    }
}

#[derive(InputObject)]
struct CreateIntegrationInput {
    /// `local_folder`, or any `[a-z][a-z0-9_]{0,49}` a sync worker uses.
    integration_type: String,
    name: String,
    /// For `local_folder`: `{ "path": "/absolute/folder" }` inside the server's import roots.
    config: Option<Json<serde_json::Value>>,
    credentials: Option<CredentialsInput>,
}

/// The statuses a client may set.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
enum SettableStatus {
    Active,
    Paused,
}

#[derive(InputObject)]
struct UpdateIntegrationInput {
    id: ID,
    name: Option<String>,
    config: Option<Json<serde_json::Value>>,
    status: Option<SettableStatus>,
}

#[derive(InputObject)]
struct SetIntegrationCredentialsInput {
    id: ID,
    /// `null` removes them.
    credentials: Option<CredentialsInput>,
}

#[derive(InputObject)]
struct DeleteIntegrationInput {
    id: ID,
}

#[derive(InputObject)]
struct ImportItemInput {
    /// The item's id in the outside service; importing it again is a no-op.
    external_id: String,
    filename: String,
    /// The bytes (GraphQL multipart request), unless the viewer already has them.
    file: Option<Upload>,
    /// SHA-256 of the bytes: enough on its own when the viewer already has them.
    sha256: Option<String>,
    taken_at: Option<DateTime<Utc>>,
    /// The client's claim; the type is sniffed from the bytes.
    mime_type: Option<String>,
    /// Merged into the media's metadata.
    metadata: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
struct ImportMediaInput {
    integration_id: ID,
    items: Vec<ImportItemInput>,
    /// Stored with the batch, in the same transaction.
    sync_cursor: Option<String>,
}

#[derive(InputObject)]
struct SyncIntegrationInput {
    id: ID,
}

#[derive(SimpleObject)]
struct IntegrationPayload {
    integration: Integration,
}

#[derive(SimpleObject)]
struct DeleteIntegrationPayload {
    deleted_id: ID,
}

#[derive(SimpleObject)]
struct ImportMediaPayload {
    /// Items that became (or were linked to) media in this batch.
    imported: i32,
    /// Items imported before (same external id).
    skipped: i32,
    /// The media of every item, in order.
    media: Vec<Media>,
    integration: Integration,
}

#[derive(SimpleObject)]
struct SyncIntegrationPayload {
    integration: Integration,
    /// Files imported by this run.
    imported: i32,
    /// Files already imported, or not photos or videos.
    skipped: i32,
    /// Files that could not be imported; see `errors`.
    failed: i32,
    errors: Vec<String>,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn integration_id(id: &ID, field: &'static str) -> Result<uuid::Uuid, AppError> {
    ids::expect(id, Kind::Integration, field)
}

#[derive(Default)]
pub(crate) struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    async fn create_integration(
        &self,
        ctx: &Context<'_>,
        input: CreateIntegrationInput,
    ) -> Result<Planned<IntegrationPayload>> {
        let viewer = viewer(ctx)?;
        let integration = services(ctx)
            .create_integration(
                viewer,
                &input.integration_type,
                &input.name,
                input.config.map(|j| j.0),
                input.credentials.map(Credentials::from),
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(IntegrationPayload {
            integration: Integration(integration),
        }))
    }

    async fn update_integration(
        &self,
        ctx: &Context<'_>,
        input: UpdateIntegrationInput,
    ) -> Result<Planned<IntegrationPayload>> {
        let viewer = viewer(ctx)?;
        let status = input.status.map(|s| match s {
            SettableStatus::Active => "active",
            SettableStatus::Paused => "paused",
        });
        let integration = services(ctx)
            .update_integration(
                viewer,
                integration_id(&input.id, "id")?,
                input.name.as_deref(),
                input.config.map(|j| j.0),
                status,
            )
            .await?;
        Ok(Planned(IntegrationPayload {
            integration: Integration(integration),
        }))
    }

    async fn set_integration_credentials(
        &self,
        ctx: &Context<'_>,
        input: SetIntegrationCredentialsInput,
    ) -> Result<Planned<IntegrationPayload>> {
        let viewer = viewer(ctx)?;
        let integration = services(ctx)
            .set_integration_credentials(
                viewer,
                integration_id(&input.id, "id")?,
                input.credentials.map(Credentials::from),
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(IntegrationPayload {
            integration: Integration(integration),
        }))
    }

    /// Deletes the credentials at once; the integration and its links go to the trash, the
    /// media it brought stay.
    async fn delete_integration(
        &self,
        ctx: &Context<'_>,
        input: DeleteIntegrationInput,
    ) -> Result<Planned<DeleteIntegrationPayload>> {
        let viewer = viewer(ctx)?;
        let id = services(ctx)
            .delete_integration(
                viewer,
                integration_id(&input.id, "id")?,
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(DeleteIntegrationPayload {
            deleted_id: ids::encode(Kind::Integration, id),
        }))
    }

    /// What every sync worker calls: a batch of items from an outside source.
    async fn import_media(
        &self,
        ctx: &Context<'_>,
        input: ImportMediaInput,
    ) -> Result<Planned<ImportMediaPayload>> {
        let viewer = viewer(ctx)?;
        let svc = services(ctx);
        let integration = integration_id(&input.integration_id, "integrationId")?;
        if input.items.len() > svc.max_import_batch {
            return Err(AppError::bad_input(
                "items",
                format!("a batch holds at most {} items", svc.max_import_batch),
            )
            .into());
        }
        let mut items = Vec::with_capacity(input.items.len());
        for item in input.items {
            let file = match &item.file {
                Some(upload) => {
                    let value = upload.value(ctx).map_err(|_| {
                        AppError::bad_input(
                            "items",
                            "`file` must be a file part of a multipart request",
                        )
                    })?;
                    Some(svc.spool_file(value.content).await?)
                }
                None => None,
            };
            let _claimed_type = item.mime_type;
            items.push(ImportItem {
                external_id: item.external_id,
                filename: item.filename,
                file,
                sha256: item.sha256,
                taken_at: item.taken_at,
                metadata: item.metadata.map(|j| j.0),
                link_metadata: serde_json::Map::new(),
                replaces: None,
            });
        }
        let (outcome, integration) = svc
            .import_media(viewer, integration, items, input.sync_cursor)
            .await?;
        let ImportOutcome {
            imported,
            skipped,
            media,
            ..
        } = outcome;
        Ok(Planned(ImportMediaPayload {
            imported: count(imported),
            skipped: count(skipped),
            media: media.into_iter().map(Media::from).collect(),
            integration: Integration(integration),
        }))
    }

    /// Syncs a `local_folder` integration now: imports new and changed photos and videos.
    async fn sync_integration(
        &self,
        ctx: &Context<'_>,
        input: SyncIntegrationInput,
    ) -> Result<Planned<SyncIntegrationPayload>> {
        let viewer = viewer(ctx)?;
        let (outcome, integration) = services(ctx)
            .sync_integration(
                viewer,
                integration_id(&input.id, "id")?,
                &request(ctx).client,
            )
            .await?;
        Ok(Planned(SyncIntegrationPayload {
            integration: Integration(integration),
            imported: count(outcome.imported),
            skipped: count(outcome.skipped),
            failed: count(outcome.failed),
            errors: outcome.errors,
        }))
    }
}

impl ToOut for IntegrationPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "IntegrationPayload",
            vec![("integration", self.integration.to_out())],
        ))
    }
}

impl ToOut for DeleteIntegrationPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "DeleteIntegrationPayload",
            vec![("deletedId", self.deleted_id.to_out())],
        ))
    }
}

impl ToOut for ImportMediaPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "ImportMediaPayload",
            vec![
                ("imported", self.imported.to_out()),
                ("skipped", self.skipped.to_out()),
                ("media", self.media.to_out()),
                ("integration", self.integration.to_out()),
            ],
        ))
    }
}

impl ToOut for SyncIntegrationPayload {
    fn to_out(&self) -> Out {
        Out::One(Record::obj(
            "SyncIntegrationPayload",
            vec![
                ("integration", self.integration.to_out()),
                ("imported", self.imported.to_out()),
                ("skipped", self.skipped.to_out()),
                ("failed", self.failed.to_out()),
                ("errors", self.errors.to_out()),
            ],
        ))
    }
}
