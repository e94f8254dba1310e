//! The fault matrix: lktop against each way a LiveKit server (or what stands in front of it)
//! can fail, through the whole stack — a direct `RoomService` call, the pool, the engine and
//! the dashboard. Faults come from the sandbox where it can produce them (listener down, a
//! rotated secret) and from a fault-injecting proxy on 127.0.0.1 where it cannot (a reset
//! mid-answer, a half-open connection, a trickled answer, a proxy's HTML 502, a 200 full of
//! garbage); a port bound but not listening stands for a server not there yet, and a name
//! under `.invalid` for a DNS failure.
//!
//! The matrix is one table, `fault_matrix!` below: a row per fault, each a test of its own
//! named after it. One runner, `check`, takes every row through the same story: the fault
//! begins; a direct call fails with the row's `ApiErrorKind` (or answers); a command sent at
//! once ends in the row's outcome; lktop reports the server in the row's state, its error
//! saying the row's words, and the dashboard, fed every event and drawn after each, shows that
//! state; a command sent then ends in the row's outcome again; then either the fault is removed
//! and the pool heals, or lktop keeps trying. Rows whose fault is on before lktop starts skip
//! the first command, and a row's extra step (the reload after a secret rotation) runs before
//! the healing. Outcomes only, never timings: each test is bounded by a generous timeout.
//! `docs/reliability.md` is the table of what they find, checked against this one row by row.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/headless_dashboard.rs"]
#[allow(dead_code, reason = "shared with the replay test, which presses keys")]
mod headless_dashboard;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use configs::{KEY, SECRET, TestConfig, TestSandbox, room_api, sandbox};
use fault_proxy::{FaultProxy, ProxyMode, http_response};
use headless_dashboard::HeadlessDashboard;
use livekit_sandbox::Sandbox;
use lktop::api::{ApiErrorKind, RoomApi, proto};
use lktop::config::{Config, ConfigSources};
use lktop::engine::{Engine, EngineOptions};
use lktop::events::{Command, EngineEvent, EventKind, Outcome, ServerState};
use lktop::pool::{PoolEvent, PoolStatus};
use lktop::reconnect::ConnectionState;
use prost::Message;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tempfile::TempDir;
use tokio::net::TcpSocket;
use tokio::sync::mpsc;

const ROTATED_SECRET: &str = "fault-matrix-rotated-secret-fedcba9876543210";
const SERVER: &str = "matrix";
/// A name under the TLD RFC 2606 reserves so that it never resolves.
const UNRESOLVABLE_URL: &str = "http://lktop-fault-matrix.invalid:7880";
const UNRESOLVABLE_SERVER: &str = "nowhere";
/// The requests' timeout in most rows (`connection_pool.connection_timeout`).
const TIMEOUT: Duration = Duration::from_millis(500);
/// Bound of one wait for the engine; generous, since the machine may be loaded.
const WAIT: Duration = Duration::from_secs(10);
/// Bound of one whole test.
const TEST_BOUND: Duration = Duration::from_secs(45);

/// The rows: each a `#[tokio::test]` named as the row, and `rows()`, the whole table.
macro_rules! fault_matrix {
    ($($name:ident: $case:expr,)*) => {
        /// Every row with the name of its test, in order.
        fn rows() -> Vec<(&'static str, FaultCase)> {
            vec![$((stringify!($name), $case),)*]
        }

        $(
            #[tokio::test]
            async fn $name() {
                check_row(stringify!($name)).await;
            }
        )*
    };
}

