//! The one mapping from `AppError` to a GraphQL error with `extensions.code`.

use async_graphql::ErrorExtensions;

use crate::error::AppError;

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let message = err.message();
        match &err {
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
            AppError::RateLimited { .. } => tracing::info!(%message, "rate limited"),
            AppError::Unavailable { .. }
            | AppError::Timeout(_)
            | AppError::InsufficientStorage(_) => {
                tracing::warn!(code, %message, "operational error")
            }
            _ => tracing::debug!(code, %message, "client error"),
        }
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            ext.set("retryable", err.retryable());
            if let AppError::BadUserInput {
                field: Some(field), ..
            } = &err
            {
                ext.set("field", *field);
            }
            if let Some(secs) = err.retry_after_secs() {
                ext.set("retryAfter", secs);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: &async_graphql::Error) -> String {
        let ext = err.extensions.as_ref().expect("extensions");
        ext.get("code").expect("code").to_string()
    }

    #[test]
    fn codes_and_fields_reach_the_client() {
        let err: async_graphql::Error = AppError::bad_input("email", "email is bad").into();
        assert_eq!(err.message, "email is bad");
        assert_eq!(code_of(&err), "\"BAD_USER_INPUT\"");
        assert_eq!(
            err.extensions
                .as_ref()
                .unwrap()
                .get("field")
                .unwrap()
                .to_string(),
            "\"email\""
        );
    }

    #[test]
    fn internal_causes_stay_inside() {
        let err: async_graphql::Error =
            AppError::internal(anyhow::anyhow!("password=hunter2 at db:5432")).into();
        assert_eq!(err.message, "internal error");
        assert_eq!(code_of(&err), "\"INTERNAL_SERVER_ERROR\"");
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let err: async_graphql::Error = AppError::RateLimited {
            message: "slow down".into(),
            retry_after_secs: 30,
        }
        .into();
        assert_eq!(code_of(&err), "\"RATE_LIMITED\"");
        assert_eq!(
            err.extensions
                .as_ref()
                .unwrap()
                .get("retryAfter")
                .unwrap()
                .to_string(),
            "30"
        );
    }
}
