//! Connecting to the database: pool sizing, timeouts, SQLite pragmas, migrations under one lock,
//! the server role's grants, and the statement counter. [`Db`], the handle every query goes
//! through, is in `handle`.

mod handle;
mod pg;
mod scope;

pub use handle::{Commits, Db, PoolStatus, Txn};

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
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
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
        return Ok((Db::orm(orm), counter));
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
    Ok((Db::pg(pool), counter))
}

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