fault_matrix! {
    refused_while_the_listener_is_down: FaultCase::down(
        Fault::ListenerDown,
        DirectCall::fails(ApiErrorKind::ConnectionRefused),
        &["connection refused"],
    ),
    refused_from_the_start_until_the_server_comes_up: FaultCase::down(
        Fault::RefusedFromTheStart,
        DirectCall::fails(ApiErrorKind::ConnectionRefused),
        &["connection refused"],
    ),
    reset_mid_answer: FaultCase::down(
        Fault::Proxy(ProxyMode::ResetMidAnswer),
        DirectCall::fails(ApiErrorKind::ConnectionReset),
        &["connection reset"],
    ),
    half_open_connection: FaultCase::down(
        Fault::Proxy(ProxyMode::HalfOpen),
        DirectCall::TIMED_OUT,
        &["timed out"],
    ),
    answer_trickled_past_the_timeout: FaultCase::down(
        // About 100 bytes of the shortest answer at 2 bytes per 100 ms: seconds, not 500 ms.
        Fault::Proxy(ProxyMode::Trickle { chunk: 2, every: Duration::from_millis(100) }),
        DirectCall::TIMED_OUT,
        &["timed out"],
    ),
    answer_trickled_within_the_timeout_succeeds: FaultCase {
        // Far above the trickle's total, so a loaded machine still finishes in time.
        timeout: Duration::from_secs(5),
        state: ServerState::Up,
        commands: Commands::Done,
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Trickle { chunk: 16, every: Duration::from_millis(20) }),
            DirectCall::Answers,
            &[],
        )
    },
    html_502_from_a_proxy: FaultCase::down(
        Fault::Proxy(ProxyMode::Canned(http_response(
            "502 Bad Gateway",
            "text/html",
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
              <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
              </body>\r\n</html>\r\n",
        ))),
        DirectCall::Fails { kind: ApiErrorKind::Server, status: Some(502) },
        &["502"],
    ),
    // A well-formed answer the client cannot read: the server is up, lktop cannot use it.
    ok_with_random_protobuf_bytes: FaultCase {
        state: ServerState::Up,
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Canned(http_response(
                "200 OK",
                "application/protobuf",
                &garbage(),
            ))),
            DirectCall::MALFORMED,
            &["malformed"],
        )
    },
    ok_with_json_that_is_not_json: FaultCase {
        state: ServerState::Up,
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Canned(http_response(
                "200 OK",
                "application/json",
                b"{\"rooms\": [ this is not JSON at all",
            ))),
            DirectCall::MALFORMED,
            &["malformed"],
        )
    },
    unresolvable_host_leaves_the_other_server_alone: FaultCase {
        heals: false,
        ..FaultCase::down(
            Fault::UnresolvableHostBesideAHealthyServer,
            DirectCall::fails(ApiErrorKind::Unreachable),
            // Timed out too, in case the machine's resolver is slow rather than quick to
            // refuse.
            &["unreachable", "dns", "timed out"],
        )
    },
    unauthorized_after_a_secret_rotation: FaultCase {
        state: ServerState::Unauthenticated,
        commands: Commands::FailThenRefusedUnsent {
            words: &["signature is invalid"],
            once_reported: "rejected the credentials",
        },
        extra_step: Some(ExtraStep::ReloadWithTheNewSecret),
        ..FaultCase::down(
            Fault::SecretRotated,
            DirectCall::Fails { kind: ApiErrorKind::Unauthenticated, status: Some(401) },
            &["signature is invalid"],
        )
    },
}

/// One row of the matrix.
struct FaultCase {
    /// How the fault is brought about (and taken away again).
    fault: Fault,
    /// `connection_pool.connection_timeout`, and the direct call's timeout.
    timeout: Duration,
    /// What a call of its own, outside the engine, sees of the fault.
    direct_call: DirectCall,
    /// The server's state lktop reports while the fault is on: in its status and on the
    /// dashboard's overview.
    state: ServerState,
    /// lktop's report of the fault says one of these (in a connection's cause and a failed
    /// poll, or in the unauthenticated reason); none for a fault lktop gets through.
    reported: &'static [&'static str],
    /// What a command sent during the fault ends in.
    commands: Commands,
    /// Whether lktop is whole again once the fault is gone; a fault that cannot be removed
    /// instead shows lktop still trying.
    heals: bool,
    /// A step of its own, after the fault was reported and before the healing.
    extra_step: Option<ExtraStep>,
}

impl FaultCase {
    /// The common row: under the usual timeout, the fault takes the server down, lktop
    /// reports it saying one of `words`, commands fail saying them too, and lktop is whole
    /// again once the fault is gone. Rows that differ say how, with `..FaultCase::down(..)`.
    fn down(fault: Fault, direct_call: DirectCall, words: &'static [&'static str]) -> Self {
        Self {
            fault,
            timeout: TIMEOUT,
            direct_call,
            state: ServerState::Down,
            reported: words,
            commands: Commands::Fail(words),
            heals: true,
            extra_step: None,
        }
    }
}

