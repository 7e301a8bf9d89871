//! Growing back-off after failed password checks, kept in the database so that it holds
//! across instances, and counted per attempt: every check claims its slot first with a
//! compare-and-set, so aliases, batches and parallel requests cannot multiply guesses.
//!
//! Three counters, each with its own policy (OWASP's guidance on lockout):
//! - the account from one client address: a few free attempts, then a back-off. The owner at
//!   another address is not slowed by a stranger's failures;
//! - the account from every address: a much higher and slower threshold, against guessing
//!   spread over many addresses;
//! - the client address over every account: against one address spraying many accounts (an
//!   IPv6 client counts by its /64, which one subscriber usually holds whole).
//!
//! A correct password forgets the account's two counters and takes one attempt off the
//! address's. Rows are keyed by a SHA-256 of the email (and address), so the table holds
//! no email.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::store;

/// When the back-off of a counter starts and how it grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Policy {
    /// Attempts allowed before the back-off starts.
    free: i32,
    /// The first lock lasts this long; each further failure doubles it.
    base_lock_secs: i64,
    max_lock_secs: i64,
}

/// The account from one address.
pub(super) const ACCOUNT_FROM_ADDRESS: Policy = Policy {
    free: 5,
    base_lock_secs: 30,
    max_lock_secs: 15 * 60,
};
/// The account from every address.
pub(super) const ACCOUNT: Policy = Policy {
    free: 50,
    base_lock_secs: 60,
    max_lock_secs: 15 * 60,
};
/// One address over every account.
pub(super) const ADDRESS: Policy = Policy {
    free: 100,
    base_lock_secs: 60,
    max_lock_secs: 60 * 60,
};

/// Compare-and-set retries before giving up under heavy contention.
const MAX_CLAIM_TRIES: usize = 8;

/// How long the attempt numbered `attempt` (1-based) locks out the ones after it.
pub(super) fn lock_after(policy: Policy, attempt: i32) -> Option<Duration> {
    if attempt < policy.free {
        return None;
    }
    let doublings = (attempt - policy.free).min(16) as u32;
    let secs = policy
        .base_lock_secs
        .saturating_mul(1i64 << doublings)
        .min(policy.max_lock_secs);
    Some(Duration::seconds(secs))
}

fn rate_limited(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1) as u64;
    AppError::RateLimited {
        message: format!("too many failed attempts; try again in {secs} seconds"),
        retry_after_secs: secs,
    }
}

fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The part of a client address one party holds: the address itself, or an IPv6 /64.
fn address_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Ok(ip) => ip.to_string(),
        Err(_) => ip.to_string(),
    }
}

/// The counters one password check goes through.
pub(super) struct Keys {
    account_from_address: String,
    account: String,
    address: Option<String>,
}

impl Keys {
    /// For the normalised `email`, from `ip` (none for a caller whose address is unknown).
    pub(super) fn new(email: &str, ip: Option<&str>) -> Self {
        let address = ip.map(address_key);
        Keys {
            account_from_address: format!(
                "p:{}",
                digest(&[email, address.as_deref().unwrap_or("-")])
            ),
            account: format!("a:{}", digest(&[email])),
            address: address.map(|a| format!("i:{a}")),
        }
    }

    fn each(&self) -> impl Iterator<Item = (&str, Policy)> {
        self.address
            .as_deref()
            .map(|k| (k, ADDRESS))
            .into_iter()
            .chain([
                (self.account_from_address.as_str(), ACCOUNT_FROM_ADDRESS),
                (self.account.as_str(), ACCOUNT),
            ])
    }
}

/// Claims the right to check one password, or answers `RATE_LIMITED`. Every counter is
/// looked at before any is claimed, so a locked one costs no attempt of the others.
pub(super) async fn claim(db: &impl ConnectionTrait, keys: &Keys) -> AppResult<()> {
    let now = store::now();
    for (key, _) in keys.each() {
        if let Some(until) = store::login_throttle::locked_until(db, key).await?
            && until > now
        {
            return Err(rate_limited(until, now));
        }
    }
    for (key, policy) in keys.each() {
        claim_one(db, key, policy).await?;
    }
    Ok(())
}

