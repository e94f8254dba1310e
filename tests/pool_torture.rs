//! The pool held to what the most trusted pools promise and test: deadpool's cancellation
//! matrix (`tests/managed_cancellation.rs`) and `pool_drained`, hyper-util's
//! `test_pool_checkout_drop_cleans_up_waiters`, tens of thousands of waiters, a hanging health
//! check, poisoned connections and the idle order that lets the pool shrink.
//!
//! Every test but the last runs under tokio's paused time against `Switchboard`, a `RoomApi`
//! whose answers the test switches per kind of call, so sleeps, timeouts and hangs are exact
//! and cost no real time. The last one cancels a real answer half read, through the fault
//! proxy in front of the sandbox.

#[macro_use]
#[path = "support/answering_api.rs"]
mod answering_api;
#[path = "support/configs.rs"]
mod configs;
#[path = "support/fault_proxy.rs"]
#[allow(
    dead_code,
    reason = "the proxy serves several test files; this one uses only its pass-through mode"
)]
mod fault_proxy;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use configs::{KEY, SECRET, TestConfig, sandbox};
use fault_proxy::{FaultProxy, ProxyMode};
use lktop::api::{ApiError, ApiErrorKind, LiveKitRoomApi, RoomApi};
use lktop::config::PoolConfig;
use lktop::pool::{Pool, PoolError, PoolEvent, PoolOptions, PoolStatus};
use lktop::reconnect::ConnectionId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What one kind of call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Behaviour {
    Answers,
    /// A prompt transport error (connection refused).
    Fails,
    /// Answers after `SLOW`.
    Slow,
    /// Never answers; only a timeout or a cancellation ends the call.
    NeverAnswers,
}

const ALL: [Behaviour; 4] = [
    Behaviour::Answers,
    Behaviour::Fails,
    Behaviour::Slow,
    Behaviour::NeverAnswers,
];
const SLOW: Duration = Duration::from_millis(30);

impl Behaviour {
    fn from_u8(value: u8) -> Self {
        ALL[usize::from(value)]
    }
}

/// The server every connection of a test's pool talks to. Opening a connection in lktop is
/// building its HTTP client, which is synchronous and either works or fails; whether the
/// server answers shows in the first health check, which `check` drives. `ListRooms` is the
/// health check's call, every other method a caller's request.
struct Board {
    open: AtomicU8,
    check: AtomicU8,
    request: AtomicU8,
    /// Opens that fail before `open` is consulted (deadpool's "the next create fails").
    failing_opens: AtomicUsize,
    opened: AtomicUsize,
}

#[derive(Clone)]
struct Switchboard {
    board: Arc<Board>,
}

impl Switchboard {
    fn new() -> Self {
        Self {
            board: Arc::new(Board {
                open: AtomicU8::new(Behaviour::Answers as u8),
                check: AtomicU8::new(Behaviour::Answers as u8),
                request: AtomicU8::new(Behaviour::Answers as u8),
                failing_opens: AtomicUsize::new(0),
                opened: AtomicUsize::new(0),
            }),
        }
    }

    fn set(&self, open: Behaviour, check: Behaviour, request: Behaviour) {
        self.board.open.store(open as u8, Ordering::SeqCst);
        self.board.check.store(check as u8, Ordering::SeqCst);
        self.board.request.store(request as u8, Ordering::SeqCst);
    }

    fn heal(&self) {
        self.set(Behaviour::Answers, Behaviour::Answers, Behaviour::Answers);
    }

    fn pool(&self, config: PoolConfig) -> (Pool<Self>, mpsc::Receiver<PoolEvent>) {
        let (sender, events) = mpsc::channel(100_000);
        let board = self.clone();
        let pool = Pool::start(
            PoolOptions::new("torture", config, sender).with_seed(11),
            move || board.open(),
        )
        .expect("the pool starts");
        (pool, events)
    }

    fn open(&self) -> Result<Self, String> {
        let board = &self.board;
        let failing = board
            .failing_opens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing || Behaviour::from_u8(board.open.load(Ordering::SeqCst)) == Behaviour::Fails {
            return Err("the server refused the connection".to_owned());
        }
        board.opened.fetch_add(1, Ordering::SeqCst);
        Ok(self.clone())
    }

