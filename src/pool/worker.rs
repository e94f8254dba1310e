//! The pool's background task: health checks, reconnection attempts, shrinking.
//!
//! One task per pool. It holds the pool weakly, so dropping every handle ends it even without
//! a shutdown. Each check runs as its own task (in a `JoinSet` the worker owns) holding its
//! connection through a guard, so a hanging server delays nothing else and an aborted check
//! still gives its connection back.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::events::PoolEvent;
use super::guard::PooledConnection;
use super::outcome::RequestOrigin;
use super::shared::{PoolState, SharedPool};
use super::slot::Holder;
use crate::api::{ApiError, ApiErrorKind, RoomApi};
use crate::reconnect::{ConnectionState, ReconnectBudget};

pub(super) async fn run<C: RoomApi>(
    shared: Weak<SharedPool<C>>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut checks = JoinSet::new();
    loop {
        let next_round = {
            let Some(shared) = shared.upgrade() else {
                break;
            };
            shared.refill();
            let (due, next_round) = shared.plan_round();
            let limit = shared.config.connection_timeout.get();
            for connection in due {
                checks.spawn(health_check(connection, limit));
            }
            next_round
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep_until(next_round) => {}
            Some(_) = checks.join_next(), if !checks.is_empty() => {}
        }
    }
    // Aborting drops each check's guard, which gives its connection back.
    checks.shutdown().await;
}

/// The room a health check asks for: a cheap `ListRooms` that matches nothing on a real server.
const HEALTH_CHECK_ROOM: &str = "lktop-health-check-6b1e0c";

/// One cheap request; its outcome goes through the same bookkeeping as a caller's.
async fn health_check<C: RoomApi>(connection: PooledConnection<C>, limit: Duration) {
    let started = Instant::now();
    let request = connection
        .api()
        .list_rooms(vec![HEALTH_CHECK_ROOM.to_owned()]);
    // The API has its own request timeout; this one only guards against an implementation
    // without one.
    let outcome = match tokio::time::timeout(limit, request).await {
        Ok(answer) => answer.map(drop),
        Err(_) => Err(ApiError::new(
            "ListRooms",
            ApiErrorKind::Timeout { after: Some(limit) },
            None,
            connection.shared().server.clone(),
            "the health check got no answer",
        )),
    };
    connection.shared().record(
        connection.id(),
        RequestOrigin::HealthCheck,
        started.elapsed(),
        outcome.as_ref().copied(),
    );
}

impl<C: RoomApi> SharedPool<C> {
    /// Opens connections until the pool holds `pool_size` again (after poisoned ones were
    /// closed). A factory error is logged and tried again next round.
    fn refill(&self) {
        let missing = {
            let mut state = self.lock();
            let have = state.slots.len() + state.opening;
            if state.closed || have >= self.min_size() {
                return;
            }
            let missing = self.min_size() - have;
            state.opening += missing;
            missing
        };
        // Outside the lock: building an HTTP client takes a moment.
        let built: Vec<_> = (0..missing).map(|_| (self.factory)()).collect();
        let mut state = self.lock();
        state.opening -= missing;
        let now = Instant::now();
        for api in built {
            match api {
                Ok(api) if !state.closed => {
                    self.open_slot(&mut state, api, now, "opened to keep pool_size");
                }
                Ok(_) => {}
                Err(reason) => {
                    tracing::warn!(server = %self.server, %reason, "could not open a connection");
                }
            }
        }
    }

    /// Checks out every connection that is due for a check, closes connections idle past
    /// `idle_timeout` above `pool_size`, and says when the next round is due.
    fn plan_round(self: &Arc<Self>) -> (Vec<PooledConnection<C>>, Instant) {
        let now = Instant::now();
        let mut state = self.lock();
        let mut next_round = now + self.config.health_check_interval.get();
        if state.closed {
            return (Vec::new(), next_round);
        }
        let mut due = Vec::new();
        for index in 0..state.slots.len() {
            match self.check_due_at(&mut state, index, now) {
                Some(at) if at <= now && state.slots[index].is_idle() => {
                    if Self::is_reconnect_attempt(&state, index) && !self.budget.try_attempt() {
                        let at = now + ReconnectBudget::deferral(&mut state.rng);
                        self.defer_attempt(&mut state, index, at);
                        next_round = next_round.min(at);
                        continue;
                    }
                    due.push(self.check_out(&mut state, index, Holder::HealthCheck));
                }
                Some(at) if at > now => next_round = next_round.min(at),
                _ => {}
            }
        }
        if let Some(at) = self.shrink(&mut state, now) {
            next_round = next_round.min(at);
        }
        (due, next_round)
    }

