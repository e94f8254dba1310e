//! Reconnect storms: what many failing connections cost the servers they retry.
//!
//! - Fifty servers failing at once, each with its pool of five, run under tokio's paused time
//!   with the process-wide reconnect budget and without it; the attempts per second of both
//!   are printed, and the budgeted run stays within the budget.
//! - Backoff resets only on the server's own answer: a proxy's HTML page (502, 403) accepts
//!   TCP and answers HTTP while the server behind it is gone, so attempts climb to Failed.
//! - Properties in the spirit of gRPC's connection-backoff specification, over the real
//!   `Lifecycle` and `Backoff`: 10,000 clients failing together spread their attempts, and
//!   no client attempts more often than the documented schedule allows.

#[macro_use]
#[path = "support/answering_api.rs"]
mod answering_api;
#[path = "support/configs.rs"]
mod configs;
#[path = "support/fault_proxy.rs"]
#[allow(
    dead_code,
    reason = "the proxy serves several test files; this one uses only its canned answers"
)]
mod fault_proxy;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use configs::{KEY, SECRET, TestConfig};
use fault_proxy::{FaultProxy, ProxyMode, http_response, http_response_with};
use lktop::api::{ApiError, ApiErrorKind, LiveKitRoomApi, RoomApi};
use lktop::config::PoolConfig;
use lktop::pool::{Pool, PoolError, PoolEvent, PoolOptions};
use lktop::reconnect::{
    Backoff, ConnectionId, ConnectionState, Lifecycle, ReconnectBudget, Trigger,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Every server of the storm: all answer until `down`, then every call fails at once. Each
/// failed `ListRooms` after a connection's first failure is a reconnection attempt (the first
/// is the health check that found the outage); they are counted per virtual second.
struct Datacentre {
    down: AtomicBool,
    started: Instant,
    attempts_per_second: Mutex<BTreeMap<u64, u64>>,
    next_connection: AtomicU64,
}

#[derive(Clone)]
struct StormServer {
    datacentre: Arc<Datacentre>,
    /// This connection has seen the outage: its next checks are attempts.
    failed_once: Arc<AtomicBool>,
}

impl StormServer {
    fn answer<T: Default + Send + 'static>(
        &self,
        method: &'static str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send + use<T> {
        let datacentre = &self.datacentre;
        let result = if datacentre.down.load(Ordering::SeqCst) {
            if method == "ListRooms" && self.failed_once.swap(true, Ordering::SeqCst) {
                let second = datacentre.started.elapsed().as_secs();
                *datacentre
                    .attempts_per_second
                    .lock()
                    .unwrap()
                    .entry(second)
                    .or_default() += 1;
            }
            Err(ApiError::new(
                method,
                ApiErrorKind::ConnectionRefused,
                None,
                "storm://",
                "connection refused",
            ))
        } else {
            Ok(T::default())
        };
        std::future::ready(result)
    }
}

room_api_by_answer!(StormServer);

const SERVERS: usize = 50;
const STORM: Duration = Duration::from_secs(180);

