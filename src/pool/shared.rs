//! The pool itself, which every handle, guard and the worker point at: its settings, its state
//! under a lock, the signals between callers and the worker, and the state changes of its
//! connections. Checkout, the outcome of requests and the worker's rounds are `impl` blocks of
//! their own files.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::events::{EventSink, PoolEvent};
use super::slot::Slot;
use crate::api::RoomApi;
use crate::config::PoolConfig;
use crate::reconnect::{Backoff, ConnectionId, ReconnectBudget, Trigger};

pub(super) type Factory<C> = Box<dyn Fn() -> Result<C, String> + Send + Sync>;

pub(crate) struct SharedPool<C> {
    pub(super) server: String,
    pub(super) config: PoolConfig,
    pub(super) backoff: Backoff,
    pub(super) budget: Arc<ReconnectBudget>,
    pub(super) factory: Factory<C>,
    pub(super) state: Mutex<PoolState<C>>,
    /// Wakes waiting callers: a connection was returned or opened, or the situation changed
    /// (a state change, shutdown).
    pub(super) available: Notify,
    /// Wakes the worker: a connection needs checking now.
    pub(super) worker_wake: Arc<Notify>,
    pub(super) events: EventSink,
    pub(super) shutdown: CancellationToken,
    pub(super) worker: Mutex<Option<JoinHandle<()>>>,
}

pub(crate) struct PoolState<C> {
    pub(super) slots: Vec<Slot<C>>,
    pub(super) next_id: u64,
    /// Connections being built for callers, counted against `max_pool_size`.
    pub(super) opening: usize,
    pub(super) waiters: usize,
    /// Backoff jitter; one generator per pool so a seed gives one reproducible schedule.
    pub(super) rng: ChaCha8Rng,
    /// The server's reason while it rejects the credentials.
    pub(super) unauthenticated: Option<String>,
    /// While unauthenticated, when the single credentials check is due.
    pub(super) next_auth_check: Option<Instant>,
    /// The last transport or auth error, for [`PoolError::Unavailable`].
    pub(super) last_error: Option<String>,
    /// The server asked for no request before a time (`Retry-After` on a 429 or 503).
    pub(super) asked_to_wait: Option<ServerWait>,
    pub(super) closed: bool,
}

/// A wait the server asked for with `Retry-After`: no request, check or reconnection attempt
/// goes to it before `until`, unless the operator says retry now.
#[derive(Debug, Clone)]
pub(crate) struct ServerWait {
    pub(crate) until: Instant,
    /// The answer that asked for it, in an operator's words.
    pub(crate) reason: String,
}

/// When a connection may try again after the server's wait: spread over a second past it, so
/// the first to go probes alone, and a renewed wait (another 429) holds the others back
/// instead of every connection asking at the same instant.
pub(super) fn after_the_wait(until: Instant, rng: &mut ChaCha8Rng) -> Instant {
    until + Duration::from_millis(rng.random_range(0..=AFTER_THE_WAIT_SPREAD_MS))
}

const AFTER_THE_WAIT_SPREAD_MS: u64 = 1_000;

impl<C> PoolState<C> {
    /// The wait the server asked for, while it lasts.
    pub(super) fn current_wait(&self, now: Instant) -> Option<&ServerWait> {
        self.asked_to_wait.as_ref().filter(|wait| wait.until > now)
    }

    /// When the server's wait ends, while it lasts.
    pub(super) fn waiting_until(&self, now: Instant) -> Option<Instant> {
        self.current_wait(now).map(|wait| wait.until)
    }

    /// `at`, or the end of the server's wait if that is later.
    pub(super) fn not_before_the_wait(&self, at: Instant, now: Instant) -> Instant {
        self.waiting_until(now).map_or(at, |until| at.max(until))
    }
}

impl<C> Drop for SharedPool<C> {
    fn drop(&mut self) {
        // The last handle is gone without a shutdown: let the worker end now.
        self.shutdown.cancel();
    }
}

impl<C: RoomApi> SharedPool<C> {
    pub(super) fn lock(&self) -> MutexGuard<'_, PoolState<C>> {
        // Nothing panics while holding the lock, but a poisoned pool must keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn max_size(&self) -> usize {
        usize::try_from(self.config.max_pool_size).unwrap_or(usize::MAX)
    }

    pub(super) fn min_size(&self) -> usize {
        usize::try_from(self.config.pool_size).unwrap_or(usize::MAX)
    }

    /// Adds a connection in the Connecting state; returns its index.
    pub(super) fn open_slot(
        &self,
        state: &mut PoolState<C>,
        api: C,
        now: Instant,
        cause: &str,
    ) -> usize {
        let id = ConnectionId(state.next_id);
        state.next_id += 1;
        state.slots.push(Slot::new(id, api, now));
        let index = state.slots.len() - 1;
        self.transition(state, index, Trigger::Open, cause.to_owned(), now);
        index
    }

    /// Applies `trigger` to one connection, schedules its next attempt and publishes the
    /// change.
    pub(super) fn transition(
        &self,
        state: &mut PoolState<C>,
        index: usize,
        trigger: Trigger,
        cause: String,
        now: Instant,
    ) {
        let wait_until = state.waiting_until(now);
        let PoolState { slots, rng, .. } = state;
        let slot = &mut slots[index];
        match slot.lifecycle.apply(trigger, cause, &self.backoff, rng) {
            Ok(Some(mut change)) => {
                // No attempt before the time the server asked for.
                if let (Some(delay), Some(until)) = (change.next_retry_in, wait_until) {
                    change.next_retry_in = Some(delay.max(after_the_wait(until, rng) - now));
                }
                slot.retry_at = change.next_retry_in.map(|delay| now + delay);
                self.events.send(PoolEvent::StateChanged {
                    server: self.server.clone(),
                    change,
                });
                // Waiters may now take this connection, or must now fail fast.
                self.available.notify_waiters();
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(server = %self.server, connection = %slot.id, %err, "ignored");
            }
        }
    }

    /// Closes idle connections and marks the pool closed.
    pub(super) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        let now = Instant::now();
        let mut index = 0;
        while index < state.slots.len() {
            if state.slots[index].is_idle() {
                self.remove_slot(&mut state, index, "the pool shut down".to_owned(), now);
            } else {
                index += 1;
            }
        }
    }

    pub(super) fn remove_slot(
        &self,
        state: &mut PoolState<C>,
        index: usize,
        cause: String,
        now: Instant,
    ) {
        self.transition(state, index, Trigger::Close, cause, now);
        state.slots.remove(index);
    }
}