    fn answer<T: Default + Send + 'static>(
        &self,
        method: &'static str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send + use<T> {
        let switch = if method == "ListRooms" {
            &self.board.check
        } else {
            &self.board.request
        };
        let behaviour = Behaviour::from_u8(switch.load(Ordering::SeqCst));
        async move {
            match behaviour {
                Behaviour::Answers => Ok(T::default()),
                Behaviour::Fails => Err(ApiError::new(
                    method,
                    ApiErrorKind::ConnectionRefused,
                    None,
                    "switchboard://",
                    "refused",
                )),
                Behaviour::Slow => {
                    tokio::time::sleep(SLOW).await;
                    Ok(T::default())
                }
                Behaviour::NeverAnswers => std::future::pending().await,
            }
        }
    }
}

room_api_by_answer!(Switchboard);

/// A caller's request: anything but the health check's `ListRooms`.
async fn request(pool: &Pool<Switchboard>) -> Result<(), lktop::pool::CallError> {
    pool.call(|conn| async move { conn.delete_room("r").await })
        .await
}

/// Two connections growing to four, checked every 100 ms, 200 ms timeouts, backoff 10 ms to
/// 50 ms over 3 attempts (Failed ones tried every 100 ms).
fn settings() -> TestConfig {
    TestConfig::new()
        .pool_size(2, 4)
        .health_check_interval(Duration::from_millis(100))
        .connection_timeout(Duration::from_millis(200))
        .reconnect_delays(Duration::from_millis(10), Duration::from_millis(50))
        .max_reconnect_attempts(3)
        .idle_timeout(Duration::from_secs(1))
}

/// Bounds a paused-time test in virtual time: a hang auto-advances to the bound and fails.
async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(3600), test)
        .await
        .expect("the test finishes within an hour of virtual time");
}

/// The pool's books balance: never above its maximum, nobody holding or waiting once every
/// caller is gone.
#[track_caller]
fn assert_settled(status: &PoolStatus, case: &str) {
    assert!(status.total <= status.max, "{case}: {status:#?}");
    assert_eq!(
        (status.in_use, status.waiters),
        (0, 0),
        "{case}: {status:#?}"
    );
    assert_eq!(
        status.connections.iter().filter(|c| c.in_use).count(),
        0,
        "{case}"
    );
}

