//! The use-cases: rules, transactions and audit entries. No HTTP and no GraphQL here.
//!
//! `Services` is one value shared by every request, and each aggregate adds its use-cases to
//! it in a module of its own (`impl Services` blocks), so a caller needs one handle and a
//! reader finds a use-case by its aggregate:
//!
//! | module | use-cases |
//! |---|---|
//! | `accounts`, `sessions` | register, log in, tokens and their sessions, password changes |
//! | `media`, `uploads`, `variants`, `content` | the upload pipeline, resumable uploads, thumbnails, signed downloads, the library |
//! | `trash`, `maintenance`, `blobs` | the trash of every kind, purging, the periodic sweep, when stored bytes may go |
//! | `albums`, `tags` | albums and their members; tags and tagging |
//! | `links`, `graph` | links as objects, graph walks (`traverse`) |
//! | `integrations` | integrations, their sealed credentials, imports, folder syncs |
//! | `audit`, `documents` | the audit log; persisted documents |
//! | `changes`, `feed` | the change journal, for delta sync; the live feed of subscriptions |
//!
//! A use-case that writes opens its transaction here and nowhere else; the queries it runs are
//! `store`'s.

pub(crate) mod accounts;
pub(crate) mod albums;
pub(crate) mod audit;
mod blobs;
pub(crate) mod changes;
pub(crate) mod content;
pub mod documents;
pub(crate) mod feed;
pub(crate) mod graph;
pub(crate) mod integrations;
pub(crate) mod links;
mod login_throttle;
pub(crate) mod maintenance;
pub(crate) mod media;
pub(crate) mod sessions;
pub(crate) mod tags;
pub(crate) mod trash;
pub(crate) mod uploads;
pub(crate) mod validate;
pub(crate) mod variants;

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::jwt::AccessTokens;
use crate::auth::secret_box::SecretBox;
use crate::auth::signed_url::UrlSigner;
use crate::config::{Config, RegistrationMode};
use crate::db::Db;
use crate::storage::BlobStore;
use variants::VariantJobs;

/// Who is calling, as far as the audit log is concerned.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The key that seals integration credentials: `HYPERNET_SECRETS_KEY`, else one generated
/// once into the data dir.
pub(crate) fn secrets_box(config: &Config) -> anyhow::Result<SecretBox> {
    match &config.secrets_key {
        Some(hex_key) => SecretBox::from_hex(hex_key),
        None => {
            let key =
                crate::auth::secret_file::load_or_create(&config.data_dir, SECRETS_KEY_FILE, 32)?;
            SecretBox::new(&key[..32.min(key.len())])
        }
    }
}

/// The file in the data dir that holds a generated secrets key.
pub const SECRETS_KEY_FILE: &str = "secrets_key";

/// Everything the use-cases need, shared by all requests.
pub struct Services {
    pub(crate) db: Db,
    pub(crate) access_tokens: AccessTokens,
    pub(crate) registration: RegistrationMode,
    pub(crate) refresh_token_ttl: Duration,
    pub(crate) default_quota_bytes: i64,
    pub(crate) blobs: BlobStore,
    /// Where incoming bytes are spooled (same disk as the data dir).
    pub(crate) spool_dir: PathBuf,
    pub(crate) max_upload_bytes: u64,
    pub(crate) upload_session_ttl: Duration,
    pub(crate) url_signer: UrlSigner,
    pub(crate) content_url_ttl: Duration,
    pub(crate) trash_retention: Duration,
    /// How long the change journal keeps events.
    pub(crate) change_retention: Duration,
    pub(crate) variant_jobs: VariantJobs,
    /// Seals integration credentials.
    pub(crate) secrets: SecretBox,
    pub(crate) import_roots: Vec<PathBuf>,
    pub(crate) max_import_batch: usize,
    /// Uploaded photos' keywords become tags (`HYPERNET_IMPORT_KEYWORDS`).
    pub(crate) import_keywords: bool,
    /// Most nodes one `traverse` visits.
    pub(crate) traverse_max_nodes: usize,
    /// Prefix of the URLs the API hands out (`HYPERNET_PUBLIC_URL`, or empty: the request's).
    pub(crate) public_url: String,
    /// Persisted documents recently used.
    pub(crate) documents: documents::DocumentCache,
    /// Registered (not trusted) documents kept at most.
    pub(crate) max_persisted_documents: u64,
    /// What this instance last read of the sessions access tokens name.
    pub(crate) open_sessions: sessions::OpenSessions,
    /// Who follows the change journal live on this instance.
    pub(crate) feed: std::sync::Arc<feed::Feed>,
    /// Request, error, upload and feed figures for `/metrics`.
    pub(crate) metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Services {
    /// The services, and the receiving end of the thumbnail queue (for
    /// [`variants::run_worker`]).
    pub(crate) fn new(
        db: Db,
        config: &Config,
        jwt_secret: &[u8],
    ) -> anyhow::Result<(Self, tokio::sync::mpsc::UnboundedReceiver<uuid::Uuid>)> {
        let spool_dir = config.data_dir.join("tmp");
        std::fs::create_dir_all(&spool_dir)?;
        crate::storage::spool::clean_stale(&spool_dir);
        let (variant_jobs, jobs) = VariantJobs::new();
        let services = Self {
            db,
            access_tokens: AccessTokens::new(jwt_secret, config.access_token_ttl())?,
            registration: config.registration,
            refresh_token_ttl: config.refresh_token_ttl(),
            default_quota_bytes: config.default_quota_bytes,
            blobs: BlobStore::open(config.storage_url.as_deref(), &config.data_dir)?,
            spool_dir,
            max_upload_bytes: config.max_upload_bytes,
            upload_session_ttl: Duration::from_secs(config.upload_session_ttl_hours * 3600),
            url_signer: UrlSigner::new(jwt_secret),
            content_url_ttl: Duration::from_secs(config.content_url_ttl_secs),
            trash_retention: Duration::from_secs(config.trash_retention_days * 24 * 3600),
            change_retention: Duration::from_secs(config.change_retention_days * 24 * 3600),
            variant_jobs,
            secrets: secrets_box(config)?,
            import_roots: config.import_roots.clone(),
            max_import_batch: config.max_import_batch.max(1),
            import_keywords: config.import_keywords,
            traverse_max_nodes: config.traverse_max_nodes.max(1),
            public_url: config
                .public_url
                .as_deref()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string(),
            documents: documents::DocumentCache::new(),
            max_persisted_documents: config.max_persisted_documents,
            open_sessions: sessions::OpenSessions::new(Duration::from_secs(
                config.session_check_secs,
            )),
            feed: feed::Feed::new(
                config.ws_max_subscriptions_per_user.max(1),
                config.ws_max_subscriptions.max(1),
            ),
            metrics: std::sync::Arc::new(crate::metrics::Metrics::new()),
        };
        Ok((services, jobs))
    }
}
