//! One error type for the whole application, mapped once to GraphQL `extensions.code`
//! (in `graphql::error`).
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts every
//! `Display` type into an error with no code, so without it the only way from an `AppError` to
//! a GraphQL error is our mapping, and `?` in a resolver cannot lose the code.

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, SqlErr};

/// What can go wrong in a request, in terms a client can act on.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    /// Also what a client sees for an object that exists but belongs to someone else.
    NotFound(String),
    BadUserInput {
        message: String,
        field: Option<&'static str>,
    },
    Conflict(String),
    /// A change-feed cursor older than the journal's retention: the client reads everything
    /// again, then follows from a fresh cursor.
    CursorExpired(String),
    QuotaExceeded(String),
    /// A cap on open subscriptions (per user or per instance) is reached.
    TooManySubscriptions(String),
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database is busy (every connection in use) or cannot be reached: worth a retry.
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// A statement ran into its time limit.
    Timeout(String),
    /// The disk or the object store is full.
    InsufficientStorage(String),
    /// Anything the client cannot fix. Logged with its cause; never shown.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The GraphQL `extensions.code` of this error (DESIGN §5).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::BadUserInput { .. } => "BAD_USER_INPUT",
            AppError::Conflict(_) => "CONFLICT",
            AppError::CursorExpired(_) => "CURSOR_EXPIRED",
            AppError::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            AppError::TooManySubscriptions(_) => "TOO_MANY_SUBSCRIPTIONS",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable { .. } => "SERVICE_UNAVAILABLE",
            AppError::Timeout(_) => "TIMEOUT",
            AppError::InsufficientStorage(_) => "INSUFFICIENT_STORAGE",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// Whether the same request may succeed if sent again unchanged (`extensions.retryable`).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            AppError::RateLimited { .. } | AppError::Unavailable { .. }
        )
    }

    /// Seconds to wait before retrying, where the server can say.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::RateLimited {
                retry_after_secs, ..
            }
            | AppError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The message a client may see; internal causes are never part of it.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::CursorExpired(m)
            | AppError::QuotaExceeded(m)
            | AppError::TooManySubscriptions(m)
            | AppError::Timeout(m)
            | AppError::InsufficientStorage(m) => m.clone(),
            AppError::BadUserInput { message, .. }
            | AppError::RateLimited { message, .. }
            | AppError::Unavailable { message, .. } => message.clone(),
            AppError::Internal(_) => "internal error".into(),
        }
    }

    /// For callers outside a request (CLI, background jobs): the cause itself for internal
    /// errors, the client message otherwise.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            AppError::Internal(cause) => cause,
            other => anyhow::anyhow!("{} ({})", other.message(), other.code()),
        }
    }

    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: Some(field),
        }
    }

    /// An unexpected failure: internal, unless its cause is an operational one (see
    /// `From<anyhow::Error>`).
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::from(err.into())
    }
}

impl From<DbErr> for AppError {
    /// The one place where database errors get a code: a unique-constraint violation is
    /// `CONFLICT`; see [`operational`] for the others an operator or a client can act on.
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return AppError::Conflict("an object with these values already exists".into());
        }
        operational(&err).unwrap_or_else(|| {
            AppError::Internal(anyhow::Error::new(err).context("database error"))
        })
    }
}

/// The database is busy.
fn busy() -> AppError {
    AppError::Unavailable {
        message: "the server is busy: every database connection is in use; try again shortly"
            .into(),
        retry_after_secs: 1,
    }
}

/// The database does not answer.
fn unreachable() -> AppError {
    AppError::Unavailable {
        message: "the database cannot be reached; try again later".into(),
        retry_after_secs: 5,
    }
}

fn full() -> AppError {
    AppError::InsufficientStorage("the server's storage is full; nothing was changed".into())
}

