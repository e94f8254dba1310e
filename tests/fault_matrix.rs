//! The fault matrix: lktop against each way a LiveKit server (or what stands in front of it)
//! can fail, through the whole stack — a direct `RoomService` call, the pool, the engine and
//! the dashboard. Faults come from the sandbox where it can produce them (listener down, a
//! rotated secret) and from a fault-injecting proxy on 127.0.0.1 where it cannot (a reset
//! mid-answer, a half-open connection, a trickled answer, a proxy's HTML 502, a 200 full of
//! garbage); a name under `.invalid` stands for a DNS failure.
//!
//! Every test asserts, for its fault: the `ApiErrorKind` of a direct call; the connection
//! states, poll failures and (for the 401) the unauthenticated reason the engine reports; that
//! a command sent during the fault ends in exactly one outcome naming the problem; that the
//! pool heals once the fault is gone; and that the dashboard, fed every event and drawn after
//! each, keeps running and shows the server's state. Outcomes only, never timings: each test
//! is bounded by a generous timeout. `docs/reliability.md` is the table of what they find.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/headless_dashboard.rs"]
mod headless_dashboard;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use fault_proxy::{FaultProxy, ProxyMode, http_response};
use headless_dashboard::HeadlessDashboard;
use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::api::{ApiErrorKind, LiveKitRoomApi, RoomApi, proto};
use lktop::config::{Config, ConfigDuration, ConfigSources, QualityConfig, ServerConfig};
use lktop::engine::{Engine, EngineOptions};
use lktop::events::{Command, EngineEvent, EventKind, Outcome};
use lktop::pool::{PoolEvent, PoolStatus};
use lktop::reconnect::ConnectionState;
use prost::Message;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tokio::net::TcpSocket;
use tokio::sync::mpsc;

const KEY: &str = "devkey";
const SECRET: &str = "fault-matrix-secret-0123456789abcdef";
const ROTATED_SECRET: &str = "fault-matrix-rotated-secret-fedcba9876543210";
const SERVER: &str = "matrix";
/// A name under the TLD RFC 2606 reserves so that it never resolves.
const UNRESOLVABLE_URL: &str = "http://lktop-fault-matrix.invalid:7880";
const UNRESOLVABLE_SERVER: &str = "nowhere";
/// The requests' timeout in most tests (`connection_pool.connection_timeout`).
const TIMEOUT: Duration = Duration::from_millis(500);
/// Bound of one wait for the engine; generous, since the machine may be loaded.
const WAIT: Duration = Duration::from_secs(10);
/// Bound of one whole test.
const TEST_BOUND: Duration = Duration::from_secs(45);

async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_BOUND, Box::pin(test))
        .await
        .expect("the test finishes within its bound");
}

fn config(servers: &[(&str, &str)], timeout: Duration) -> Config {
    let mut config = Config::default();
    for (name, url) in servers {
        config.servers.push(ServerConfig {
            name: (*name).into(),
            url: (*url).into(),
            api_key: KEY.into(),
            api_secret: Some(SecretString::from(SECRET)),
        });
    }
    config.polling.interval = ConfigDuration::from_millis(100);
    config.quality_monitoring = QualityConfig {
        monitoring_interval: ConfigDuration::from_millis(100),
        ..QualityConfig::default()
    };
    let pool = &mut config.connection_pool;
    pool.pool_size = 2;
    pool.max_pool_size = 4;
    pool.connection_timeout = ConfigDuration::from_millis(
        u64::try_from(timeout.as_millis()).expect("a test timeout fits"),
    );
    pool.health_check_interval = ConfigDuration::from_millis(200);
    pool.reconnect_base_delay = ConfigDuration::from_millis(20);
    pool.reconnect_max_delay = ConfigDuration::from_millis(200);
    config
}

