//! What a finished request means for its connection and for the pool: statistics, state
//! transitions, and the server-wide verdict on the credentials.

use std::time::Duration;

use tokio::time::Instant;

use super::events::PoolEvent;
use super::shared::{PoolState, ServerWait, SharedPool, after_the_wait};
use crate::api::{ApiError, RoomApi};
use crate::reconnect::{ConnectionId, ConnectionState, Trigger};

/// The longest wait a server's `Retry-After` is obeyed for: past it, lktop checks again (a
/// server that asks for an hour would otherwise blind the dashboard for that hour).
pub(crate) const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(10 * 60);

/// Who sent the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestOrigin {
    Caller,
    /// The pool's own check of an idle or broken connection.
    HealthCheck,
}

impl<C: RoomApi> SharedPool<C> {
    pub(super) fn record(
        &self,
        id: ConnectionId,
        source: RequestOrigin,
        latency: Duration,
        outcome: Result<(), &ApiError>,
    ) {
        let mut state = self.lock();
        let Some(index) = state.slots.iter().position(|slot| slot.id == id) else {
            return;
        };
        let now = Instant::now();
        let trigger = Trigger::from_error(outcome.err());
        let slot = &mut state.slots[index];
        slot.stats.record(
            latency,
            outcome.is_err(),
            trigger != Trigger::TransportFailed,
        );
        if source == RequestOrigin::HealthCheck
            && matches!(
                slot.state(),
                ConnectionState::Reconnecting | ConnectionState::Failed
            )
        {
            slot.reconnect_attempts += 1;
        }
        if let Err(err) = outcome {
            slot.last_error = Some(err.to_string());
            if let Some(wait) = err.retry_after() {
                // A health check's failure moves its own connection below; a caller's only
                // flags it, and the server's wait is a verdict on every connection.
                let moved_below = (source == RequestOrigin::HealthCheck).then_some(index);
                self.server_asked_to_wait(&mut state, moved_below, wait, err, now);
            }
        }
        match (trigger, outcome) {
            (Trigger::AuthRejected, Err(err)) => self.credentials_rejected(&mut state, err, now),
            (Trigger::TransportFailed, Err(err)) => {
                state.last_error = Some(err.to_string());
                self.transport_failed(&mut state, index, source, err, now);
            }
            _ => {
                self.budget.answered();
                self.answered(&mut state, index, source, now);
            }
        }
    }

    fn answered(
        &self,
        state: &mut PoolState<C>,
        index: usize,
        source: RequestOrigin,
        now: Instant,
    ) {
        let slot = &mut state.slots[index];
        let recovered = matches!(
            slot.state(),
            ConnectionState::Reconnecting | ConnectionState::Failed
        );
        slot.verified = now;
        slot.check_due = false;
        state.asked_to_wait = None;
        let cause = match source {
            RequestOrigin::Caller => "a request got an answer",
            RequestOrigin::HealthCheck => "the health check got an answer",
        };
        self.transition(state, index, Trigger::Succeeded, cause.to_owned(), now);
        // The server is back: the other connections waiting out their backoff (Failed ones
        // up to `failed_retry_interval`) try again now, so the whole pool is healthy within
        // one health check of the server's return instead of one backoff each.
        if recovered {
            let mut woken = false;
            for slot in &mut state.slots {
                if matches!(
                    slot.state(),
                    ConnectionState::Reconnecting | ConnectionState::Failed
                ) {
                    slot.retry_at = Some(now);
                    woken = true;
                }
            }
            if woken {
                self.worker_wake.notify_one();
            }
        }
        if state.unauthenticated.take().is_some() {
            state.next_auth_check = None;
            self.events.send(PoolEvent::Authenticated {
                server: self.server.clone(),
            });
            // The other connections were failed for the credentials alone: check them now.
            for slot in &mut state.slots {
                if slot.state() == ConnectionState::Failed {
                    slot.retry_at = Some(now);
                }
            }
            self.worker_wake.notify_one();
        }
    }

    /// `Retry-After` on a 429 or 503 is the server speaking of itself, not of one connection:
    /// nothing goes to it before the time it named (at most [`LONGEST_SERVER_WAIT`]), every
    /// connection of the pool is reconnecting until then, and callers are told at once
    /// instead of sending requests it said it would refuse.
    fn server_asked_to_wait(
        &self,
        state: &mut PoolState<C>,
        moved_below: Option<usize>,
        wait: Duration,
        err: &ApiError,
        now: Instant,
    ) {
        let until = now + wait.min(LONGEST_SERVER_WAIT);
        if state
            .waiting_until(now)
            .is_some_and(|current| current >= until)
        {
            return;
        }
        let reason = err.to_string();
        tracing::info!(
            server = %self.server,
            wait = %humantime::format_duration(until - now),
            %reason,
            "the server asked for a wait before the next request"
        );
        state.asked_to_wait = Some(ServerWait {
            until,
            reason: reason.clone(),
        });
        for index in 0..state.slots.len() {
            let PoolState { slots, rng, .. } = &mut *state;
            let slot = &mut slots[index];
            match slot.state() {
                ConnectionState::Reconnecting | ConnectionState::Failed => {
                    let after = after_the_wait(until, rng);
                    slot.retry_at = slot.retry_at.map(|at| at.max(after));
                }
                ConnectionState::Connected | ConnectionState::Connecting
                    if Some(index) != moved_below =>
                {
                    let cause = format!(
                        "the server asked for a wait of {}: {reason}",
                        humantime::format_duration(until - now)
                    );
                    self.transition(state, index, Trigger::TransportFailed, cause, now);
                }
                _ => {}
            }
        }
        self.available.notify_waiters();
    }

    /// A caller's transport error only flags the connection: the health check that follows
    /// decides (one timed-out request is not yet a broken connection), and reconnection pacing
    /// stays with the worker. A health check's failure is the verdict.
    fn transport_failed(
        &self,
        state: &mut PoolState<C>,
        index: usize,
        source: RequestOrigin,
        err: &ApiError,
        now: Instant,
    ) {
        match source {
            RequestOrigin::Caller => {
                let slot = &mut state.slots[index];
                if matches!(
                    slot.state(),
                    ConnectionState::Connected | ConnectionState::Connecting
                ) {
                    slot.check_due = true;
                    self.worker_wake.notify_one();
                }
            }
            RequestOrigin::HealthCheck => {
                let cause = format!("health check failed: {err}");
                self.transition(state, index, Trigger::TransportFailed, cause, now);
            }
        }
    }

    /// The credentials are the pool's, not one connection's: every connection is failed, and
    /// callers get an error without a request until a check passes.
    fn credentials_rejected(&self, state: &mut PoolState<C>, err: &ApiError, now: Instant) {
        let reason = err.to_string();
        state.last_error = Some(reason.clone());
        state.next_auth_check = Some(now + self.backoff.failed_retry_interval());
        if state.unauthenticated.as_ref() != Some(&reason) {
            if state.unauthenticated.is_none() {
                self.events.send(PoolEvent::Unauthenticated {
                    server: self.server.clone(),
                    reason: reason.clone(),
                });
            }
            state.unauthenticated = Some(reason.clone());
        }
        for index in 0..state.slots.len() {
            if !matches!(
                state.slots[index].state(),
                ConnectionState::Failed | ConnectionState::Disconnected
            ) {
                let cause = format!("credentials rejected: {reason}");
                self.transition(state, index, Trigger::AuthRejected, cause, now);
            }
        }
    }
}
