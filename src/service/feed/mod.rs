//! The live change feed: who follows which user's change journal on this instance, what wakes
//! them, and the stream a subscription reads.
//!
//! The journal is the truth and a wake-up carries nothing: a follower that is woken reads its
//! user's journal after its own cursor, so a wake-up lost, doubled or late costs a read, never
//! an event. Wake-ups come from PostgreSQL's `NOTIFY` on `hypernet_changes` (migration 12: the
//! payload is the user's id, sent when the change commits, whichever instance made it); on
//! SQLite, which one process serves, from this process's own commits, with a poll of the
//! journal's heads every second for writes made outside a transaction or by the CLI (both in
//! `wake`).
//!
//! A follower holds a [`Ticket`], counted against a per-user and a per-instance cap. Streams
//! are pulled: nothing is read ahead of what the subscriber takes, so a slow subscriber costs
//! no memory here (the socket decides how long it may lag, see `http::ws`).
//!
//! A user's followers on an instance share their reads of the journal: a [`Tail`] holds the
//! user's newest events (every type), and the first follower woken for a change reads what
//! is new once for all of them; each takes from the tail what its `types` ask for. A follower
//! behind the tail (replaying from an old cursor) reads the journal itself until it reaches
//! it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::Stream;
use sea_orm::ConnectionTrait;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Services;
use crate::db::{self, Db, Scope};
use crate::error::{AppError, AppResult};
use crate::store::changes::Change;

mod wake;

/// Events read from the journal at a time.
const PAGE: u64 = 100;
/// Events a user's tail keeps for followers that lag a little.
const TAIL: usize = 256;

/// The followers of this instance, by user.
pub(crate) struct Feed {
    state: Mutex<Followers>,
    max_per_user: usize,
    max_total: usize,
    /// Cancelled when the server stops: sockets close with "going away".
    stopping: CancellationToken,
}

#[derive(Default)]
struct Followers {
    users: HashMap<Uuid, Followed>,
    total: usize,
}

/// A followed user: the wake-up (a counter bumped per wake), how many follow, and the tail
/// they share.
struct Followed {
    wake: watch::Sender<u64>,
    count: usize,
    tail: Arc<tokio::sync::Mutex<Tail>>,
}

/// A user's newest events, every type: all of them from `from` (exclusive) to `through`
/// (inclusive), in order.
#[derive(Default)]
struct Tail {
    events: VecDeque<Arc<Change>>,
    from: i64,
    through: i64,
    /// The wake-up counter seen before the read that made `through` current: a follower
    /// woken by a later count reads again.
    seen: u64,
    /// The last read stopped at a full page: there is more after `through`.
    more: bool,
    /// Whether `from` and `through` mean anything yet.
    started: bool,
}

/// One follower's place in the feed; dropping it leaves.
pub(crate) struct Ticket {
    feed: Arc<Feed>,
    user: Uuid,
    wake: watch::Receiver<u64>,
    tail: Arc<tokio::sync::Mutex<Tail>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.feed.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(followed) = state.users.get_mut(&self.user) {
            followed.count -= 1;
            if followed.count == 0 {
                state.users.remove(&self.user);
            }
        }
    }
}