async fn sandbox() -> Sandbox {
    sandbox_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

async fn sandbox_on(listen: SocketAddr) -> Sandbox {
    let mut options = SandboxOptions::new(KEY, &SecretString::from(SECRET));
    options.listen = listen;
    Sandbox::start(options).await.expect("the sandbox starts")
}

/// A client of its own, outside the engine: what one call sees of the fault.
fn direct(url: &str, timeout: Duration) -> LiveKitRoomApi {
    LiveKitRoomApi::new(url, KEY, &SecretString::from(SECRET), timeout)
        .expect("a valid URL and credentials")
}

fn create_room(server: &str, room: &str) -> Command {
    Command::CreateRoom {
        server: server.into(),
        room: room.into(),
    }
}

fn retry_now(server: &str) -> Command {
    Command::RetryNow {
        server: server.into(),
    }
}

/// One engine with the dashboard watching it; every event is kept and shown.
struct Run {
    engine: Engine,
    events: mpsc::Receiver<EngineEvent>,
    seen: Vec<EngineEvent>,
    dashboard: HeadlessDashboard,
    sent: Vec<u64>,
}

impl Run {
    async fn start(config: Config, sources: Option<ConfigSources>) -> Self {
        let (engine, events) = Engine::start(EngineOptions {
            config,
            sources,
            watch_config: false,
            sandbox: None,
        })
        .await
        .expect("the engine starts");
        Self {
            engine,
            events,
            seen: Vec::new(),
            dashboard: HeadlessDashboard::new(120, 40),
            sent: Vec::new(),
        }
    }

    /// Where the events seen so far end: conditions can look only at what came later.
    fn mark(&self) -> usize {
        self.seen.len()
    }

    /// Reads events, each shown on the dashboard, until `done` holds for the events since
    /// `since` and the frame just drawn.
    async fn wait_until(
        &mut self,
        what: &str,
        since: usize,
        done: impl Fn(&[EngineEvent], &HeadlessDashboard) -> bool,
    ) {
        let reached = tokio::time::timeout(WAIT, async {
            while !done(&self.seen[since..], &self.dashboard) {
                let event = self.events.recv().await.expect("the engine is running");
                self.dashboard.show(&event);
                self.seen.push(event);
            }
        })
        .await;
        if reached.is_err() {
            let recent: Vec<String> = self.seen[since..]
                .iter()
                .rev()
                .take(15)
                .map(|event| format!("{:?}", event.kind))
                .collect();
            // Edges the tail may no longer hold: every connection and server state change.
            let changes: Vec<String> = self.seen[since..]
                .iter()
                .filter(|event| {
                    matches!(
                        &event.kind,
                        EventKind::Pool {
                            event: PoolEvent::StateChanged { .. }
                        } | EventKind::ServerState { .. }
                            | EventKind::EventsDropped { .. }
                    )
                })
                .map(|event| format!("{} {:?}", event.at_ms, event.kind))
                .collect();
            panic!(
                "not within {WAIT:?}: {what}\nscreen:\n{}\nstate changes:\n{}\nlatest events first:\n{}",
                self.dashboard.screen().join("\n"),
                changes.join("\n"),
                recent.join("\n")
            );
        }
    }

    /// Sends a command and waits for its outcome.
    async fn command(&mut self, command: Command) -> Outcome {
        let id = self
            .engine
            .send(command)
            .expect("the engine takes commands");
        self.sent.push(id);
        let since = self.mark();
        self.wait_until(
            &format!("the outcome of command #{id}"),
            since,
            |events, _| outcome_of(events, id).is_some(),
        )
        .await;
        outcome_of(&self.seen[since..], id).expect("just seen")
    }

    /// Sends a command that must fail, and checks the reason says one of `words`.
    async fn command_fails(&mut self, command: Command, words: &[&str]) -> String {
        let shown = format!("{command:?}");
        match self.command(command).await {
            Outcome::Failed { reason } => {
                assert!(
                    says_any(&reason, words),
                    "{shown} failed without saying any of {words:?}: {reason}"
                );
                reason
            }
            Outcome::Done { detail } => panic!("{shown} should fail, but: {detail}"),
        }
    }

    async fn command_done(&mut self, command: Command) -> String {
        let shown = format!("{command:?}");
        match self.command(command).await {
            Outcome::Done { detail } => detail,
            Outcome::Failed { reason } => panic!("{shown} should succeed, but: {reason}"),
        }
    }

    /// Every connection of `server` connected, credentials accepted, a poll that went through
    /// after `since`, and the overview says "up" with no poll error.
    async fn wait_healthy(&mut self, server: &str, since: usize) {
        self.wait_until(&format!("{server} healthy"), since, |events, dashboard| {
            let all_connected = last_status(events, server).is_some_and(|status| {
                status.total > 0
                    && status.healthy == status.total
                    && status.unauthenticated.is_none()
            });
            let polled = events.iter().any(|event| {
                matches!(&event.kind, EventKind::Snapshot { snapshot, .. }
                    if snapshot.server == server)
            });
            all_connected
                && polled
                && dashboard.server_state(server).as_deref() == Some("up")
                && !dashboard.shows("poll error")
        })
        .await;
    }

    /// Waits until lktop reports `server` broken by a transport fault: a connection went to
    /// Reconnecting or Failed for a cause that says one of `words`, a poll failed saying one
    /// of them, no connection is connected, and the overview says "down".
    async fn wait_down(&mut self, server: &str, since: usize, words: &[&str]) {
        self.wait_until(
            &format!("{server} reported down for one of {words:?}"),
            since,
            |events, dashboard| {
                left_connected_for(events, server, words)
                    && poll_failed_for(events, server, words)
                    && last_status(events, server).is_some_and(|s| s.total > 0 && s.healthy == 0)
                    && dashboard.server_state(server).as_deref() == Some("down")
            },
        )
        .await;
    }

    /// Stops the engine, shows the events still queued, and checks that every command sent
    /// got exactly one outcome over the whole run.
    async fn finish(mut self) {
        self.engine.shutdown(Duration::from_secs(2)).await;
        let drained = tokio::time::timeout(WAIT, async {
            while let Some(event) = self.events.recv().await {
                self.dashboard.show(&event);
                self.seen.push(event);
            }
        })
        .await;
        assert!(drained.is_ok(), "the event stream ends after shutdown");
        let mut outcomes: HashMap<u64, usize> = HashMap::new();
        for event in &self.seen {
            if let EventKind::Command { id, .. } = &event.kind {
                *outcomes.entry(*id).or_default() += 1;
            }
        }
        for id in &self.sent {
            assert_eq!(
                outcomes.get(id).copied().unwrap_or(0),
                1,
                "command #{id} has exactly one outcome"
            );
        }
    }
}

fn says_any(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words
        .iter()
        .any(|word| lower.contains(&word.to_lowercase()))
}

fn outcome_of(events: &[EngineEvent], wanted: u64) -> Option<Outcome> {
    events.iter().find_map(|event| match &event.kind {
        EventKind::Command { id, outcome, .. } if *id == wanted => Some(outcome.clone()),
        _ => None,
    })
}

fn last_status<'a>(events: &'a [EngineEvent], server: &str) -> Option<&'a PoolStatus> {
    events.iter().rev().find_map(|event| match &event.kind {
        EventKind::PoolStatus { status, .. } if status.server == server => Some(status),
        _ => None,
    })
}

