//! PostgreSQL connections pooled by deadpool, each a sqlx connection that executes SeaORM
//! statements.
//!
//! sqlx's own pool sends a round trip (`Sync`, wait for `ReadyForQuery`) on every connection
//! it takes back, and SeaORM takes one connection per statement, so each statement would pay
//! two round trips. The ping is there because a connection dropped in the middle of a
//! statement is in an unknown state. Here the connection knows that itself: [`Pooled`] marks
//! it busy for the length of each operation, and one dropped while busy (its future
//! cancelled) or broken (an I/O or protocol error) is taken out of the pool and closed, which
//! ends its session and whatever the session had open. A transaction dropped without commit
//! or rollback is rolled back before its connection goes back, in a task of its own, as
//! SeaORM does (`transaction`). Deadpool recycles a connection when it is taken: one idle for a while is
//! pinged first, one past its lifetime is replaced; a task closes connections left idle.
//!
//! Each connection remembers the viewer its session is set for (`hypernet.viewer`, see
//! [`super::scope`]): a statement for another viewer sets it first, and a transaction sets it
//! with its `BEGIN`.
//!
//! Statements are SeaORM's: [`Pool`] and [`Transaction`] implement [`ConnectionTrait`], so the
//! entities and the query builders work on them unchanged, and errors are the same `DbErr`s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use deadpool::{Runtime, managed::QueueMode};
use sea_orm::sqlx::postgres::{
    PgConnectOptions, PgConnection, PgDatabaseError, PgQueryResult, PgRow, PgSeverity,
};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr,
    Statement,
};
use sea_query_sqlx::SqlxValues;

use super::StatementCounter;
use super::scope::{self, Scope};
pub(crate) use transaction::Transaction;

mod transaction;

/// How a [`Pool`] behaves.
#[derive(Debug, Clone)]
pub(crate) struct PoolOptions {
    pub connect: PgConnectOptions,
    pub max_connections: u32,
    /// The longest a caller waits for a connection, and for a new one to connect.
    pub acquire_timeout: Duration,
    /// A connection idle this long is closed.
    pub idle_timeout: Duration,
    /// A connection idle this long is pinged before use (a server restart, a proxy or a
    /// firewall may have dropped it); one in use more recently is trusted.
    pub test_if_idle_for: Duration,
    /// A connection this old is replaced when it is next taken.
    pub max_lifetime: Duration,
}

/// A pooled connection and the viewer its session is set for.
pub(crate) struct Conn {
    conn: PgConnection,
    /// The session's `hypernet.viewer` (a transaction's `SET LOCAL` leaves it as it was).
    viewer: Scope,
}

/// Opens and recycles the pool's connections.
pub(crate) struct Manager {
    options: PoolOptions,
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Conn, sqlx::Error> {
        // Boxed: connecting is rare, and its future is large enough to weigh on every
        // statement's future if it were kept inline in the pool's.
        let connect = Box::pin(PgConnection::connect_with(&self.options.connect));
        Ok(Conn {
            conn: connect.await?,
            // A new session has no `hypernet.viewer`: nobody's rows.
            viewer: Scope::Anonymous,
        })
    }

