//! Connecting to the database: pool sizing, timeouts, SQLite pragmas, and the statement counter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::Config;

/// Counts the SQL statements the application sends (SeaORM's metric callback). Exposed on
/// `/metrics`, used by the tests that keep N+1 queries from coming back.
#[derive(Debug, Default)]
pub struct StatementCounter(AtomicU64);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens the pool described by `config`, creating the data directory for SQLite.
pub async fn connect(
    config: &Config,
) -> anyhow::Result<(DatabaseConnection, Arc<StatementCounter>)> {
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
        .idle_timeout(Duration::from_secs(600))
        // SeaORM pings a pooled connection on every checkout by default: one more round trip
        // per statement, which cost about as much of PostgreSQL's time as the statement itself
        // on `node(id:)`. Only connections idle long enough to have been dropped (a server
        // restart, a proxy, a firewall) are pinged now; a hot connection that breaks fails its
        // statement once, like any other dropped connection.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .statement_timeout(statement_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(statement_timeout)
        });
    let mut db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(&url)))?;
    let counter = Arc::new(StatementCounter::default());
    let sink = counter.clone();
    db.set_metric_callback(move |_info| {
        sink.0.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
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
