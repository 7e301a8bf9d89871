//! One error type for the whole application, mapped once to GraphQL `extensions.code`
//! (in `graphql::error`).
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts every
//! `Display` type into an error with no code, so without it the only way from an `AppError` to
//! a GraphQL error is our mapping, and `?` in a resolver cannot lose the code.

use sea_orm::{DbErr, SqlErr};

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
    QuotaExceeded(String),
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
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
            AppError::QuotaExceeded(_) => "QUOTA_EXCEEDED",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The message a client may see; internal causes are never part of it.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::QuotaExceeded(m) => m.clone(),
            AppError::BadUserInput { message, .. } | AppError::RateLimited { message, .. } => {
                message.clone()
            }
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

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<DbErr> for AppError {
    /// The one place where a unique-constraint violation becomes `CONFLICT`.
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("an object with these values already exists".into())
            }
            _ => AppError::Internal(anyhow::Error::new(err).context("database error")),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
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
            (AppError::QuotaExceeded("x".into()), "QUOTA_EXCEEDED"),
            (
                AppError::RateLimited {
                    message: "x".into(),
                    retry_after_secs: 1,
                },
                "RATE_LIMITED",
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
    fn other_database_errors_are_internal() {
        let err: AppError = DbErr::Custom("disk full".into()).into();
        assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    }
}
