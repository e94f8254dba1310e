//! Properties of the reconnection schedule and of the connection pool, over random inputs.
//!
//! - `Backoff`: for any base, cap, attempt and random draw, the delay is within full jitter of
//!   the documented bound `min(cap, base × 2^(n-1))` and never above the cap.
//! - `Lifecycle`: failures walk a connection through attempts 1..=max, then to Failed; no
//!   attempt max+1 is ever scheduled, whatever the triggers in between.
//! - `Pool`: random acquires, releases, cancelled acquires (dropped before they finish, or
//!   aborted while waiting), calls and idle time over a fake `RoomApi`, in tokio's paused time.
//!   After every step the pool's size stays within `pool_size..=max_pool_size`, `in_use` is the
//!   number of guards held, no connection is held twice (by two guards, or by a guard and a
//!   health check), and in the end everything comes back.
//!
//! Bounded: 64 cases of at most 50 steps each; the pool's time is virtual.

#[macro_use]
#[path = "support/answering_api.rs"]
mod answering_api;
#[path = "support/configs.rs"]
mod configs;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use configs::TestConfig;
use futures_util::FutureExt;
use lktop::api::{ApiError, RoomApi};
use lktop::config::PoolConfig;
use lktop::pool::{CallError, Pool, PoolError, PoolOptions, PoolStatus, PooledConnection};
use lktop::reconnect::{Backoff, ConnectionId, ConnectionState, Lifecycle, Trigger};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;

const CASES: u32 = 64;
const MAX_STEPS: usize = 50;

// ------------------------------------------------------------------------------------------
// Backoff and Lifecycle

/// Durations from a nanosecond to a year (the configuration's bound), spread over their orders
/// of magnitude so tiny bases and far caps both come up.
fn duration() -> impl Strategy<Value = Duration> {
    (0_u32..=55, any::<u64>()).prop_map(|(bits, raw)| {
        let nanos = (raw >> (63 - bits.min(54))).max(1);
        Duration::from_nanos(nanos)
    })
}

/// Attempt numbers: mostly the first few dozen, sometimes anywhere up to `u32::MAX`.
fn attempt() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0_u32..64, 1 => any::<u32>()]
}

/// `min(cap, base × 2^(n-1))` for attempt `n` (0 counts as 1), in exact integer nanoseconds.
fn documented_bound(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1);
    let doubled = 1_u128
        .checked_shl(doublings)
        .and_then(|factor| base.as_nanos().checked_mul(factor))
        .unwrap_or(u128::MAX);
    let nanos = doubled.min(cap.as_nanos());
    let secs = u64::try_from(nanos / 1_000_000_000).expect("at most the cap");
    let subsec = u32::try_from(nanos % 1_000_000_000).expect("below a second");
    Duration::new(secs, subsec)
}

