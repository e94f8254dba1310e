//! Handing out connections: the checkout policy (see the module documentation of
//! [`super`]), waiting with a deadline, growing, and taking connections back.

use std::pin::pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::error::PoolError;
use super::events::PoolEvent;
use super::guard::{Poisoned, PooledConnection};
use super::shared::{PoolState, SharedPool};
use super::slot::Holder;
use crate::api::RoomApi;
use crate::reconnect::{ConnectionId, ConnectionState};

enum Decision<C: RoomApi> {
    Take(PooledConnection<C>),
    /// Open one more connection (already counted in `opening`).
    Open,
    Wait,
    Fail(PoolError),
}

pub(super) async fn acquire<C: RoomApi>(
    shared: &Arc<SharedPool<C>>,
) -> Result<PooledConnection<C>, PoolError> {
    let deadline = Instant::now() + shared.config.connection_timeout.get();
    let mut waiting: Option<WaiterCount<'_, C>> = None;
    loop {
        // Registered before looking, so a connection returned in between still wakes us.
        let mut notified = pin!(shared.available.notified());
        notified.as_mut().enable();
        let decision = {
            let mut state = shared.lock();
            shared.decide(&mut state)
        };
        match decision {
            Decision::Take(connection) => return Ok(connection),
            Decision::Fail(err) => return Err(err),
            Decision::Open => return shared.open_for_caller(),
            Decision::Wait => {}
        }
        if waiting.is_none() {
            waiting = Some(WaiterCount::register(shared));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Err(shared.timeout_error());
        }
    }
}

/// Counts a caller in `waiters` for as long as it waits, however its wait ends.
struct WaiterCount<'a, C: RoomApi> {
    shared: &'a SharedPool<C>,
}

impl<'a, C: RoomApi> WaiterCount<'a, C> {
    fn register(shared: &'a SharedPool<C>) -> Self {
        shared.lock().waiters += 1;
        Self { shared }
    }
}

impl<C: RoomApi> Drop for WaiterCount<'_, C> {
    fn drop(&mut self) {
        self.shared.lock().waiters -= 1;
    }
}

/// Holds a place below `max_pool_size` for a connection being built outside the lock; the
/// place is given back if building fails or panics.
struct Opening<'a, C: RoomApi> {
    shared: Option<&'a SharedPool<C>>,
}

impl<C: RoomApi> Opening<'_, C> {
    /// The connection is in the pool now; the place is no longer held.
    fn complete(mut self, state: &mut PoolState<C>) {
        state.opening -= 1;
        self.shared = None;
    }
}

impl<C: RoomApi> Drop for Opening<'_, C> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared {
            shared.lock().opening -= 1;
            shared.available.notify_waiters();
        }
    }
}

impl<C: RoomApi> SharedPool<C> {
    fn decide(self: &Arc<Self>, state: &mut PoolState<C>) -> Decision<C> {
        use ConnectionState as S;
        if state.closed {
            return Decision::Fail(PoolError::ShutDown {
                server: self.server.clone(),
            });
        }
        let now = Instant::now();
        if let Some(wait) = state.current_wait(now) {
            return Decision::Fail(PoolError::AskedToWait {
                server: self.server.clone(),
                left: wait.until - now,
                reason: wait.reason.clone(),
            });
        }
        let idle_in = |wanted: S, skip_flagged: bool| {
            state
                .slots
                .iter()
                .enumerate()
                .filter(|(_, slot)| slot.is_idle() && slot.state() == wanted)
                .filter(|(_, slot)| !(skip_flagged && slot.check_due))
                .max_by_key(|(_, slot)| slot.returned)
                .map(|(index, _)| index)
        };
        // A connection flagged by a caller's transport error waits for the health check that
        // judges it: handed out again at once, a busy caller (the poller) would keep it away
        // from the check forever, and a connection failing every request would stay Connected.
        if let Some(index) = idle_in(S::Connected, true).or_else(|| idle_in(S::Connecting, true)) {
            return Decision::Take(self.check_out(state, index, Holder::Caller));
        }
        if let Some(reason) = &state.unauthenticated {
            return Decision::Fail(PoolError::Unauthenticated {
                server: self.server.clone(),
                reason: reason.clone(),
            });
        }
        // Growth is for a server that works and is busy. While a connection is in doubt (a
        // caller's transport error flagged it for its health check) or reconnecting, the
        // server may have just gone down: callers wait for the verdict instead of opening
        // connections to it, which read an outage as load (`pool grew to 10`).
        let in_doubt = state.slots.iter().any(|slot| {
            (slot.state() == S::Connected && slot.check_due)
                || matches!(slot.state(), S::Reconnecting | S::Failed)
        });
        let some_work = state.opening > 0
            || state
                .slots
                .iter()
                .any(|slot| matches!(slot.state(), S::Connected | S::Connecting));
        if state.slots.is_empty() || (some_work && !in_doubt) {
            if state.slots.len() + state.opening < self.max_size() {
                state.opening += 1;
                return Decision::Open;
            }
            return Decision::Wait;
        }
        if some_work {
            return Decision::Wait;
        }
        // Nothing is known to work: the server is down or coming back.
        if let Some(index) = idle_in(S::Reconnecting, false) {
            return Decision::Take(self.check_out(state, index, Holder::Caller));
        }
        if state
            .slots
            .iter()
            .any(|slot| slot.state() == S::Reconnecting)
        {
            return Decision::Wait;
        }
        Decision::Fail(PoolError::Unavailable {
            server: self.server.clone(),
            total: state.slots.len(),
            reason: state
                .last_error
                .clone()
                .unwrap_or_else(|| "no connection could be established".to_owned()),
        })
    }