/// What fifty servers failing together cost with a budget of `per_second` attempts: the
/// attempts of every virtual second from the outage on, and how many were deferred.
async fn storm(per_second: u32) -> (BTreeMap<u64, u64>, u64) {
    let datacentre = Arc::new(Datacentre {
        down: AtomicBool::new(false),
        started: Instant::now(),
        attempts_per_second: Mutex::new(BTreeMap::new()),
        next_connection: AtomicU64::new(0),
    });
    let budget = Arc::new(ReconnectBudget::new(per_second));
    // The shipped defaults: five connections, checked every 30 s, backoff 1 s to 30 s over 5
    // attempts, Failed ones retried every minute.
    let config = PoolConfig::default();
    let mut pools = Vec::new();
    let mut event_streams = Vec::new();
    for server in 0..SERVERS {
        let (sender, events) = mpsc::channel(100_000);
        let datacentre = Arc::clone(&datacentre);
        let options = PoolOptions::new(format!("server-{server}"), config, sender)
            .with_seed(server as u64)
            .with_budget(Arc::clone(&budget));
        let pool = Pool::start(options, move || {
            datacentre.next_connection.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(StormServer {
                datacentre: Arc::clone(&datacentre),
                failed_once: Arc::new(AtomicBool::new(false)),
            })
        })
        .expect("the pool starts");
        pools.push(pool);
        event_streams.push(events);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for pool in &pools {
        assert_eq!(
            pool.status().healthy as u64,
            u64::from(config.pool_size),
            "every server works"
        );
    }
    datacentre.down.store(true, Ordering::SeqCst);
    // Callers notice at once (one request per server fails) and the health checks find the
    // rest: the whole datacentre is reconnecting within one check interval.
    for pool in &pools {
        let _ = pool
            .call(|conn| async move { conn.delete_room("r").await })
            .await;
    }
    tokio::time::sleep(STORM).await;
    for pool in &pools {
        assert_eq!(pool.status().healthy, 0, "no server came back");
    }
    for pool in pools {
        pool.shutdown().await;
    }
    drop(event_streams);
    let attempts = datacentre.attempts_per_second.lock().unwrap().clone();
    (attempts, budget.deferred())
}

#[tokio::test(start_paused = true)]
async fn fifty_servers_failing_at_once_stay_within_the_reconnect_budget() {
    const BUDGET: u32 = 20;
    let (budgeted, deferred) = storm(BUDGET).await;
    let (unbudgeted, _) = storm(1_000_000).await;
    let peak = |attempts: &BTreeMap<u64, u64>| attempts.values().copied().max().unwrap_or(0);
    let total = |attempts: &BTreeMap<u64, u64>| attempts.values().sum::<u64>();
    eprintln!(
        "{SERVERS} servers × {} connections failing at once, {}s of attempts:\n  \
         budget {BUDGET}/s: peak {} attempts in one second, {} in all, {deferred} deferred\n  \
         no budget:     peak {} attempts in one second, {} in all",
        PoolConfig::default().pool_size,
        STORM.as_secs(),
        peak(&budgeted),
        total(&budgeted),
        peak(&unbudgeted),
        total(&unbudgeted),
    );
    // tower's budget keeps ten slots of a tenth of its one-second window, and turns one slot
    // for every tenth of a second begun: the window it remembers is between half a second and
    // a second, so a second may see up to twice the budget, never more.
    assert!(
        peak(&budgeted) <= u64::from(BUDGET) * 2,
        "budgeted attempts per second: {budgeted:?}"
    );
    let seconds: Vec<u64> = (0..=STORM.as_secs() + 10)
        .map(|second| budgeted.get(&second).copied().unwrap_or(0))
        .collect();
    let busiest_ten = seconds
        .windows(10)
        .map(|window| window.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    eprintln!("  budget {BUDGET}/s: busiest ten seconds {busiest_ten} attempts");
    assert!(
        busiest_ten <= u64::from(BUDGET) * 2 * 10,
        "{busiest_ten} attempts in ten seconds: {budgeted:?}"
    );
    assert!(deferred > 0, "the storm spent the budget");
    assert!(
        peak(&unbudgeted) > u64::from(BUDGET) * 2,
        "without the budget the storm is a storm: {unbudgeted:?}"
    );
}

/// The pool of one server behind `proxy`, with the tests' quick backoff (three attempts).
fn pool_behind(
    proxy: &FaultProxy,
    connections: u32,
) -> (Pool<LiveKitRoomApi>, mpsc::Receiver<PoolEvent>) {
    let config = TestConfig::new()
        .pool_size(connections, connections)
        .health_check_interval(Duration::from_millis(100))
        .connection_timeout(Duration::from_secs(2))
        .reconnect_delays(Duration::from_millis(10), Duration::from_millis(40))
        .max_reconnect_attempts(3)
        .pool();
    let (sender, events) = mpsc::channel(1_000);
    let url = proxy.url();
    let pool = Pool::start(
        PoolOptions::new("behind-proxy", config, sender),
        move || {
            LiveKitRoomApi::new(
                &url,
                KEY,
                &SecretString::from(SECRET),
                Duration::from_secs(2),
            )
        },
    )
    .expect("the pool starts");
    (pool, events)
}

#[tokio::test]
async fn a_proxys_page_never_resets_backoff() {
    let pages = [
        (
            "502 Bad Gateway",
            "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
        ),
        (
            "403 Forbidden",
            "<html><body><h1>403 Forbidden</h1><hr>corporate firewall</body></html>",
        ),
    ];
    for (status, page) in pages {
        // No server behind the proxy at all: only the page answers.
        let proxy = FaultProxy::start("127.0.0.1:9".parse().unwrap()).await;
        proxy.set_mode(ProxyMode::Canned(http_response(
            status,
            "text/html",
            page.as_bytes(),
        )));
        let (pool, mut events) = pool_behind(&proxy, 1);
        let mut attempts = Vec::new();
        let failed = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let Some(event) = events.recv().await else {
                    return false;
                };
                if let PoolEvent::StateChanged { change, .. } = event {
                    assert_ne!(
                        change.to,
                        ConnectionState::Connected,
                        "{status}: a proxy's page is not the server: {change:?}"
                    );
                    if let Some(attempt) = change.attempt {
                        attempts.push(attempt);
                    }
                    if change.to == ConnectionState::Failed {
                        return true;
                    }
                }
            }
        })
        .await
        .expect("the connection fails within 20 s");
        assert!(failed, "{status}");
        assert_eq!(attempts, [1, 2, 3], "{status}: attempts climb, never reset");
        pool.shutdown().await;
    }
}