/// Once the server answers again, a checkout works, and every place up to the maximum can be
/// held at once: no place is still counted for a connection that was never opened.
async fn assert_serves_again(pool: &Pool<Switchboard>, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if request(pool).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "{case}: {:#?}", pool.status());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut all = Vec::new();
    while all.len() < 4 {
        match pool.acquire().await {
            Ok(connection) => all.push(connection),
            Err(err) => {
                assert!(
                    Instant::now() < deadline,
                    "{case}: {err}; {:#?}",
                    pool.status()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    assert_eq!(pool.status().in_use, 4, "{case}");
}

#[tokio::test(start_paused = true)]
async fn every_combination_of_cancelled_checkouts_leaves_the_pool_consistent() {
    bounded(async {
        let mut cases = 0;
        for open in [Behaviour::Answers, Behaviour::Fails] {
            for check in ALL {
                for request_behaviour in ALL {
                    let case =
                        format!("open {open:?}, check {check:?}, request {request_behaviour:?}");
                    let board = Switchboard::new();
                    let (pool, _events) = board.pool(settings().pool());
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    board.set(open, check, request_behaviour);

                    let mut rng = ChaCha8Rng::seed_from_u64(cases);
                    let callers: Vec<_> = (0..8)
                        .map(|_| {
                            let pool = pool.clone();
                            let mut rng = ChaCha8Rng::seed_from_u64(rng.random());
                            tokio::spawn(async move {
                                loop {
                                    let patience =
                                        Duration::from_micros(rng.random_range(0..3_000));
                                    let _ = tokio::time::timeout(patience, request(&pool)).await;
                                    // A pause, not a yield: under paused time the clock moves
                                    // only when every task waits, and a caller whose request
                                    // answers at once would otherwise spin and stop it.
                                    let pause = Duration::from_micros(rng.random_range(1..500));
                                    tokio::time::sleep(pause).await;
                                }
                            })
                        })
                        .collect();
                    let mut largest = 0;
                    for _ in 0..300 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        let status = pool.status();
                        assert!(status.total <= status.max, "{case}: {status:#?}");
                        largest = largest.max(status.total);
                    }
                    for caller in &callers {
                        caller.abort();
                    }
                    for caller in callers {
                        assert!(caller.await.unwrap_err().is_cancelled());
                    }
                    assert_settled(&pool.status(), &case);
                    board.heal();
                    assert_serves_again(&pool, &case).await;
                    pool.shutdown().await;
                    cases += 1;
                    assert!(largest <= 4, "{case}: grew to {largest}");
                }
            }
        }
        assert_eq!(cases, 32);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_checkout_dropped_while_parked_leaves_no_waiter_behind() {
    bounded(async {
        let board = Switchboard::new();
        let (pool, _events) = board.pool(settings().pool_size(1, 1).pool());
        let held = pool.acquire().await.unwrap();
        {
            let parked = pool.acquire();
            tokio::pin!(parked);
            assert!(
                futures_poll_once(parked.as_mut()).await.is_none(),
                "nothing is free, so the checkout parks"
            );
            assert_eq!(pool.status().waiters, 1);
        }
        assert_eq!(pool.status().waiters, 0, "dropping it left no waiter");
        let id = held.id();
        drop(held);
        let again = pool.acquire().await.unwrap();
        assert_eq!(again.id(), id, "the one connection is handed out again");
        pool.shutdown().await;
    })
    .await;
}

/// Polls `future` once; `None` when it is not ready.
async fn futures_poll_once<F: Future + Unpin>(future: F) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_failed_open_goes_to_exactly_one_waiter_and_the_next_one_opens() {
    bounded(async {
        let board = Switchboard::new();
        let (pool, _events) = board.pool(settings().pool_size(1, 2).pool());
        tokio::time::sleep(Duration::from_millis(5)).await;
        let held = pool.acquire().await.unwrap();
        board.board.failing_opens.store(1, Ordering::SeqCst);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.acquire().await.map(|c| c.id()) })
            })
            .collect();
        let mut outcomes = Vec::new();
        for waiter in waiters {
            outcomes.push(waiter.await.unwrap());
        }
        let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert_eq!(failed.len(), 1, "{outcomes:?}");
        assert!(
            matches!(failed[0], PoolError::Connect { .. }),
            "{}",
            failed[0]
        );
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
        drop(held);
        assert_settled(&pool.status(), "after the failed open");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn twenty_five_thousand_waiters_on_a_pool_of_three_are_all_served() {
    bounded(async {
        let board = Switchboard::new();
        let config = settings()
            .pool_size(3, 3)
            .connection_timeout(Duration::from_secs(3600))
            .health_check_interval(Duration::from_secs(3600))
            .pool();
        let (pool, _events) = board.pool(config);
        tokio::time::sleep(Duration::from_millis(5)).await;
        board.set(Behaviour::Answers, Behaviour::Answers, Behaviour::Slow);
        let served = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..25_000)
            .map(|_| {
                let (pool, served) = (pool.clone(), Arc::clone(&served));
                tokio::spawn(async move {
                    request(&pool).await.expect("every waiter is served");
                    served.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        let started = Instant::now();
        for caller in callers {
            caller.await.unwrap();
        }
        assert_eq!(served.load(Ordering::Relaxed), 25_000);
        let status = pool.status();
        assert_eq!(status.total, 3);
        assert_settled(&status, "25,000 waiters");
        // Three at a time, each for SLOW: never more than three at once, and no waiter was
        // left parked while a connection was free.
        let rounds = 25_000_u32.div_ceil(3);
        let took = started.elapsed();
        assert!(
            took >= SLOW * rounds && took <= SLOW * rounds * 2,
            "{took:?}"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_hanging_health_check_holds_nothing_other_checkouts_need() {
    bounded(async {
        let board = Switchboard::new();
        let config = settings()
            .pool_size(2, 3)
            .connection_timeout(Duration::from_secs(60))
            .pool();
        let (pool, _events) = board.pool(config);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(pool.status().healthy, 2);
        board.set(
            Behaviour::Answers,
            Behaviour::NeverAnswers,
            Behaviour::Answers,
        );
        // The next round checks both idle connections, and both checks hang.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let status = pool.status();
        assert_eq!(
            status.connections.iter().filter(|c| c.checking).count(),
            2,
            "{status:#?}"
        );
        let started = Instant::now();
        for _ in 0..100 {
            request(&pool)
                .await
                .expect("served beside the hanging checks");
        }
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "no caller waited for a check"
        );
        let status = pool.status();
        assert_eq!(
            status.total, 3,
            "one more opened beside the two held by checks"
        );
        assert_eq!(status.connections.iter().filter(|c| c.checking).count(), 2);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_returned_by_a_panicking_task_is_closed_and_replaced() {
    bounded(async {
        let board = Switchboard::new();
        let (pool, mut events) = board.pool(settings().pool_size(2, 2).pool());
        tokio::time::sleep(Duration::from_millis(5)).await;
        let before = ids(&pool.status());
        let panicking = pool.clone();
        let poisoned = tokio::spawn(async move {
            let connection = panicking.acquire().await.unwrap();
            let id = connection.id();
            let _: Result<(), ApiError> =
                connection
                    .call(|_| async move {
                        panic!("{id}: the caller panics in the middle of its request")
                    })
                    .await;
            unreachable!("the request panicked")
        });
        assert!(poisoned.await.unwrap_err().is_panic());
        let closed = closed_connections(&mut events);
        assert_eq!(closed.len(), 1, "{closed:?}");
        let (id, cause) = &closed[0];
        assert!(before.contains(id));
        assert!(cause.contains("panicked"), "{cause}");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let after = ids(&pool.status());
        assert_eq!(after.len(), 2, "replaced, back to pool_size");
        assert!(
            !after.contains(id),
            "the poisoned connection is gone: {after:?}"
        );
        for _ in 0..10 {
            let connection = pool.acquire().await.unwrap();
            assert_ne!(connection.id(), *id, "never handed out again");
        }
        assert_settled(&pool.status(), "after the panic");
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_connection_whose_request_was_cancelled_is_closed_and_replaced() {
    bounded(async {
        let board = Switchboard::new();
        let (pool, mut events) = board.pool(settings().pool_size(2, 2).pool());
        tokio::time::sleep(Duration::from_millis(5)).await;
        board.set(Behaviour::Answers, Behaviour::Answers, Behaviour::Slow);
        // Cancelled half way through the request.
        let cut = tokio::time::timeout(SLOW / 2, request(&pool)).await;
        assert!(cut.is_err());
        let closed = closed_connections(&mut events);
        assert_eq!(closed.len(), 1, "{closed:?}");
        assert!(
            closed[0].1.contains("cancelled before its answer"),
            "{}",
            closed[0].1
        );
        // Cancelled while still waiting for a connection: nothing was sent, nothing closed.
        let held: Vec<_> = vec![pool.acquire().await.unwrap(), pool.acquire().await.unwrap()];
        let parked = tokio::time::timeout(Duration::from_millis(1), request(&pool)).await;
        assert!(parked.is_err());
        drop(held);
        assert!(closed_connections(&mut events).is_empty());
        // A request that ran to its end gives its connection back for reuse.
        board.heal();
        let reused = pool.acquire().await.unwrap().id();
        request(&pool).await.unwrap();
        assert!(ids(&pool.status()).contains(&reused));
        assert!(closed_connections(&mut events).is_empty());
        assert_eq!(pool.status().total, 2);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn under_light_load_the_most_recently_used_connection_is_reused_and_the_rest_expire() {
    bounded(async {
        let board = Switchboard::new();
        let config = settings()
            .pool_size(2, 8)
            .health_check_interval(Duration::from_secs(10))
            .connection_timeout(Duration::from_secs(10))
            .idle_timeout(Duration::from_secs(30))
            .pool();
        let (pool, _events) = board.pool(config);
        tokio::time::sleep(Duration::from_millis(5)).await;
        // A burst grows the pool to its maximum.
        let burst: Vec<_> = {
            let mut held = Vec::new();
            for _ in 0..8 {
                held.push(pool.acquire().await.unwrap());
            }
            held
        };
        drop(burst);
        assert_eq!(pool.status().total, 8);
        // Then one request a second for two minutes, while health checks run on the idle ones.
        let mut used = BTreeSet::new();
        let mut shrunk_after = None;
        let quiet_since = Instant::now();
        for _ in 0..120 {
            let connection = pool.acquire().await.unwrap();
            used.insert(connection.id());
            connection
                .call(|conn| async move { conn.delete_room("r").await })
                .await
                .unwrap();
            drop(connection);
            tokio::time::sleep(Duration::from_secs(1)).await;
            if shrunk_after.is_none() && pool.status().total == 2 {
                shrunk_after = Some(quiet_since.elapsed());
            }
        }
        let shrunk_after = shrunk_after.expect("the pool shrinks back to pool_size");
        // One warm connection serves nearly all; a health check holding it at the instant of a
        // request sends that one request to the next most recent.
        assert!(
            used.len() <= 2,
            "a warm connection or two serve it all: {used:?}"
        );
        assert!(
            shrunk_after <= Duration::from_secs(32),
            "shrunk {shrunk_after:?} after the burst"
        );
        assert_eq!(pool.status().total, 2);
        eprintln!("8 connections shrank to pool_size 2 in {shrunk_after:?} at 1 request/s");
        pool.shutdown().await;
    })
    .await;
}

fn ids(status: &PoolStatus) -> BTreeSet<ConnectionId> {
    status.connections.iter().map(|c| c.id).collect()
}

/// The connections closed since the last look, with the cause of each.
fn closed_connections(events: &mut mpsc::Receiver<PoolEvent>) -> Vec<(ConnectionId, String)> {
    let mut closed = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let PoolEvent::StateChanged { change, .. } = event
            && change.to == lktop::reconnect::ConnectionState::Disconnected
        {
            closed.push((change.connection, change.cause));
        }
    }
    closed
}

/// Real sockets: an answer trickling through the proxy is abandoned half read, and the next
/// request, on a fresh connection, gets a whole, correct answer of its own.
#[tokio::test]
async fn an_answer_abandoned_half_read_never_reaches_the_next_caller() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let proxy = FaultProxy::start(sandbox.addr()).await;
        let url = proxy.url();
        let secret = SecretString::from(SECRET);
        let config = TestConfig::new()
            .pool_size(1, 1)
            .connection_timeout(Duration::from_secs(5))
            .pool();
        let (sender, mut events) = mpsc::channel(1024);
        let pool = Pool::start(PoolOptions::new("sandbox", config, sender), move || {
            LiveKitRoomApi::new(&url, KEY, &secret, Duration::from_secs(5))
        })
        .expect("the pool starts");
        let admin = configs::room_api(&sandbox.url(), Duration::from_secs(5));
        for name in ["alpha", "bravo", "charlie"] {
            admin
                .create_room(name, lktop::api::CreateRoomOptions::default())
                .await
                .unwrap();
        }
        let first = pool.acquire().await.unwrap().id();
        proxy.set_mode(ProxyMode::Trickle {
            chunk: 8,
            every: Duration::from_millis(50),
        });
        let abandoned = tokio::time::timeout(
            Duration::from_millis(300),
            pool.call(|conn| async move { conn.list_rooms(vec![]).await }),
        )
        .await;
        assert!(abandoned.is_err(), "cancelled while the answer trickled in");
        assert!(proxy.faulted_requests() > 0);
        proxy.set_mode(ProxyMode::PassThrough);
        let rooms = pool
            .call(|conn| async move { conn.list_rooms(vec!["bravo".to_owned()]).await })
            .await
            .expect("the next request gets its own answer");
        let names: Vec<_> = rooms.iter().map(|room| room.name.as_str()).collect();
        assert_eq!(names, ["bravo"]);
        let status = pool.status();
        assert!(!ids(&status).contains(&first), "{status:#?}");
        let mut closed = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let PoolEvent::StateChanged { change, .. } = event
                && change.connection == first
            {
                closed.push(change.cause);
            }
        }
        assert!(
            closed
                .iter()
                .any(|cause| cause.contains("cancelled before its answer")),
            "{closed:?}"
        );
        pool.shutdown().await;
        sandbox.shutdown().await;
    })
    .await
    .expect("bounded");
}
