//! The cap on open connections: a semaphore whose permit each connection holds until it ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many connections a listener holds open, and those it turned away.
#[derive(Debug)]
pub struct ConnectionCap {
    what: &'static str,
    max: usize,
    permits: Arc<Semaphore>,
    refused: AtomicU64,
    /// Whether the last connection was refused, so the log says when the cap is reached and
    /// when it is left, not once per refused connection.
    at_cap: AtomicBool,
}

/// An accepted connection within the cap; the cap counts it until this is dropped.
#[derive(Debug)]
pub struct Admitted {
    pub(crate) stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl ConnectionCap {
    /// A cap of `max` open connections for the listener called `what` (in its log lines).
    #[must_use]
    pub fn new(what: &'static str, max: usize) -> Self {
        Self {
            what,
            max,
            permits: Arc::new(Semaphore::new(max)),
            refused: AtomicU64::new(0),
            at_cap: AtomicBool::new(false),
        }
    }

    /// The accepted `stream` as a connection to serve, or `None` when the cap is reached:
    /// the stream is then closed at once (the client reads the end of the stream instead of
    /// waiting on a connection nobody serves) and counted.
    #[must_use]
    pub fn admit(&self, stream: TcpStream) -> Option<Admitted> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            if !self.at_cap.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "{}: {} connections open, its cap; closing new ones at once until one \
                     ends (raise the cap if these are real clients)",
                    self.what,
                    self.max
                );
            }
            drop(stream);
            return None;
        };
        if self.at_cap.swap(false, Ordering::Relaxed) {
            tracing::info!(
                refused_so_far = self.refused(),
                "{}: below its cap of {} open connections again",
                self.what,
                self.max
            );
        }
        Some(Admitted {
            stream,
            _permit: permit,
        })
    }

    /// The listener's name in log lines.
    #[must_use]
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Connections closed because the cap was reached, since the listener started.
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Connections open now.
    #[must_use]
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}
