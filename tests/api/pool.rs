//! The database pool (`hypernet::db`): a connection goes back to the pool only in a known
//! state. On PostgreSQL the pool is the server's own (no round trip on release), so these
//! cases are what stands in for sqlx's ping: a transaction dropped without commit, a statement
//! cancelled half-way, a session the server ended.

use std::time::Duration;

use sea_orm::{ConnAcquireErr, ConnectionTrait, DbErr, Statement};

use crate::helpers::{SERVER_ROLE, TestApp};

/// A server whose pool has a single connection, so that every statement shows what the
/// previous one left behind.
async fn one_connection() -> TestApp {
    TestApp::spawn_with(|c| {
        c.db_max_connections = 1;
        c.db_acquire_timeout_secs = 1;
    })
    .await
}

/// A table for the tests' rows that the server's role may write.
async fn scratch(app: &TestApp) {
    app.sql("CREATE TABLE scratch (n integer)").await.unwrap();
    if app.is_postgres() {
        app.sql(&format!("GRANT ALL ON scratch TO {SERVER_ROLE}"))
            .await
            .unwrap();
    }
}

/// The single number a `SELECT` returns, through the server's pool.
async fn pool_i64(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .pool
        .query_one_raw(stmt(app, sql))
        .await
        .unwrap()
        .expect("one row");
    row.try_get_by_index::<i64>(0).unwrap()
}

fn stmt(app: &TestApp, sql: &str) -> Statement {
    Statement::from_string(app.backend(), sql.to_string())
}

/// The PostgreSQL backend process of the connection the next statement gets.
async fn backend_pid(app: &TestApp) -> Result<i64, DbErr> {
    let row = app
        .pool
        .query_one_raw(stmt(app, "SELECT CAST(pg_backend_pid() AS bigint)"))
        .await?
        .expect("one row");
    row.try_get_by_index::<i64>(0)
}

#[tokio::test]
async fn a_transaction_dropped_without_commit_is_rolled_back() {
    let app = one_connection().await;
    scratch(&app).await;
    let pid = if app.is_postgres() {
        Some(backend_pid(&app).await.unwrap())
    } else {
        None
    };

    let txn = app.pool.begin_write().await.unwrap();
    txn.execute_unprepared("INSERT INTO scratch (n) VALUES (1)")
        .await
        .unwrap();
    drop(txn);

    assert_eq!(pool_i64(&app, "SELECT count(*) FROM scratch").await, 0);
    if let Some(pid) = pid {
        // The same connection, kept (the count above would have seen the row inside a
        // transaction left open), and no transaction id is held.
        assert_eq!(backend_pid(&app).await.unwrap(), pid);
        assert_eq!(
            pool_i64(&app,
                "SELECT CAST(CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN 1 ELSE 0 END AS bigint)"
            )
            .await,
            1
        );
    }
    // A committed transaction stays.
    let txn = app.pool.begin_write().await.unwrap();
    txn.execute_unprepared("INSERT INTO scratch (n) VALUES (2)")
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(pool_i64(&app, "SELECT count(*) FROM scratch").await, 1);
}

#[tokio::test]
async fn a_statement_cancelled_half_way_does_not_leave_its_connection_behind() {
    let app = one_connection().await;
    if !app.is_postgres() {
        return; // pg_sleep and backend pids are PostgreSQL's
    }
    scratch(&app).await;
    let first = backend_pid(&app).await.unwrap();

    // Outside a transaction.
    let sleep = app.pool.execute_unprepared("SELECT pg_sleep(30)");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), sleep)
            .await
            .is_err()
    );
    let second = backend_pid(&app).await.unwrap();
    assert_ne!(
        second, first,
        "the cancelled statement's connection was kept"
    );

    // Inside one: the write before the cancelled statement is not committed either.
    let txn = app.pool.begin().await.unwrap();
    txn.execute_unprepared("INSERT INTO scratch (n) VALUES (1)")
        .await
        .unwrap();
    let sleep = txn.execute_unprepared("SELECT pg_sleep(30)");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), sleep)
            .await
            .is_err()
    );
    drop(txn);
    assert_ne!(backend_pid(&app).await.unwrap(), second);
    assert_eq!(pool_i64(&app, "SELECT count(*) FROM scratch").await, 0);
}