    /// A check of a broken connection, or of rejected credentials, is a reconnection attempt
    /// and takes its place in the process-wide budget; the check of a working connection and
    /// the first check of a new one do not.
    fn is_reconnect_attempt(state: &PoolState<C>, index: usize) -> bool {
        state.unauthenticated.is_some()
            || matches!(
                state.slots[index].state(),
                ConnectionState::Reconnecting | ConnectionState::Failed
            )
    }

    fn defer_attempt(&self, state: &mut PoolState<C>, index: usize, at: Instant) {
        if state.unauthenticated.is_some() {
            state.next_auth_check = Some(at);
        } else {
            state.slots[index].retry_at = Some(at);
        }
        tracing::debug!(
            server = %self.server,
            connection = %state.slots[index].id,
            "reconnection attempt deferred: the reconnect budget is spent"
        );
    }

    /// When the connection at `index` should be checked next, if ever. While the credentials
    /// are rejected only one connection is checked, once per `failed_retry_interval`.
    fn check_due_at(
        &self,
        state: &mut PoolState<C>,
        index: usize,
        now: Instant,
    ) -> Option<Instant> {
        let slot = &state.slots[index];
        if state.unauthenticated.is_some() {
            if !slot.is_idle() {
                return None;
            }
            let at = state.next_auth_check.unwrap_or(now);
            let at = state.not_before_the_wait(at, now);
            if at <= now {
                state.next_auth_check = Some(now + self.backoff.failed_retry_interval());
            }
            return Some(at);
        }
        let due = match slot.state() {
            ConnectionState::Disconnected => None,
            ConnectionState::Connecting => Some(now),
            ConnectionState::Connected if slot.check_due => Some(now),
            ConnectionState::Connected => {
                Some(slot.verified + self.config.health_check_interval.get())
            }
            ConnectionState::Reconnecting | ConnectionState::Failed => {
                Some(slot.retry_at.unwrap_or(now))
            }
        };
        // Nothing goes to a server before the time it asked for.
        due.map(|at| state.not_before_the_wait(at, now))
    }

    /// Closes connections above `pool_size` that no caller used for `idle_timeout`, Failed
    /// ones first, then the longest idle. Returns when the next one would be due.
    fn shrink(&self, state: &mut PoolState<C>, now: Instant) -> Option<Instant> {
        let idle_timeout = self.config.idle_timeout.get();
        let mut candidates: Vec<_> = state
            .slots
            .iter()
            .filter(|slot| slot.is_idle())
            .map(|slot| {
                let failed = slot.state() == ConnectionState::Failed;
                (!failed, slot.last_caller_activity(), slot.id)
            })
            .collect();
        candidates.sort_unstable();
        let mut next = None;
        for (_, last_activity, id) in candidates {
            if state.slots.len() <= self.min_size() {
                break;
            }
            let idle_for = now.saturating_duration_since(last_activity);
            if idle_for < idle_timeout {
                let at = last_activity + idle_timeout;
                next = Some(next.map_or(at, |next: Instant| next.min(at)));
                continue;
            }
            let Some(index) = state.slots.iter().position(|slot| slot.id == id) else {
                continue;
            };
            let cause = format!(
                "idle for {} above pool_size",
                humantime::format_duration(round_to_millis(idle_for))
            );
            self.remove_slot(state, index, cause, now);
            self.events.send(PoolEvent::Shrank {
                server: self.server.clone(),
                connection: id,
                total: state.slots.len(),
                idle_for,
            });
        }
        next
    }
}

fn round_to_millis(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}