    pub(super) fn check_out(
        self: &Arc<Self>,
        state: &mut PoolState<C>,
        index: usize,
        holder: Holder,
    ) -> PooledConnection<C> {
        let slot = &mut state.slots[index];
        slot.holder = holder;
        PooledConnection::new(Arc::clone(self), slot.id, Arc::clone(&slot.api), holder)
    }

    /// Builds one more connection for the caller (the place was taken by `decide`).
    fn open_for_caller(self: &Arc<Self>) -> Result<PooledConnection<C>, PoolError> {
        let opening = Opening {
            shared: Some(&**self),
        };
        // Outside the lock: building an HTTP client takes a moment.
        let api = (self.factory)().map_err(|reason| PoolError::Connect {
            server: self.server.clone(),
            reason,
        })?;
        let mut state = self.lock();
        opening.complete(&mut state);
        if state.closed {
            return Err(PoolError::ShutDown {
                server: self.server.clone(),
            });
        }
        let index = self.open_slot(
            &mut state,
            api,
            Instant::now(),
            "opened: every connection was busy",
        );
        let connection = self.check_out(&mut state, index, Holder::Caller);
        self.events.send(PoolEvent::Grew {
            server: self.server.clone(),
            connection: connection.id(),
            total: state.slots.len(),
        });
        Ok(connection)
    }

    fn timeout_error(&self) -> PoolError {
        let state = self.lock();
        PoolError::Timeout {
            server: self.server.clone(),
            waited: self.config.connection_timeout.get(),
            total: state.slots.len(),
            in_use: state
                .slots
                .iter()
                .filter(|slot| slot.holder == Holder::Caller)
                .count(),
            max: self.max_size(),
            waiters: state.waiters,
        }
    }

    /// Takes a connection back from a guard; a poisoned one is closed, and the worker opens
    /// another if the pool fell below `pool_size`.
    pub(super) fn release(&self, id: ConnectionId, holder: Holder, poisoned: Option<Poisoned>) {
        let mut state = self.lock();
        let Some(index) = state.slots.iter().position(|slot| slot.id == id) else {
            return;
        };
        let now = Instant::now();
        if state.closed {
            self.remove_slot(&mut state, index, "the pool shut down".to_owned(), now);
            return;
        }
        if let Some(poisoned) = poisoned {
            self.remove_slot(&mut state, index, poisoned.cause().to_owned(), now);
            drop(state);
            self.worker_wake.notify_one();
            // A waiter may now open a connection in its place.
            self.available.notify_one();
            return;
        }
        let slot = &mut state.slots[index];
        slot.holder = Holder::Idle;
        if holder == Holder::Caller {
            slot.returned = now;
            slot.stats.last_used = Some(SystemTime::now());
        }
        let needs_worker = slot.check_due || slot.state() != ConnectionState::Connected;
        drop(state);
        if needs_worker {
            self.worker_wake.notify_one();
        }
        self.available.notify_one();
    }
}