/// How a row's fault is brought about.
enum Fault {
    /// The sandbox's listener goes down (open connections closed, new ones refused); it comes
    /// back up to heal.
    ListenerDown,
    /// lktop starts against a port bound but not listening; the sandbox starts on it to heal.
    RefusedFromTheStart,
    /// The proxy in front of the sandbox switches to this mode; pass-through heals.
    Proxy(ProxyMode),
    /// A second server whose name never resolves, next to the sandbox: nothing heals it, and
    /// the sandbox must stay unaffected.
    UnresolvableHostBesideAHealthyServer,
    /// The sandbox's secret is rotated while lktop runs with the old one; rotating it back
    /// heals.
    SecretRotated,
}

impl Fault {
    /// On before lktop starts, so there is no moment it begins under lktop's eyes.
    fn on_from_the_start(&self) -> bool {
        matches!(
            self,
            Self::RefusedFromTheStart | Self::UnresolvableHostBesideAHealthyServer
        )
    }

    /// The direct call's timeout: a dead resolver can take seconds to say no, and the direct
    /// call waits for its answer.
    fn direct_call_timeout(&self, timeout: Duration) -> Duration {
        match self {
            Self::UnresolvableHostBesideAHealthyServer => Duration::from_secs(15),
            _ => timeout,
        }
    }
}

enum DirectCall {
    /// Fails with this kind, and this HTTP status when there is one.
    Fails {
        kind: ApiErrorKind,
        status: Option<u16>,
    },
    /// Answers: no rooms, as nothing made one yet.
    Answers,
}

impl DirectCall {
    /// No answer within the row's timeout.
    const TIMED_OUT: Self = Self::fails(ApiErrorKind::Timeout {
        after: Some(TIMEOUT),
    });
    /// An answer with status 200 that cannot be read.
    const MALFORMED: Self = Self::Fails {
        kind: ApiErrorKind::Malformed,
        status: Some(200),
    };

    /// Fails with `kind` before any HTTP status.
    const fn fails(kind: ApiErrorKind) -> Self {
        Self::Fails { kind, status: None }
    }
}

enum Commands {
    /// Fail, saying one of the words.
    Fail(&'static [&'static str]),
    /// Fail, saying one of the words; once lktop has reported the fault, at once and without
    /// a request, saying `once_reported` too.
    FailThenRefusedUnsent {
        words: &'static [&'static str],
        once_reported: &'static str,
    },
    /// Go through: the room is made.
    Done,
}

enum ExtraStep {
    /// The new secret written into the configuration file and reloaded: the reload is
    /// accepted, but servers and pools are kept as started, so the connections keep the old
    /// secret and the next credentials check is refused again.
    ReloadWithTheNewSecret,
}

async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_BOUND, Box::pin(test))
        .await
        .expect("the test finishes within its bound");
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
                matches!(&event.kind, EventKind::Rooms { update, .. }
                    if update.server == server)
            });
            all_connected
                && polled
                && dashboard.shows_server_as(server, "up")
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
                    && dashboard.shows_server_as(server, "down")
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

/// The causes for which a connection of `server` broke: went to Reconnecting or Failed.
fn breaks<'a>(events: &'a [EngineEvent], server: &'a str) -> impl Iterator<Item = &'a str> {
    events.iter().filter_map(move |event| match &event.kind {
        EventKind::Pool {
            event:
                PoolEvent::StateChanged {
                    server: name,
                    change,
                },
        } if name == server
            && matches!(
                change.to,
                ConnectionState::Reconnecting | ConnectionState::Failed
            ) =>
        {
            Some(change.cause.as_str())
        }
        _ => None,
    })
}

/// The last pool status of `server`, if every connection in it had failed.
fn every_connection_failed<'a>(events: &'a [EngineEvent], server: &str) -> Option<&'a PoolStatus> {
    last_status(events, server).filter(|status| status.failed == status.total)
}

/// A connection of `server` went from Connecting or Connected to Reconnecting or Failed, for
/// a cause saying one of `words`.
fn left_connected_for(events: &[EngineEvent], server: &str, words: &[&str]) -> bool {
    breaks(events, server).any(|cause| says_any(cause, words))
}

fn poll_failed_for(events: &[EngineEvent], server: &str, words: &[&str]) -> bool {
    events.iter().any(|event| {
        matches!(&event.kind, EventKind::PollFailed { server: name, error }
            if name == server && says_any(error, words))
    })
}