impl Feed {
    pub(crate) fn new(max_per_user: usize, max_total: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            max_per_user,
            max_total,
            stopping: CancellationToken::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Followers> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a follower of `user`, unless a cap is reached (`TOO_MANY_SUBSCRIPTIONS`).
    pub(crate) fn join(self: &Arc<Self>, user: Uuid) -> AppResult<Ticket> {
        let mut state = self.lock();
        if state.total >= self.max_total {
            return Err(AppError::TooManySubscriptions(format!(
                "this server holds its most subscriptions ({}); try again later or elsewhere",
                self.max_total
            )));
        }
        let followed = state.users.entry(user).or_insert_with(|| Followed {
            wake: watch::channel(0).0,
            count: 0,
            tail: Arc::default(),
        });
        if followed.count >= self.max_per_user {
            return Err(AppError::TooManySubscriptions(format!(
                "you have {} subscriptions open here, the most allowed: close one first",
                self.max_per_user
            )));
        }
        followed.count += 1;
        let (wake, tail) = (followed.wake.subscribe(), followed.tail.clone());
        state.total += 1;
        Ok(Ticket {
            feed: self.clone(),
            user,
            wake,
            tail,
        })
    }

    /// Tells `user`'s followers that the journal may hold news.
    pub(crate) fn wake(&self, user: Uuid) {
        if let Some(followed) = self.lock().users.get(&user) {
            followed.wake.send_modify(|n| *n += 1);
        }
    }

    /// Tells every follower to read (after a wake-up may have been missed).
    pub(crate) fn wake_all(&self) {
        for followed in self.lock().users.values() {
            followed.wake.send_modify(|n| *n += 1);
        }
    }

    fn followed(&self) -> Vec<Uuid> {
        self.lock().users.keys().copied().collect()
    }

    /// The newest event of `user`'s journal that this instance's followers have read (every
    /// event up to it is committed): what an answer read now reflects at least. `None` while
    /// nobody here follows the user.
    pub(crate) async fn head(&self, user: Uuid) -> Option<i64> {
        let tail = self.lock().users.get(&user)?.tail.clone();
        let tail = tail.lock().await;
        tail.started.then_some(tail.through)
    }

    /// Open subscriptions on this instance.
    pub(crate) fn subscriptions(&self) -> usize {
        self.lock().total
    }

    /// Cancelled when the server stops.
    pub(crate) fn stopping(&self) -> &CancellationToken {
        &self.stopping
    }

    /// Starts what wakes this instance's followers: `LISTEN` on PostgreSQL (`database_url`),
    /// this process's commits and a poll of the heads on SQLite. Runs until [`Feed::stop`].
    pub(crate) fn start(self: &Arc<Self>, db: Db, database_url: String) {
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            tokio::spawn(wake::listen(self.clone(), database_url));
        } else {
            tokio::spawn(wake::watch_commits(self.clone(), db));
        }
    }

    /// Stops the wake-ups and tells the sockets to close.
    pub(crate) fn stop(&self) {
        self.stopping.cancel();
    }
}

/// Where a subscription is in its user's journal.
struct Follow {
    services: Arc<Services>,
    viewer: Uuid,
    types: Option<Vec<String>>,
    /// The last event read (or skipped by `types`).
    position: i64,
    /// Read and not yet taken.
    ready: VecDeque<Arc<Change>>,
    /// Whether the journal may hold events after `position` not read yet.
    behind: bool,
    ticket: Ticket,
    failed: bool,
}

impl Services {
    /// The viewer's events after `after` (a cursor; `None`: from now on), then each new one as
    /// it commits, each once and in order. Fails at once with `CURSOR_EXPIRED` for a cursor
    /// older than the journal keeps, `TOO_MANY_SUBSCRIPTIONS` past a cap; an error later (the
    /// subscriber fell so far behind that the journal was trimmed past it, the database went
    /// away) is the stream's last item.
    pub(crate) async fn follow_changes(
        self: &Arc<Self>,
        viewer: Uuid,
        after: Option<i64>,
        types: Option<Vec<String>>,
    ) -> AppResult<impl Stream<Item = AppResult<Arc<Change>>> + Send + use<>> {
        let mut ticket = self.feed.join(viewer)?;
        ticket.wake.borrow_and_update();
        let mut follow = Follow {
            services: self.clone(),
            viewer,
            types,
            position: 0,
            ready: VecDeque::new(),
            behind: true,
            ticket,
            failed: false,
        };
        match after {
            Some(after) => {
                follow.position = after;
                follow.read().await?;
            }
            None => {
                let now = db::within(Scope::User(viewer), self.change_cursor(viewer));
                follow.position = now.await?;
                follow.behind = false;
            }
        }
        Ok(futures_util::stream::unfold(
            follow,
            |mut follow| async move { follow.next().await.map(|item| (item, follow)) },
        ))
    }
}