#[tokio::test]
async fn a_session_the_server_ended_is_replaced_after_one_failed_statement() {
    let app = one_connection().await;
    if !app.is_postgres() {
        return; // terminating a backend is PostgreSQL's
    }
    let pid = backend_pid(&app).await.unwrap();
    let admin = sea_orm::Database::connect(&app.owner_database_url)
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    for _ in 0..100 {
        let gone = admin
            .query_one_raw(stmt(
                &app,
                &format!("SELECT CAST(count(*) AS bigint) FROM pg_stat_activity WHERE pid = {pid}"),
            ))
            .await
            .unwrap()
            .expect("one row")
            .try_get_by_index::<i64>(0)
            .unwrap()
            == 0;
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    admin.close().await.unwrap();

    // The statement that finds the session gone fails; the one after it gets a new session.
    assert!(backend_pid(&app).await.is_err());
    let replaced = backend_pid(&app).await.unwrap();
    assert_ne!(replaced, pid);
}

#[tokio::test]
async fn a_caller_waits_at_most_the_acquire_timeout() {
    let app = one_connection().await;
    let txn = app.pool.begin().await.unwrap();
    let err = app
        .pool
        .query_one_raw(stmt(&app, "SELECT 1"))
        .await
        .expect_err("the only connection is taken");
    assert!(
        matches!(err, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        "{err:?}"
    );
    txn.commit().await.unwrap();
    assert_eq!(pool_i64(&app, "SELECT CAST(1 AS bigint)").await, 1);
}

#[tokio::test]
async fn connections_are_replaced_after_their_lifetime_and_closed_when_idle() {
    let app = TestApp::spawn_with(|c| {
        c.db_max_connections = 1;
        c.db_max_lifetime_secs = 1;
        c.db_idle_timeout_secs = 2;
    })
    .await;
    if !app.is_postgres() {
        return; // the lifetime and the reaper are the PostgreSQL pool's
    }
    let first = backend_pid(&app).await.unwrap();
    assert_eq!(backend_pid(&app).await.unwrap(), first, "kept while young");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let second = backend_pid(&app).await.unwrap();
    assert_ne!(second, first, "replaced after its lifetime");

    // Left idle past the idle timeout, the server's pooled connections are closed (not the
    // change feed's listening one, which is outside the pool).
    let open = || async {
        app.sql_i64(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '{SERVER_ROLE}'
             AND datname = current_database() AND application_name <> 'hypernet-feed'"
        ))
        .await
    };
    assert!(open().await >= 1);
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if open().await == 0 {
            closed = true;
            break;
        }
    }
    assert!(closed, "idle connections are closed");
    // And the next statement opens a new one.
    assert_ne!(backend_pid(&app).await.unwrap(), second);
}

#[tokio::test]
async fn a_commit_that_breaks_a_constraint_is_a_conflict() {
    let app = one_connection().await;
    if !app.is_postgres() {
        return; // deferred constraints are PostgreSQL's
    }
    app.sql(
        "CREATE TABLE scratch_unique (n integer,
           CONSTRAINT scratch_unique_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();
    app.sql(&format!("GRANT ALL ON scratch_unique TO {SERVER_ROLE}"))
        .await
        .unwrap();
    let txn = app.pool.begin().await.unwrap();
    txn.execute_unprepared("INSERT INTO scratch_unique (n) VALUES (1), (1)")
        .await
        .expect("checked at commit");
    let err = txn
        .commit()
        .await
        .expect_err("the commit breaks the constraint");
    let err = hypernet::error::AppError::from(err);
    assert_eq!(err.code(), "CONFLICT", "{}", err.message());
    // The connection is still good.
    assert_eq!(pool_i64(&app, "SELECT CAST(1 AS bigint)").await, 1);
}
