//! When a connection is considered usable, and how fast a broken one is tried again.
//!
//! Two pure pieces the pool's worker drives:
//!
//! - [`Lifecycle`]: the state machine of one connection. Its only input is a [`Trigger`] (what
//!   the last request or health check showed); an input that makes no sense in the current
//!   state is refused with [`IllegalTransition`] and leaves the state as it was. Every accepted
//!   transition yields a [`StateChange`], the event the pool publishes.
//! - [`Backoff`]: the delays between reconnection attempts.
//!
//! ```text
//!                 Open              Succeeded
//! Disconnected ---------> Connecting ---------> Connected <------------------+
//!      ^                      |                    |                          |
//!      | Close (any state)    | TransportFailed    | TransportFailed          | Succeeded
//!      |                      v                    v                          |
//!      |                  Reconnecting <--------- (attempt 1)                 |
//!      |                   |  ^  | TransportFailed, attempt < max             |
//!      |                   |  +--+ (attempt + 1, full-jitter delay)           |
//!      |                   | TransportFailed after max attempts               |
//!      |                   v                                                  |
//!      |                 Failed --(TransportFailed: again after the slow cadence)
//!      |                   +--------------------------------------------------+
//! AuthRejected from Connecting, Connected or Reconnecting goes straight to Failed.
//! ```
//!
//! Backoff, attempt `n` (1-based): `cap_n = min(reconnect_max_delay, reconnect_base_delay ×
//! 2^(n-1))`, and the delay is drawn uniformly from `0..=cap_n` ("full jitter": connections
//! that broke together do not come back in lockstep). After `max_reconnect_attempts` failed
//! attempts the connection is Failed and is tried again every
//! [`Backoff::failed_retry_interval`] = `reconnect_max_delay × 2`, without jitter or end, so a
//! pool heals by itself when the server comes back while costing the server one request per
//! connection per interval.
//!
//! Rejected credentials (`ApiError::is_auth`) are not a transport problem: trying again soon
//! cannot help, so they skip the backoff and go to Failed at once. The pool then reports the
//! server unauthenticated and probes it with a single request per `failed_retry_interval` (not
//! one per connection). A new secret in a reloaded configuration takes a restart of lktop (the
//! reload says so): the pool's connections were built with the old one.

mod budget;

use std::fmt;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ApiErrorKind};
use crate::config::PoolConfig;

pub use budget::ReconnectBudget;

/// Names one connection of a pool; never reused within a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Not open, or closed by the pool.
    Disconnected,
    /// Open, not yet confirmed by an answer from the server.
    Connecting,
    /// The last request or health check got an answer.
    Connected,
    /// Broken; attempts with backoff are under way.
    Reconnecting,
    /// Out of attempts, or the credentials were rejected; tried again on a slow cadence.
    Failed,
}

impl ConnectionState {
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the pool learned about a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The pool opened the connection.
    Open,
    /// The server answered (any answer, even an error about the request itself: the
    /// connection works).
    Succeeded,
    /// A transport failure: no answer, refused, reset, timeout, a 5xx.
    TransportFailed,
    /// The server rejected the credentials.
    AuthRejected,
    /// The pool closed the connection (shrink, shutdown).
    Close,
}

impl Trigger {
    /// What a request's error (`None`: it succeeded) says about the connection that carried
    /// it.
    #[must_use]
    pub(crate) fn from_error(error: Option<&ApiError>) -> Self {
        match error {
            // A missing grant (`PermissionDenied`) is an answer: the key works, the connection
            // too; only the method is not allowed, so the pool is not failed for it.
            Some(err) if err.kind() == ApiErrorKind::Unauthenticated => Self::AuthRejected,
            // Whoever sent it, `Retry-After` says the server is not serving for now.
            Some(err) if err.retry_after().is_some() => Self::TransportFailed,
            Some(err) if err.is_transient() => Self::TransportFailed,
            // Only the server itself proves a connection (and so resets its backoff): its own
            // Twirp error, or a 200 whose body does not decode. Anything else that speaks HTTP
            // (a proxy's or a firewall's 403 page) accepts TCP and answers while the server
            // behind it may be gone, so it counts as a failed attempt.
            Some(err) if !err.is_server_answer() && err.kind() != ApiErrorKind::Malformed => {
                Self::TransportFailed
            }
            // Not found, rejected, malformed: the server answered, so the connection is fine.
            Some(_) | None => Self::Succeeded,
        }
    }
}

/// A trigger the current state cannot take; the state is left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} connection cannot take {trigger:?}")]
pub struct IllegalTransition {
    pub(crate) from: ConnectionState,
    pub(crate) trigger: Trigger,
}