async fn claim_one(db: &impl ConnectionTrait, key: &str, policy: Policy) -> AppResult<()> {
    for _ in 0..MAX_CLAIM_TRIES {
        let row = store::login_throttle::get_or_create(db, key).await?;
        let now = store::now();
        if let Some(until) = row.locked_until.filter(|until| *until > now) {
            return Err(rate_limited(until, now));
        }
        let attempt = row.failures.saturating_add(1);
        let lock = lock_after(policy, attempt).map(|d| now + d);
        if store::login_throttle::claim_attempt(db, key, row.failures, lock).await? {
            return Ok(());
        }
    }
    Err(AppError::RateLimited {
        message: "too many concurrent attempts; try again shortly".into(),
        retry_after_secs: 1,
    })
}

/// For a probe that is not a password check but tells whether an email has an account
/// (`register` with an email that is taken): refused while the client's address is locked.
pub(super) async fn address_open(db: &impl ConnectionTrait, ip: Option<&str>) -> AppResult<()> {
    let Some(ip) = ip else {
        return Ok(());
    };
    let now = store::now();
    match store::login_throttle::locked_until(db, &format!("i:{}", address_key(ip))).await? {
        Some(until) if until > now => Err(rate_limited(until, now)),
        _ => Ok(()),
    }
}

/// Counts such a probe that found an account against the client's address, as a failed
/// sign-in: enumerating emails through `register` meets the same back-off as spraying them
/// through `login`.
pub(super) async fn address_failed(db: &impl ConnectionTrait, ip: Option<&str>) -> AppResult<()> {
    match ip {
        Some(ip) => claim_one(db, &format!("i:{}", address_key(ip)), ADDRESS).await,
        None => Ok(()),
    }
}

/// After a correct password: the account's counters are forgotten, and the address's
/// attempt was not a failure.
pub(super) async fn succeeded(db: &impl ConnectionTrait, keys: &Keys) -> AppResult<()> {
    store::login_throttle::reset(db, &keys.account_from_address).await?;
    store::login_throttle::reset(db, &keys.account).await?;
    if let Some(address) = &keys.address {
        store::login_throttle::forgive_one(db, address).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_starts_after_the_free_attempts_and_grows() {
        let p = ACCOUNT_FROM_ADDRESS;
        assert_eq!(lock_after(p, 1), None);
        assert_eq!(lock_after(p, 4), None);
        assert_eq!(lock_after(p, 5), Some(Duration::seconds(30)));
        assert_eq!(lock_after(p, 6), Some(Duration::seconds(60)));
        assert_eq!(lock_after(p, 7), Some(Duration::seconds(120)));
        assert_eq!(lock_after(p, 100), Some(Duration::seconds(15 * 60)));
        assert_eq!(lock_after(ACCOUNT, 49), None);
        assert_eq!(lock_after(ADDRESS, 99), None);
    }

    #[test]
    fn keys_hold_no_email_and_an_ipv6_client_counts_by_its_64() {
        let a = Keys::new("ann@example.com", Some("2001:db8:1:2:aaaa::1"));
        let b = Keys::new("ann@example.com", Some("2001:db8:1:2:bbbb::9"));
        assert_eq!(a.address.as_deref(), Some("i:2001:db8:1:2::/64"));
        assert_eq!(a.account_from_address, b.account_from_address);
        assert!(a.each().all(|(k, _)| !k.contains("ann") && k.len() <= 255));
        let c = Keys::new("ann@example.com", Some("::ffff:10.0.0.1"));
        assert_eq!(c.address.as_deref(), Some("i:10.0.0.1"));
        let d = Keys::new("ann@example.com", Some("10.0.0.2"));
        assert_ne!(c.account_from_address, d.account_from_address);
        assert_eq!(c.account, d.account);
    }
}