/// Database failures that are not bugs: the pool exhausted, the server gone, a statement
/// timeout, a full disk (PostgreSQL's SQLSTATEs and SQLite's result codes).
fn operational(err: &DbErr) -> Option<AppError> {
    let runtime = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => return Some(busy()),
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => return Some(unreachable()),
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return None,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return None;
    };
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::sqlx::sqlite::SqliteError;
    match sqlx.as_ref() {
        Sqlx::PoolTimedOut => Some(busy()),
        Sqlx::PoolClosed | Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::Protocol(_) => Some(unreachable()),
        Sqlx::Database(db) if db.try_downcast_ref::<SqliteError>().is_some() => {
            // SQLite's result codes: the primary code is the low byte.
            match db.code()?.parse::<i32>().ok()? & 0xff {
                // SQLITE_FULL.
                13 => Some(full()),
                // SQLITE_BUSY, SQLITE_LOCKED past the busy timeout.
                5 | 6 => Some(busy()),
                _ => None,
            }
        }
        Sqlx::Database(db) => {
            // PostgreSQL's SQLSTATE.
            let code = db.code()?;
            match code.as_ref() {
                // PostgreSQL: query_canceled (statement_timeout), lock_not_available.
                "57014" | "55P03" => Some(AppError::Timeout(
                    "the database took too long to answer; ask for less, or try again later".into(),
                )),
                // disk_full, insufficient_resources, out_of_memory.
                "53100" | "53000" | "53200" => Some(full()),
                // admin_shutdown, crash_shutdown, cannot_connect_now, connection exceptions.
                "57P01" | "57P02" | "57P03" => Some(unreachable()),
                c if c.starts_with("08") => Some(unreachable()),
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<anyhow::Error> for AppError {
    /// Internal, unless a cause in its chain is one of the operational failures above or a
    /// full disk.
    fn from(err: anyhow::Error) -> Self {
        for cause in err.chain() {
            if let Some(db) = cause.downcast_ref::<DbErr>()
                && let Some(known) = operational(db)
            {
                return known;
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>()
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            {
                return full();
            }
        }
        AppError::Internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_contract_code() {
        let cases = [
            (AppError::Unauthenticated("x".into()), "UNAUTHENTICATED"),
            (AppError::Forbidden("x".into()), "FORBIDDEN"),
            (AppError::NotFound("x".into()), "NOT_FOUND"),
            (AppError::bad_input("f", "x"), "BAD_USER_INPUT"),
            (AppError::Conflict("x".into()), "CONFLICT"),
            (AppError::CursorExpired("x".into()), "CURSOR_EXPIRED"),
            (AppError::QuotaExceeded("x".into()), "QUOTA_EXCEEDED"),
            (
                AppError::TooManySubscriptions("x".into()),
                "TOO_MANY_SUBSCRIPTIONS",
            ),
            (
                AppError::RateLimited {
                    message: "x".into(),
                    retry_after_secs: 1,
                },
                "RATE_LIMITED",
            ),
            (
                AppError::Unavailable {
                    message: "x".into(),
                    retry_after_secs: 1,
                },
                "SERVICE_UNAVAILABLE",
            ),
            (AppError::Timeout("x".into()), "TIMEOUT"),
            (
                AppError::InsufficientStorage("x".into()),
                "INSUFFICIENT_STORAGE",
            ),
            (
                AppError::internal(anyhow::anyhow!("boom")),
                "INTERNAL_SERVER_ERROR",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.code(), code);
        }
    }

    #[test]
    fn internal_errors_do_not_show_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("connection to 10.0.0.7 refused"));
        assert_eq!(err.message(), "internal error");
    }

    #[test]
    fn operational_failures_say_what_they_are() {
        let busy: AppError = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout).into();
        assert_eq!(
            (busy.code(), busy.retryable()),
            ("SERVICE_UNAVAILABLE", true)
        );
        assert_eq!(busy.retry_after_secs(), Some(1));
        let gone: AppError = DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed).into();
        assert_eq!(gone.code(), "SERVICE_UNAVAILABLE");
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let full: AppError = anyhow::Error::new(io).context("writing a blob").into();
        assert_eq!(
            (full.code(), full.retryable()),
            ("INSUFFICIENT_STORAGE", false)
        );
        let nested: AppError =
            anyhow::Error::new(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
                .context("loading albums")
                .into();
        assert_eq!(nested.code(), "SERVICE_UNAVAILABLE");
    }

    #[test]
    fn other_database_errors_are_internal() {
        let err: AppError = DbErr::Custom("disk full".into()).into();
        assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    }
}