/// A connection of `server` went from Connecting or Connected to Reconnecting or Failed, for
/// a cause saying one of `words`.
fn left_connected_for(events: &[EngineEvent], server: &str, words: &[&str]) -> bool {
    events.iter().any(|event| match &event.kind {
        EventKind::Pool {
            event:
                PoolEvent::StateChanged {
                    server: name,
                    change,
                },
        } => {
            name == server
                && matches!(
                    change.to,
                    ConnectionState::Reconnecting | ConnectionState::Failed
                )
                && says_any(&change.cause, words)
        }
        _ => false,
    })
}

fn poll_failed_for(events: &[EngineEvent], server: &str, words: &[&str]) -> bool {
    events.iter().any(|event| {
        matches!(&event.kind, EventKind::PollFailed { server: name, error }
            if name == server && says_any(error, words))
    })
}

/// No connection of `server` went to Reconnecting or Failed (opening new ones is fine).
fn never_broke(events: &[EngineEvent], server: &str) -> bool {
    events.iter().all(|event| match &event.kind {
        EventKind::Pool {
            event:
                PoolEvent::StateChanged {
                    server: name,
                    change,
                },
        } => {
            name != server
                || !matches!(
                    change.to,
                    ConnectionState::Reconnecting | ConnectionState::Failed
                )
        }
        _ => true,
    })
}

