//! Every setting of the server: a flag with an `HYPERNET_*` environment variable and a default.
//! Read in `main` only; tests build the struct with [`Config::defaults`] and set fields.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, ValueEnum};

/// Who may create an account through the `register` mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistrationMode {
    /// Only the very first account may self-register (it becomes the admin).
    FirstOnly,
    /// Anyone may register; the first account still becomes the admin.
    Open,
    /// Nobody may self-register; the operator uses `hypernet user create`.
    Closed,
}

/// Which executor answers GraphQL requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExecutorMode {
    /// The planned executor: each selection compiled once, nested reads batched per level.
    #[default]
    Planned,
    /// async-graphql's own resolvers, field by field and item by item: slower; the reference
    /// the planned executor is checked against (a diagnostic setting).
    Resolvers,
}

/// Which documents the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DocumentsMode {
    /// Any document, sent as text or as the hash of one registered before (automatic
    /// persisted queries).
    #[default]
    Open,
    /// Only the trusted documents the operator added (`hypernet documents add`), sent by id or
    /// as text: for production apps, whose every document is known when they are built.
    Trusted,
}

/// The server's settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on (default 127.0.0.1:8080; port 0 picks a free one).
    #[arg(
        long,
        env = "HYPERNET_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// Directory for the SQLite database, generated secrets and stored media (default ./data).
    #[arg(
        long,
        env = "HYPERNET_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://…` or `sqlite://…` (default: `hypernet.db` in the data dir).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL URL of the role that owns the schema. When set, migrations run as it and the
    /// server's role (`DATABASE_URL`) is granted the rows, not the tables: row-level security
    /// then applies to everything the server does (see the README's security section).
    #[arg(
        long,
        env = "HYPERNET_OWNER_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub owner_database_url: Option<String>,

    /// Largest number of pooled database connections (default 16).
    #[arg(
        long,
        env = "HYPERNET_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds to wait for a pooled connection before failing the request (default 5).
    #[arg(
        long,
        env = "HYPERNET_DB_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub db_acquire_timeout_secs: u64,

    /// Seconds a pooled connection may stay idle before it is closed (default 600).
    #[arg(
        long,
        env = "HYPERNET_DB_IDLE_TIMEOUT_SECS",
        default_value_t = 600,
        global = true
    )]
    pub db_idle_timeout_secs: u64,

    /// Seconds after which a pooled PostgreSQL connection is replaced (default 1800).
    #[arg(
        long,
        env = "HYPERNET_DB_MAX_LIFETIME_SECS",
        default_value_t = 1800,
        global = true
    )]
    pub db_max_lifetime_secs: u64,

    /// PostgreSQL `statement_timeout` in seconds; SQLite's busy timeout uses it too (default 30).
    #[arg(
        long,
        env = "HYPERNET_DB_STATEMENT_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub db_statement_timeout_secs: u64,

    /// Who may register: `first-only` (default), `open` or `closed`.
    #[arg(
        long,
        env = "HYPERNET_REGISTRATION",
        value_enum,
        default_value = "first-only",
        global = true
    )]
    pub registration: RegistrationMode,

    /// Lifetime of access tokens in seconds (default 900, 15 minutes).
    #[arg(
        long,
        env = "HYPERNET_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens in days (default 30).
    #[arg(
        long,
        env = "HYPERNET_REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub refresh_token_ttl_days: u64,

    /// Secret that signs access tokens (at least 32 bytes; default: generated once into
    /// `<data dir>/jwt_secret`, mode 0600).
    #[arg(
        long,
        env = "HYPERNET_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Serve GraphQL introspection (default true; GraphiQL needs it).
    #[arg(long, env = "HYPERNET_INTROSPECTION", default_value_t = true, action = ArgAction::Set, global = true)]
    pub introspection: bool,

    /// Largest accepted GraphQL request body in bytes (default 1 MiB).
    #[arg(long, env = "HYPERNET_MAX_BODY_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Largest number of operations in one batched request (default 10; 0 refuses batches).
    #[arg(long, env = "HYPERNET_MAX_BATCH", default_value_t = 10, global = true)]
    pub max_batch: usize,

    /// Deepest accepted query nesting (default 15).
    #[arg(long, env = "HYPERNET_MAX_DEPTH", default_value_t = 15, global = true)]
    pub max_depth: usize,

    /// Highest accepted query complexity; a connection costs its page size times its
    /// selection (default 50000: twenty albums of fifty media with a few links each).
    #[arg(
        long,
        env = "HYPERNET_MAX_COMPLEXITY",
        default_value_t = 50_000,
        global = true
    )]
    pub max_complexity: usize,

    /// Most aliases accepted in one query document (default 30).
    #[arg(
        long,
        env = "HYPERNET_MAX_ALIASES",
        default_value_t = 30,
        global = true
    )]
    pub max_aliases: usize,

    /// Storage quota of new accounts in bytes (default 10 GiB).
    #[arg(long, env = "HYPERNET_DEFAULT_QUOTA_BYTES", default_value_t = 10 * 1024 * 1024 * 1024, global = true)]
    pub default_quota_bytes: i64,

    /// Seconds that shutdown waits for requests in flight before it stops anyway (default 10).
    #[arg(
        long,
        env = "HYPERNET_SHUTDOWN_GRACE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// Where media bytes are stored: `file:///absolute/path` (default: `blobs` in the data dir).
    #[arg(long, env = "HYPERNET_STORAGE_URL", global = true)]
    pub storage_url: Option<String>,

    /// Largest accepted upload in bytes, through either upload path (default 4 GiB).
    #[arg(long, env = "HYPERNET_MAX_UPLOAD_BYTES", default_value_t = 4 * 1024 * 1024 * 1024, global = true)]
    pub max_upload_bytes: u64,

    /// Hours a resumable upload session stays open (default 24).
    #[arg(
        long,
        env = "HYPERNET_UPLOAD_SESSION_TTL_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub upload_session_ttl_hours: u64,

    /// Seconds a signed `Media.contentUrl` stays valid (default 3600).
    #[arg(
        long,
        env = "HYPERNET_CONTENT_URL_TTL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub content_url_ttl_secs: u64,

    /// Days deleted items stay in the trash before they are purged (default 30).
    #[arg(
        long,
        env = "HYPERNET_TRASH_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub trash_retention_days: u64,

    /// Days the change journal keeps events for delta sync (`User.changes`); an older cursor
    /// answers `CURSOR_EXPIRED` (default 30).
    #[arg(
        long,
        env = "HYPERNET_CHANGE_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub change_retention_days: u64,

    /// Seconds between maintenance runs in `serve`: purge, expired uploads, thumbnails (default
    /// 3600; 0 turns them off, e.g. when `hypernet purge` runs from cron).
    #[arg(
        long,
        env = "HYPERNET_MAINTENANCE_INTERVAL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub maintenance_interval_secs: u64,

    /// Public base URL (e.g. `https://photos.example.com`) of absolute `contentUrl` and
    /// `uploadUrl` (default: the scheme and host each request came to).
    #[arg(long, env = "HYPERNET_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Key that encrypts integration credentials, 64 hex digits (default: generated once into
    /// `<data dir>/secrets_key`, mode 0600).
    #[arg(
        long,
        env = "HYPERNET_SECRETS_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secrets_key: Option<String>,

    /// Folders that `local_folder` integrations may read, comma-separated (default: none).
    #[arg(
        long,
        env = "HYPERNET_IMPORT_ROOTS",
        value_delimiter = ',',
        global = true
    )]
    pub import_roots: Vec<std::path::PathBuf>,

    /// Most items one `importMedia` call takes (default 500).
    #[arg(
        long,
        env = "HYPERNET_MAX_IMPORT_BATCH",
        default_value_t = 500,
        global = true
    )]
    pub max_import_batch: usize,

    /// Make tags of the keywords an uploaded photo carries (EXIF `XPKeywords`, XMP
    /// `dc:subject`) and tag the photo with them (default false).
    #[arg(long, env = "HYPERNET_IMPORT_KEYWORDS", default_value_t = false, action = ArgAction::Set, global = true)]
    pub import_keywords: bool,

    /// Seconds an instance trusts what it last read of a session: how long a revoked
    /// session's access tokens may still work on the other instances (default 2).
    #[arg(
        long,
        env = "HYPERNET_SESSION_CHECK_SECS",
        default_value_t = 2,
        global = true
    )]
    pub session_check_secs: u64,

    /// Most subscriptions (`/graphql/ws`) one user may hold open on this instance (default 50).
    #[arg(
        long,
        env = "HYPERNET_WS_MAX_SUBSCRIPTIONS_PER_USER",
        default_value_t = 50,
        global = true
    )]
    pub ws_max_subscriptions_per_user: usize,

    /// Most subscriptions open on this instance, all users together (default 10000).
    #[arg(
        long,
        env = "HYPERNET_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 10_000,
        global = true
    )]
    pub ws_max_subscriptions: usize,

    /// Seconds a subscriber may take to accept a message before its connection is closed
    /// (close code 1013, "try again later"): the journal keeps what it missed, and it resumes
    /// from its last cursor (default 10).
    #[arg(
        long,
        env = "HYPERNET_WS_SEND_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub ws_send_timeout_secs: u64,

    /// Most nodes one `traverse` visits before it stops and says so (`truncated`).
    #[arg(
        long,
        env = "HYPERNET_TRAVERSE_MAX_NODES",
        default_value_t = 10_000,
        global = true
    )]
    pub traverse_max_nodes: usize,

    /// Origins whose browser apps may call the API, comma-separated and exact
    /// (`https://app.example.com`); `*` allows any (safe here: the API authenticates by bearer
    /// token, never by cookie). Default: none, same-origin only.
    #[arg(
        long,
        env = "HYPERNET_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// `open` (default: any document, and automatic persisted queries), or `trusted` (only the
    /// documents added with `hypernet documents add`).
    #[arg(
        long,
        env = "HYPERNET_DOCUMENTS",
        value_enum,
        default_value_t = DocumentsMode::Open,
        global = true
    )]
    pub documents: DocumentsMode,

    /// Most documents clients may register through automatic persisted queries; the oldest go
    /// first beyond it (default 10000; trusted documents do not count).
    #[arg(
        long,
        env = "HYPERNET_MAX_PERSISTED_DOCUMENTS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_persisted_documents: u64,

    /// `planned` (default), or `resolvers`: answer through async-graphql's own resolvers, the
    /// slower reference the planned executor is tested against.
    #[arg(
        long,
        env = "HYPERNET_EXECUTOR",
        value_enum,
        default_value_t = ExecutorMode::Planned,
        global = true
    )]
    pub executor: ExecutorMode,

    /// Take the client address from `X-Forwarded-For` (only behind a proxy you trust; default false).
    #[arg(long, env = "HYPERNET_TRUST_FORWARDED_FOR", default_value_t = false, action = ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,

    /// An OpenTelemetry collector's OTLP/HTTP base URL (`http://collector:4318`): traces of
    /// requests and SQL statements are sent to `/v1/traces` there (default: none).
    #[arg(long, env = "HYPERNET_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
}

#[derive(Parser)]
struct DefaultsOnly {
    #[command(flatten)]
    config: Config,
}

impl Config {
    /// The defaults, as `hypernet` with no flags would have them (environment included).
    pub fn defaults() -> Self {
        DefaultsOnly::parse_from(["hypernet"]).config
    }

    /// The database URL in force: the configured one, else a SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("hypernet.db").display()
            ),
        }
    }

    /// The URL of the schema's owner (migrations, backups and restores connect with it):
    /// `HYPERNET_OWNER_DATABASE_URL`, else the server's own.
    pub fn owner_url(&self) -> String {
        self.owner_database_url
            .clone()
            .unwrap_or_else(|| self.effective_database_url())
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_days * 24 * 60 * 60)
    }
}