/// No connection of `server` went to Reconnecting or Failed (opening new ones is fine).
fn never_broke(events: &[EngineEvent], server: &str) -> bool {
    breaks(events, server).next().is_none()
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

/// What a row runs against: the engine with the dashboard, and what makes the fault.
struct Stage {
    run: Run,
    /// The settings lktop runs with, servers aside.
    settings: TestConfig,
    /// The server the fault is on.
    faulty: &'static str,
    /// Its URL, as lktop and the direct call have it.
    faulty_url: String,
    /// A healthy server next to the faulty one, which must stay up.
    neighbour: Option<&'static str>,
    /// Absent until it starts, for a server refused from the start.
    sandbox: Option<Sandbox>,
    proxy: Option<FaultProxy>,
    /// A port bound but not listening: connections are refused, and no other test's listener
    /// can take the port until the sandbox does.
    reserved: Option<(TcpSocket, SocketAddr)>,
    /// The configuration file lktop reloads, in a directory removed with it.
    config_file: Option<(TempDir, PathBuf)>,
}

impl Stage {
    /// Everything a row needs, and the engine started; unless the fault is on from the start,
    /// lktop is healthy before it begins.
    async fn set_up(case: &FaultCase) -> Self {
        let settings = TestConfig::new().connection_timeout(case.timeout);
        let mut sandbox_started = None;
        let mut proxy = None;
        let mut reserved = None;
        let mut neighbour = None;
        let (faulty, faulty_url) = match &case.fault {
            Fault::ListenerDown | Fault::SecretRotated => {
                let started = sandbox().await;
                let url = started.url();
                sandbox_started = Some(started);
                (SERVER, url)
            }
            Fault::Proxy(_) => {
                let started = sandbox().await;
                let started_proxy = FaultProxy::start(started.addr()).await;
                let url = started_proxy.url();
                sandbox_started = Some(started);
                proxy = Some(started_proxy);
                (SERVER, url)
            }
            Fault::RefusedFromTheStart => {
                let socket = TcpSocket::new_v4().expect("a socket");
                socket
                    .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .expect("a free loopback port");
                let addr = socket.local_addr().expect("a bound socket has an address");
                reserved = Some((socket, addr));
                (SERVER, format!("http://{addr}"))
            }
            Fault::UnresolvableHostBesideAHealthyServer => {
                sandbox_started = Some(sandbox().await);
                neighbour = Some(SERVER);
                (UNRESOLVABLE_SERVER, UNRESOLVABLE_URL.to_owned())
            }
        };
        let mut config = settings.clone();
        if let (Some(healthy), Some(started)) = (neighbour, &sandbox_started) {
            config = config.server(healthy, &started.url());
        }
        let config = config.server(faulty, &faulty_url).build();
        let config_file = case.extra_step.as_ref().map(|_| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let file = dir.path().join("performance.yaml");
            (dir, file)
        });
        let sources = config_file.as_ref().map(|(_, file)| ConfigSources {
            file: Some(file.clone()),
            overrides: Vec::new(),
            lk_projects: Vec::new(),
        });
        let mut run = Run::start(config, sources).await;
        if !case.fault.on_from_the_start() {
            run.wait_healthy(faulty, 0).await;
        }
        Self {
            run,
            settings,
            faulty,
            faulty_url,
            neighbour,
            sandbox: sandbox_started,
            proxy,
            reserved,
            config_file,
        }
    }

    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("the sandbox is running")
    }

    fn proxy(&self) -> &FaultProxy {
        self.proxy.as_ref().expect("the proxy is running")
    }

    async fn begin(&self, fault: &Fault) {
        match fault {
            Fault::ListenerDown => self.sandbox().listener_down().await,
            Fault::Proxy(mode) => self.proxy().set_mode(mode.clone()),
            Fault::SecretRotated => self
                .sandbox()
                .set_api_secret(KEY, SecretString::from(ROTATED_SECRET)),
            Fault::RefusedFromTheStart | Fault::UnresolvableHostBesideAHealthyServer => {}
        }
    }

    async fn remove(&mut self, fault: &Fault) {
        match fault {
            Fault::ListenerDown => self.sandbox().listener_up().await,
            Fault::Proxy(_) => self.proxy().set_mode(ProxyMode::PassThrough),
            Fault::SecretRotated => self
                .sandbox()
                .set_api_secret(KEY, SecretString::from(SECRET)),
            Fault::RefusedFromTheStart => {
                let (socket, addr) = self.reserved.take().expect("the port is reserved");
                drop(socket);
                self.sandbox = Some(TestSandbox::new().listening_on(addr).start().await);
            }
            Fault::UnresolvableHostBesideAHealthyServer => {
                unreachable!("a name under .invalid never resolves")
            }
        }
    }

    /// A command to the faulty server while the fault is on, ending as the row says.
    async fn command_during_the_fault(&mut self, commands: &Commands, room: &str, reported: bool) {
        let command = create_room(self.faulty, room);
        match commands {
            Commands::Fail(words) => {
                self.run.command_fails(command, words).await;
            }
            Commands::FailThenRefusedUnsent {
                words,
                once_reported,
            } => {
                let reason = self.run.command_fails(command, words).await;
                if reported {
                    assert!(reason.contains(once_reported), "{reason}");
                }
            }
            Commands::Done => {
                let detail = self.run.command_done(command).await;
                assert!(detail.contains(room), "{detail}");
            }
        }
    }

    /// Waits until lktop reports the fault: the server in the row's state, for a reason that
    /// says one of the row's words, on the event stream and the dashboard.
    async fn wait_reported(&mut self, case: &FaultCase, since: usize, polls_since: usize) {
        let server = self.faulty;
        let state = case.state.to_string();
        let words = case.reported;
        match case.state {
            ServerState::Down => self.run.wait_down(server, since, words).await,
            // Polls go on through the fault, and the server stays up all along. Polls run one
            // after another, so the second to end after `polls_since` also began after it,
            // and its requests met the fault.
            ServerState::Up if words.is_empty() => {
                self.run
                    .wait_until(
                        "two polls through the fault",
                        polls_since,
                        |events, dashboard| {
                            events
                                .iter()
                                .filter(|event| {
                                    matches!(&event.kind, EventKind::Rooms { update, .. }
                                    if update.server == server)
                                })
                                .count()
                                >= 2
                                && dashboard.shows_server_as(server, &state)
                        },
                    )
                    .await;
            }
            // The connection works, so lktop keeps it Connected, but nothing it reads is
            // usable: every poll fails, the overview says so, and the server's quality counts
            // each such answer as a failure.
            ServerState::Up => {
                self.run
                    .wait_until("polls failing, counted against the quality", since, |events, dashboard| {
                        poll_failed_for(events, server, words)
                            && events.iter().any(|event| {
                                matches!(&event.kind, EventKind::Quality { server: name, report, .. }
                                    if name == server && report.failures > 0)
                            })
                            && dashboard.shows_server_as(server, &state)
                            && dashboard.shows("poll error")
                            && words.iter().any(|word| dashboard.shows(word))
                    })
                    .await;
            }
            ServerState::Unauthenticated => {
                self.run
                    .wait_until(
                        "the server reported unauthenticated",
                        since,
                        |events, dashboard| {
                            every_connection_failed(events, server).is_some_and(|status| {
                                status
                                    .unauthenticated
                                    .as_deref()
                                    .is_some_and(|reason| says_any(reason, words))
                            }) && poll_failed_for(events, server, words)
                                && dashboard.shows_server_as(server, &state)
                        },
                    )
                    .await;
            }
        }
    }

    async fn extra_step(&mut self, step: &ExtraStep) {
        match step {
            ExtraStep::ReloadWithTheNewSecret => {
                let server = self.faulty;
                let (_, file) = self.config_file.as_ref().expect("a configuration file");
                let rotated = self
                    .settings
                    .clone()
                    .server_with_secret(server, &self.faulty_url, ROTATED_SECRET)
                    .yaml();
                std::fs::write(file, rotated).expect("the configuration file is written");
                let detail = self.run.command_done(Command::ReloadConfig).await;
                assert!(detail.contains("configuration reloaded"), "{detail}");
                let before = reconnect_attempts(&self.run.seen, server);
                let since = self.run.mark();
                self.run.command_done(retry_now(server)).await;
                self.run
                    .wait_until(
                        "a credentials check after the reload, still refused",
                        since,
                        |events, dashboard| {
                            reconnect_attempts(events, server) > before
                                && last_status(events, server)
                                    .is_some_and(|s| s.unauthenticated.is_some())
                                && dashboard.shows_server_as(server, "unauthenticated")
                        },
                    )
                    .await;
            }
        }
    }

    /// With the fault gone, lktop reconnects (sooner with `RetryNow`) and a command goes
    /// through; the room it made is on the server.
    async fn heals(&mut self) {
        let server = self.faulty;
        let since = self.run.mark();
        self.run.command_done(retry_now(server)).await;
        self.run.wait_healthy(server, since).await;
        self.run
            .command_done(create_room(server, "after-the-fault"))
            .await;
        let made = self
            .sandbox()
            .rooms()
            .lock()
            .unwrap()
            .list_rooms(&["after-the-fault".into()])
            .len();
        assert_eq!(made, 1, "the room made after the fault is on the server");
    }

    /// No cure for the fault, but lktop keeps trying, past the attempts with backoff, on the
    /// slow cadence of Failed connections; the server stays in the row's state and its
    /// neighbour up.
    async fn keeps_trying(&mut self, state: ServerState, since: usize, max_attempts: u32) {
        let (server, neighbour) = (self.faulty, self.neighbour);
        let state = state.to_string();
        let max_attempts = u64::from(max_attempts);
        self.run
            .wait_until(
                "Failed connections retried past the attempts with backoff",
                since,
                |events, dashboard| {
                    every_connection_failed(events, server).is_some_and(|status| {
                        reconnect_attempts(events, server) > max_attempts * status.total as u64
                    }) && dashboard.shows_server_as(server, &state)
                        && neighbour.is_none_or(|healthy| dashboard.shows_server_as(healthy, "up"))
                },
            )
            .await;
    }
}