/// Reconnection attempts made on every connection of `server`, as of its last status.
fn reconnect_attempts(events: &[EngineEvent], server: &str) -> u64 {
    last_status(events, server).map_or(0, |status| {
        status
            .connections
            .iter()
            .map(|c| c.reconnect_attempts)
            .sum()
    })
}

/// The middle of most tests: a command right after the fault begins (lktop may not have
/// noticed yet), then lktop's report of the fault, then a command once it has reported it.
async fn fault_reported(run: &mut Run, since: usize, words: &[&str]) {
    run.command_fails(create_room(SERVER, "sent-as-the-fault-begins"), words)
        .await;
    run.wait_down(SERVER, since, words).await;
    run.command_fails(create_room(SERVER, "sent-while-down"), words)
        .await;
}

/// The end of every test: with the fault gone, lktop reconnects (sooner with `RetryNow`) and
/// a command goes through; the room it made is on the server.
async fn heals(run: &mut Run, sandbox: &Sandbox) {
    let since = run.mark();
    run.command_done(retry_now(SERVER)).await;
    run.wait_healthy(SERVER, since).await;
    run.command_done(create_room(SERVER, "after-the-fault"))
        .await;
    let made = sandbox
        .rooms()
        .lock()
        .unwrap()
        .list_rooms(&["after-the-fault".into()])
        .len();
    assert_eq!(made, 1, "the room made after the fault is on the server");
}

/// Starts a sandbox, a proxy in front of it and an engine through the proxy, and waits until
/// everything works.
async fn through_proxy(timeout: Duration) -> (Sandbox, FaultProxy, Run) {
    let sandbox = sandbox().await;
    let proxy = FaultProxy::start(sandbox.addr()).await;
    let mut run = Run::start(config(&[(SERVER, &proxy.url())], timeout), None).await;
    run.wait_healthy(SERVER, 0).await;
    (sandbox, proxy, run)
}

