//! The connection pool against the real sandbox and its faults: outages, hangs, rejected
//! credentials, exhaustion, cancellation, shrinking. Plus the reconnection schedule under
//! tokio's paused time, with a scripted `RoomApi` (no sandbox: time must not really pass).
//!
//! Sandbox tests run in real time with short durations (base delay 20 ms, cap 200 ms, health
//! checks every 100 ms, timeouts 300 ms); every test is bounded.

#[macro_use]
#[path = "support/answering_api.rs"]
mod answering_api;
#[path = "support/configs.rs"]
mod configs;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use configs::{KEY, SECRET, TestConfig, hung_requests, sandbox};
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_sandbox::Sandbox;
use lktop::api::{ApiError, ApiErrorKind, BuildError, LiveKitRoomApi, RoomApi, proto};
use lktop::config::PoolConfig;
use lktop::pool::{CallError, Pool, PoolError, PoolEvent, PoolOptions, PoolStatus};
use lktop::reconnect::{Backoff, ConnectionId, ConnectionState};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::Instant;

const SERVER: &str = "sandbox";
const REQUEST_TIMEOUT: Duration = Duration::from_millis(300);
const BOUND: Duration = Duration::from_secs(30);

/// Bounds a paused-time test in virtual time: a hang auto-advances to the bound and fails.
async fn bounded_virtual<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(3600), test)
        .await
        .expect("the test finishes within an hour of virtual time");
}

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the test finishes in time");
}

/// Runs `test` against a fresh sandbox, bounded, and shuts the sandbox down after it.
async fn on_sandbox(test: impl AsyncFnOnce(&Sandbox)) {
    bounded(async {
        let sandbox = sandbox().await;
        test(&sandbox).await;
        sandbox.shutdown().await;
    })
    .await;
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The sandbox tests' pool: the common test settings (2 growing to 4, backoff 20 ms to
/// 200 ms) with checks every 100 ms, 300 ms timeouts, 3 attempts and connections above the
/// pool size closed after 300 ms idle.
fn fast_settings() -> TestConfig {
    TestConfig::new()
        .health_check_interval(ms(100))
        .connection_timeout(REQUEST_TIMEOUT)
        .max_reconnect_attempts(3)
        .idle_timeout(ms(300))
}

fn factory(
    url: String,
    secret: &str,
) -> impl Fn() -> Result<LiveKitRoomApi, BuildError> + Send + Sync + 'static {
    let secret = SecretString::from(secret);
    move || LiveKitRoomApi::new(&url, KEY, &secret, REQUEST_TIMEOUT)
}

/// A pool and everything it reported.
struct Watched<C: RoomApi> {
    pool: Pool<C>,
    events: mpsc::Receiver<PoolEvent>,
    seen: Vec<PoolEvent>,
}

impl<C: RoomApi> Watched<C> {
    fn start<F, E>(config: PoolConfig, factory: F) -> Self
    where
        F: Fn() -> Result<C, E> + Send + Sync + 'static,
        E: std::fmt::Display,
    {
        let (sender, events) = mpsc::channel(4096);
        let pool = Pool::start(PoolOptions::new(SERVER, config, sender), factory)
            .expect("the pool starts");
        Self {
            pool,
            events,
            seen: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.seen.push(event);
        }
    }

