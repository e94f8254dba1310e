//! The exclusive hold on one connection; dropping it gives the connection back.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

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
/// holds it is dropped, so no exit path leaks a connection.
pub struct PooledConnection<C: RoomApi> {
    shared: Arc<SharedPool<C>>,
    id: ConnectionId,
    api: Arc<C>,
    holder: Holder,
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
        let outcome = request(Arc::clone(&self.api)).await;
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
        self.shared.release(self.id, self.holder);
    }
}
