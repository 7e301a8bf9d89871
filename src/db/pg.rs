//! PostgreSQL connections of our own, pooled without sqlx's pool.
//!
//! sqlx's pool sends a round trip (`Sync`, wait for `ReadyForQuery`) on every connection it
//! takes back, and SeaORM takes one connection per statement: a `node(id:)` request paid two
//! round trips for one query. The ping is there because a connection dropped in the middle of
//! a statement is in an unknown state. Here the connection knows that itself: [`Pooled`] marks
//! it busy for the length of each operation, and one dropped while busy (its future cancelled)
//! or broken (an I/O or protocol error) is closed instead of kept. A transaction dropped
//! without commit or rollback is rolled back before its connection is kept, in a task of its
//! own, as SeaORM does.
//!
//! Statements are SeaORM's: [`Pool`] and [`Transaction`] implement [`ConnectionTrait`], so the
//! entities and the query builders work on them unchanged, and errors are the same `DbErr`s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{
    PgConnectOptions, PgConnection, PgDatabaseError, PgQueryResult, PgRow, PgSeverity,
};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::StatementCounter;
use super::scope::{self, Scope};

/// How a [`Pool`] behaves.
#[derive(Debug, Clone)]
pub(crate) struct PoolOptions {
    pub connect: PgConnectOptions,
    pub max_connections: u32,
    /// The longest a caller waits for a connection, connecting included.
    pub acquire_timeout: Duration,
    /// A connection idle this long is closed rather than used.
    pub idle_timeout: Duration,
    /// A connection idle this long is pinged before use (a server restart, a proxy or a
    /// firewall may have dropped it); one in use more recently is trusted.
    pub test_if_idle_for: Duration,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
    /// The session's `hypernet.viewer`.
    viewer: Scope,
}

struct Shared {
    options: PoolOptions,
    permits: Arc<Semaphore>,
    /// Most recently used last: the hot connections are reused, the cold ones age out.
    idle: Mutex<Vec<Idle>>,
    closed: AtomicBool,
    /// Whether row-level security applies to the pool's role: if not, the viewer is never set.
    row_security: AtomicBool,
    statements: Arc<StatementCounter>,
}

impl Shared {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The lock is never held across a panic point that could poison it in a way that
        // matters: the vector stays valid.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A pool of PostgreSQL connections that executes SeaORM statements.
#[derive(Clone)]
pub(crate) struct Pool(Arc<Shared>);

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max_connections", &self.0.options.max_connections)
            .field("idle", &self.0.idle().len())
            .finish()
    }
}

impl Pool {
    /// A pool that opens its connections as they are needed; the first is opened (and kept)
    /// now, so that a wrong URL fails at start.
    pub(crate) async fn connect(
        options: PoolOptions,
        statements: Arc<StatementCounter>,
    ) -> Result<Self, DbErr> {
        let permits = Arc::new(Semaphore::new(options.max_connections.max(1) as usize));
        let pool = Self(Arc::new(Shared {
            options,
            permits,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            row_security: AtomicBool::new(true),
            statements,
        }));
        drop(pool.acquire(None).await?);
        Ok(pool)
    }

    /// A connection of the pool, waiting at most the acquire timeout for one. An idle
    /// connection whose session already has `viewer` set is preferred: it needs no `SET`.
    pub(crate) async fn acquire(&self, viewer: Option<Scope>) -> Result<Pooled, DbErr> {
        let shared = &self.0;
        let deadline = tokio::time::Instant::now() + shared.options.acquire_timeout;
        let permit = match tokio::time::timeout_at(deadline, shared.permits.clone().acquire_owned())
            .await
        {
            Err(_) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            Ok(Err(_)) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
            Ok(Ok(permit)) => permit,
        };
        loop {
            let idle = {
                let mut idle = shared.idle();
                match idle.iter().rposition(|i| Some(i.viewer) == viewer) {
                    Some(at) => Some(idle.remove(at)),
                    None => idle.pop(),
                }
            };
            let (conn, session_viewer) = match idle {
                Some(Idle {
                    conn,
                    since,
                    viewer,
                }) => {
                    let idle_for = since.elapsed();
                    if idle_for >= shared.options.idle_timeout {
                        close_in_background(conn);
                        continue;
                    }
                    if idle_for >= shared.options.test_if_idle_for {
                        let mut conn = conn;
                        match tokio::time::timeout_at(deadline, conn.ping()).await {
                            Ok(Ok(())) => (conn, viewer),
                            // Broken (or too slow to answer): dropped, the next one is tried.
                            _ => continue,
                        }
                    } else {
                        (conn, viewer)
                    }
                }
                None => {
                    match tokio::time::timeout_at(
                        deadline,
                        PgConnection::connect_with(&shared.options.connect),
                    )
                    .await
                    {
                        Err(_) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
                        Ok(Err(e)) => return Err(DbErr::Conn(RuntimeErr::SqlxError(e.into()))),
                        // A new session has no `hypernet.viewer`: nobody's rows.
                        Ok(Ok(conn)) => (conn, Scope::Anonymous),
                    }
                }
            };
            return Ok(Pooled {
                conn: Some(conn),
                viewer: session_viewer,
                busy: false,
                shared: shared.clone(),
                _permit: permit,
            });
        }
    }

