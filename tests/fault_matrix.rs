//! The fault matrix: lktop against each way a LiveKit server (or what stands in front of it)
//! can fail, through the whole stack — a direct `RoomService` call, the pool, the engine and
//! the dashboard. Faults come from the sandbox where it can produce them (listener down, a
//! rotated secret, a clock set off from the machine's) and from a fault-injecting proxy on
//! 127.0.0.1 where it cannot (a reset mid-answer, a half-open connection, a trickled or sliced
//! answer, a slow close, a request read slowly, a proxy's HTML 502, a 429 or 503 with
//! `Retry-After`, a 200 full of garbage); a port bound but not listening stands for a server
//! not there yet, and a name under `.invalid` for a DNS failure. Beside the table, one test
//! cuts a small answer after every number of bytes it has.
//!
//! The matrix is one table, `fault_matrix!` below: a row per fault, each a test of its own
//! named after it. One runner, `check`, takes every row through the same story: the fault
//! begins; a direct call fails with the row's `ApiErrorKind` (or answers); a command sent at
//! once ends in the row's outcome; lktop reports the server in the row's state, its error
//! saying the row's words, and the dashboard, fed every event and drawn after each, shows that
//! state; a command sent then ends in the row's outcome again; then either the fault is removed
//! and the pool heals, or lktop keeps trying. Rows whose fault is on before lktop starts skip
//! the first command, and a row's extra step (the reload after a secret rotation, the fault
//! switched off and on again) runs before the healing. Outcomes only, never timings: each test is bounded by a generous timeout.
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
use std::time::{Duration, SystemTime};

