//! Integrations: outside sources of media. Their credentials are sealed at rest; sync workers
//! push items through `importMedia` (idempotent by external id, one transaction per batch);
//! `local_folder` integrations are synced by the server itself.
//!
//! Each job has its own file: `crud` (an integration's life and its credentials), `secrets`
//! (sealing and re-sealing them), `import` (the batch pipeline) and `folder_sync` (the server's
//! own sync of a folder). The types they share live here, and so do the paths callers name.

mod crud;
mod folder_sync;
mod import;
mod secrets;

use chrono::{DateTime, Utc};
use entity::media;
use serde_json::Value;
use uuid::Uuid;

use crate::storage::spool::Spooled;

pub(crate) use folder_sync::confined_folder;

pub(crate) const LOCAL_FOLDER: &str = "local_folder";

/// Credentials as a client gives them; never readable back.
#[derive(Default)]
pub(crate) struct Credentials {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<Vec<String>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { .. }")
    }
}

/// One item of an `importMedia` batch.
pub(crate) struct ImportItem {
    pub external_id: String,
    pub filename: String,
    /// The bytes, when the worker sends them.
    pub file: Option<Spooled>,
    pub sha256: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub metadata: Option<Value>,
    /// Extra fields of the `source` link (a folder sync records size and mtime).
    pub link_metadata: serde_json::Map<String, Value>,
    /// The `source` link this item takes over (a changed file of a folder), retired in the
    /// same transaction.
    pub replaces: Option<Uuid>,
}

/// What one import or sync did.
#[derive(Debug, Default)]
pub(crate) struct ImportOutcome {
    pub imported: usize,
    pub skipped: usize,
    pub failed: usize,
    pub errors: Vec<String>,
    /// The media of every item, in order (imported or already there).
    pub media: Vec<media::Model>,
}
