//! A request body that hands over at most a budget of bytes per poll.
//!
//! The GraphQL multipart parser (multer, under async-graphql) reads its input in a loop until
//! the input has nothing ready, and only then gives the file's bytes on to be written. When a
//! client sends faster than that loop runs (a fast client on a busy machine), the loop kept
//! reading: tokio's own budget stopped it after 128 socket reads, tens of megabytes, and the
//! server's peak memory grew by up to 120 MiB during a 200 MB upload. [`Paced`] ends each such
//! loop once [`BUDGET`] bytes have passed, by answering `Pending` once and waking its task at
//! once, so the parser passes on what it holds before it reads more.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use futures_util::Stream;

/// Bytes a body hands over before it makes its reader yield.
pub(crate) const BUDGET: usize = 256 * 1024;

/// `inner`, yielding to its reader after every [`BUDGET`] bytes.
pub(crate) struct Paced<S> {
    inner: S,
    /// Bytes handed over since the reader last saw `Pending`.
    given: usize,
}

impl<S> Paced<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner, given: 0 }
    }
}

impl<S, E> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.given >= BUDGET {
            self.given = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => self.given += chunk.len(),
            Poll::Pending => self.given = 0,
            Poll::Ready(_) => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_body_that_is_always_ready_yields_after_each_budget_and_loses_nothing() {
        let chunk = Bytes::from(vec![7u8; 64 * 1024]);
        let total_chunks = 20;
        let source = futures_util::stream::iter(
            std::iter::repeat_n(chunk, total_chunks).map(Ok::<_, std::io::Error>),
        );
        let mut paced = Paced::new(source);
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);

        // What a reader that loops until `Pending` takes in one go.
        let mut runs = Vec::new();
        let mut received = 0;
        let mut run = 0;
        loop {
            match Pin::new(&mut paced).poll_next(&mut cx) {
                Poll::Ready(Some(Ok(c))) => {
                    run += c.len();
                    received += c.len();
                }
                Poll::Ready(Some(Err(e))) => panic!("{e}"),
                Poll::Ready(None) => break,
                Poll::Pending => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        assert_eq!(received, 64 * 1024 * total_chunks, "every byte arrives");
        assert!(runs.iter().all(|r| *r <= BUDGET), "{runs:?}");
        // Each `Pending` woke the task, so the reader is polled again.
        assert_eq!(wakes.0.load(Ordering::SeqCst), runs.len() - 1);
    }
}
