//! What wakes the feed's followers: PostgreSQL's `NOTIFY` on the journal's channel, read by one
//! listening connection per instance; on SQLite, this process's commits and a poll of the
//! journal's heads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::Feed;
use crate::db::{self, Db};
use crate::store;

/// The channel the journal's trigger notifies (migration 12).
const CHANNEL: &str = "hypernet_changes";
/// The `application_name` of the listening connection (one per instance, outside the pool).
const LISTENER_NAME: &str = "hypernet-feed";
/// How often SQLite's journal heads are read when no commit of this process woke the feed.
const SQLITE_POLL: Duration = Duration::from_secs(1);
/// How long to wait before listening again after PostgreSQL went away.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// Wakes followers from PostgreSQL's notifications, listening again (and waking everyone, in
/// case a notification was lost meanwhile) whenever the connection drops.
pub(super) async fn listen(feed: Arc<Feed>, url: String) {
    use sea_orm::sqlx::postgres::PgListener;
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}application_name={LISTENER_NAME}");
    let mut warned = false;
    while !feed.stopping.is_cancelled() {
        let listener = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = match listener.await {
            Ok(listener) => listener,
            Err(err) => {
                if !warned {
                    tracing::warn!(error = %err, "cannot listen for changes; retrying");
                    warned = true;
                }
                tokio::time::sleep(RELISTEN_AFTER).await;
                continue;
            }
        };
        warned = false;
        feed.wake_all();
        loop {
            let next = tokio::select! {
                () = feed.stopping.cancelled() => return,
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(note)) => match note.payload().parse::<Uuid>() {
                    Ok(user) => feed.wake(user),
                    Err(_) => feed.wake_all(),
                },
                // The connection closed; the next call connects and listens again.
                Ok(None) => feed.wake_all(),
                Err(err) => {
                    tracing::warn!(error = %err, "lost the change notifications; listening again");
                    feed.wake_all();
                    tokio::time::sleep(RELISTEN_AFTER).await;
                    break;
                }
            }
        }
    }
}

/// Wakes the followers of the users whose journal head moved, read after each commit of this
/// process (and every [`SQLITE_POLL`]).
pub(super) async fn watch_commits(feed: Arc<Feed>, db: Db) {
    let mut heads: HashMap<Uuid, i64> = HashMap::new();
    loop {
        tokio::select! {
            () = feed.stopping.cancelled() => return,
            () = db.commits().next() => {}
            () = tokio::time::sleep(SQLITE_POLL) => {}
        }
        let users = feed.followed();
        heads.retain(|user, _| users.contains(user));
        if users.is_empty() {
            continue;
        }
        match db::as_system(store::changes::heads(&db, &users)).await {
            Ok(now) => {
                for (user, seq) in now {
                    if heads.insert(user, seq) != Some(seq) {
                        feed.wake(user);
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read the change journal's heads"),
        }
    }
}
