//! Growing back-off after failed logins, per email and counted per attempt: every password
//! check claims its slot first with a compare-and-set, so aliases, batches and parallel
//! requests cannot multiply guesses.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::error::{AppError, AppResult};
use crate::store;

/// Attempts allowed before the back-off starts.
const FREE_ATTEMPTS: i32 = 5;
/// The first lock lasts this long; each further failure doubles it.
const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;
/// Compare-and-set retries before giving up under heavy contention.
const MAX_CLAIM_TRIES: usize = 8;

/// How long the attempt numbered `attempt` (1-based) locks out the ones after it.
pub(super) fn lock_after(attempt: i32) -> Option<Duration> {
    if attempt < FREE_ATTEMPTS {
        return None;
    }
    let doublings = (attempt - FREE_ATTEMPTS).min(16) as u32;
    let secs = BASE_LOCK_SECS
        .saturating_mul(1i64 << doublings)
        .min(MAX_LOCK_SECS);
    Some(Duration::seconds(secs))
}

fn rate_limited(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1) as u64;
    AppError::RateLimited {
        message: format!("too many failed attempts; try again in {secs} seconds"),
        retry_after_secs: secs,
    }
}

/// Claims the right to check one password for `key`, or answers `RATE_LIMITED`.
pub(super) async fn claim(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    for _ in 0..MAX_CLAIM_TRIES {
        let row = store::login_throttle::get_or_create(db, key).await?;
        let now = store::now();
        if let Some(until) = row.locked_until.filter(|until| *until > now) {
            return Err(rate_limited(until, now));
        }
        let attempt = row.failures.saturating_add(1);
        let lock = lock_after(attempt).map(|d| now + d);
        if store::login_throttle::claim_attempt(db, key, row.failures, lock).await? {
            return Ok(());
        }
    }
    Err(AppError::RateLimited {
        message: "too many concurrent attempts; try again shortly".into(),
        retry_after_secs: 1,
    })
}

/// Forgets the failures of `key` after a correct password.
pub(super) async fn succeeded(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    Ok(store::login_throttle::reset(db, key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_starts_after_the_free_attempts_and_grows() {
        assert_eq!(lock_after(1), None);
        assert_eq!(lock_after(4), None);
        assert_eq!(lock_after(5), Some(Duration::seconds(30)));
        assert_eq!(lock_after(6), Some(Duration::seconds(60)));
        assert_eq!(lock_after(7), Some(Duration::seconds(120)));
        assert_eq!(lock_after(100), Some(Duration::seconds(MAX_LOCK_SECS)));
    }
}
