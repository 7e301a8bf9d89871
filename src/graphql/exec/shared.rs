//! Answers of the live feed's events, shared: a user's subscriptions on this instance that run
//! one document with the same variables answer each event once between them. The first to
//! take an event answers it (its selection, the event's object read as it is then); the others
//! take that answer, waiting for it if it is under way.
//!
//! What makes two subscriptions share is [`SubscriptionDocument`], a digest of the text, the
//! operation name, the variables and the base URL the socket computed when it let the
//! subscription in (two documents that differ only in spacing answer alone, never wrongly
//! together), and the user's journal head as this instance knows it: the objects an answer
//! reads are as they are then, so an answer is reused only until a newer event of the user is
//! read, and a subscriber that replays old events later answers them afresh. Answers are kept
//! in a bounded cache.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{ServerError, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// A subscription's document: the digest of what its answers depend on besides the event and
/// the user (its text, operation name and variables, and the base of the URLs it hands out),
/// in the request's data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SubscriptionDocument([u8; 32]);

impl SubscriptionDocument {
    pub(crate) fn new<const N: usize>(parts: [&str; N]) -> Self {
        let mut digest = Sha256::new();
        for part in parts {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        Self(digest.finalize().into())
    }
}

/// One event's answer to one document, for one user, as of one head of their journal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    viewer: Uuid,
    document: SubscriptionDocument,
    /// The root field's response key.
    field: String,
    /// The event's place in the user's journal.
    seq: i64,
    /// The newest event the instance had read of the user's journal when the answer was
    /// asked for: an answer reads the objects as they are then, so one asked for after
    /// newer events is another answer (a subscriber replaying old events sees the objects
    /// as they are now, not as they were when a live subscriber took those events).
    head: i64,
}

impl Key {
    pub(crate) fn new(
        viewer: Uuid,
        document: SubscriptionDocument,
        field: &str,
        seq: i64,
        head: i64,
    ) -> Self {
        Self {
            viewer,
            document,
            field: field.to_string(),
            seq,
            head,
        }
    }
}

/// A root field's answer: its value and the errors it reported.
pub(crate) struct Answer {
    pub value: Value,
    pub errors: Vec<ServerError>,
}

/// The answers of recent events, by user, document and event (in the schema's data).
pub(crate) struct EventAnswers(Mutex<LruCache<Key, Arc<OnceCell<Arc<Answer>>>>>);

impl Default for EventAnswers {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(Self::CAPACITY)))
    }
}

impl EventAnswers {
    /// Answers kept: enough for every user's newest events while their subscribers take them.
    const CAPACITY: NonZeroUsize = NonZeroUsize::new(4096).expect("not zero");

    /// The answer under `key`, answered with `answer` if no subscription has (or is
    /// answering it now). An error is not kept: the next subscriber tries again.
    pub(crate) async fn answer<F>(&self, key: Key, answer: F) -> Result<Arc<Answer>, ServerError>
    where
        F: std::future::Future<Output = Result<Arc<Answer>, ServerError>>,
    {
        let cell = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(key, || Arc::new(OnceCell::new()))
            .clone();
        Ok(cell.get_or_try_init(|| answer).await?.clone())
    }
}
