//! [`Db`], the handle every query goes through, and its transactions [`Txn`]: SeaORM's pool on
//! SQLite, our own on PostgreSQL, each statement timed and counted in its span.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use super::pg;

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
    /// SeaORM's pool (SQLite).
    pub(super) fn orm(pool: DatabaseConnection) -> Self {
        Db(Backend::Orm(pool), Commits::default())
    }

    /// Our own pool (PostgreSQL).
    pub(super) fn pg(pool: pg::Pool) -> Self {
        Db(Backend::Pg(pool), Commits::default())
    }

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
