//! Connecting to the database: pool sizing, timeouts, SQLite pragmas, the statement counter,
//! and [`Db`], the handle every query goes through.

mod pg;
mod scope;

pub use scope::{Scope, as_system, within};
pub(crate) use scope::{current as current_scope, user_lock_key};

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use crate::config::Config;

/// Counts the SQL statements the application sends. Exposed on `/metrics`, used by the tests
/// that keep N+1 queries from coming back. Also counts, apart, the `SET`s of the viewer a
/// PostgreSQL connection sends before a statement for another user (see [`scope`]).
#[derive(Debug, Default)]
pub struct StatementCounter {
    statements: AtomicU64,
    viewer_switches: AtomicU64,
}

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// How many times a connection was set for another viewer.
    pub fn viewer_switches(&self) -> u64 {
        self.viewer_switches.load(Ordering::Relaxed)
    }

    fn record(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    fn record_switch(&self) {
        self.viewer_switches.fetch_add(1, Ordering::Relaxed);
    }
}

/// SeaORM's pool for `config`, creating the data directory for SQLite. The CLI's migrations
/// run on it, and on SQLite it is the server's pool too.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.effective_database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let statement_timeout = Duration::from_secs(config.db_statement_timeout_secs);
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        .connect_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        .idle_timeout(Duration::from_secs(config.db_idle_timeout_secs.max(1)))
        // SeaORM pings a pooled connection on every checkout by default: one more round trip
        // per statement. Only connections idle long enough to have been dropped (a server
        // restart, a proxy, a firewall) are pinged now; a hot connection that breaks fails its
        // statement once, like any other dropped connection.
        .test_before_acquire_if_idle_for(TEST_IF_IDLE_FOR)
        .statement_timeout(statement_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(statement_timeout)
        });
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(&url)))
}

/// SeaORM's pool on the URL migrations run with: the schema owner's when
/// `HYPERNET_OWNER_DATABASE_URL` is set, else the server's own.
pub async fn connect_owner(config: &Config) -> anyhow::Result<DatabaseConnection> {
    match &config.owner_database_url {
        Some(owner) => {
            let config = Config {
                database_url: Some(owner.clone()),
                db_max_connections: 1,
                ..config.clone()
            };
            connect(&config).await
        }
        None => connect(config).await,
    }
}

/// Runs `migrate` while holding the lock of migrations, so that of processes starting together
/// one migrates and the others wait, then find nothing pending: PostgreSQL's advisory lock (on
/// a connection of its own, to `url`); for a SQLite file, an exclusive lock on the file beside
/// it, `<database>.migrations.lock`.
pub async fn migrating<T>(
    url: &str,
    migrate: impl std::future::Future<Output = T>,
) -> anyhow::Result<T> {
    use sea_orm::sqlx::Connection;
    if !url.starts_with("postgres") {
        let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .with_context(|| format!("reading {}", redact_url(url)))?;
        let database = options.get_filename();
        if database.as_os_str().is_empty() || database.as_os_str() == ":memory:" {
            return Ok(migrate.await);
        }
        let mut path = database.as_os_str().to_owned();
        path.push(".migrations.lock");
        let lock = tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.lock()?;
            Ok::<_, std::io::Error>(file)
        })
        .await?
        .context("taking the lock of migrations")?;
        let out = migrate.await;
        // Closing the file releases the lock.
        drop(lock);
        return Ok(out);
    }
    /// The lock's key: "hypernet" in ASCII.
    const MIGRATIONS_LOCK: i64 = 0x6879_7065_726e_6574;
    let mut lock = sea_orm::sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATIONS_LOCK)
        .execute(&mut lock)
        .await
        .context("waiting for the lock of migrations")?;
    let out = migrate.await;
    // Closing the session releases the lock.
    lock.close().await.ok();
    Ok(out)
}

/// Gives the server's role (the user of `DATABASE_URL`) the rows of every table `owner`
/// created, when it is another role: it may read and write them, row-level security deciding
/// which, but owns nothing, cannot change the schema and cannot read the migrations' record.
pub async fn grant_server_role(owner: &DatabaseConnection, config: &Config) -> anyhow::Result<()> {
    if owner.get_database_backend() != DbBackend::Postgres || config.owner_database_url.is_none() {
        return Ok(());
    }
    let url = config.effective_database_url();
    let server = PgConnectOptions::from_str(&url)
        .with_context(|| format!("reading {}", redact_url(&url)))?
        .get_username()
        .to_string();
    let owner_role = owner
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_user::text",
        ))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?
        .unwrap_or_default();
    if owner_role == server {
        return Ok(());
    }
    let role = format!("\"{}\"", server.replace('"', "\"\""));
    owner
        .execute_unprepared(&format!(
            "GRANT USAGE ON SCHEMA public TO {role};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
             REVOKE ALL ON seaql_migrations FROM {role};"
        ))
        .await
        .with_context(|| format!("granting the server's role {server} its rows"))?;
    Ok(())
}