use configs::{KEY, SECRET, TestConfig, TestSandbox, room_api, sandbox};
use fault_proxy::{FaultProxy, ProxyMode, http_response, http_response_with};
use headless_dashboard::HeadlessDashboard;
use livekit_sandbox::Sandbox;
use livekit_sandbox::faults::Faults;
use lktop::api::{ApiErrorKind, RoomApi, ServerClock, proto};
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
/// Rooms on the server in the rows about a large `ListRooms`.
const MANY_ROOMS: usize = 10_000;
/// The shortest time a flapping fault stays on, and off.
const FLAP: Duration = Duration::from_millis(300);
/// The `Date` of the canned 503, and its `Retry-After` 30 s later.
const CANNED_DATE: &str = "Wed, 02 Dec 2026 10:00:00 GMT";
const CANNED_RETRY_DATE: &str = "Wed, 02 Dec 2026 10:00:30 GMT";

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
        DirectCall::Fails(Failure {
            status: Some(502),
            ..Failure::of(ApiErrorKind::Server)
        }),
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
            DirectCall::Fails(Failure {
                status: Some(401),
                ..Failure::of(ApiErrorKind::Unauthenticated)
            }),
            &["signature is invalid"],
        )
    },
    // 10,000 rooms make a ListRooms answer of about 0.7 MB: at 16 KiB per 50 ms, seconds. The
    // health checks' and the commands' answers are a chunk each, so they go through.
    large_list_trickled_past_the_timeout: FaultCase {
        rooms: MANY_ROOMS,
        connections: Connections::StayConnected,
        commands: Commands::Done,
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Trickle { chunk: 16 * 1024, every: Duration::from_millis(50) }),
            DirectCall::TIMED_OUT,
            &["timed out"],
        )
    },
    large_list_trickled_within_the_timeout: FaultCase {
        rooms: MANY_ROOMS,
        timeout: Duration::from_secs(5),
        ..FaultCase::passes_through(Fault::Proxy(ProxyMode::Trickle {
            chunk: 64 * 1024,
            every: Duration::from_millis(20),
        }))
    },
    answer_sliced_at_random_byte_boundaries: FaultCase {
        timeout: Duration::from_secs(5),
        ..FaultCase::passes_through(Fault::Proxy(ProxyMode::Slice {
            max: 7,
            pause: Duration::from_millis(1),
        }))
    },
    // Far longer than the requests' timeout: an answer must not wait for the close.
    slow_close_after_a_whole_answer: FaultCase::passes_through(Fault::Proxy(
        ProxyMode::SlowClose { hold: Duration::from_secs(5) },
    )),
    // A request of about 500 bytes at one byte per 20 ms: seconds, not 500 ms.
    request_read_one_byte_at_a_time: FaultCase::down(
        Fault::Proxy(ProxyMode::ReadRequestSlowly { every: Duration::from_millis(20) }),
        DirectCall::TIMED_OUT,
        &["timed out"],
    ),
    // The server's wait is obeyed: once it asked, commands fail at once, unsent.
    too_many_requests_with_retry_after_seconds: FaultCase {
        commands: Commands::FailThenRefusedUnsent {
            words: &["429"],
            once_reported: "asked lktop to wait",
        },
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Canned(http_response_with(
                "429 Too Many Requests",
                &[("Retry-After", "7")],
                "text/plain",
                b"Too Many Requests\n",
            ))),
            DirectCall::Fails(Failure {
                status: Some(429),
                retry_after: Some(Duration::from_secs(7)),
                ..Failure::of(ApiErrorKind::Server)
            }),
            &["429"],
        )
    },
    // The server's wait is obeyed: once it asked, commands fail at once, unsent.
    unavailable_with_retry_after_date: FaultCase {
        commands: Commands::FailThenRefusedUnsent {
            words: &["503"],
            once_reported: "asked lktop to wait",
        },
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Canned(http_response_with(
                "503 Service Unavailable",
                &[("Date", CANNED_DATE), ("Retry-After", CANNED_RETRY_DATE)],
                "text/plain",
                b"Service Unavailable\n",
            ))),
            DirectCall::Fails(Failure {
                status: Some(503),
                retry_after: Some(Duration::from_secs(30)),
                ..Failure::of(ApiErrorKind::Server)
            }),
            &["503"],
        )
    },
    // Behind by less than the minute the server allows on `nbf`.
    server_clock_behind_within_the_leeway: FaultCase::passes_through(Fault::ServerClock(-45)),
    server_clock_behind_beyond_the_leeway: FaultCase::clock_skew(-300, ServerClock::Behind),
    // Ahead by more than the token's ten minutes and the leeway.
    server_clock_ahead_beyond_the_token_lifetime: FaultCase::clock_skew(900, ServerClock::Ahead),
    // livekit-server's own answer, text/plain, echoing the token before go-jose's words.
    livekit_servers_401_for_an_expired_token: FaultCase {
        state: ServerState::Unauthenticated,
        commands: Commands::FailThenRefusedUnsent {
            words: &["clock skew"],
            once_reported: "rejected the credentials",
        },
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::Canned(livekit_servers_expired_token_answer(900))),
            DirectCall::Fails(Failure {
                status: Some(401),
                server_clock: Some((ServerClock::Ahead, 900)),
                ..Failure::of(ApiErrorKind::Unauthenticated)
            }),
            &["clock skew"],
        )
    },
    reset_switched_on_and_off_again: FaultCase {
        extra_step: Some(ExtraStep::SwitchedOffAndOnAgain { times: 3 }),
        ..FaultCase::down(
            Fault::Proxy(ProxyMode::ResetMidAnswer),
            DirectCall::fails(ApiErrorKind::ConnectionReset),
            &["connection reset"],
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
    /// Rooms made on the server before lktop starts.
    rooms: usize,
    /// What the fault does to the connections of a server it takes down.
    connections: Connections,
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
            rooms: 0,
            connections: Connections::Break,
        }
    }

    /// A fault lktop gets through: the server stays up, polls and commands go on, no
    /// connection breaks, and the direct call answers.
    fn passes_through(fault: Fault) -> Self {
        Self {
            state: ServerState::Up,
            commands: Commands::Done,
            ..Self::down(fault, DirectCall::Answers, &[])
        }
    }

    /// The server's clock `offset_secs` off lktop's, beyond what it allows: lktop's tokens
    /// are refused for their times, which lktop reports as a clock skew, not as a wrong
    /// secret. Commands go through livekit-api's `RoomClient`, whose tokens last six hours: a
    /// server behind refuses them too, one ahead by less than that takes them.
    fn clock_skew(offset_secs: i64, server: ServerClock) -> Self {
        let commands = match server {
            ServerClock::Behind => Commands::FailThenRefusedUnsent {
                words: &["clock skew"],
                once_reported: "rejected the credentials",
            },
            ServerClock::Ahead => Commands::DoneThenRefusedUnsent {
                words: &["clock skew"],
                once_reported: "rejected the credentials",
            },
        };
        Self {
            state: ServerState::Unauthenticated,
            commands,
            ..Self::down(
                Fault::ServerClock(offset_secs),
                DirectCall::Fails(Failure {
                    status: Some(401),
                    server_clock: Some((server, offset_secs.unsigned_abs())),
                    ..Failure::of(ApiErrorKind::Unauthenticated)
                }),
                &["clock skew"],
            )
        }
    }
}