/// The row named `name`, through the runner.
async fn check_row(name: &str) {
    let (_, case) = rows()
        .into_iter()
        .find(|(row, _)| *row == name)
        .expect("a row of the matrix");
    bounded(check(case)).await;
}

/// Every row's story: the fault begins; a direct call and commands see it; lktop reports it
/// on the event stream and the dashboard; then lktop heals once it is gone, or keeps trying.
async fn check(case: FaultCase) {
    let mut stage = Stage::set_up(&case).await;
    let since = stage.run.mark();
    stage.begin(&case.fault).await;

    let direct = room_api(
        &stage.faulty_url,
        case.fault.direct_call_timeout(case.timeout),
    )
    .list_rooms(Vec::new())
    .await;
    match (&case.direct_call, direct) {
        (DirectCall::Fails { kind, status }, Err(err)) => {
            assert_eq!(err.kind(), *kind, "{err}");
            if status.is_some() {
                assert_eq!(err.status(), *status, "{err}");
            }
        }
        (DirectCall::Fails { kind, .. }, Ok(rooms)) => {
            panic!("the direct call should fail with {kind:?}, but answered {rooms:?}")
        }
        (DirectCall::Answers, Ok(rooms)) => assert!(rooms.is_empty(), "{rooms:?}"),
        (DirectCall::Answers, Err(err)) => panic!("the direct call should answer: {err}"),
    }

    // A command right after the fault begins (lktop may not have noticed yet), then lktop's
    // report of the fault, then a command once it has reported it.
    if !case.fault.on_from_the_start() {
        stage
            .command_during_the_fault(&case.commands, "sent-as-the-fault-begins", false)
            .await;
    }
    let faulted = stage.proxy.as_ref().map(FaultProxy::faulted_requests);
    let polls_since = stage.run.mark();
    stage.wait_reported(&case, since, polls_since).await;
    if case.state == ServerState::Up {
        // The polls that went through met the fault (a failing one proves it by failing).
        if case.reported.is_empty()
            && let Some(before) = faulted
        {
            assert!(
                stage.proxy().faulted_requests() > before,
                "polls went through the fault"
            );
        }
        assert!(
            never_broke(&stage.run.seen[since..], stage.faulty),
            "an answer, even a slow one or garbage, leaves the connections Connected"
        );
    }
    stage
        .command_during_the_fault(&case.commands, "sent-once-reported", true)
        .await;
    if let Some(healthy) = stage.neighbour {
        stage.run.wait_healthy(healthy, 0).await;
        stage
            .run
            .command_done(create_room(healthy, "somewhere-room"))
            .await;
    }
    if let Some(step) = &case.extra_step {
        stage.extra_step(step).await;
    }

    if case.heals {
        stage.remove(&case.fault).await;
        let since = stage.run.mark();
        stage.heals().await;
        if case.state == ServerState::Unauthenticated {
            let server = stage.faulty;
            assert!(
                stage.run.seen[since..].iter().any(|event| matches!(
                    &event.kind,
                    EventKind::Pool {
                        event: PoolEvent::Authenticated { server: name }
                    } if name == server
                )),
                "the pool announces the credentials are accepted again"
            );
        }
    } else {
        let max_attempts = stage.settings.pool().max_reconnect_attempts;
        stage.keeps_trying(case.state, since, max_attempts).await;
    }
    stage.run.finish().await;
    if let Some(sandbox) = stage.sandbox {
        sandbox.shutdown().await;
    }
}