    async fn recycle(&self, conn: &mut Conn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.age() >= self.options.max_lifetime {
            return Err(RecycleError::message("past its lifetime"));
        }
        if metrics.last_used() >= self.options.test_if_idle_for {
            Box::pin(conn.conn.ping())
                .await
                .map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

struct Shared {
    pool: managed::Pool<Manager>,
    /// Whether row-level security applies to the pool's role: if not, the viewer is never set.
    row_security: AtomicBool,
    statements: Arc<StatementCounter>,
}

/// A pool of PostgreSQL connections that executes SeaORM statements.
#[derive(Clone)]
pub(crate) struct Pool(Arc<Shared>);

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.0.pool.status();
        f.debug_struct("Pool")
            .field("max_connections", &status.max_size)
            .field("open", &status.size)
            .field("idle", &status.available)
            .finish()
    }
}

fn acquire_error(err: PoolError<sqlx::Error>) -> DbErr {
    match err {
        PoolError::Timeout(_) => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        PoolError::Closed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        PoolError::Backend(e) => DbErr::Conn(RuntimeErr::SqlxError(e.into())),
        other => DbErr::Custom(format!("database pool: {other}")),
    }
}

impl Pool {
    /// A pool that opens its connections as they are needed; the first is opened (and kept)
    /// now, so that a wrong URL fails at start. A task closes connections left idle.
    pub(crate) async fn connect(
        options: PoolOptions,
        statements: Arc<StatementCounter>,
    ) -> Result<Self, DbErr> {
        let size = options.max_connections.max(1) as usize;
        let wait = Some(options.acquire_timeout);
        let idle_timeout = options.idle_timeout;
        let pool = managed::Pool::builder(Manager { options })
            .max_size(size)
            .wait_timeout(wait)
            .create_timeout(wait)
            .recycle_timeout(wait)
            // The most recently used first: hot connections are reused, cold ones age out.
            .queue_mode(QueueMode::Lifo)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DbErr::Custom(format!("database pool: {e}")))?;
        let reaper = pool.weak();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(idle_timeout / 4);
            loop {
                tick.tick().await;
                let Some(pool) = reaper.upgrade() else { break };
                if pool.is_closed() {
                    break;
                }
                // Dropped connections close their sockets.
                drop(pool.retain(|_, metrics| metrics.last_used() < idle_timeout));
            }
        });
        let pool = Self(Arc::new(Shared {
            pool,
            row_security: AtomicBool::new(true),
            statements,
        }));
        drop(pool.acquire().await?);
        Ok(pool)
    }

    /// How the pool stands.
    pub(crate) fn status(&self) -> super::PoolStatus {
        let status = self.0.pool.status();
        super::PoolStatus {
            max: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: Some(status.waiting),
        }
    }

    /// A connection of the pool, waiting at most the acquire timeout for one.
    pub(crate) async fn acquire(&self) -> Result<Pooled, DbErr> {
        let conn = self.0.pool.get().await.map_err(acquire_error)?;
        Ok(Pooled {
            conn: Some(conn),
            busy: false,
            statements: self.0.statements.clone(),
        })
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
        self.begin_with(false).await
    }

    /// Begins a transaction that will write: as [`Pool::begin`], and a user's transaction
    /// takes the user's advisory lock in the same round trip, before any row lock. The change
    /// journal's trigger takes that lock before it records an event, so taking it first keeps
    /// one lock order (a transaction that locked a row first and then wanted the user's lock
    /// could deadlock with one that holds the user's lock and wants the row).
    pub(crate) async fn begin_write(&self) -> Result<Transaction, DbErr> {
        self.begin_with(true).await
    }

    async fn begin_with(&self, write: bool) -> Result<Transaction, DbErr> {
        let viewer = self.viewer();
        let mut conn = self.acquire().await?;
        let mut sql = match viewer {
            Some(viewer) if conn.viewer() != viewer => {
                self.0.statements.record_switch();
                format!("BEGIN; SET LOCAL hypernet.viewer = '{}'", viewer.setting())
            }
            _ => "BEGIN".to_string(),
        };
        if write && let Scope::User(user) = scope::current() {
            sql.push_str(&format!(
                "; SELECT pg_advisory_xact_lock({})",
                scope::user_lock_key(user)
            ));
        }
        let sql = sqlx::AssertSqlSafe(sql);
        conn.run(|c| sqlx::raw_sql(sql).execute(c))
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
        Ok(Transaction::on(conn))
    }

    /// Checks that the database answers.
    pub(crate) async fn ping(&self) -> Result<(), DbErr> {
        let mut conn = self.acquire().await?;
        conn.run(|c| c.ping())
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))
    }

    /// Refuses new work and closes the idle connections; those in use close when released.
    pub(crate) async fn close(&self) {
        self.0.pool.close();
    }

    /// A connection whose session shows the rows of the task's scope.
    async fn scoped(&self) -> Result<Pooled, DbErr> {
        let viewer = self.viewer();
        let mut conn = self.acquire().await?;
        if let Some(viewer) = viewer.filter(|v| *v != conn.viewer()) {
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

/// A connection taken from the [`Pool`]; dropping it gives it back, or closes it when it is
/// not fit for use.
pub(crate) struct Pooled {
    conn: Option<Object<Manager>>,
    /// Set before each operation and cleared when it completes well. Still set on drop, the
    /// connection is not fit for use (an operation cancelled half-way or broken, a rollback
    /// not run yet) and is closed instead of kept.
    busy: bool,
    statements: Arc<StatementCounter>,
}

impl Pooled {
    fn viewer(&self) -> Scope {
        self.conn.as_ref().map_or(Scope::Anonymous, |c| c.viewer)
    }

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
        let result = op(&mut conn.conn).await;
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
        if let Some(conn) = self.conn.as_mut() {
            conn.viewer = viewer;
        }
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
        if self.busy {
            // Dropped mid-operation or broken: never reused. Taken out of the pool and
            // dropped, its socket closes, which ends the server's session and rolls back
            // whatever it had open.
            drop(Object::take(conn));
        }
        // Otherwise it goes back to the pool.
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_statement_future_stays_small() {
        // Futures are polled on the caller's stack: a statement's must not carry the
        // pool's connect path inline.
        let opts: super::PgConnectOptions = "postgres://x@127.0.0.1/x".parse().unwrap();
        let manager = super::Manager {
            options: super::PoolOptions {
                connect: opts,
                max_connections: 1,
                acquire_timeout: std::time::Duration::from_secs(1),
                idle_timeout: std::time::Duration::from_secs(1),
                test_if_idle_for: std::time::Duration::from_secs(1),
                max_lifetime: std::time::Duration::from_secs(1),
            },
        };
        let create = deadpool::managed::Manager::create(&manager);
        assert!(std::mem::size_of_val(&create) < 1024);
        drop(create);
        let pool: deadpool::managed::Pool<super::Manager> =
            deadpool::managed::Pool::builder(manager).build().unwrap();
        let get = pool.get();
        assert!(
            std::mem::size_of_val(&get) < 4096,
            "{}",
            std::mem::size_of_val(&get)
        );
    }
}