    /// Polls the status until `done` holds.
    async fn wait_until(
        &mut self,
        what: &str,
        within: Duration,
        done: impl Fn(&PoolStatus) -> bool,
    ) {
        let deadline = Instant::now() + within;
        loop {
            self.drain();
            let status = self.pool.status();
            if done(&status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not within {within:?}: {what}; status: {status:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The states each connection went to, in order.
    fn walks(&mut self) -> BTreeMap<ConnectionId, Vec<ConnectionState>> {
        self.drain();
        let mut walks: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for event in &self.seen {
            if let PoolEvent::StateChanged { change, .. } = event {
                walks.entry(change.connection).or_default().push(change.to);
            }
        }
        walks
    }
}

impl Watched<LiveKitRoomApi> {
    /// A pool of `config` calling `sandbox` with the test credentials.
    fn against(sandbox: &Sandbox, config: PoolConfig) -> Self {
        Self::start(config, factory(sandbox.url(), SECRET))
    }

    /// The fast settings' pool calling `sandbox`, once both its connections are up.
    async fn up(sandbox: &Sandbox) -> Self {
        let mut watched = Self::against(sandbox, fast_settings().pool());
        watched
            .wait_until("both connections up", Duration::from_secs(2), |s| {
                s.healthy == 2
            })
            .await;
        watched
    }
}

async fn list_rooms<C: RoomApi>(pool: &Pool<C>) -> Result<Vec<proto::Room>, CallError> {
    pool.call(|conn| async move { conn.list_rooms(vec![]).await })
        .await
}

#[tokio::test]
async fn the_pool_heals_after_the_server_stops_and_restarts() {
    on_sandbox(async |sandbox| {
        let mut watched = Watched::up(sandbox).await;
        list_rooms(&watched.pool).await.expect("served while up");

        sandbox.listener_down().await;
        let outage_started = Instant::now();
        let mut failures = 0;
        while outage_started.elapsed() < Duration::from_millis(1200) {
            let started = Instant::now();
            let outcome = tokio::time::timeout(Duration::from_secs(2), list_rooms(&watched.pool))
                .await
                .expect("a call during the outage returns instead of hanging");
            let err = outcome.expect_err("no answer while the server is down");
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "errors come promptly: {err} after {:?}",
                started.elapsed()
            );
            failures += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(failures > 10, "{failures} calls during the outage");
        watched
            .wait_until("every connection failed", Duration::from_secs(2), |s| {
                s.failed == s.total
            })
            .await;

        sandbox.listener_up().await;
        let back = Instant::now();
        watched
            .wait_until(
                "the pool healed by itself",
                Duration::from_secs(2),
                |s| s.healthy == s.total,
            )
            .await;
        let healed_after = back.elapsed();
        list_rooms(&watched.pool).await.expect("served again");

        for (connection, walk) in watched.walks() {
            use ConnectionState as S;
            let first_up = walk.iter().position(|s| *s == S::Connected);
            let broke = walk.iter().position(|s| *s == S::Reconnecting);
            let gave_up = walk.iter().position(|s| *s == S::Failed);
            assert_eq!(walk.first(), Some(&S::Connecting), "{connection}: {walk:?}");
            assert!(first_up < broke && broke < gave_up, "{connection}: {walk:?}");
            assert_eq!(walk.last(), Some(&S::Connected), "{connection}: {walk:?}");
            let attempts = walk.iter().filter(|s| **s == S::Reconnecting).count();
            assert!(attempts <= 3, "{connection}: at most max_reconnect_attempts: {walk:?}");
        }
        let status = watched.pool.status();
        assert!(status.connections.iter().all(|c| c.reconnect_attempts >= 3));
        assert!(status.connections.iter().all(|c| c.failed_requests > 0));
        eprintln!("outage: {failures} calls, all errors; healed {healed_after:?} after the server came back");
        watched.pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_hanging_server_times_out_marks_the_connections_and_recovers() {
    on_sandbox(async |sandbox| {
        let mut watched = Watched::up(sandbox).await;

        sandbox.set_faults(hung_requests()).await.unwrap();
        let started = Instant::now();
        let err = list_rooms(&watched.pool)
            .await
            .expect_err("the server hangs");
        assert!(
            matches!(
                err.api().map(ApiError::kind),
                Some(ApiErrorKind::Timeout { .. })
            ),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        watched
            .wait_until(
                "no connection counted healthy",
                Duration::from_secs(3),
                |s| s.healthy == 0,
            )
            .await;
        let marked = watched.pool.status();
        assert!(
            marked.connections.iter().all(|c| c
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("timed out"))),
            "{marked:#?}"
        );

        sandbox.clear_faults().await;
        let cleared = Instant::now();
        watched
            .wait_until("serving again", Duration::from_secs(3), |s| s.healthy >= 1)
            .await;
        list_rooms(&watched.pool)
            .await
            .expect("served after the hang cleared");
        eprintln!(
            "healthy again {:?} after the faults cleared",
            cleared.elapsed()
        );
        watched.pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn one_broken_connection_does_not_stop_the_others_serving() {
    on_sandbox(async |sandbox| {
        // A port nobody listens on: the first connection the pool opens goes there.
        let dead = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let opened = AtomicUsize::new(0);
        let secret = SecretString::from(SECRET);
        let url = sandbox.url();
        // Generous timeouts: the dead port refuses at once, and on a loaded machine a healthy
        // answer or a free connection may take longer than the other tests' 300 ms.
        let patient = Duration::from_secs(5);
        let config = fast_settings()
            .connection_timeout(patient)
            .pool_size(3, 4)
            .pool();
        let mut watched = Watched::start(config, move || {
            let target = if opened.fetch_add(1, Ordering::Relaxed) == 0 {
                &dead
            } else {
                &url
            };
            LiveKitRoomApi::new(target, KEY, &secret, patient)
        });
        let broken = ConnectionId(0);
        watched
            .wait_until("two up, one reconnecting", Duration::from_secs(10), |s| {
                s.healthy == 2
                    && s.connections.iter().any(|c| {
                        c.id == broken
                            && matches!(
                                c.state,
                                ConnectionState::Reconnecting | ConnectionState::Failed
                            )
                    })
            })
            .await;

        let callers: Vec<_> = (0..4)
            .map(|_| {
                let pool = watched.pool.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        list_rooms(&pool)
                            .await
                            .expect("the healthy connections serve");
                    }
                    50
                })
            })
            .collect();
        let mut answered = 0;
        for caller in callers {
            answered += caller.await.unwrap();
        }
        assert_eq!(answered, 200);
        let status = watched.pool.status();
        let broken_info = status.connections.iter().find(|c| c.id == broken).unwrap();
        assert_eq!(
            broken_info.total_requests, broken_info.failed_requests,
            "{broken_info:#?}"
        );
        assert!(broken_info.reconnect_attempts > 0);
        watched.pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_is_reported_and_not_retried_in_a_loop() {
    on_sandbox(async |sandbox| {
        let mut watched = Watched::start(fast_settings().pool(), factory(sandbox.url(), "not-the-secret"));
        watched
            .wait_until("reported unauthenticated", Duration::from_secs(2), |s| {
                s.unauthenticated.is_some()
            })
            .await;
        let status = watched.pool.status();
        let reason = status.unauthenticated.clone().unwrap();
        assert!(reason.contains("authentication failed"), "{reason}");
        assert_eq!(status.failed, status.total, "{status:#?}");

        let requests_before = sandbox_failed_requests(sandbox).await;
        let watch_started = Instant::now();
        for _ in 0..50 {
            let err = list_rooms(&watched.pool).await.unwrap_err();
            assert!(
                matches!(err.pool(), Some(PoolError::Unauthenticated { server, .. }) if server == SERVER),
                "{err}"
            );
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let sent = sandbox_failed_requests(sandbox).await - requests_before;
        let slow_cadence = Backoff::from_config(&fast_settings().pool()).failed_retry_interval();
        let allowed = u64::try_from(watch_started.elapsed().as_millis() / slow_cadence.as_millis()).unwrap() + 1;
        assert!(sent <= allowed, "{sent} requests in {:?}, allowed {allowed}", watch_started.elapsed());

        let walks = watched.walks();
        assert!(
            walks.values().flatten().all(|s| *s != ConnectionState::Reconnecting),
            "rejected credentials never enter the transient backoff: {walks:?}"
        );
        let announced = watched
            .seen
            .iter()
            .filter(|e| matches!(e, PoolEvent::Unauthenticated { .. }))
            .count();
        assert_eq!(announced, 1, "announced once: {:?}", watched.seen);
        eprintln!("{sent} credential checks in {:?} (allowed {allowed}); 50 calls refused without a request", watch_started.elapsed());
        watched.pool.shutdown().await;
    })
    .await;
}

/// Requests the sandbox refused (bad credentials among them), from `/sandbox/status`.
async fn sandbox_failed_requests(sandbox: &Sandbox) -> u64 {
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_grants(VideoGrants {
            room_list: true,
            room_create: true,
            ..Default::default()
        })
        .to_jwt()
        .unwrap();
    let answer = lktop::api::build_http_client()
        .unwrap()
        .get(format!("{}/sandbox/status", sandbox.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the sandbox answers with its status");
    let status: serde_json::Value = answer.json().await.expect("the status is JSON");
    status["requests"]["failed"].as_u64().unwrap()
}

#[tokio::test]
async fn exhaustion_grows_to_max_then_a_waiter_times_out_with_a_clear_error() {
    on_sandbox(async |sandbox| {
        let config = fast_settings().pool_size(1, 3).pool();
        let mut watched = Watched::against(sandbox, config);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(watched.pool.acquire().await.expect("grows up to max"));
        }
        let status = watched.pool.status();
        assert_eq!((status.total, status.in_use, status.max), (3, 3, 3));
        watched.drain();
        let grew = watched.seen.iter().filter(|e| matches!(e, PoolEvent::Grew { .. })).count();
        assert_eq!(grew, 2);

        let started = Instant::now();
        let err = watched.pool.acquire().await.expect_err("nothing free");
        let timed_out_after = started.elapsed();
        assert!(matches!(err, PoolError::Timeout { .. }), "{err}");
        assert!(timed_out_after >= Duration::from_millis(300) && timed_out_after < Duration::from_secs(1), "{timed_out_after:?}");
        let message = err.to_string();
        assert_eq!(
            message,
            "no connection to sandbox became free within 300ms: 3 of 3 connections in use (max 3), 1 callers waiting"
        );
        assert_eq!(watched.pool.status().waiters, 0);

        // A waiter gets the first connection given back.
        let pool = watched.pool.clone();
        let waiter = tokio::spawn(async move { pool.acquire().await.map(|c| c.id()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(watched.pool.status().waiters, 1);
        let returned = held.pop().unwrap();
        let returned_id = returned.id();
        drop(returned);
        assert_eq!(waiter.await.unwrap().unwrap(), returned_id);
        drop(held);
        assert_eq!(watched.pool.status().in_use, 0);
        eprintln!("waiter timed out after {timed_out_after:?}: {message}");
        watched.pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_cancelled_checkouts_leak_nothing() {
    on_sandbox(async |sandbox| {
        let config = fast_settings()
            .connection_timeout(ms(5_000))
            .idle_timeout(ms(60_000))
            .pool();
        let watched = Watched::against(sandbox, config);
        let pool = watched.pool.clone();
        let started = Instant::now();

        // Waiters cancelled while queued: the pool is exhausted, each acquisition is polled
        // once (it registers as a waiter) and dropped.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(pool.acquire().await.unwrap());
        }
        for _ in 0..10_000 {
            tokio::select! {
                biased;
                _ = pool.acquire() => panic!("nothing is free"),
                () = std::future::ready(()) => {}
            }
        }
        let status = pool.status();
        assert_eq!((status.total, status.in_use, status.waiters), (4, 4, 0));
        drop(held);

        // Calls cancelled at random points: queued, mid-request, or just done.
        let tasks: Vec<_> = (0..16_u64)
            .map(|worker| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut rng = ChaCha8Rng::seed_from_u64(worker);
                    for _ in 0..625 {
                        let patience =
                            Duration::from_micros(rand::Rng::random_range(&mut rng, 0..400));
                        let _ = tokio::time::timeout(patience, list_rooms(&pool)).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }

        // A caller that panics and one whose request errs give their connections back too.
        let panicking = pool.clone();
        let panicked = tokio::spawn(async move {
            let _connection = panicking.acquire().await.unwrap();
            panic!("a caller panics while holding a connection");
        })
        .await;
        assert!(panicked.is_err());
        let missing = pool
            .call(|conn| async move { conn.delete_room("no-such-room").await })
            .await;
        assert!(matches!(
            missing.unwrap_err().api().map(ApiError::kind),
            Some(ApiErrorKind::NotFound)
        ));

        let status = pool.status();
        assert_eq!((status.in_use, status.waiters), (0, 0), "{status:#?}");
        assert!((2..=4).contains(&status.total), "{status:#?}");
        // Everything can still be checked out at once.
        let mut all = Vec::new();
        for _ in 0..4 {
            all.push(pool.acquire().await.expect("nothing leaked"));
        }
        assert_eq!(pool.status().in_use, 4);
        drop(all);
        eprintln!(
            "20,000 cancelled checkouts in {:?}; then total {}, in use {}, waiters {}",
            started.elapsed(),
            status.total,
            status.in_use,
            status.waiters
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn idle_connections_above_pool_size_are_closed() {
    on_sandbox(async |sandbox| {
        let config = fast_settings().pool_size(1, 3).idle_timeout(ms(300)).pool();
        let mut watched = Watched::against(sandbox, config);
        let held: Vec<_> = {
            let mut held = Vec::new();
            for _ in 0..3 {
                held.push(watched.pool.acquire().await.unwrap());
            }
            held
        };
        drop(held);
        let released = Instant::now();
        watched
            .wait_until("back to pool_size", Duration::from_secs(2), |s| {
                s.total == 1
            })
            .await;
        let shrunk_after = released.elapsed();
        assert!(
            shrunk_after >= Duration::from_millis(300),
            "{shrunk_after:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        watched.drain();
        assert_eq!(watched.pool.status().total, 1, "never below pool_size");
        let shrank = watched
            .seen
            .iter()
            .filter(|e| matches!(e, PoolEvent::Shrank { .. }))
            .count();
        assert_eq!(shrank, 2);
        let closed = watched
            .walks()
            .values()
            .filter(|w| w.last() == Some(&ConnectionState::Disconnected))
            .count();
        assert_eq!(closed, 2);
        list_rooms(&watched.pool)
            .await
            .expect("the remaining connection serves");
        eprintln!("shrunk to pool_size {shrunk_after:?} after release");
        watched.pool.shutdown().await;
    })
    .await;
}

/// A `RoomApi` whose health is switched by the test; every method answers alike. Clones are
/// the same server: they share the switch and the count of requests.
#[derive(Clone)]
struct Scripted {
    answer: Arc<AtomicBool>,
    auth_rejected: bool,
    requests: Arc<AtomicUsize>,
}

impl Scripted {
    /// A server that fails every request (rejecting the credentials, with `auth_rejected`)
    /// until `answer` is switched on.
    fn failing(auth_rejected: bool) -> Self {
        Self {
            answer: Arc::new(AtomicBool::new(false)),
            auth_rejected,
            requests: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A pool of `config` whose every connection is to this server, its backoff's jitter
    /// drawn from `seed`.
    fn pool(&self, config: PoolConfig, seed: u64, events: mpsc::Sender<PoolEvent>) -> Pool<Self> {
        let server = self.clone();
        Pool::start(
            PoolOptions::new(SERVER, config, events).with_seed(seed),
            move || Ok::<_, BuildError>(server.clone()),
        )
        .expect("the pool starts")
    }

    fn answer<T: Default + Send>(
        &self,
        method: &'static str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send + use<T> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let outcome = if self.answer.load(Ordering::Relaxed) {
            Ok(T::default())
        } else {
            let kind = if self.auth_rejected {
                ApiErrorKind::Unauthenticated
            } else {
                ApiErrorKind::ConnectionRefused
            };
            Err(ApiError::new(
                method,
                kind,
                None,
                "scripted://",
                "scripted failure",
            ))
        };
        std::future::ready(outcome)
    }
}

room_api_by_answer!(Scripted);

/// Tokio's timer rounds a deadline up to its next millisecond.
#[track_caller]
fn assert_waited(waited: Duration, delay: Duration) {
    assert!(
        waited >= delay && waited <= delay + Duration::from_millis(1),
        "waited {waited:?} for a delay of {delay:?}"
    );
}

/// The paused-time tests' pool: one connection, checked every 30 s, 10 s timeouts, backoff
/// from 1 s to 5 s over 4 attempts.
fn slow_settings() -> TestConfig {
    TestConfig::new()
        .pool_size(1, 1)
        .health_check_interval(Duration::from_secs(30))
        .connection_timeout(Duration::from_secs(10))
        .max_reconnect_attempts(4)
        .reconnect_delays(Duration::from_secs(1), Duration::from_secs(5))
}

#[tokio::test(start_paused = true)]
async fn reconnection_follows_the_seeded_full_jitter_schedule() {
    bounded_virtual(async {
        let server = Scripted::failing(false);
        let (sender, mut events) = mpsc::channel(64);
        let seed = 42;
        let pool = server.pool(slow_settings().pool(), seed, sender);
        let backoff = Backoff::from_config(&slow_settings().pool());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let expected: Vec<_> = (1..=4)
            .map(|attempt| backoff.delay(attempt, &mut rng))
            .collect();

        let mut next_change = async || loop {
            if let Some(PoolEvent::StateChanged { change, .. }) = events.recv().await {
                return (Instant::now(), change);
            }
        };
        let (_, opened) = next_change().await;
        assert_eq!(opened.to, ConnectionState::Connecting);
        let (mut at, mut change) = next_change().await;
        for (index, delay) in expected.iter().enumerate() {
            let attempt = u32::try_from(index + 1).unwrap();
            assert_eq!(change.to, ConnectionState::Reconnecting);
            assert_eq!(change.attempt, Some(attempt));
            assert_eq!(change.next_retry_in, Some(*delay), "attempt {attempt}");
            assert!(*delay <= backoff.cap_for_attempt(attempt));
            let (next_at, next) = next_change().await;
            assert_waited(next_at - at, *delay);
            (at, change) = (next_at, next);
        }
        assert_eq!(
            (change.from, change.to),
            (ConnectionState::Reconnecting, ConnectionState::Failed)
        );
        assert_eq!(
            change.next_retry_in,
            Some(Duration::from_secs(10)),
            "the slow cadence is cap x 2"
        );
        let (again_at, again) = next_change().await;
        assert_eq!(
            (again.from, again.to),
            (ConnectionState::Failed, ConnectionState::Failed)
        );
        assert_waited(again_at - at, Duration::from_secs(10));

        server.answer.store(true, Ordering::Relaxed);
        let (healed_at, healed) = next_change().await;
        assert_eq!(
            (healed.from, healed.to),
            (ConnectionState::Failed, ConnectionState::Connected)
        );
        assert_waited(healed_at - again_at, Duration::from_secs(10));
        assert_eq!(
            server.requests.load(Ordering::Relaxed),
            1 + 4 + 1 + 1,
            "no request outside the schedule"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn rejected_credentials_are_checked_once_per_slow_interval_for_the_whole_pool() {
    bounded_virtual(async {
        let server = Scripted::failing(true);
        let (sender, mut events) = mpsc::channel(256);
        let pool = server.pool(slow_settings().pool_size(4, 8).pool(), 1, sender);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let first_round = server.requests.load(Ordering::Relaxed);
        assert!(first_round <= 4, "the opening checks: {first_round}");
        let err = pool
            .call(|conn| async move { conn.list_rooms(vec![]).await })
            .await
            .unwrap_err();
        assert!(
            matches!(err.pool(), Some(PoolError::Unauthenticated { .. })),
            "{err}"
        );

        tokio::time::sleep(Duration::from_secs(600)).await;
        let later = server.requests.load(Ordering::Relaxed) - first_round;
        // One check per 10 s for the pool, not per connection and not with backoff.
        assert!((59..=61).contains(&later), "{later} checks in 600 s");
        let mut unauthenticated = 0;
        while let Ok(event) = events.try_recv() {
            if let PoolEvent::Unauthenticated { reason, .. } = event {
                assert!(reason.contains("authentication failed"), "{reason}");
                unauthenticated += 1;
            }
        }
        assert_eq!(unauthenticated, 1);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn one_answer_after_an_outage_makes_every_waiting_connection_try_again_at_once() {
    bounded_virtual(async {
        let server = Scripted::failing(false);
        let (sender, mut events) = mpsc::channel(1024);
        let pool = server.pool(slow_settings().pool_size(6, 6).pool(), 7, sender);
        // Long enough for every connection to run out of attempts and sit in Failed, each on
        // its own slow retry cadence.
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(pool.status().failed, 6, "{:#?}", pool.status());
        while events.try_recv().is_ok() {}

        server.answer.store(true, Ordering::Relaxed);
        let back = Instant::now();
        let mut first_answer = None;
        let mut connected = 0;
        while connected < 6 {
            if let Some(PoolEvent::StateChanged { change, .. }) = events.recv().await
                && change.to == ConnectionState::Connected
            {
                first_answer.get_or_insert_with(Instant::now);
                connected += 1;
            }
        }
        let first = first_answer.expect("one connection answered first");
        let rest = Instant::now() - first;
        eprintln!(
            "first answer {:?} after the server came back, the other five {rest:?} after that",
            first - back
        );
        // The first waits out its own slow retry (at most cap x 2); the others follow at once
        // rather than each after its own.
        assert!(
            first - back <= Duration::from_secs(10),
            "{:?}",
            first - back
        );
        assert!(rest <= Duration::from_millis(5), "{rest:?}");
        pool.shutdown().await;
    })
    .await;
}