/// What a fault that takes the server down does to its connections.
enum Connections {
    /// They break: every one `Reconnecting` or `Failed`, for a cause saying the row's words.
    Break,
    /// They stay `Connected`: the health checks' small answers go through, only the polls'
    /// large ones fail.
    StayConnected,
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
    /// The sandbox's clock is set this many seconds off the machine's (negative: behind);
    /// setting it right heals.
    ServerClock(i64),
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

/// How the direct call fails: its kind, and the HTTP status, `Retry-After` wait and clock
/// skew (which way, and by how many seconds) when the row names them.
struct Failure {
    kind: ApiErrorKind,
    status: Option<u16>,
    retry_after: Option<Duration>,
    server_clock: Option<(ServerClock, u64)>,
}

impl Failure {
    /// The direct call's error is this one.
    fn check(&self, err: &lktop::api::ApiError) {
        assert_eq!(err.kind(), self.kind, "{err}");
        if self.status.is_some() {
            assert_eq!(err.status(), self.status, "{err}");
        }
        assert_eq!(err.retry_after(), self.retry_after, "{err}");
        match self.server_clock {
            Some((server, offset)) => {
                let skew = err.clock_skew().expect("a clock skew");
                assert_eq!(skew.server, server, "{err}");
                // The Date header has whole seconds, and the answer took some time.
                let by = skew.by.expect("measured by the answer's Date").as_secs();
                assert!(by.abs_diff(offset) <= 5, "{by} s, not {offset} s: {err}");
                let shown = err.to_string();
                assert!(
                    shown.contains("clock skew") && shown.contains("NTP"),
                    "{shown}"
                );
            }
            None => assert_eq!(err.clock_skew(), None, "{err}"),
        }
    }

    /// With this kind, before any HTTP status.
    const fn of(kind: ApiErrorKind) -> Self {
        Self {
            kind,
            status: None,
            retry_after: None,
            server_clock: None,
        }
    }
}

enum DirectCall {
    Fails(Failure),
    /// Answers: no rooms, as nothing made one yet.
    Answers,
}

impl DirectCall {
    /// No answer within the row's timeout.
    const TIMED_OUT: Self = Self::fails(ApiErrorKind::Timeout {
        after: Some(TIMEOUT),
    });
    /// An answer with status 200 that cannot be read.
    const MALFORMED: Self = Self::Fails(Failure {
        status: Some(200),
        ..Failure::of(ApiErrorKind::Malformed)
    });