#[tokio::test]
async fn refused_while_the_listener_is_down() {
    bounded(async {
        let sandbox = sandbox().await;
        let mut run = Run::start(config(&[(SERVER, &sandbox.url())], TIMEOUT), None).await;
        run.wait_healthy(SERVER, 0).await;

        let since = run.mark();
        sandbox.listener_down().await;
        let err = direct(&sandbox.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::ConnectionRefused, "{err}");
        fault_reported(&mut run, since, &["connection refused"]).await;

        sandbox.listener_up().await;
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn refused_from_the_start_until_the_server_comes_up() {
    bounded(async {
        // Bound but not listening: connections are refused, and no other test's listener can
        // take the port until the sandbox does.
        let reserved = TcpSocket::new_v4().expect("a socket");
        reserved
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("a free loopback port");
        let addr = reserved
            .local_addr()
            .expect("a bound socket has an address");
        let url = format!("http://{addr}");
        let err = direct(&url, TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::ConnectionRefused, "{err}");

        let mut run = Run::start(config(&[(SERVER, &url)], TIMEOUT), None).await;
        run.wait_down(SERVER, 0, &["connection refused"]).await;
        run.command_fails(
            create_room(SERVER, "before-the-server"),
            &["connection refused"],
        )
        .await;

        drop(reserved);
        let sandbox = sandbox_on(addr).await;
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_mid_answer() {
    bounded(async {
        let (sandbox, proxy, mut run) = through_proxy(TIMEOUT).await;

        let since = run.mark();
        proxy.set_mode(ProxyMode::ResetMidAnswer);
        let err = direct(&proxy.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::ConnectionReset, "{err}");
        fault_reported(&mut run, since, &["connection reset"]).await;

        proxy.set_mode(ProxyMode::PassThrough);
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn half_open_connection() {
    bounded(async {
        let (sandbox, proxy, mut run) = through_proxy(TIMEOUT).await;

        let since = run.mark();
        proxy.set_mode(ProxyMode::HalfOpen);
        let err = direct(&proxy.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ApiErrorKind::Timeout {
                after: Some(TIMEOUT)
            },
            "{err}"
        );
        fault_reported(&mut run, since, &["timed out"]).await;

        proxy.set_mode(ProxyMode::PassThrough);
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn answer_trickled_past_the_timeout() {
    bounded(async {
        let (sandbox, proxy, mut run) = through_proxy(TIMEOUT).await;

        let since = run.mark();
        // About 100 bytes of the shortest answer at 2 bytes per 100 ms: seconds, not 500 ms.
        proxy.set_mode(ProxyMode::Trickle {
            chunk: 2,
            every: Duration::from_millis(100),
        });
        let err = direct(&proxy.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ApiErrorKind::Timeout {
                after: Some(TIMEOUT)
            },
            "{err}"
        );
        fault_reported(&mut run, since, &["timed out"]).await;

        proxy.set_mode(ProxyMode::PassThrough);
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn answer_trickled_within_the_timeout_succeeds() {
    bounded(async {
        // A timeout far above the trickle's total, so a loaded machine still finishes in time.
        let timeout = Duration::from_secs(5);
        let (sandbox, proxy, mut run) = through_proxy(timeout).await;

        let since = run.mark();
        proxy.set_mode(ProxyMode::Trickle {
            chunk: 16,
            every: Duration::from_millis(20),
        });
        let rooms = direct(&proxy.url(), timeout)
            .list_rooms(Vec::new())
            .await
            .expect("a slow answer within the timeout is an answer");
        assert!(rooms.is_empty(), "{rooms:?}");
        let detail = run
            .command_done(create_room(SERVER, "made-through-a-trickle"))
            .await;
        assert!(detail.contains("made-through-a-trickle"), "{detail}");
        // Polls go on through the trickle, and the server stays up all along. Polls run one
        // after another, so the second to end after this point also began after it, and its
        // requests met the trickle.
        let trickled = proxy.faulted_requests();
        let polls_since = run.mark();
        run.wait_until(
            "two polls through the trickle",
            polls_since,
            |events, dashboard| {
                events
                    .iter()
                    .filter(|event| matches!(event.kind, EventKind::Snapshot { .. }))
                    .count()
                    >= 2
                    && dashboard.server_state(SERVER).as_deref() == Some("up")
            },
        )
        .await;
        assert!(
            proxy.faulted_requests() > trickled,
            "polls went through the trickle"
        );
        assert!(
            never_broke(&run.seen[since..], SERVER),
            "no connection broke for a slow answer"
        );

        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn html_502_from_a_proxy() {
    bounded(async {
        let (sandbox, proxy, mut run) = through_proxy(TIMEOUT).await;

        let since = run.mark();
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                     <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                     </body>\r\n</html>\r\n";
        proxy.set_mode(ProxyMode::Canned(http_response(
            "502 Bad Gateway",
            "text/html",
            page,
        )));
        let err = direct(&proxy.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::Server, "{err}");
        assert_eq!(err.status(), Some(502), "{err}");
        fault_reported(&mut run, since, &["502"]).await;

        proxy.set_mode(ProxyMode::PassThrough);
        heals(&mut run, &sandbox).await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

/// Bytes no `RoomService` answer decodes from, drawn from a fixed seed; checked here, so the
/// test does not rest on luck.
fn garbage() -> Vec<u8> {
    let mut bytes = vec![0_u8; 64];
    ChaCha8Rng::seed_from_u64(6).fill_bytes(&mut bytes);
    assert!(proto::ListRoomsResponse::decode(bytes.as_slice()).is_err());
    assert!(proto::ListParticipantsResponse::decode(bytes.as_slice()).is_err());
    assert!(proto::Room::decode(bytes.as_slice()).is_err());
    bytes
}

/// A 200 full of garbage: the connection works, so lktop keeps it Connected, but nothing it
/// reads is usable: every poll and command fails as malformed, and the overview says so.
async fn garbage_answers(content_type: &str, body: &[u8]) {
    let (sandbox, proxy, mut run) = through_proxy(TIMEOUT).await;

    let since = run.mark();
    proxy.set_mode(ProxyMode::Canned(http_response(
        "200 OK",
        content_type,
        body,
    )));
    let err = direct(&proxy.url(), TIMEOUT)
        .list_rooms(Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ApiErrorKind::Malformed, "{err}");
    assert_eq!(err.status(), Some(200), "{err}");
    run.command_fails(create_room(SERVER, "garbage-in"), &["malformed"])
        .await;
    // The server's quality counts an answer lktop cannot use as a failure, though the
    // connection carrying it works.
    run.wait_until("polls failing as malformed", since, |events, dashboard| {
        poll_failed_for(events, SERVER, &["malformed"])
            && events.iter().any(|event| {
                matches!(&event.kind, EventKind::Quality { server, report, .. }
                    if server == SERVER && report.failures > 0)
            })
            && dashboard.server_state(SERVER).as_deref() == Some("up")
            && dashboard.shows("poll error")
            && dashboard.shows("malformed")
    })
    .await;
    assert!(
        never_broke(&run.seen[since..], SERVER),
        "an answer, even garbage, leaves the connections Connected"
    );

    proxy.set_mode(ProxyMode::PassThrough);
    heals(&mut run, &sandbox).await;
    run.finish().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn ok_with_random_protobuf_bytes() {
    bounded(garbage_answers("application/protobuf", &garbage())).await;
}

#[tokio::test]
async fn ok_with_json_that_is_not_json() {
    bounded(garbage_answers(
        "application/json",
        b"{\"rooms\": [ this is not JSON at all",
    ))
    .await;
}

#[tokio::test]
async fn unresolvable_host_leaves_the_other_server_alone() {
    bounded(async {
        // A dead resolver can take seconds to say no; the direct call waits for its answer.
        let err = direct(UNRESOLVABLE_URL, Duration::from_secs(15))
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::Unreachable, "{err}");

        let sandbox = sandbox().await;
        let servers = [
            (SERVER, sandbox.url()),
            (UNRESOLVABLE_SERVER, UNRESOLVABLE_URL.to_owned()),
        ];
        let servers: Vec<(&str, &str)> = servers.iter().map(|(n, u)| (*n, u.as_str())).collect();
        let mut run = Run::start(config(&servers, TIMEOUT), None).await;
        // Timed out too, in case the machine's resolver is slow rather than quick to refuse.
        let words = ["unreachable", "dns", "timed out"];
        run.wait_down(UNRESOLVABLE_SERVER, 0, &words).await;
        run.wait_healthy(SERVER, 0).await;
        run.command_fails(create_room(UNRESOLVABLE_SERVER, "nowhere-room"), &words)
            .await;
        run.command_done(create_room(SERVER, "somewhere-room"))
            .await;
        // No cure for a name that never resolves, but lktop keeps trying, past the attempts
        // with backoff, on the slow cadence of Failed connections.
        let max_attempts = u64::from(Config::default().connection_pool.max_reconnect_attempts);
        run.wait_until(
            "Failed connections retried past the attempts with backoff",
            0,
            |events, dashboard| {
                last_status(events, UNRESOLVABLE_SERVER).is_some_and(|status| {
                    status.failed == status.total
                        && reconnect_attempts(events, UNRESOLVABLE_SERVER)
                            > max_attempts * status.total as u64
                }) && dashboard.server_state(UNRESOLVABLE_SERVER).as_deref() == Some("down")
                    && dashboard.server_state(SERVER).as_deref() == Some("up")
            },
        )
        .await;
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

/// The server's secret is rotated while lktop runs: lktop reports the server unauthenticated.
/// Reloading a configuration with the new secret is accepted but does not reach the running
/// connections (servers and pools need a restart); rotating the secret back heals.
#[tokio::test]
async fn unauthorized_after_a_secret_rotation() {
    bounded(async {
        let sandbox = sandbox().await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("performance.yaml");
        let sources = ConfigSources {
            file: Some(file.clone()),
            overrides: Vec::new(),
        };
        let mut run = Run::start(config(&[(SERVER, &sandbox.url())], TIMEOUT), Some(sources)).await;
        run.wait_healthy(SERVER, 0).await;

        let since = run.mark();
        sandbox.set_api_secret(KEY, SecretString::from(ROTATED_SECRET));
        let err = direct(&sandbox.url(), TIMEOUT)
            .list_rooms(Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ApiErrorKind::Unauthenticated, "{err}");
        assert_eq!(err.status(), Some(401), "{err}");
        let words = ["signature is invalid"];
        run.command_fails(create_room(SERVER, "sent-as-the-secret-changes"), &words)
            .await;
        run.wait_until(
            "the server reported unauthenticated",
            since,
            |events, dashboard| {
                last_status(events, SERVER).is_some_and(|status| {
                    status.failed == status.total
                        && status
                            .unauthenticated
                            .as_deref()
                            .is_some_and(|reason| says_any(reason, &words))
                }) && poll_failed_for(events, SERVER, &words)
                    && dashboard.server_state(SERVER).as_deref() == Some("unauthenticated")
            },
        )
        .await;
        let reason = run
            .command_fails(create_room(SERVER, "sent-while-unauthenticated"), &words)
            .await;
        assert!(reason.contains("rejected the credentials"), "{reason}");

        // The new secret in the file: the reload is accepted, the connections keep the old one.
        std::fs::write(&file, config_file(&sandbox.url(), ROTATED_SECRET))
            .expect("the configuration file is written");
        let detail = run.command_done(Command::ReloadConfig).await;
        assert!(detail.contains("configuration reloaded"), "{detail}");
        let before = reconnect_attempts(&run.seen, SERVER);
        let since = run.mark();
        run.command_done(retry_now(SERVER)).await;
        run.wait_until(
            "a credentials check after the reload, still refused",
            since,
            |events, dashboard| {
                reconnect_attempts(events, SERVER) > before
                    && last_status(events, SERVER).is_some_and(|s| s.unauthenticated.is_some())
                    && dashboard.server_state(SERVER).as_deref() == Some("unauthenticated")
            },
        )
        .await;

        sandbox.set_api_secret(KEY, SecretString::from(SECRET));
        let since = run.mark();
        heals(&mut run, &sandbox).await;
        assert!(
            run.seen[since..].iter().any(|event| matches!(
                &event.kind,
                EventKind::Pool {
                    event: PoolEvent::Authenticated { server }
                } if server == SERVER
            )),
            "the pool announces the credentials are accepted again"
        );
        run.finish().await;
        sandbox.shutdown().await;
    })
    .await;
}

/// The test configuration as a file, with `secret` for the server.
fn config_file(url: &str, secret: &str) -> String {
    format!(
        "servers:\n  - name: {SERVER}\n    url: {url}\n    api_key: {KEY}\n    api_secret: {secret}\n\
         connection_pool:\n  pool_size: 2\n  max_pool_size: 4\n  connection_timeout: 500ms\n  \
         health_check_interval: 200ms\n  reconnect_base_delay: 20ms\n  reconnect_max_delay: 200ms\n\
         polling:\n  interval: 100ms\nquality_monitoring:\n  monitoring_interval: 100ms\n"
    )
}
