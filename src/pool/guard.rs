//! The exclusive hold on one connection; dropping it gives the connection back.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;

use super::outcome::RequestOrigin;
use super::shared::SharedPool;
use super::slot::Holder;
use crate::api::{ApiError, RoomApi};
use crate::reconnect::ConnectionId;

/// A connection checked out of a [`Pool`](super::Pool). It derefs to the [`RoomApi`]; use
/// [`PooledConnection::call`] to have the request's latency and outcome recorded.
///
/// Returned to the pool on drop, which also happens on unwinding and when the future that
/// holds it is dropped, so no exit path leaks a connection. A connection given back in doubt
/// (its holder panicking, or a [`call`](Self::call) dropped before its answer was read) is
/// poisoned: the pool closes it and opens a fresh one instead of handing it to the next
/// caller, as hyper does with a connection whose response was abandoned half read.
pub struct PooledConnection<C: RoomApi> {
    shared: Arc<SharedPool<C>>,
    id: ConnectionId,
    api: Arc<C>,
    holder: Holder,
    /// Set while `call` awaits its request; still set on drop means it was cancelled.
    in_flight: AtomicBool,
}

impl<C: RoomApi> PooledConnection<C> {
    pub(super) fn new(
        shared: Arc<SharedPool<C>>,
        id: ConnectionId,
        api: Arc<C>,
        holder: Holder,
    ) -> Self {
        Self {
            shared,
            id,
            api,
            holder,
            in_flight: AtomicBool::new(false),
        }
    }

    #[must_use]
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Runs `request` on this connection and records its latency and outcome.
    ///
    /// `request` gets a shared handle to the connection so that its future can own it; keep it
    /// no longer than the request, the connection is exclusive to this guard.
    ///
    /// # Errors
    /// The request's error, unchanged.
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T, ApiError>
    where
        F: FnOnce(Arc<C>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let started = Instant::now();
        self.in_flight.store(true, Ordering::Relaxed);
        let outcome = request(Arc::clone(&self.api)).await;
        self.in_flight.store(false, Ordering::Relaxed);
        self.shared.record(
            self.id,
            RequestOrigin::Caller,
            started.elapsed(),
            outcome.as_ref().map(|_| ()),
        );
        outcome
    }

    pub(super) fn api(&self) -> &Arc<C> {
        &self.api
    }

    pub(super) fn shared(&self) -> &Arc<SharedPool<C>> {
        &self.shared
    }
}

impl<C: RoomApi> Deref for PooledConnection<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.api
    }
}

impl<C: RoomApi> fmt::Debug for PooledConnection<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("server", &self.shared.server)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<C: RoomApi> Drop for PooledConnection<C> {
    fn drop(&mut self) {
        let poisoned = if std::thread::panicking() {
            Some(Poisoned::HolderPanicked)
        } else if self.in_flight.load(Ordering::Relaxed) {
            Some(Poisoned::RequestAbandoned)
        } else {
            None
        };
        self.shared.release(self.id, self.holder, poisoned);
    }
}

/// Why a connection came back in a state no one can vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Poisoned {
    /// The task holding it panicked: whatever it was doing with it stopped half way.
    HolderPanicked,
    /// A request was cancelled before its answer was read; the rest of that answer may still
    /// be on its way over the connection.
    RequestAbandoned,
}

impl Poisoned {
    pub(crate) fn cause(self) -> &'static str {
        match self {
            Self::HolderPanicked => "closed: the task holding it panicked",
            Self::RequestAbandoned => "closed: a request was cancelled before its answer was read",
        }
    }
}