    /// Fails with `kind` before any HTTP status.
    const fn fails(kind: ApiErrorKind) -> Self {
        Self::Fails(Failure::of(kind))
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
    /// Go through until lktop has reported the fault (or fail unsent, when it was quicker than
    /// the command); once it has, fail at once and without a request, saying `once_reported`
    /// and one of the words.
    DoneThenRefusedUnsent {
        words: &'static [&'static str],
        once_reported: &'static str,
    },
}

enum ExtraStep {
    /// The new secret written into the configuration file and reloaded: the reload is
    /// accepted, but servers and pools are kept as started, so the connections keep the old
    /// secret and the next credentials check is refused again.
    ReloadWithTheNewSecret,
    /// The fault switched off and on again `times` times, each phase lasting [`FLAP`] and
    /// until lktop has reported it: lktop heals by itself each time (no `RetryNow`) and reports
    /// each outage and each recovery once.
    SwitchedOffAndOnAgain { times: u32 },
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

/// The server's state changed to `state`.
fn went(events: &[EngineEvent], server: &str, state: ServerState) -> bool {
    events.iter().any(|event| {
        matches!(&event.kind, EventKind::ServerState { server: name, state: now, .. }
            if name == server && *now == state)
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

/// livekit-server's 401 for a token go-jose found expired (`pkg/service/auth.go`: `invalid
/// token: {token}, error: {err}`, text/plain), from a server whose clock is `ahead_secs` ahead:
/// its `Date` says so.
fn livekit_servers_expired_token_answer(ahead_secs: u64) -> Vec<u8> {
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(ahead_secs));
    // The shape and length of one of lktop's tokens; a server echoes whichever it got.
    let token = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        "e".repeat(180),
        "s".repeat(43)
    );
    let body = format!(
        "invalid token: {token}, error: go-jose/go-jose/jwt: validation failed, token is \
         expired (exp)\n"
    );
    http_response_with(
        "401 Unauthorized",
        &[("Date", &date)],
        "text/plain; charset=utf-8",
        body.as_bytes(),
    )
}

/// `count` rooms on the server, named `room-00000` on.
fn make_rooms(sandbox: &Sandbox, count: usize) {
    let now = sandbox.clock().now_ms();
    let rooms = sandbox.rooms();
    let mut rooms = rooms.lock().unwrap();
    for index in 0..count {
        rooms
            .create_room(
                &proto::CreateRoomRequest {
                    name: format!("room-{index:05}"),
                    ..proto::CreateRoomRequest::default()
                },
                now,
            )
            .expect("a new room");
    }
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
        let mut settings = TestConfig::new().connection_timeout(case.timeout);
        if case.rooms > 0 {
            // Participants of a few rooms per poll, not of all 10,000: the row is about the
            // one large ListRooms.
            settings = settings.polling_budget(50, Duration::from_secs(3_600));
        }
        let mut sandbox_started = None;
        let mut proxy = None;
        let mut reserved = None;
        let mut neighbour = None;
        let (faulty, faulty_url) = match &case.fault {
            Fault::ListenerDown | Fault::SecretRotated | Fault::ServerClock(_) => {
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
        if let Some(started) = &sandbox_started {
            make_rooms(started, case.rooms);
        }
        let mut config = settings.clone();
        if let (Some(healthy), Some(started)) = (neighbour, &sandbox_started) {
            config = config.server(healthy, &started.url());
        }
        let config = config.server(faulty, &faulty_url).build();
        let reloads = matches!(case.extra_step, Some(ExtraStep::ReloadWithTheNewSecret));
        let config_file = reloads.then(|| {
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
            Fault::ServerClock(offset) => self
                .sandbox()
                .set_faults(Faults {
                    clock_offset_secs: *offset,
                    ..Faults::default()
                })
                .await
                .expect("a clock offset is a valid fault"),
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
            Fault::ServerClock(_) => self.sandbox().clear_faults().await,
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
            Commands::DoneThenRefusedUnsent {
                words,
                once_reported,
            } => match self.run.command(command).await {
                Outcome::Done { detail } if !reported => assert!(detail.contains(room), "{detail}"),
                Outcome::Done { detail } => panic!("{room} should be refused unsent: {detail}"),
                Outcome::Failed { reason } => assert!(
                    reason.contains(once_reported) && says_any(&reason, words),
                    "{room}: {reason}"
                ),
            },
        }
    }

    /// Waits until lktop reports the fault: the server in the row's state, for a reason that
    /// says one of the row's words, on the event stream and the dashboard.
    async fn wait_reported(&mut self, case: &FaultCase, since: usize, polls_since: usize) {
        let server = self.faulty;
        let state = case.state.to_string();
        let words = case.reported;
        match case.state {
            ServerState::Down => match case.connections {
                Connections::Break => self.run.wait_down(server, since, words).await,
                Connections::StayConnected => {
                    self.run
                        .wait_until(
                            "polls failing, the server reported down",
                            since,
                            |events, dashboard| {
                                poll_failed_for(events, server, words)
                                    && went(events, server, ServerState::Down)
                                    && dashboard.shows_server_as(server, &state)
                            },
                        )
                        .await;
                }
            },
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

    async fn extra_step(&mut self, step: &ExtraStep, case: &FaultCase) {
        match step {
            ExtraStep::SwitchedOffAndOnAgain { times } => {
                let Fault::Proxy(mode) = &case.fault else {
                    unreachable!("only the proxy's faults are switched off and on")
                };
                let server = self.faulty;
                let since = self.run.mark();
                for _ in 0..*times {
                    let off = self.run.mark();
                    self.proxy().set_mode(ProxyMode::PassThrough);
                    tokio::time::sleep(FLAP).await;
                    // No RetryNow: lktop finds its way back by itself.
                    self.run.wait_healthy(server, off).await;
                    let on = self.run.mark();
                    self.proxy().set_mode(mode.clone());
                    tokio::time::sleep(FLAP).await;
                    self.run.wait_down(server, on, case.reported).await;
                }
                // Each recovery and each outage reported once, in turn, the recoveries with
                // how long the server was down.
                let changes: Vec<(ServerState, Option<u64>)> = self.run.seen[since..]
                    .iter()
                    .filter_map(|event| match &event.kind {
                        EventKind::ServerState {
                            server: name,
                            state,
                            down_for_ms,
                            ..
                        } if name == server => Some((*state, *down_for_ms)),
                        _ => None,
                    })
                    .collect();
                let expected: Vec<ServerState> = (0..*times)
                    .flat_map(|_| [ServerState::Up, ServerState::Down])
                    .collect();
                let states: Vec<ServerState> = changes.iter().map(|(state, _)| *state).collect();
                assert_eq!(states, expected, "{changes:?}");
                assert!(
                    changes
                        .iter()
                        .all(|(state, down_for)| (*state == ServerState::Up) == down_for.is_some()),
                    "{changes:?}"
                );
            }
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
        (DirectCall::Fails(failure), Err(err)) => failure.check(&err),
        (DirectCall::Fails(failure), Ok(rooms)) => panic!(
            "the direct call should fail with {:?}, but answered {} rooms",
            failure.kind,
            rooms.len()
        ),
        // The rooms made before lktop started, and no other.
        (DirectCall::Answers, Ok(rooms)) => assert_eq!(rooms.len(), case.rooms),
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
    if matches!(case.connections, Connections::StayConnected) {
        assert!(
            never_broke(&stage.run.seen[since..], stage.faulty),
            "the health checks' small answers keep the connections Connected"
        );
    }
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
        stage.extra_step(step, &case).await;
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

/// A small answer (`ListRooms` with one room) cut by a FIN after each number of bytes it has,
/// from none to all: every cut short of the whole is a clean `ConnectionReset`, the whole answer
/// is the room, and nothing panics or passes a partial answer off as a whole one. A client of
/// its own per cut, so each cut meets a fresh connection (a client that found its kept-alive
/// connection closed might retry on another).
#[tokio::test]
async fn an_answer_cut_after_any_number_of_bytes_is_a_reset_or_whole() {
    bounded(async {
        let sandbox = sandbox().await;
        make_rooms(&sandbox, 1);
        let proxy = FaultProxy::start(sandbox.addr()).await;
        let call = |url: String| async move {
            room_api(&url, Duration::from_secs(5))
                .list_rooms(Vec::new())
                .await
        };
        proxy.set_mode(ProxyMode::CutAfter(usize::MAX));
        let whole = call(proxy.url()).await.expect("the whole answer");
        assert_eq!(whole.len(), 1);
        let length = proxy.last_answer_len();
        assert!(
            length > 100,
            "an answer with a head and a room: {length} bytes"
        );
        let mut kinds: HashMap<String, usize> = HashMap::new();
        for cut in 0..=length {
            proxy.set_mode(ProxyMode::CutAfter(cut));
            let answer = call(proxy.url()).await;
            assert_eq!(
                proxy.last_answer_len(),
                length,
                "the same answer every time"
            );
            match answer {
                Ok(rooms) if cut == length => assert_eq!(rooms, whole),
                Ok(rooms) => panic!("cut after {cut} of {length} bytes, yet answered {rooms:?}"),
                Err(err) if cut < length => {
                    assert_eq!(
                        err.kind(),
                        ApiErrorKind::ConnectionReset,
                        "cut after {cut} of {length} bytes: {err}"
                    );
                    *kinds.entry(err.message().to_owned()).or_default() += 1;
                }
                Err(err) => panic!("the whole answer failed: {err}"),
            }
        }
        // What lktop said, and how often: for the notes, when the test runs with --nocapture.
        println!("{length} bytes; every cut short of them said: {kinds:#?}");
        sandbox.shutdown().await;
    })
    .await;
}

/// A command goes through livekit-api's `RoomClient`, which cannot read a text/plain 401: the
/// diagnostic `ListRooms` that recovers the status must read past the token livekit-server
/// echoes to the reason after it, to tell a clock skew from a wrong secret. The row above
/// cannot show it for sure: the pool may have refused its command unsent before it was sent.
#[tokio::test]
async fn a_command_refused_by_livekit_servers_401_for_an_expired_token_tells_the_skew() {
    bounded(async {
        let sandbox = sandbox().await;
        let proxy = FaultProxy::start(sandbox.addr()).await;
        proxy.set_mode(ProxyMode::Canned(livekit_servers_expired_token_answer(900)));
        let err = room_api(&proxy.url(), Duration::from_secs(5))
            .create_room("refused", lktop::api::CreateRoomOptions::default())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ApiErrorKind::Unauthenticated, "{err}");
        assert_eq!(err.status(), Some(401), "{err}");
        let skew = err.clock_skew().expect("a clock skew");
        assert_eq!(skew.server, ServerClock::Ahead, "{err}");
        let by = skew.by.expect("measured by the Date").as_secs();
        assert!(by.abs_diff(900) <= 5, "{by} s: {err}");
        assert!(
            !err.to_string().contains("eyJ"),
            "the echoed token is redacted: {err}"
        );
        sandbox.shutdown().await;
    })
    .await;
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
        check_direct_call_cell(name, &case.direct_call, &cells[3]);
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
            Commands::Done | Commands::DoneThenRefusedUnsent { .. } => "`Done`",
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

/// The doc's direct-call cell names the kind, and the status, `Retry-After` wait and clock
/// skew the row expects.
fn check_direct_call_cell(name: &str, direct_call: &DirectCall, direct: &str) {
    match direct_call {
        DirectCall::Fails(Failure {
            kind,
            status,
            retry_after,
            server_clock,
        }) => {
            if let Some(wait) = retry_after {
                let wait = humantime::format_duration(*wait).to_string();
                assert!(
                    direct.contains("Retry-After") && direct.contains(&format!("`{wait}`")),
                    "{name}: retry_after {wait}: {direct}"
                );
            }
            if let Some((server, _)) = server_clock {
                let way = match server {
                    ServerClock::Ahead => "Ahead",
                    ServerClock::Behind => "Behind",
                };
                assert!(
                    direct.contains(&format!("ServerClock::{way}")),
                    "{name}: the server's clock is {way}: {direct}"
                );
            }
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
}
