//! A transaction on one pooled connection: its statements, its end, and the rollback of one
//! dropped unfinished.

use sea_orm::sqlx;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use super::{Pooled, exec_err, query_err};

/// A transaction on one connection of the [`Pool`](super::Pool). Dropped without [`commit`](Self::commit)
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
    /// A transaction begun on `conn`.
    pub(super) fn on(conn: Pooled) -> Self {
        Self {
            conn: tokio::sync::Mutex::new(Some(conn)),
        }
    }

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
        // A COMMIT can fail like a statement (a deferred constraint, a serialization
        // failure): its error is classified like theirs.
        conn.run(|c| sqlx::raw_sql(sql).execute(c))
            .await
            .map(|_| ())
            .map_err(exec_err)
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
        conn.statements.record();
        result.map(Into::into).map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let result = self.lock().await?.execute_unprepared(sql).await;
        result.map(Into::into).map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut conn = self.lock().await?;
        let result = conn.fetch_optional(stmt).await;
        conn.statements.record();
        result.map(|r| r.map(Into::into)).map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut conn = self.lock().await?;
        let result = conn.fetch_all(stmt).await;
        conn.statements.record();
        result
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}