/// Waits, at most 10 s, until every connection of `pool` is Connected.
async fn every_connection_connected(pool: &Pool<LiveKitRoomApi>, when: &str) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while pool.status().healthy < pool.status().total {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("every connection is connected {when}: {:?}", pool.status()));
}

#[tokio::test]
async fn a_servers_retry_after_is_obeyed_by_every_connection_and_caller() {
    const WAIT: Duration = Duration::from_secs(2);
    let sandbox = configs::sandbox().await;
    let proxy = FaultProxy::start(sandbox.addr()).await;
    let (pool, mut events) = pool_behind(&proxy, 4);
    every_connection_connected(&pool, "at the start").await;
    while events.try_recv().is_ok() {}

    proxy.set_mode(ProxyMode::Canned(http_response_with(
        "429 Too Many Requests",
        &[("Retry-After", &WAIT.as_secs().to_string())],
        "text/plain",
        b"slow down\n",
    )));
    let asked = std::time::Instant::now();
    let refused = pool
        .call(|conn| async move { conn.delete_room("r").await })
        .await
        .expect_err("the proxy refuses");
    assert_eq!(refused.api().and_then(ApiError::retry_after), Some(WAIT));
    let sent = proxy.faulted_requests();

    // Callers are told at once, unsent.
    let unsent = pool
        .call(|conn| async move { conn.delete_room("r").await })
        .await
        .expect_err("the server asked for a wait");
    let shown = unsent.to_string();
    assert!(
        matches!(unsent.pool(), Some(PoolError::AskedToWait { .. }))
            && shown.contains("asked lktop to wait")
            && shown.contains("429"),
        "{shown}"
    );
    // Every connection reconnects, none before the server's time.
    let mut reconnecting = 0;
    while let Ok(event) = events.try_recv() {
        if let PoolEvent::StateChanged { change, .. } = event
            && change.to == ConnectionState::Reconnecting
        {
            let retry_in = change.next_retry_in.expect("a retry is scheduled");
            assert!(retry_in + Duration::from_millis(200) >= WAIT, "{change:?}");
            reconnecting += 1;
        }
    }
    assert_eq!(reconnecting, 4, "every connection waits for the server");
    // Health checks run every 100 ms: none reaches the server during its wait.
    tokio::time::sleep(WAIT.saturating_sub(Duration::from_millis(500))).await;
    assert_eq!(
        proxy.faulted_requests(),
        sent,
        "nothing sent during the wait"
    );
    // Once it is over, the connections go spread over a second: the first probes alone, its
    // 429 asks for another wait, and the others keep to it rather than all asking at once.
    tokio::time::sleep_until((asked + WAIT + Duration::from_millis(1_500)).into()).await;
    let probes = proxy.faulted_requests() - sent;
    assert!(
        (1..=2).contains(&probes),
        "{probes} of 4 connections asked right after the wait"
    );

    proxy.set_mode(ProxyMode::PassThrough);
    every_connection_connected(&pool, "once the wait is over").await;
    assert!(asked.elapsed() >= WAIT, "healed only after the wait");
    pool.call(|conn| async move { conn.list_rooms(Vec::new()).await })
        .await
        .expect("requests go through again");
    pool.shutdown().await;
    sandbox.shutdown().await;
}

/// The documented schedule: attempts `1..=max_attempts` after full-jitter delays capped at
/// `cap_for_attempt(n)`, then one every `failed_retry_interval` once Failed.
fn shipped_backoff() -> Backoff {
    Backoff::from_config(&PoolConfig::default())
}

