//! argon2id password hashing, run off the async runtime and behind a process-wide gate:
//! at most one hash per core at a time, a short queue behind them, and `RATE_LIMITED` for
//! anything beyond, so that no burst of sign-ins can take every core.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::{AppError, AppResult};

/// Shortest accepted password, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in bytes: longer inputs only cost hashing time.
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

/// A hash of a random password, verified when the email is unknown so that a login for an
/// unknown email costs the same time as one with a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: [u8; 32] = rand::random();
    hash_blocking(&hex::encode(random)).expect("hashing a random password")
});

/// Checks the password rules; the message says what to change.
pub(crate) fn validate_new_password(password: &str, field: &'static str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("password must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_input(
            field,
            format!("password must be at most {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    Ok(())
}

/// Password work admitted at once (one per core) and waiting behind it.
struct Gate {
    running: Semaphore,
    admitted: AtomicUsize,
    capacity: usize,
}

/// Hashes that may wait per core: about a quarter of a second each on these machines.
const QUEUE_PER_CORE: usize = 4;

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Gate {
        running: Semaphore::new(cores),
        admitted: AtomicUsize::new(0),
        capacity: cores * (1 + QUEUE_PER_CORE),
    }
});

/// A place in the gate: counted from admission until the hash is done.
struct Admitted(&'static Gate);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    /// Joins the queue, or refuses when it is full.
    fn admit(&'static self) -> AppResult<Admitted> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let place = Admitted(self);
        if before >= self.capacity {
            return Err(AppError::RateLimited {
                message: "the server is busy checking passwords; try again in a moment".into(),
                retry_after_secs: 1,
            });
        }
        Ok(place)
    }

    async fn run(&'static self) -> AppResult<(Admitted, SemaphorePermit<'static>)> {
        let place = self.admit()?;
        let permit = self
            .running
            .acquire()
            .await
            .context("the password gate is closed")?;
        Ok((place, permit))
    }
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Hashes a password with argon2id (m=19 MiB, t=2, p=1: OWASP's recommendation).
pub(crate) async fn hash(password: String) -> AppResult<String> {
    let _turn = GATE.run().await?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task")?
        .map_err(AppError::Internal)
}

/// Verifies `password` against a PHC hash, or against the dummy hash when there is none.
/// Returns false for a missing hash whatever the password.
pub(crate) async fn verify(password: String, hash: Option<String>) -> AppResult<bool> {
    let _turn = GATE.run().await?;
    tokio::task::spawn_blocking(move || {
        let (target, real) = match &hash {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH.as_str(), false),
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), target)
            .is_ok();
        ok && real
    })
    .await
    .context("password verification task")
    .map_err(AppError::Internal)
}

/// Computes the dummy hash now, so that the first unknown-email login is not the slow one.
pub(crate) fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn the_gate_refuses_beyond_its_queue_and_reopens() {
        let gate: &'static Gate = Box::leak(Box::new(Gate {
            running: Semaphore::new(1),
            admitted: AtomicUsize::new(0),
            capacity: 3,
        }));
        let held: Vec<_> = (0..3).map(|_| gate.admit().unwrap()).collect();
        let refused = gate.admit().map(|_| ()).unwrap_err();
        assert_eq!(refused.code(), "RATE_LIMITED");
        drop(held);
        assert!(gate.admit().is_ok());
        // Running holds a core; the others wait for it.
        let first = gate.run().await.unwrap();
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), gate.run()).await;
        assert!(waiting.is_err(), "a second hash waits for the first");
        drop(first);
        assert!(gate.run().await.is_ok());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_new_password("123456789", "password").is_err());
        assert!(validate_new_password("1234567890", "password").is_ok());
        assert!(validate_new_password("ééééééééé", "password").is_err());
    }
}