fn any_trigger() -> impl Strategy<Value = Trigger> {
    prop_oneof![
        1 => Just(Trigger::Open),
        1 => Just(Trigger::Succeeded),
        3 => Just(Trigger::TransportFailed),
        1 => Just(Trigger::AuthRejected),
        1 => Just(Trigger::Close),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn backoff_delays_stay_within_full_jitter_of_the_documented_bound(
        base in duration(),
        cap in duration(),
        attempts in proptest::collection::vec(attempt(), 1..16),
        max_attempts in 0_u32..1000,
        seed: u64,
    ) {
        let backoff = Backoff::new(base, cap, max_attempts);
        prop_assert_eq!(backoff.cap(), cap.max(base), "a cap below the base is raised to it");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for attempt in attempts {
            let bound = documented_bound(base, backoff.cap(), attempt);
            prop_assert_eq!(backoff.cap_for_attempt(attempt), bound, "attempt {}", attempt);
            let delay = backoff.delay(attempt, &mut rng);
            prop_assert!(delay <= bound, "attempt {attempt}: {delay:?} > {bound:?}");
            prop_assert!(delay <= backoff.cap());
            match backoff.retry_delay(attempt, &mut rng) {
                Some(delay) => {
                    prop_assert!(attempt <= max_attempts);
                    prop_assert!(delay <= bound);
                }
                None => prop_assert!(attempt > max_attempts),
            }
        }
    }

    #[test]
    fn failures_use_every_attempt_then_fail_and_never_schedule_one_more(
        base in duration(),
        cap in duration(),
        max_attempts in 0_u32..40,
        failures_after in 1_u32..10,
        seed: u64,
    ) {
        let backoff = Backoff::new(base, cap, max_attempts);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut life = Lifecycle::new(ConnectionId(1));
        let mut apply = |life: &mut Lifecycle, trigger| {
            life.apply(trigger, "test", &backoff, &mut rng)
                .expect("a legal trigger")
                .expect("a change")
        };
        apply(&mut life, Trigger::Open);
        apply(&mut life, Trigger::Succeeded);
        for expected in 1..=max_attempts {
            let change = apply(&mut life, Trigger::TransportFailed);
            prop_assert_eq!(change.to, ConnectionState::Reconnecting);
            prop_assert_eq!(change.attempt, Some(expected));
            let delay = change.next_retry_in.expect("a reconnection is scheduled");
            prop_assert!(delay <= documented_bound(base, backoff.cap(), expected));
        }
        let failed = apply(&mut life, Trigger::TransportFailed);
        prop_assert_eq!(failed.to, ConnectionState::Failed);
        prop_assert_eq!(failed.attempt, None, "attempt {} is never scheduled", max_attempts + 1);
        prop_assert_eq!(failed.next_retry_in, Some(backoff.failed_retry_interval()));
        prop_assert_eq!(backoff.failed_retry_interval(), backoff.cap().saturating_mul(2));
        for _ in 0..failures_after {
            let again = apply(&mut life, Trigger::TransportFailed);
            prop_assert_eq!((again.from, again.to, again.attempt), (ConnectionState::Failed, ConnectionState::Failed, None));
        }
    }

    #[test]
    fn no_trigger_sequence_schedules_more_attempts_than_allowed(
        base in duration(),
        cap in duration(),
        max_attempts in 0_u32..8,
        triggers in proptest::collection::vec(any_trigger(), 0..MAX_STEPS),
        seed: u64,
    ) {
        let backoff = Backoff::new(base, cap, max_attempts);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut life = Lifecycle::new(ConnectionId(1));
        for trigger in triggers {
            let before = life.clone();
            let Ok(Some(change)) = life.apply(trigger, "test", &backoff, &mut rng) else {
                prop_assert_eq!(&life, &before, "a refused or empty trigger changes nothing");
                continue;
            };
            prop_assert!(life.attempt() <= max_attempts);
            match change.to {
                ConnectionState::Reconnecting => {
                    let attempt = change.attempt.expect("reconnecting has an attempt");
                    let previous = if before.state() == ConnectionState::Reconnecting {
                        before.attempt()
                    } else {
                        0
                    };
                    prop_assert_eq!(attempt, previous + 1, "attempts count up one at a time");
                    let delay = change.next_retry_in.expect("scheduled");
                    prop_assert!(delay <= backoff.cap_for_attempt(attempt));
                }
                ConnectionState::Failed => {
                    prop_assert_eq!(change.next_retry_in, Some(backoff.failed_retry_interval()));
                }
                _ => prop_assert_eq!(change.attempt, None),
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// The pool

/// A `RoomApi` that answers every call after a millisecond of (virtual) time and notes when
/// one connection carries two requests at once: a double checkout seen from the server side.
struct Fake {
    active: Arc<AtomicUsize>,
    overlaps: Arc<AtomicUsize>,
}

impl Fake {
    fn answer<T: Default + Send + 'static>(
        &self,
        _method: &'static str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send + use<T> {
        let active = Arc::clone(&self.active);
        let overlaps = Arc::clone(&self.overlaps);
        async move {
            if active.fetch_add(1, Ordering::SeqCst) > 0 {
                overlaps.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            active.fetch_sub(1, Ordering::SeqCst);
            Ok(T::default())
        }
    }
}

room_api_by_answer!(Fake);

#[derive(Debug, Clone)]
enum Step {
    /// Waits for a connection (up to `connection_timeout`) and keeps it.
    Acquire,
    /// Drops the guard at this index (modulo the guards held), if any.
    Release(usize),
    /// Polls an acquire once and drops it, finished or not.
    CancelAtOnce,
    /// Lets an acquire wait in a task, then aborts the task.
    CancelWhileWaiting,
    /// One request through `Pool::call`.
    Call,
    /// One request on a held guard (modulo the guards held), if any.
    CallOnHeld(usize),
    /// Lets this many milliseconds of virtual time pass: health checks, shrinking.
    Idle(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Acquire),
        3 => any::<usize>().prop_map(Step::Release),
        2 => Just(Step::CancelAtOnce),
        1 => Just(Step::CancelWhileWaiting),
        2 => Just(Step::Call),
        1 => any::<usize>().prop_map(Step::CallOnHeld),
        1 => (1_u64..3_000).prop_map(Step::Idle),
    ]
}

fn pool_config() -> impl Strategy<Value = PoolConfig> {
    (
        1_u32..=4,
        0_u32..=4,
        10_u64..2_000,
        10_u64..500,
        10_u64..1_000,
    )
        .prop_map(|(pool_size, extra, health_ms, timeout_ms, idle_ms)| {
            TestConfig::new()
                .pool_size(pool_size, pool_size + extra)
                .health_check_interval(Duration::from_millis(health_ms))
                .connection_timeout(Duration::from_millis(timeout_ms))
                .max_reconnect_attempts(3)
                .reconnect_delays(Duration::from_millis(10), Duration::from_millis(100))
                .idle_timeout(Duration::from_millis(idle_ms))
                .pool()
        })
}

/// A pool of fakes and the guards a caller holds.
struct Harness {
    pool: Pool<Fake>,
    config: PoolConfig,
    held: Vec<PooledConnection<Fake>>,
    overlaps: Arc<AtomicUsize>,
    /// Kept open so pool events are not all counted as dropped.
    _events: mpsc::Receiver<lktop::pool::PoolEvent>,
}

impl Harness {
    fn start(config: PoolConfig, seed: u64) -> Self {
        let (sender, events) = mpsc::channel(64);
        let overlaps = Arc::new(AtomicUsize::new(0));
        let factory_overlaps = Arc::clone(&overlaps);
        let options = PoolOptions::new("fake", config, sender).with_seed(seed);
        let pool = Pool::start(options, move || {
            Ok::<_, String>(Fake {
                active: Arc::new(AtomicUsize::new(0)),
                overlaps: Arc::clone(&factory_overlaps),
            })
        })
        .expect("the fake factory never fails");
        Self {
            pool,
            config,
            held: Vec::new(),
            overlaps,
            _events: events,
        }
    }

    fn max(&self) -> usize {
        self.config.max_pool_size as usize
    }

    /// A wait that timed out is only fair when every connection is held by this caller.
    fn check_refusal(&self, err: &PoolError) -> Result<(), TestCaseError> {
        prop_assert!(
            matches!(err, PoolError::Timeout { .. }),
            "only a timeout is possible against a server that always answers: {err}"
        );
        prop_assert_eq!(
            self.held.len(),
            self.max(),
            "timed out with a connection to spare"
        );
        Ok(())
    }

    async fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::Acquire => match self.pool.acquire().await {
                Ok(guard) => self.held.push(guard),
                Err(err) => self.check_refusal(&err)?,
            },
            Step::Release(index) => {
                if !self.held.is_empty() {
                    let index = index % self.held.len();
                    drop(self.held.swap_remove(index));
                }
            }
            Step::CancelAtOnce => match self.pool.acquire().now_or_never() {
                None | Some(Ok(_)) => {}
                Some(Err(err)) => self.check_refusal(&err)?,
            },
            Step::CancelWhileWaiting => {
                let pool = self.pool.clone();
                let waiter = tokio::spawn(async move { pool.acquire().await.map(drop) });
                for _ in 0..4 {
                    tokio::task::yield_now().await;
                }
                waiter.abort();
                match waiter.await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => self.check_refusal(&err)?,
                    Err(join) => prop_assert!(join.is_cancelled(), "the waiter panicked"),
                }
            }
            Step::Call => {
                let outcome = self
                    .pool
                    .call(|api| async move { api.list_rooms(Vec::new()).await })
                    .await;
                match outcome {
                    Ok(_) => {}
                    Err(CallError::Pool(err)) => self.check_refusal(&err)?,
                    Err(err) => prop_assert!(false, "the fake always answers: {err}"),
                }
            }
            Step::CallOnHeld(index) => {
                if !self.held.is_empty() {
                    let guard = &self.held[index % self.held.len()];
                    let answer = guard
                        .call(|api| async move { api.list_rooms(Vec::new()).await })
                        .await;
                    prop_assert!(answer.is_ok());
                }
            }
            Step::Idle(millis) => tokio::time::sleep(Duration::from_millis(*millis)).await,
        }
        Ok(())
    }

    fn check(&self, status: &PoolStatus, after: &Step) -> Result<(), TestCaseError> {
        let min = self.config.pool_size as usize;
        prop_assert!(
            (min..=self.max()).contains(&status.total),
            "after {after:?}: {} connections, outside {min}..={}",
            status.total,
            self.max()
        );
        prop_assert_eq!(status.in_use, self.held.len(), "after {:?}: in_use", after);
        prop_assert_eq!(
            status.waiters,
            0,
            "after {:?}: nobody waits between steps",
            after
        );
        let held: BTreeSet<ConnectionId> = self.held.iter().map(PooledConnection::id).collect();
        prop_assert_eq!(
            held.len(),
            self.held.len(),
            "after {:?}: one connection held twice",
            after
        );
        let in_use: BTreeSet<ConnectionId> = status
            .connections
            .iter()
            .filter(|connection| connection.in_use)
            .map(|connection| connection.id)
            .collect();
        prop_assert_eq!(
            in_use,
            held,
            "after {:?}: the pool's view of who holds what",
            after
        );
        prop_assert_eq!(
            self.overlaps.load(Ordering::SeqCst),
            0,
            "after {:?}: two requests at once on one connection",
            after
        );
        Ok(())
    }
}

async fn pool_case(config: PoolConfig, steps: Vec<Step>, seed: u64) -> Result<(), TestCaseError> {
    let mut harness = Harness::start(config, seed);
    for step in &steps {
        harness.run(step).await?;
        harness.check(&harness.pool.status(), step)?;
    }
    harness.held.clear();
    // Long enough for the last health checks to finish, short of the idle timeout's shrink.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let status = harness.pool.status();
    prop_assert_eq!(status.in_use, 0, "everything is returned");
    prop_assert_eq!(status.waiters, 0);
    prop_assert!(
        status
            .connections
            .iter()
            .all(|connection| !connection.in_use)
    );
    harness.pool.shutdown().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn pool_checkouts_stay_exclusive_bounded_and_all_come_back(
        config in pool_config(),
        steps in proptest::collection::vec(step(), 1..=MAX_STEPS),
        seed: u64,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        // Paused time auto-advances while every task waits, so a hang ends at this bound of
        // virtual time instead of blocking the test.
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(3_600), pool_case(config, steps, seed))
                .await
                .map_err(|_| TestCaseError::fail("the case did not finish within an hour of virtual time"))?
        })?;
    }
}