/// When each attempt of one client happens, from a failure at time zero to `horizon`,
/// driven through the real state machine; every attempt fails.
fn attempt_times(seed: u64, backoff: &Backoff, horizon: Duration) -> Vec<Duration> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut lifecycle = Lifecycle::new(ConnectionId(seed));
    lifecycle
        .apply(Trigger::Open, "opened", backoff, &mut rng)
        .unwrap();
    lifecycle
        .apply(Trigger::Succeeded, "answered", backoff, &mut rng)
        .unwrap();
    let mut now = Duration::ZERO;
    let mut times = Vec::new();
    let mut change = lifecycle
        .apply(Trigger::TransportFailed, "refused", backoff, &mut rng)
        .unwrap()
        .expect("a failure changes a connected connection");
    loop {
        now += change.next_retry_in.expect("a retry is scheduled");
        if now > horizon {
            return times;
        }
        times.push(now);
        change = lifecycle
            .apply(Trigger::TransportFailed, "refused", backoff, &mut rng)
            .unwrap()
            .expect("a failed attempt is a change");
    }
}

const CLIENTS: u64 = 10_000;
const HORIZON: Duration = Duration::from_secs(600);

/// The largest number of the clients' attempts that fall in one second from `from` on.
fn busiest_second(all: &[Vec<Duration>], from: Duration) -> u64 {
    let mut per_second = BTreeMap::<u64, u64>::new();
    for time in all.iter().flatten().filter(|time| **time >= from) {
        *per_second.entry(time.as_secs()).or_default() += 1;
    }
    per_second.values().copied().max().unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// 10,000 clients failing together: clients in lockstep (the same schedule without
    /// jitter) put every one of them in the same second at every attempt; full jitter spreads
    /// them. The first retry falls within the base delay (1 s) for everyone by design, so the
    /// share is measured from the second second on, and separately once all are Failed.
    #[test]
    fn ten_thousand_clients_spread_their_attempts(first_seed in any::<u64>()) {
        let backoff = shipped_backoff();
        let all: Vec<Vec<Duration>> = (0..CLIENTS)
            .map(|client| attempt_times(first_seed.wrapping_add(client), &backoff, HORIZON))
            .collect();
        let share = |attempts: u64| {
            f64::from(u32::try_from(attempts).unwrap()) / f64::from(u32::try_from(CLIENTS).unwrap())
        };
        let after_base = share(busiest_second(&all, Duration::from_secs(1)));
        // The last backoff attempt comes by 1+2+4+8+16 s at the latest: from there on only the
        // Failed cadence (every 60 s from when each client gave up) remains.
        let settled = share(busiest_second(&all, Duration::from_secs(31)));
        eprintln!(
            "{CLIENTS} clients (seed {first_seed}): busiest second after the first holds \
             {:.1}% of them, once all are Failed {:.1}% (lockstep: 100% at every attempt)",
            after_base * 100.0,
            settled * 100.0,
        );
        prop_assert!(after_base <= 0.75, "after the base delay: {after_base}");
        prop_assert!(settled <= 0.10, "once Failed: {settled}");
    }

    /// No client attempts more often than the documented schedule allows: before Failed, the
    /// delay before attempt n is at most `cap_for_attempt(n)` and there are `max_attempts` of
    /// them; once Failed, one attempt every `failed_retry_interval`, exactly. So in any
    /// window of length w a client makes at most `max_attempts + 1 + w / interval` attempts.
    #[test]
    fn no_client_attempts_more_often_than_the_schedule(seed in any::<u64>()) {
        let backoff = shipped_backoff();
        let max_attempts = PoolConfig::default().max_reconnect_attempts as usize;
        let interval = backoff.failed_retry_interval();
        let times = attempt_times(seed, &backoff, HORIZON);
        let mut previous = Duration::ZERO;
        for (index, time) in times.iter().enumerate() {
            let gap = time.saturating_sub(previous);
            if index < max_attempts {
                let attempt = u32::try_from(index + 1).unwrap();
                prop_assert!(
                    gap <= backoff.cap_for_attempt(attempt),
                    "attempt {attempt} after {gap:?}, cap {:?}",
                    backoff.cap_for_attempt(attempt)
                );
            } else {
                prop_assert_eq!(gap, interval, "Failed retries are {:?} apart", interval);
            }
            previous = *time;
        }
        for window in [Duration::from_secs(10), Duration::from_secs(60), HORIZON] {
            let allowed =
                max_attempts + 1 + usize::try_from(window.as_secs() / interval.as_secs()).unwrap();
            for (start, first) in times.iter().enumerate() {
                let within = times[start..].iter().take_while(|t| t.saturating_sub(*first) <= window).count();
                prop_assert!(within <= allowed, "{within} attempts within {window:?}");
            }
        }
        // And it keeps trying: over ten minutes, every Failed retry happens.
        let failed_at = times[max_attempts - 1];
        let expected = max_attempts
            + usize::try_from(HORIZON.saturating_sub(failed_at).as_nanos() / interval.as_nanos())
                .unwrap();
        prop_assert_eq!(times.len(), expected);
    }
}