/// One transition of one connection, as published by the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub connection: ConnectionId,
    pub from: ConnectionState,
    pub to: ConnectionState,
    /// Why, in an operator's words (the error that caused it, when there was one).
    pub cause: String,
    /// The reconnection attempt scheduled next, while reconnecting.
    pub attempt: Option<u32>,
    /// When the next attempt happens, while reconnecting or failed.
    #[serde(rename = "next_retry_in_ms", with = "crate::serde_time::opt_millis")]
    pub next_retry_in: Option<Duration>,
}

/// Delays between reconnection attempts; see the module documentation for the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    max_attempts: u32,
}

impl Backoff {
    /// A Failed connection is retried every `cap × FAILED_CADENCE_FACTOR`.
    pub(crate) const FAILED_CADENCE_FACTOR: u32 = 2;

    /// A cap below `base` is raised to `base` (validation refuses that config anyway).
    #[must_use]
    pub fn new(base: Duration, cap: Duration, max_attempts: u32) -> Self {
        Self {
            base,
            cap: cap.max(base),
            max_attempts,
        }
    }

    #[must_use]
    pub fn from_config(config: &PoolConfig) -> Self {
        Self::new(
            config.reconnect_base_delay.get(),
            config.reconnect_max_delay.get(),
            config.max_reconnect_attempts,
        )
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn base(&self) -> Duration {
        self.base
    }

    #[must_use]
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// Attempts with backoff before a connection is Failed.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The upper bound of the delay before attempt `attempt` (1-based; 0 counts as 1).
    #[must_use]
    pub fn cap_for_attempt(&self, attempt: u32) -> Duration {
        // Doubling one step at a time reaches any cap from a 1 ns base within 94 steps (a
        // `Duration` holds under 2^94 ns), so the loop is short whatever the attempt.
        let mut bound = self.base;
        for _ in 0..attempt.saturating_sub(1) {
            if bound >= self.cap || bound.is_zero() {
                break;
            }
            bound = bound.saturating_mul(2);
        }
        bound.min(self.cap)
    }

    /// The delay before attempt `attempt`: uniform in `0..=cap_for_attempt(attempt)`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let cap = self.cap_for_attempt(attempt);
        let cap_nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=cap_nanos))
    }

    /// The delay before attempt `attempt`, or `None` once the attempts are used up.
    pub fn retry_delay(&self, attempt: u32, rng: &mut impl Rng) -> Option<Duration> {
        (attempt <= self.max_attempts).then(|| self.delay(attempt, rng))
    }

    /// How often a Failed connection is tried again.
    #[must_use]
    pub fn failed_retry_interval(&self) -> Duration {
        self.cap.saturating_mul(Self::FAILED_CADENCE_FACTOR)
    }
}

/// The state of one connection and its reconnection progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    connection: ConnectionId,
    state: ConnectionState,
    /// The attempt scheduled next while Reconnecting; 0 otherwise.
    attempt: u32,
}

impl Lifecycle {
    #[must_use]
    pub fn new(connection: ConnectionId) -> Self {
        Self {
            connection,
            state: ConnectionState::Disconnected,
            attempt: 0,
        }
    }