/// Whether row-level security applies to the server's role on PostgreSQL. A superuser, or a
/// role with `BYPASSRLS`, sees every row whatever the policies say: the server warns, and its
/// pool does not set the viewer (a round trip that would buy nothing).
async fn row_security_applies(pool: &pg::Pool) -> Result<bool, DbErr> {
    let stmt = Statement::from_string(
        DbBackend::Postgres,
        "SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    );
    let Some(row) = pool.query_one_raw(stmt).await? else {
        return Ok(true);
    };
    let role = row.try_get_by_index::<String>(0)?;
    if row.try_get_by_index::<bool>(1)? {
        tracing::warn!(
            role,
            "the server's database role is a superuser or bypasses row-level security: \
             the policies that keep users apart in the database do not apply to it; \
             connect as a role of its own (see HYPERNET_OWNER_DATABASE_URL)"
        );
        return Ok(false);
    }
    Ok(true)
}

const TEST_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// The server's pool for `config`, and the counter of the statements sent through it. On
/// SQLite, `orm` (SeaORM's pool) becomes it; on PostgreSQL `orm` is closed and a pool of our
/// own opened (see [`pg`]: sqlx's pool sends a round trip per statement that this one does not).
pub async fn open(
    config: &Config,
    orm: DatabaseConnection,
) -> anyhow::Result<(Db, Arc<StatementCounter>)> {
    let counter = Arc::new(StatementCounter::default());
    if orm.get_database_backend() != DbBackend::Postgres {
        let mut orm = orm;
        let sink = counter.clone();
        orm.set_metric_callback(move |_info| sink.record());
        return Ok((Db(Backend::Orm(orm), Commits::default()), counter));
    }
    orm.close().await.ok();
    let url = config.effective_database_url();
    let connect = PgConnectOptions::from_str(&url)
        .with_context(|| format!("reading {}", redact_url(&url)))?
        .options([(
            "statement_timeout",
            (config.db_statement_timeout_secs * 1000).to_string(),
        )])
        .disable_statement_logging();
    let options = pg::PoolOptions {
        connect,
        max_connections: config.db_max_connections,
        acquire_timeout: Duration::from_secs(config.db_acquire_timeout_secs),
        idle_timeout: Duration::from_secs(config.db_idle_timeout_secs.max(1)),
        test_if_idle_for: TEST_IF_IDLE_FOR,
        // PostgreSQL backends grow caches over a long life; they are replaced now and then.
        max_lifetime: Duration::from_secs(config.db_max_lifetime_secs.max(1)),
    };
    let pool = pg::Pool::connect(options, counter.clone())
        .await
        .with_context(|| format!("connecting to {}", redact_url(&url)))?;
    let applies = row_security_applies(&pool)
        .await
        .with_context(|| format!("reading the role of {}", redact_url(&url)))?;
    pool.set_row_security(applies);
    Ok((Db(Backend::Pg(pool), Commits::default()), counter))
}

/// The database every query goes through: SeaORM's pool on SQLite, a pool of our own on
/// PostgreSQL. A [`ConnectionTrait`], so entities and query builders take it as they are.
#[derive(Debug, Clone)]
pub struct Db(Backend, Commits);

/// Told of every transaction committed on SQLite, so that the live change feed reads the
/// journal at once (on PostgreSQL the journal's trigger sends a `NOTIFY` instead).
#[derive(Debug, Clone, Default)]
pub struct Commits(Arc<tokio::sync::Notify>);

impl Commits {
    /// Waits for the next commit since the last wait (one waiter).
    pub(crate) async fn next(&self) {
        self.0.notified().await;
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Orm(DatabaseConnection),
    Pg(pg::Pool),
}

impl Db {
    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Txn, DbErr> {
        match &self.0 {
            Backend::Orm(db) => db
                .begin()
                .await
                .map(|t| Txn(TxnBackend::Orm(t), self.1.clone())),
            Backend::Pg(pool) => pool
                .begin()
                .await
                .map(|t| Txn(TxnBackend::Pg(t), self.1.clone())),
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that two writers queue on the busy timeout instead of failing
    /// when a read lock cannot be upgraded; on PostgreSQL a user's transaction takes the
    /// user's lock as it begins, before any row lock (the change journal's trigger takes it too).
    pub async fn begin_write(&self) -> Result<Txn, DbErr> {
        match &self.0 {
            Backend::Orm(db) => db
                .begin_with_options(TransactionOptions {
                    isolation_level: None,
                    access_mode: None,
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                })
                .await
                .map(|t| Txn(TxnBackend::Orm(t), self.1.clone())),
            Backend::Pg(pool) => pool
                .begin_write()
                .await
                .map(|t| Txn(TxnBackend::Pg(t), self.1.clone())),
        }
    }

    /// What tells of commits on SQLite (see [`Commits`]).
    pub(crate) fn commits(&self) -> &Commits {
        &self.1
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        match &self.0 {
            Backend::Orm(db) => db.ping().await,
            Backend::Pg(pool) => pool.ping().await,
        }
    }

    /// The pool's figures for `/metrics`.
    pub fn pool_status(&self) -> PoolStatus {
        match &self.0 {
            Backend::Orm(db) => {
                let pool = db.get_sqlite_connection_pool();
                PoolStatus {
                    max: pool.options().get_max_connections() as usize,
                    open: pool.size() as usize,
                    idle: pool.num_idle(),
                    waiting: None,
                }
            }
            Backend::Pg(pool) => pool.status(),
        }
    }

    /// Closes the pool: new work is refused, idle connections are closed.
    pub async fn close(&self) {
        match &self.0 {
            Backend::Orm(db) => {
                db.close_by_ref().await.ok();
            }
            Backend::Pg(pool) => pool.close().await,
        }
    }
}

/// How a pool stands.
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    pub max: usize,
    pub open: usize,
    pub idle: usize,
    /// Tasks waiting for a connection (known on PostgreSQL).
    pub waiting: Option<usize>,
}

/// A transaction of a [`Db`]. Dropped without [`commit`](Self::commit), it is rolled back.
#[derive(Debug)]
pub struct Txn(TxnBackend, Commits);

#[derive(Debug)]
enum TxnBackend {
    Orm(DatabaseTransaction),
    Pg(pg::Transaction),
}

impl Txn {
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.0 {
            TxnBackend::Orm(t) => {
                t.commit().await?;
                self.1.0.notify_one();
                Ok(())
            }
            TxnBackend::Pg(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.0 {
            TxnBackend::Orm(t) => t.rollback().await,
            TxnBackend::Pg(t) => t.rollback().await,
        }
    }
}

/// The span of one SQL statement (a `debug` span: built only when something records it, as
/// an OpenTelemetry exporter or `RUST_LOG=hypernet::db=debug` does), inside the request's.
fn statement_span(sql: &str) -> tracing::Span {
    tracing::debug_span!("sql", statement = %sql.split_whitespace().take(12).collect::<Vec<_>>().join(" "))
}

/// Runs one statement in its span, adding it and its time to the request's figures.
async fn measured<T>(span: tracing::Span, work: impl std::future::Future<Output = T>) -> T {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let out = work.instrument(span).await;
    crate::metrics::record_statement(started.elapsed());
    out
}

/// Implements [`ConnectionTrait`] for a type by handing each call to the backend in use.
macro_rules! delegate_connection {
    ($ty:ty, $($variant:path),+) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $ty {
            fn get_database_backend(&self) -> DbBackend {
                match &self.0 { $($variant(c) => c.get_database_backend()),+ }
            }

            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                let span = statement_span(&stmt.sql);
                measured(span, async {
                    match &self.0 { $($variant(c) => c.execute_raw(stmt).await),+ }
                })
                .await
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                measured(statement_span(sql), async {
                    match &self.0 { $($variant(c) => c.execute_unprepared(sql).await),+ }
                })
                .await
            }

            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                let span = statement_span(&stmt.sql);
                measured(span, async {
                    match &self.0 { $($variant(c) => c.query_one_raw(stmt).await),+ }
                })
                .await
            }

            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                let span = statement_span(&stmt.sql);
                measured(span, async {
                    match &self.0 { $($variant(c) => c.query_all_raw(stmt).await),+ }
                })
                .await
            }
        }
    };
}

delegate_connection!(Db, Backend::Orm, Backend::Pg);
delegate_connection!(Txn, TxnBackend::Orm, TxnBackend::Pg);

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/hn"),
            "postgres://app:***@db:5432/hn"
        );
        assert_eq!(
            redact_url("sqlite://./data/hypernet.db?mode=rwc"),
            "sqlite://./data/hypernet.db?mode=rwc"
        );
    }
}