/// The file the rotation row writes says what the code configures, so the reload changes the
/// secret and nothing else.
#[test]
fn the_configuration_file_is_the_configuration_in_code() {
    let settings = TestConfig::new()
        .connection_timeout(TIMEOUT)
        .server(SERVER, "http://127.0.0.1:7880");
    let loaded = lktop::config::load_text(None, Some(&settings.yaml()), &[])
        .expect("the file is valid")
        .config;
    let built = settings.build();
    assert_eq!(loaded.connection_pool, built.connection_pool);
    assert_eq!(loaded.polling, built.polling);
    assert_eq!(loaded.quality_monitoring, built.quality_monitoring);
    let server = |config: &Config| {
        config
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.url.clone(), s.api_key.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(server(&loaded), server(&built));
}

/// `docs/reliability.md`'s matrix has the rows of this one, in order, with the same facts:
/// the test, the direct call's kind and status, the state, a word of the report, the command
/// outcome and whether it heals.
#[test]
fn the_reliability_doc_has_this_table() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md"),
    )
    .expect("docs/reliability.md is readable");
    let table: Vec<Vec<String>> = doc
        .split("## The matrix")
        .nth(1)
        .expect("a section `## The matrix`")
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect();
    let rows = rows();
    let names = |table: &[Vec<String>]| -> Vec<String> {
        table.iter().map(|cells| cells[0].clone()).collect()
    };
    let expected: Vec<String> = rows.iter().map(|(name, _)| format!("`{name}`")).collect();
    assert_eq!(
        names(&table),
        expected,
        "the doc's rows are the code's, in order"
    );
    for ((name, case), cells) in rows.iter().zip(&table) {
        assert_eq!(
            cells.len(),
            8,
            "{name}: test, fault, how, direct call, state, report, commands, heals"
        );
        let direct = &cells[3];
        match &case.direct_call {
            DirectCall::Fails { kind, status } => {
                let kind = format!("{kind:?}");
                let kind = kind.split([' ', '{', '(']).next().unwrap_or_default();
                assert!(
                    direct.contains(&format!("`{kind}")),
                    "{name}: the direct call is {kind}: {direct}"
                );
                if let Some(status) = status {
                    assert!(
                        direct.contains(&status.to_string()),
                        "{name}: status {status}: {direct}"
                    );
                }
            }
            DirectCall::Answers => assert!(direct.starts_with("answers"), "{name}: {direct}"),
        }
        assert!(
            cells[4].starts_with(&format!("`{}`", case.state)),
            "{name}: the state is {}: {}",
            case.state,
            cells[4]
        );
        assert!(
            case.reported.is_empty() || says_any(&cells[5], case.reported),
            "{name}: the report says one of {:?}: {}",
            case.reported,
            cells[5]
        );
        let outcome = match case.commands {
            Commands::Done => "`Done`",
            Commands::Fail(_) | Commands::FailThenRefusedUnsent { .. } => "`Failed`",
        };
        assert!(
            cells[6].starts_with(outcome),
            "{name}: commands end {outcome}: {}",
            cells[6]
        );
        let heals = if case.heals { "yes" } else { "no" };
        assert!(
            cells[7].starts_with(heals),
            "{name}: heals {heals}: {}",
            cells[7]
        );
    }
}