    #[must_use]
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The attempt scheduled next while Reconnecting, 0 in every other state.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Applies `trigger`. `Ok(None)` when it changes nothing (an answer on a Connected
    /// connection, closing a closed one).
    ///
    /// # Errors
    /// A trigger the current state cannot take, e.g. `Succeeded` on a Disconnected connection.
    pub fn apply(
        &mut self,
        trigger: Trigger,
        cause: impl Into<String>,
        backoff: &Backoff,
        rng: &mut impl Rng,
    ) -> Result<Option<StateChange>, IllegalTransition> {
        use ConnectionState as S;
        use Trigger as T;

        let from = self.state;
        let illegal = IllegalTransition { from, trigger };
        // (to, attempt scheduled next, delay before it)
        let (to, attempt, next_retry_in) = match (from, trigger) {
            (S::Disconnected, T::Open) => (S::Connecting, 0, None),
            (S::Disconnected, T::Close) | (S::Connected, T::Succeeded) => return Ok(None),
            (S::Disconnected, _) | (_, T::Open) => return Err(illegal),
            (_, T::Close) => (S::Disconnected, 0, None),
            (_, T::Succeeded) => (S::Connected, 0, None),
            (_, T::AuthRejected) | (S::Failed, T::TransportFailed) => {
                (S::Failed, 0, Some(backoff.failed_retry_interval()))
            }
            (S::Connecting | S::Connected, T::TransportFailed) => {
                Self::attempt_or_fail(1, backoff, rng)
            }
            (S::Reconnecting, T::TransportFailed) => {
                Self::attempt_or_fail(self.attempt.saturating_add(1), backoff, rng)
            }
        };
        self.state = to;
        self.attempt = attempt;
        Ok(Some(StateChange {
            connection: self.connection,
            from,
            to,
            cause: cause.into(),
            attempt: (attempt > 0).then_some(attempt),
            next_retry_in,
        }))
    }

    fn attempt_or_fail(
        attempt: u32,
        backoff: &Backoff,
        rng: &mut impl Rng,
    ) -> (ConnectionState, u32, Option<Duration>) {
        match backoff.retry_delay(attempt, rng) {
            Some(delay) => (ConnectionState::Reconnecting, attempt, Some(delay)),
            None => (
                ConnectionState::Failed,
                0,
                Some(backoff.failed_retry_interval()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectionState as S;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const MS: Duration = Duration::from_millis(1);

    fn backoff() -> Backoff {
        Backoff::new(MS * 20, MS * 200, 3)
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn caps_double_from_the_base_up_to_the_max() {
        let caps: Vec<_> = (0..=6).map(|n| backoff().cap_for_attempt(n)).collect();
        assert_eq!(
            caps,
            [20, 20, 40, 80, 160, 200, 200].map(|ms| MS * ms).to_vec()
        );
        assert_eq!(backoff().cap_for_attempt(u32::MAX), MS * 200);
        assert_eq!(backoff().failed_retry_interval(), MS * 400);
    }

    #[test]
    fn caps_keep_doubling_from_a_tiny_base_to_a_far_cap() {
        // Found by tests/properties.rs: doubling used to stop after 2^31 × base, so a 1 ns base
        // under a one-day cap never got past 2.1 s, short of the documented
        // min(cap, base × 2^(n-1)).
        let day = Duration::from_secs(86_400);
        let backoff = Backoff::new(Duration::from_nanos(1), day, 100);
        assert_eq!(backoff.cap_for_attempt(41), Duration::from_nanos(1 << 40));
        assert_eq!(backoff.cap_for_attempt(100), day);
    }

    #[test]
    fn a_broken_connection_walks_the_machine_and_heals() {
        let backoff = backoff();
        let mut rng = rng();
        let mut life = Lifecycle::new(ConnectionId(1));
        let mut step = |life: &mut Lifecycle, trigger| {
            life.apply(trigger, "test", &backoff, &mut rng)
                .unwrap()
                .unwrap()
        };
        assert_eq!(step(&mut life, Trigger::Open).to, S::Connecting);
        assert_eq!(step(&mut life, Trigger::Succeeded).to, S::Connected);
        for attempt in 1..=3 {
            let change = step(&mut life, Trigger::TransportFailed);
            assert_eq!(
                (change.to, change.attempt),
                (S::Reconnecting, Some(attempt))
            );
            assert!(change.next_retry_in.unwrap() <= backoff.cap_for_attempt(attempt));
        }
        let failed = step(&mut life, Trigger::TransportFailed);
        assert_eq!(
            (failed.from, failed.to, failed.attempt),
            (S::Reconnecting, S::Failed, None)
        );
        assert_eq!(failed.next_retry_in, Some(MS * 400));
        let again = step(&mut life, Trigger::TransportFailed);
        assert_eq!((again.from, again.to), (S::Failed, S::Failed));
        let healed = step(&mut life, Trigger::Succeeded);
        assert_eq!(
            (healed.from, healed.to, healed.attempt),
            (S::Failed, S::Connected, None)
        );
        assert_eq!(step(&mut life, Trigger::Close).to, S::Disconnected);
    }

    #[test]
    fn rejected_credentials_skip_the_backoff() {
        let mut life = Lifecycle::new(ConnectionId(1));
        let mut rng = rng();
        life.apply(Trigger::Open, "open", &backoff(), &mut rng)
            .unwrap();
        let change = life
            .apply(Trigger::AuthRejected, "401", &backoff(), &mut rng)
            .unwrap()
            .unwrap();
        assert_eq!((change.to, change.attempt), (S::Failed, None));
        assert_eq!(change.next_retry_in, Some(MS * 400));
    }

    #[test]
    fn illegal_triggers_are_refused_and_change_nothing() {
        let mut rng = rng();
        let mut life = Lifecycle::new(ConnectionId(1));
        for trigger in [
            Trigger::Succeeded,
            Trigger::TransportFailed,
            Trigger::AuthRejected,
        ] {
            let err = life.apply(trigger, "x", &backoff(), &mut rng).unwrap_err();
            assert_eq!(err.from, S::Disconnected);
            assert_eq!(life.state(), S::Disconnected);
        }
        assert_eq!(
            life.apply(Trigger::Close, "x", &backoff(), &mut rng),
            Ok(None)
        );
        life.apply(Trigger::Open, "x", &backoff(), &mut rng)
            .unwrap();
        assert!(
            life.apply(Trigger::Open, "x", &backoff(), &mut rng)
                .is_err()
        );
        assert_eq!(life.state(), S::Connecting);
        life.apply(Trigger::Succeeded, "x", &backoff(), &mut rng)
            .unwrap();
        assert_eq!(
            life.apply(Trigger::Succeeded, "x", &backoff(), &mut rng),
            Ok(None)
        );
    }

    #[test]
    fn state_changes_serialize_with_snake_case_states_and_millis() {
        let change = StateChange {
            connection: ConnectionId(3),
            from: S::Connected,
            to: S::Reconnecting,
            cause: "connection refused".into(),
            attempt: Some(1),
            next_retry_in: Some(MS * 15),
        };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "connection": 3, "from": "connected", "to": "reconnecting",
                "cause": "connection refused", "attempt": 1, "next_retry_in_ms": 15.0
            })
        );
        assert_eq!(serde_json::from_value::<StateChange>(json).unwrap(), change);
    }

    fn any_trigger() -> impl Strategy<Value = Trigger> {
        prop_oneof![
            Just(Trigger::Open),
            Just(Trigger::Succeeded),
            Just(Trigger::TransportFailed),
            Just(Trigger::AuthRejected),
            Just(Trigger::Close),
        ]
    }

    proptest! {
        #[test]
        fn delays_stay_within_full_jitter_bounds(
            base_ms in 1_u64..5_000,
            cap_ms in 1_u64..120_000,
            attempt in 0_u32..200,
            seed: u64,
        ) {
            let backoff = Backoff::new(MS * u32::try_from(base_ms).unwrap(), MS * u32::try_from(cap_ms).unwrap(), 10);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let bound = backoff.cap_for_attempt(attempt);
            prop_assert!(bound <= backoff.cap());
            prop_assert!(bound >= backoff.base().min(backoff.cap()));
            prop_assert!(backoff.cap_for_attempt(attempt + 1) >= bound, "caps never shrink");
            let delay = backoff.delay(attempt, &mut rng);
            prop_assert!(delay <= bound, "{delay:?} > {bound:?}");
        }

        #[test]
        fn attempts_are_bounded_and_end_in_failed(max in 0_u32..20, seed: u64) {
            let backoff = Backoff::new(MS * 20, MS * 200, max);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut life = Lifecycle::new(ConnectionId(0));
            life.apply(Trigger::Open, "open", &backoff, &mut rng).unwrap();
            for _ in 0..max {
                let change = life.apply(Trigger::TransportFailed, "x", &backoff, &mut rng).unwrap().unwrap();
                prop_assert_eq!(change.to, S::Reconnecting);
                prop_assert!(change.attempt.unwrap() <= max);
            }
            let last = life.apply(Trigger::TransportFailed, "x", &backoff, &mut rng).unwrap().unwrap();
            prop_assert_eq!(last.to, S::Failed);
            prop_assert_eq!(last.next_retry_in, Some(backoff.failed_retry_interval()));
        }

        #[test]
        fn any_trigger_sequence_keeps_the_machine_consistent(
            triggers in proptest::collection::vec(any_trigger(), 0..64),
            seed: u64,
        ) {
            let backoff = backoff();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut life = Lifecycle::new(ConnectionId(0));
            for trigger in triggers {
                let before = life.clone();
                match life.apply(trigger, "x", &backoff, &mut rng) {
                    Err(_) | Ok(None) => prop_assert_eq!(&life, &before),
                    Ok(Some(change)) => {
                        prop_assert_eq!(change.from, before.state());
                        prop_assert_eq!(change.to, life.state());
                        prop_assert!(life.attempt() <= backoff.max_attempts());
                        prop_assert_eq!(change.attempt.is_some(), change.to == S::Reconnecting);
                        if let (Some(attempt), Some(delay)) = (change.attempt, change.next_retry_in) {
                            prop_assert!(delay <= backoff.cap_for_attempt(attempt));
                        }
                    }
                }
            }
        }
    }
}