impl Follow {
    /// Reads what follows `position`: from the user's tail when it reaches that far back,
    /// else from the journal.
    async fn read(&mut self) -> AppResult<()> {
        // Whatever wakes the feed from here on is news to this read's successor.
        let seen = *self.ticket.wake.borrow_and_update();
        let tail = self.ticket.tail.clone();
        let mut tail = tail.lock().await;
        if tail.started && self.position < tail.from {
            drop(tail);
            return self.read_own().await;
        }
        if !tail.started || self.position > tail.through {
            // The tail starts over where this follower is (others behind it read alone
            // until they get there).
            *tail = Tail {
                from: self.position,
                through: self.position,
                started: true,
                // Nothing is known after it yet.
                more: true,
                ..Tail::default()
            };
        }
        if tail.seen < seen || tail.more {
            // Fresh for this wake-up: read once what is new, for every follower of the user.
            let page = self
                .services
                .changes(self.viewer, Some(tail.through), None, PAGE);
            let page = db::within(Scope::User(self.viewer), page).await?;
            tail.seen = tail.seen.max(seen);
            tail.more = page.has_next;
            let newest = page.newest;
            tail.events.extend(page.changes.into_iter().map(Arc::new));
            let last = tail.events.back().map_or(tail.through, |c| c.seq);
            // Without a next page, every event up to the head read before it is in.
            tail.through = if page.has_next {
                last
            } else {
                last.max(newest)
            };
            while tail.events.len() > TAIL {
                if let Some(gone) = tail.events.pop_front() {
                    tail.from = gone.seq;
                }
            }
        }
        let wanted = |c: &Change| match &self.types {
            Some(types) => types.contains(&c.object_type),
            None => true,
        };
        let mut taken = 0;
        let start = self.position;
        for change in tail.events.iter().filter(|c| c.seq > start) {
            if taken == PAGE {
                break;
            }
            self.position = change.seq;
            if wanted(change) {
                self.ready.push_back(change.clone());
                taken += 1;
            }
        }
        self.behind = tail.more || self.position < tail.through && taken == PAGE;
        if !self.behind {
            self.position = tail.through;
        }
        Ok(())
    }

    /// Reads the next page after `position` from the journal, for this follower alone.
    async fn read_own(&mut self) -> AppResult<()> {
        let page = self.services.changes(
            self.viewer,
            Some(self.position),
            self.types.as_deref(),
            PAGE,
        );
        let page = db::within(Scope::User(self.viewer), page).await?;
        if let Some(last) = page.changes.last() {
            self.position = last.seq;
        }
        if !page.has_next {
            // Events up to the head read before the page are all committed and were all
            // read: those `types` left out need not be read again.
            self.position = self.position.max(page.newest);
        }
        // Behind the tail or not, the next read looks again (it goes to the tail once this
        // follower has reached it).
        self.behind = page.has_next;
        self.ready.extend(page.changes.into_iter().map(Arc::new));
        Ok(())
    }

    async fn next(&mut self) -> Option<AppResult<Arc<Change>>> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(change) = self.ready.pop_front() {
                return Some(Ok(change));
            }
            if !self.behind && self.ticket.wake.changed().await.is_err() {
                return None;
            }
            if let Err(err) = self.read().await {
                self.failed = true;
                return Some(Err(err));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_count_against_both_caps_until_dropped() {
        let feed = Feed::new(2, 3);
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let a1 = feed.join(ann).unwrap();
        let a2 = feed.join(ann).unwrap();
        let err = feed.join(ann).err().expect("a third of Ann's");
        assert_eq!(err.code(), "TOO_MANY_SUBSCRIPTIONS");
        let b1 = feed.join(bob).unwrap();
        assert_eq!(feed.subscriptions(), 3);
        assert!(feed.join(Uuid::now_v7()).is_err(), "the instance's cap");
        drop(a1);
        let a3 = feed.join(ann).unwrap();
        drop((a2, a3, b1));
        assert_eq!(feed.subscriptions(), 0);
        assert!(
            feed.lock().users.is_empty(),
            "a user nobody follows is forgotten"
        );
    }

    #[test]
    fn a_wake_reaches_the_users_followers_only() {
        let feed = Feed::new(5, 10);
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let mut a = feed.join(ann).unwrap();
        let mut b = feed.join(bob).unwrap();
        a.wake.borrow_and_update();
        b.wake.borrow_and_update();
        feed.wake(ann);
        assert!(a.wake.has_changed().unwrap());
        assert!(!b.wake.has_changed().unwrap());
        feed.wake_all();
        assert!(b.wake.has_changed().unwrap());
    }
}
