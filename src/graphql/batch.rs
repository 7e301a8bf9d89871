//! Request-scoped batching of nested reads, without timers.
//!
//! A GraphQL execution resolves sibling fields by polling all of their futures in one pass;
//! every `load` made meanwhile joins one pending batch per loader. [`drive`] runs the
//! request's execution and its batches in the same task, in waves: queued batches start only
//! when no batch is in flight, so everything the answers of one wave lead resolvers to ask
//! for (whichever of that wave's statements finished first) goes out together in the next.
//! A level of the query costs one statement per loader whatever the timing, and no request
//! waits on a timer (async-graphql's `DataLoader` waits 1 ms per level on a timer thread, and
//! lets a batch start on another worker before every sibling has asked).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use async_graphql::dataloader::Loader;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::sync::oneshot;

/// Keys per statement; a bigger batch is split.
const MAX_BATCH: usize = 1000;

/// The batches a request's loaders have queued, waiting for [`drive`] to start them.
#[derive(Clone, Default)]
pub(crate) struct Jobs(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl Jobs {
    fn push(&self, job: BoxFuture<'static, ()>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(job);
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs `execution` to completion together with the batches its loaders queue, in waves (see
/// the module documentation).
pub(crate) async fn drive<F: Future>(jobs: &Jobs, execution: F) -> F::Output {
    let mut execution = pin!(execution);
    let mut running = FuturesUnordered::new();
    std::future::poll_fn(move |cx| {
        loop {
            if let Poll::Ready(out) = execution.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            // Answers arrived: let the execution use them (and ask for more) before the next
            // wave starts, and without a trip through the scheduler.
            if finish_some(&mut running, cx) {
                continue;
            }
            if running.is_empty() {
                running.extend(jobs.take());
                if finish_some(&mut running, cx) {
                    continue;
                }
            }
            return Poll::Pending;
        }
    })
    .await
}

/// Polls the running batches; whether any finished.
fn finish_some(
    running: &mut FuturesUnordered<BoxFuture<'static, ()>>,
    cx: &mut std::task::Context<'_>,
) -> bool {
    let mut finished = false;
    while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {
        finished = true;
    }
    finished
}

/// What a loader's keys must be (async-graphql's bounds on `Loader` keys).
pub(crate) trait Key: Send + Sync + Hash + Eq + Clone + 'static {}

impl<T: Send + Sync + Hash + Eq + Clone + 'static> Key for T {}

type Answer<K, L> = Result<Arc<HashMap<K, <L as Loader<K>>::Value>>, <L as Loader<K>>::Error>;

struct Pending<K: Key, L: Loader<K>> {
    keys: Vec<K>,
    waiters: Vec<oneshot::Sender<Answer<K, L>>>,
}

/// One loader of one request: keys asked for during one pass share one call of
/// [`Loader::load`]. Nothing is cached across passes (like async-graphql's default).
pub(crate) struct Batcher<K: Key, L: Loader<K>> {
    loader: Arc<L>,
    pending: Arc<Mutex<Option<Pending<K, L>>>>,
    jobs: Jobs,
}

impl<K, L> Batcher<K, L>
where
    K: Key,
    L: Loader<K>,
    L::Error: From<async_graphql::Error>,
{
    pub(crate) fn new(loader: L, jobs: Jobs) -> Self {
        Self {
            loader: Arc::new(loader),
            pending: Arc::new(Mutex::new(None)),
            jobs,
        }
    }

    pub(crate) async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        let mut found = self.load_many([key.clone()]).await?;
        Ok(found.remove(&key))
    }

    pub(crate) async fn load_many(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<HashMap<K, L::Value>, L::Error> {
        let keys: Vec<K> = keys.into_iter().collect();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            match pending.as_mut() {
                Some(batch) => {
                    batch.keys.extend(keys.iter().cloned());
                    batch.waiters.push(tx);
                }
                None => {
                    *pending = Some(Pending {
                        keys: keys.clone(),
                        waiters: vec![tx],
                    });
                    self.jobs.push(self.fetch());
                }
            }
        }
        let answer = rx.await.map_err(|_| {
            L::Error::from(async_graphql::Error::new("a batched read was cancelled"))
        })??;
        Ok(keys
            .into_iter()
            .filter_map(|k| answer.get(&k).map(|v| (k, v.clone())))
            .collect())
    }

    /// The job that sends the pending batch: it takes the keys when it is first polled.
    fn fetch(&self) -> BoxFuture<'static, ()> {
        let pending = self.pending.clone();
        let loader = self.loader.clone();
        Box::pin(async move {
            let Some(batch) = pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            else {
                return;
            };
            let mut seen = HashSet::with_capacity(batch.keys.len());
            let keys: Vec<K> = batch
                .keys
                .into_iter()
                .filter(|k| seen.insert(k.clone()))
                .collect();
            let mut all = HashMap::with_capacity(keys.len());
            let mut failure = None;
            for chunk in keys.chunks(MAX_BATCH) {
                match loader.load(chunk).await {
                    Ok(found) => all.extend(found),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let answer: Answer<K, L> = match failure {
                Some(e) => Err(e),
                None => Ok(Arc::new(all)),
            };
            for waiter in batch.waiters {
                let _ = waiter.send(answer.clone());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Squares(Arc<AtomicUsize>);

    impl Loader<u32> for Squares {
        type Value = u32;
        type Error = async_graphql::Error;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(keys
                .iter()
                .filter(|k| **k != 0)
                .map(|k| (*k, k * k))
                .collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn siblings_share_one_batch_per_pass() {
        let calls = Arc::new(AtomicUsize::new(0));
        let jobs = Jobs::default();
        let loader = Batcher::new(Squares(calls.clone()), jobs.clone());
        let loader = &loader;
        let out = drive(&jobs, async {
            // Level 1: 50 siblings; level 2: each asks again with a derived key.
            futures_util::future::join_all((0..50u32).map(|i| async move {
                let a = loader.load_one(i).await.unwrap();
                let b = loader.load_one(i + 100).await.unwrap();
                (a, b)
            }))
            .await
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one load per level");
        assert_eq!(out[0], (None, Some(10000)));
        assert_eq!(out[7], (Some(49), Some(107 * 107)));
    }

    /// A loader that answers after `ms` milliseconds.
    struct Slow(u64);

    impl Loader<u32> for Slow {
        type Value = u32;
        type Error = async_graphql::Error;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            tokio::time::sleep(std::time::Duration::from_millis(self.0)).await;
            Ok(keys.iter().map(|k| (*k, *k)).collect())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_one_wave_leads_to_is_one_batch_whichever_statement_finishes_first() {
        let calls = Arc::new(AtomicUsize::new(0));
        let jobs = Jobs::default();
        let fast = Batcher::new(Slow(1), jobs.clone());
        let slow = Batcher::new(Slow(30), jobs.clone());
        let squares = Batcher::new(Squares(calls.clone()), jobs.clone());
        let (fast, slow, squares) = (&fast, &slow, &squares);
        let out = drive(&jobs, async {
            futures_util::future::join_all((1..=20u32).map(|i| async move {
                // Half the siblings come through the fast loader, half through the slow one;
                // both halves then ask the same loader.
                let k = if i % 2 == 0 {
                    fast.load_one(i).await.unwrap()
                } else {
                    slow.load_one(i).await.unwrap()
                };
                squares.load_one(k.unwrap()).await.unwrap()
            }))
            .await
        })
        .await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one batch for the second level"
        );
        assert_eq!(out[2], Some(9));
    }

    #[tokio::test]
    async fn big_batches_are_split_and_errors_reach_every_waiter() {
        struct Failing;
        impl Loader<u32> for Failing {
            type Value = u32;
            type Error = async_graphql::Error;
            async fn load(&self, _: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
                Err(async_graphql::Error::new("boom"))
            }
        }
        let calls = Arc::new(AtomicUsize::new(0));
        let jobs = Jobs::default();
        let squares = Batcher::new(Squares(calls.clone()), jobs.clone());
        let failing = Batcher::new(Failing, jobs.clone());
        let (many, errs) = drive(&jobs, async {
            let many = squares.load_many(1..=2500u32).await.unwrap();
            let errs = futures_util::future::join(failing.load_one(1), failing.load_one(2)).await;
            (many, errs)
        })
        .await;
        assert_eq!(many.len(), 2500);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "2,500 keys in chunks of 1,000"
        );
        assert_eq!(errs.0.unwrap_err().message, "boom");
        assert_eq!(errs.1.unwrap_err().message, "boom");
    }
}