    /// Whether row-level security applies to the pool's role (it does unless told otherwise).
    pub(crate) fn set_row_security(&self, applies: bool) {
        self.0.row_security.store(applies, Ordering::Relaxed);
    }

    /// The scope the task's statements run in: the task's, or none that needs setting when
    /// row-level security does not apply.
    fn viewer(&self) -> Option<Scope> {
        self.0
            .row_security
            .load(Ordering::Relaxed)
            .then(scope::current)
    }

    /// Begins a transaction on a connection of its own, in the task's scope: the viewer is
    /// set for the transaction (`SET LOCAL`) in the same round trip as `BEGIN`.
    pub(crate) async fn begin(&self) -> Result<Transaction, DbErr> {
        let viewer = self.viewer();
        let mut conn = self.acquire(viewer).await?;
        let sql = match viewer {
            Some(viewer) if conn.viewer != viewer => {
                self.0.statements.record_switch();
                format!("BEGIN; SET LOCAL hypernet.viewer = '{}'", viewer.setting())
            }
            _ => "BEGIN".to_string(),
        };
        let sql = sqlx::AssertSqlSafe(sql);
        conn.run(|c| sqlx::raw_sql(sql).execute(c))
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
        Ok(Transaction {
            conn: tokio::sync::Mutex::new(Some(conn)),
        })
    }

    /// Checks that the database answers.
    pub(crate) async fn ping(&self) -> Result<(), DbErr> {
        let mut conn = self.acquire(self.viewer()).await?;
        conn.run(|c| c.ping())
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))
    }

    /// Refuses new work and closes the idle connections; those in use close when released.
    pub(crate) async fn close(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
        self.0.permits.close();
        let idle: Vec<Idle> = std::mem::take(&mut *self.0.idle());
        for Idle { conn, .. } in idle {
            let _ = conn.close().await;
        }
    }

    /// A connection whose session shows the rows of the task's scope.
    async fn scoped(&self) -> Result<Pooled, DbErr> {
        let viewer = self.viewer();
        let mut conn = self.acquire(viewer).await?;
        if let Some(viewer) = viewer.filter(|v| *v != conn.viewer) {
            self.0.statements.record_switch();
            conn.set_viewer(viewer)
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
        }
        Ok(conn)
    }

    fn count(&self) {
        self.0.statements.record();
    }
}

fn close_in_background(conn: PgConnection) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = conn.close().await;
        });
    }
}

/// A connection taken from the [`Pool`]; dropping it gives it back.
pub(crate) struct Pooled {
    conn: Option<PgConnection>,
    /// The session's `hypernet.viewer` (a transaction's `SET LOCAL` leaves it as it was).
    viewer: Scope,
    /// Set before each operation and cleared when it completes well. Still set on drop, the
    /// connection is not fit for use (an operation cancelled half-way or broken, a rollback
    /// not run yet) and is closed instead of kept.
    busy: bool,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Pooled {
    /// Runs `op` on the connection, keeping track of whether it completed and whether the
    /// connection is still fit for use afterwards.
    async fn run<'c, T, F, Fut>(&'c mut self, op: F) -> Result<T, sqlx::Error>
    where
        F: FnOnce(&'c mut PgConnection) -> Fut,
        Fut: std::future::Future<Output = Result<T, sqlx::Error>> + 'c,
    {
        let Some(conn) = self.conn.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        self.busy = true;
        let result = op(conn).await;
        // On an error that may have broken the connection `busy` stays set, and the
        // connection is closed instead of kept.
        self.busy = matches!(&result, Err(e) if !keeps_session(e));
        result
    }

    /// Sets the session's viewer to `viewer`.
    async fn set_viewer(&mut self, viewer: Scope) -> Result<(), sqlx::Error> {
        // The setting is a UUID, `system` or empty: nothing to escape.
        let sql = sqlx::AssertSqlSafe(format!("SET hypernet.viewer = '{}'", viewer.setting()));
        self.run(|c| sqlx::raw_sql(sql).execute(c)).await?;
        self.viewer = viewer;
        Ok(())
    }

    async fn execute(&mut self, stmt: Statement) -> Result<PgQueryResult, sqlx::Error> {
        let query = query(stmt);
        self.run(|c| query.execute(c)).await
    }

    async fn fetch_all(&mut self, stmt: Statement) -> Result<Vec<PgRow>, sqlx::Error> {
        let query = query(stmt);
        self.run(|c| query.fetch_all(c)).await
    }

    async fn fetch_optional(&mut self, stmt: Statement) -> Result<Option<PgRow>, sqlx::Error> {
        let query = query(stmt);
        self.run(|c| query.fetch_optional(c)).await
    }

    async fn execute_unprepared(&mut self, sql: &str) -> Result<PgQueryResult, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        self.run(|c| sqlx::raw_sql(sql).execute(c)).await
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.busy || self.shared.closed.load(Ordering::SeqCst) {
            // Dropped mid-operation, broken, or the pool is closing: never reused. A dropped
            // socket ends the server's session, rolling back whatever it had open.
            if !self.busy {
                close_in_background(conn);
            }
            return;
        }
        let mut idle = self.shared.idle();
        // The oldest idle connections are at the front; those idle too long are closed here,
        // so that a burst's connections do not stay open for ever.
        let limit = self.shared.options.idle_timeout;
        let stale = idle
            .iter()
            .take_while(|i| i.since.elapsed() >= limit)
            .count();
        let stale: Vec<Idle> = idle.drain(..stale).collect();
        idle.push(Idle {
            conn,
            since: Instant::now(),
            viewer: self.viewer,
        });
        drop(idle);
        for Idle { conn, .. } in stale {
            close_in_background(conn);
        }
    }
}

/// Whether the connection is still fit for use after `error`: the server refused a statement
/// but kept the session. I/O, protocol and TLS errors, and the server's FATAL or PANIC errors
/// (the session is ending, as when an administrator terminates it), are not.
fn keeps_session(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::RowNotFound => true,
        sqlx::Error::Database(e) => !matches!(
            e.try_downcast_ref::<PgDatabaseError>()
                .map(|e| e.severity()),
            Some(PgSeverity::Fatal | PgSeverity::Panic)
        ),
        _ => false,
    }
}

/// A statement as sqlx runs it: SeaORM's SQL (already in PostgreSQL's `$n` form) and values,
/// moved rather than copied.
fn query(stmt: Statement) -> sqlx::query::Query<'static, sqlx::Postgres, SqlxValues> {
    let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

#[async_trait::async_trait]
impl ConnectionTrait for Pool {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut conn = self.scoped().await?;
        let result = conn.execute(stmt).await;
        self.count();
        result.map(Into::into).map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut conn = self.scoped().await?;
        let result = conn.execute_unprepared(sql).await;
        result.map(Into::into).map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut conn = self.scoped().await?;
        let result = conn.fetch_optional(stmt).await;
        self.count();
        result.map(|r| r.map(Into::into)).map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.scoped().await?;
        let result = conn.fetch_all(stmt).await;
        self.count();
        result
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}

/// A transaction on one connection of the [`Pool`]. Dropped without [`commit`](Self::commit)
/// or [`rollback`](Self::rollback), it is rolled back.
pub(crate) struct Transaction {
    /// `None` once committed or rolled back.
    conn: tokio::sync::Mutex<Option<Pooled>>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transaction")
    }
}

impl Transaction {
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        self.finish("COMMIT").await
    }

    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        self.finish("ROLLBACK").await
    }

    async fn finish(self, sql: &'static str) -> Result<(), DbErr> {
        let mut slot = self.conn.lock().await;
        let Some(mut conn) = slot.take() else {
            return Err(DbErr::Custom("the transaction has already ended".into()));
        };
        drop(slot);
        conn.run(|c| sqlx::raw_sql(sql).execute(c))
            .await
            .map(|_| ())
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))
    }

    async fn lock(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Pooled>, DbErr> {
        tokio::sync::MutexGuard::try_map(self.conn.lock().await, Option::as_mut)
            .map_err(|_| DbErr::Custom("the transaction has already ended".into()))
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.get_mut().take() else {
            return;
        };
        if conn.busy {
            // Cancelled mid-statement: dropping the connection ends the session, and with it
            // the transaction.
            return;
        }
        // Not fit for use until the rollback has run: if the task never runs (no runtime, or
        // one shutting down), the connection is closed instead of kept.
        conn.busy = true;
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            // `run` clears `busy` once the rollback has succeeded.
            let _ = conn.run(|c| sqlx::raw_sql("ROLLBACK").execute(c)).await;
        });
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Transaction {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut conn = self.lock().await?;
        let result = conn.execute(stmt).await;
        conn.shared.statements.record();
        result.map(Into::into).map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let result = self.lock().await?.execute_unprepared(sql).await;
        result.map(Into::into).map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut conn = self.lock().await?;
        let result = conn.fetch_optional(stmt).await;
        conn.shared.statements.record();
        result.map(|r| r.map(Into::into)).map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.lock().await?;
        let result = conn.fetch_all(stmt).await;
        conn.shared.statements.record();
        result
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}
