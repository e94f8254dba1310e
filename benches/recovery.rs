//! How fast lktop notices trouble, recovers from it, and starts. Three tables:
//!
//! 1. **Recovery after a server restart**: a pool of 4 against the sandbox, whose listener goes
//!    down for an outage and comes back, while one caller loops `ListRooms` through the pool.
//!    From the moment the server answers again (`listener_up` returned) to the caller's first
//!    success and to all four connections Connected, next to what the backoff schedule
//!    predicts: the bound `cap_for_attempt(n)` of the attempt reached during the outage, and
//!    the wait the pool had actually drawn (from its `StateChanged` events).
//! 2. **Time to detect a hanging server**: every request hangs (`hang_rate: 1.0`); from the
//!    moment the fault is set to the caller's first `Timeout` and to the first connection
//!    leaving Connected, next to `connection_timeout`.
//! 3. **Startup**: the release binary in a pseudo-terminal in demo mode, from spawn to the
//!    first frame (the header names the built-in sandbox) and to the first poll's data on
//!    screen (the servers table shows the track counts), next to `lktop --version` as the
//!    floor of starting a process.
//!
//! `cargo bench --bench recovery` runs all three (cargo builds `target/release/lktop` for
//! part 3; `LKTOP_BIN` points at another binary); `cargo bench --bench recovery -- startup`
//! (or `restart`, `hang`) runs one. Medians of 5 runs (10 for startup); everything talks to
//! loopback only and every wait has a deadline.

#[path = "support/allocator.rs"]
mod allocator;

#[path = "support/machine.rs"]
mod machine;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;
#[path = "../tests/support/terminal.rs"]
mod terminal;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use livekit_sandbox::faults::Faults;
use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::api::{ApiError, ApiErrorKind, LiveKitRoomApi, RoomApi};
use lktop::config::{ConfigDuration, PoolConfig};
use lktop::pool::{CallError, Pool, PoolEvent, PoolOptions};
use lktop::reconnect::{Backoff, ConnectionId, ConnectionState, StateChange};
use machine::machine_line;
use sandbox_process::lktop_binary;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const KEY: &str = "bench";
const SECRET: &str = "recovery-bench-secret-0123456789abcdef";
const POOL_SIZE: u32 = 4;
const RUNS: usize = 5;
const STARTUP_RUNS: usize = 10;
/// Between two calls of the looping caller: the resolution of "first successful call".
const CALLER_PAUSE: Duration = Duration::from_millis(10);
const PTY_ROWS: u16 = 48;
const PTY_COLS: u16 = 160;
/// Longest any single wait of the startup runs may take before the run is abandoned.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|arg| arg == part);
    println!("{}", machine_line());
    if wanted("restart") || wanted("hang") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        if wanted("restart") {
            runtime.block_on(restart_table());
        }
        if wanted("hang") {
            runtime.block_on(hang_table());
        }
    }
    if wanted("startup") {
        startup_table();
    }
}

// ---------------------------------------------------------------------------------------------
// Shared by the restart and hang parts: a pool with a recorder of its state changes and a
// caller that loops requests through it.

fn ms(millis: u64) -> ConfigDuration {
    ConfigDuration::from_millis(millis)
}

fn pool_config(base: Duration, cap: Duration, timeout: Duration) -> PoolConfig {
    PoolConfig {
        pool_size: POOL_SIZE,
        // Fixed at 4, so "all connections Connected" always means the same four.
        max_pool_size: POOL_SIZE,
        connection_timeout: ConfigDuration::new(timeout),
        reconnect_base_delay: ConfigDuration::new(base),
        reconnect_max_delay: ConfigDuration::new(cap),
        ..PoolConfig::default()
    }
}

async fn start_sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::new(KEY, &SecretString::from(SECRET)))
        .await
        .expect("the sandbox starts on loopback")
}

/// A state change and when it was received.
type Stamped = (Instant, StateChange);

/// A pool, its state changes as they arrived, and the task collecting them.
struct WatchedPool {
    pool: Pool<LiveKitRoomApi>,
    changes: Arc<Mutex<Vec<Stamped>>>,
    collector: JoinHandle<()>,
}

impl WatchedPool {
    fn start(sandbox: &Sandbox, config: PoolConfig, seed: u64) -> Self {
        let (sender, mut events) = mpsc::channel(4096);
        let url = sandbox.url();
        let secret = SecretString::from(SECRET);
        let timeout = config.connection_timeout.get();
        let pool = Pool::start(
            PoolOptions::new("bench", config, sender).with_seed(seed),
            move || LiveKitRoomApi::new(&url, KEY, &secret, timeout),
        )
        .expect("the pool starts");
        let changes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&changes);
        let collector = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let PoolEvent::StateChanged { change, .. } = event {
                    lock(&sink).push((Instant::now(), change));
                }
            }
        });
        Self {
            pool,
            changes,
            collector,
        }
    }

    /// Polls the status until every connection is Connected, for at most `within`.
    async fn all_connected(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let status = self.pool.status();
            if status.total > 0 && status.healthy == status.total {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    fn changes(&self) -> Vec<Stamped> {
        lock(&self.changes).clone()
    }

    async fn stop(self) {
        self.pool.shutdown().await;
        self.collector.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One finished call of the looping caller: when it ended and what came of it.
#[derive(Debug, Clone)]
struct CallRecord {
    ended: Instant,
    outcome: Result<(), Option<ApiErrorKind>>,
}

/// Loops `ListRooms` through the pool, `CALLER_PAUSE` apart, until stopped.
struct Caller {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Vec<CallRecord>>,
}

impl Caller {
    fn start(pool: &Pool<LiveKitRoomApi>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let pool = pool.clone();
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut records = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let result = pool
                    .call(|conn| async move { conn.list_rooms(vec![]).await })
                    .await;
                records.push(CallRecord {
                    ended: Instant::now(),
                    outcome: result
                        .map(drop)
                        .map_err(|err: CallError| err.api().map(ApiError::kind)),
                });
                tokio::time::sleep(CALLER_PAUSE).await;
            }
            records
        });
        Self { stop, task }
    }

    async fn stop(self) -> Vec<CallRecord> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the caller does not panic")
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Recovery after a server restart

struct BackoffCase {
    base: Duration,
    cap: Duration,
}

/// What one outage showed.
struct RecoveryRun {
    first_success: Option<Duration>,
    all_connected: Option<Duration>,
    /// The highest attempt any connection had scheduled when the server came back, or Failed
    /// when one had used up its attempts (then retried every `2 × cap`).
    attempt_reached: AttemptReached,
    /// The longest wait the schedule allowed any connection after the server came back.
    bound: Duration,
    /// The longest wait the pool had actually drawn, counted from the server's return, among
    /// the connections healed by their own retry rather than by the caller.
    drawn: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AttemptReached {
    Attempt(u32),
    Failed,
}

impl AttemptReached {
    fn label(self) -> String {
        match self {
            Self::Attempt(n) => n.to_string(),
            Self::Failed => "F".to_owned(),
        }
    }
}

async fn restart_table() {
    let cases = [
        BackoffCase {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        },
        BackoffCase {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        },
    ];
    let outages = [Duration::from_secs(1), Duration::from_secs(5)];
    println!();
    println!(
        "recovery after a server restart: pool of {POOL_SIZE}, max_reconnect_attempts 5, one caller \
         looping ListRooms {} ms apart; from listener_up to ..., median of {RUNS} runs (min-max)",
        CALLER_PAUSE.as_millis()
    );
    println!(
        "attempt n waits uniform in [0, min(cap, base x 2^(n-1))]; F = Failed, retried every 2 x cap; \
         bound = that cap for the attempt reached; drawn = the longest wait the pool drew among \
         connections healed by their own retry (the caller heals one sooner by using it)"
    );
    println!(
        "{:>10} | {:>6} | {:>8} | {:>12} | {:>18} | {:>20} | {:>24}",
        "base/cap",
        "outage",
        "attempt",
        "bound (cap)",
        "drawn wait",
        "first success",
        "all 4 Connected"
    );
    let sandbox = start_sandbox().await;
    for (case_index, case) in cases.iter().enumerate() {
        for outage in outages {
            let mut runs = Vec::new();
            for run in 0..RUNS {
                let seed = u64::try_from(case_index * 100 + run).unwrap_or_default();
                runs.push(recovery_run(&sandbox, case, outage, seed).await);
            }
            print_recovery_row(case, outage, &runs);
        }
    }
    sandbox.shutdown().await;
}

async fn recovery_run(
    sandbox: &Sandbox,
    case: &BackoffCase,
    outage: Duration,
    seed: u64,
) -> RecoveryRun {
    let backoff = Backoff::new(
        case.base,
        case.cap,
        PoolConfig::default().max_reconnect_attempts,
    );
    let config = pool_config(case.base, case.cap, Duration::from_secs(2));
    let watched = WatchedPool::start(sandbox, config, seed);
    assert!(
        watched.all_connected(Duration::from_secs(10)).await,
        "the pool connects before the outage"
    );
    let caller = Caller::start(&watched.pool);
    tokio::time::sleep(Duration::from_millis(200)).await;

    sandbox.listener_down().await;
    tokio::time::sleep(outage).await;
    sandbox.listener_up().await;
    let up = Instant::now();
    // The slowest possible recovery is a Failed connection's retry, 2 × cap away.
    let healed = watched
        .all_connected(backoff.failed_retry_interval() + Duration::from_secs(10))
        .await;
    let records = caller.stop().await;
    let changes = watched.changes();
    watched.stop().await;

    let first_success = records
        .iter()
        .find(|record| record.ended >= up && record.outcome.is_ok())
        .map(|record| record.ended - up);
    let all_connected = healed.then(|| all_connected_after(&changes, up)).flatten();
    let (attempt_reached, bound, drawn) = schedule_at(&changes, up, &backoff);
    RecoveryRun {
        first_success,
        all_connected,
        attempt_reached,
        bound,
        drawn,
    }
}

/// The first moment at or after `up` when every connection's latest state is Connected.
fn all_connected_after(changes: &[Stamped], up: Instant) -> Option<Duration> {
    let mut states: BTreeMap<ConnectionId, ConnectionState> = BTreeMap::new();
    for (at, change) in changes {
        states.insert(change.connection, change.to);
        if *at >= up
            && states
                .values()
                .all(|state| *state == ConnectionState::Connected)
        {
            return Some(*at - up);
        }
    }
    None
}

/// Per connection, the last change before `up` says which attempt comes next and when: the
/// highest attempt, the schedule's bound for it, and the longest drawn wait left at `up`
/// among the connections their own retry healed (the caller heals one sooner by using it).
fn schedule_at(
    changes: &[Stamped],
    up: Instant,
    backoff: &Backoff,
) -> (AttemptReached, Duration, Duration) {
    let mut last: BTreeMap<ConnectionId, &Stamped> = BTreeMap::new();
    for stamped in changes.iter().filter(|(at, _)| *at < up) {
        last.insert(stamped.1.connection, stamped);
    }
    let healed_by_retry = |connection: ConnectionId| {
        changes
            .iter()
            .find(|(at, change)| {
                *at >= up
                    && change.connection == connection
                    && change.to == ConnectionState::Connected
            })
            .is_some_and(|(_, change)| change.cause.contains("health check"))
    };
    let mut reached = AttemptReached::Attempt(0);
    let mut bound = Duration::ZERO;
    let mut drawn = Duration::ZERO;
    for (at, change) in last.values() {
        let (this, this_bound) = match (change.to, change.attempt) {
            (ConnectionState::Failed, _) => {
                (AttemptReached::Failed, backoff.failed_retry_interval())
            }
            (_, Some(attempt)) => (
                AttemptReached::Attempt(attempt),
                backoff.cap_for_attempt(attempt),
            ),
            _ => (AttemptReached::Attempt(0), Duration::ZERO),
        };
        reached = reached.max(this);
        bound = bound.max(this_bound);
        if let Some(wait) = change.next_retry_in
            && healed_by_retry(change.connection)
        {
            drawn = drawn.max((*at + wait).saturating_duration_since(up));
        }
    }
    (reached, bound, drawn)
}

fn print_recovery_row(case: &BackoffCase, outage: Duration, runs: &[RecoveryRun]) {
    let attempts: Vec<AttemptReached> = runs.iter().map(|run| run.attempt_reached).collect();
    let lowest = attempts
        .iter()
        .min()
        .copied()
        .unwrap_or(AttemptReached::Failed);
    let highest = attempts
        .iter()
        .max()
        .copied()
        .unwrap_or(AttemptReached::Failed);
    let attempt = if lowest == highest {
        lowest.label()
    } else {
        format!("{}-{}", lowest.label(), highest.label())
    };
    let bounds: Vec<Duration> = runs.iter().map(|run| run.bound).collect();
    let bound_low = bounds.iter().min().copied().unwrap_or_default();
    let bound_high = bounds.iter().max().copied().unwrap_or_default();
    let bound = if bound_low == bound_high {
        human(bound_low)
    } else {
        format!("{}-{}", human(bound_low), human(bound_high))
    };
    println!(
        "{:>10} | {:>6} | {:>8} | {:>12} | {:>18} | {:>20} | {:>24}",
        format!("{}/{}", human(case.base), human(case.cap)),
        human(outage),
        attempt,
        bound,
        summary(runs.iter().map(|run| Some(run.drawn))),
        summary(runs.iter().map(|run| run.first_success)),
        summary(runs.iter().map(|run| run.all_connected)),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Time to detect a hanging server

async fn hang_table() {
    println!();
    println!(
        "time to detect a hanging server (hang_rate 1.0): pool of {POOL_SIZE}, one caller looping \
         ListRooms, health checks every 30 s; from set_faults to ..., median of {RUNS} runs (min-max)"
    );
    println!(
        "{:>18} | {:>20} | {:>20} | {:>26}",
        "connection_timeout", "first Timeout", "first leaves Conn.", "expected"
    );
    for timeout in [Duration::from_millis(500), Duration::from_secs(2)] {
        let mut first_timeouts = Vec::new();
        let mut first_leaves = Vec::new();
        for run in 0..RUNS {
            let (timeout_seen, left) =
                hang_run(timeout, u64::try_from(run).unwrap_or_default()).await;
            first_timeouts.push(timeout_seen);
            first_leaves.push(left);
        }
        println!(
            "{:>18} | {:>20} | {:>20} | {:>26}",
            human(timeout),
            summary(first_timeouts.into_iter()),
            summary(first_leaves.into_iter()),
            format!("{} / {}", human(timeout), human(timeout * 2)),
        );
    }
    println!(
        "expected: a caller's request times out after connection_timeout; that flags its \
         connection, whose health check hangs too: it leaves Connected one timeout later"
    );
}

async fn hang_run(timeout: Duration, seed: u64) -> (Option<Duration>, Option<Duration>) {
    // A fresh sandbox per run: hung requests are held server-side until their client gives up.
    let sandbox = start_sandbox().await;
    let config = PoolConfig {
        health_check_interval: ms(30_000),
        ..pool_config(Duration::from_millis(100), Duration::from_secs(1), timeout)
    };
    let watched = WatchedPool::start(&sandbox, config, seed);
    assert!(
        watched.all_connected(Duration::from_secs(10)).await,
        "the pool connects before the hang"
    );
    let caller = Caller::start(&watched.pool);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let hang_started = Instant::now();
    sandbox
        .set_faults(Faults {
            hang_rate: 1.0,
            ..Faults::default()
        })
        .await
        .expect("a valid fault");
    let deadline = hang_started + timeout * 4 + Duration::from_secs(5);
    let left_connected = |changes: &[Stamped]| {
        changes
            .iter()
            .find(|(at, change)| *at >= hang_started && change.from == ConnectionState::Connected)
            .map(|(at, _)| *at - hang_started)
    };
    while left_connected(&watched.changes()).is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The caller's outstanding request ends with its own timeout at the latest.
    let records = caller.stop().await;
    let first_timeout = records
        .iter()
        .find(|record| {
            record.ended >= hang_started
                && matches!(record.outcome, Err(Some(ApiErrorKind::Timeout { .. })))
        })
        .map(|record| record.ended - hang_started);
    let left = left_connected(&watched.changes());
    watched.stop().await;
    sandbox.shutdown().await;
    (first_timeout, left)
}

// ---------------------------------------------------------------------------------------------
// 3. Startup of the release binary

/// When each milestone showed up on the emulated screen, seen by the reader thread as the
/// bytes arrive (no polling delay).
#[derive(Default)]
struct Milestones {
    first_frame: Option<Instant>,
    first_data: Option<Instant>,
}

fn startup_table() {
    let binary = lktop_binary();
    println!();
    println!(
        "startup of {binary} in a {PTY_COLS}x{PTY_ROWS} pseudo-terminal, demo mode (built-in \
         sandbox); from spawn to ..., median of {STARTUP_RUNS} runs (min-max)"
    );
    let mut version = Vec::new();
    let mut first_frame = Vec::new();
    let mut first_data = Vec::new();
    for _ in 0..STARTUP_RUNS {
        version.push(Some(version_run(&binary)));
        let (frame, data) = startup_run(&binary);
        first_frame.push(frame);
        first_data.push(data);
    }
    println!("{:>44} | {:>24}", "milestone", "time from spawn");
    println!(
        "{:>44} | {:>24}",
        "`lktop --version` exits (process floor)",
        summary(version.into_iter())
    );
    println!(
        "{:>44} | {:>24}",
        "first frame (header: demo: built-in sandbox)",
        summary(first_frame.into_iter())
    );
    println!(
        "{:>44} | {:>24}",
        "first poll on screen (rooms, tracks shown)",
        summary(first_data.into_iter())
    );
}

fn version_run(binary: &str) -> Duration {
    let home = tempfile::tempdir().expect("a temporary home");
    let pty = terminal::open(PTY_ROWS, PTY_COLS);
    let mut command = terminal::command(binary, home.path());
    command.arg("--version");
    let started = Instant::now();
    let mut child = pty.slave.spawn_command(command).expect("lktop starts");
    let status = child.wait().expect("lktop --version ends");
    let elapsed = started.elapsed();
    assert!(status.success(), "lktop --version failed: {status:?}");
    elapsed
}

/// Spawns the dashboard, waits for both milestones, quits with `q`.
fn startup_run(binary: &str) -> (Option<Duration>, Option<Duration>) {
    let home = tempfile::tempdir().expect("a temporary home");
    let pty = terminal::open(PTY_ROWS, PTY_COLS);
    let command = terminal::command(binary, home.path());
    let milestones = Arc::new(Mutex::new(Milestones::default()));
    let mut reader = pty.master.try_clone_reader().expect("a pty reader");
    let mut writer = pty.master.take_writer().expect("a pty writer");

    let started = Instant::now();
    let mut child = pty.slave.spawn_command(command).expect("lktop starts");
    drop(pty.slave);
    let seen = Arc::clone(&milestones);
    let reader_thread = thread::spawn(move || {
        let mut screen = terminal::emulator(PTY_ROWS, PTY_COLS);
        let mut buffer = [0_u8; 16 * 1024];
        while let Ok(read) = reader.read(&mut buffer) {
            if read == 0 {
                break;
            }
            screen.process(&buffer[..read]);
            let now = Instant::now();
            let contents = screen.screen().contents();
            let mut seen = lock(&seen);
            if seen.first_frame.is_none() && contents.contains("demo: built-in sandbox at") {
                seen.first_frame = Some(now);
            }
            if seen.first_data.is_none() && shows_track_counts(&contents) {
                seen.first_data = Some(now);
            }
        }
    });

    let deadline = started + STARTUP_DEADLINE;
    loop {
        let done = {
            let seen = lock(&milestones);
            seen.first_frame.is_some() && seen.first_data.is_some()
        };
        if done || Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = writer.write_all(b"q");
    let _ = writer.flush();
    let exit_deadline = Instant::now() + STARTUP_DEADLINE;
    loop {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        if Instant::now() >= exit_deadline {
            eprintln!("lktop did not quit on `q`; killed");
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    // The reader ends when the master side is dropped or the child's side closes.
    drop(writer);
    drop(pty.master);
    let _ = reader_thread.join();
    let seen = lock(&milestones);
    (
        seen.first_frame.map(|at| at - started),
        seen.first_data.map(|at| at - started),
    )
}

/// The servers table's row for the sandbox shows `<live audio>a <live video>v` once a
/// snapshot arrived; before that the cell is a dash.
fn shows_track_counts(contents: &str) -> bool {
    contents.lines().any(|line| {
        line.contains("sandbox")
            && line
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|pair| is_count_with(pair[0], 'a') && is_count_with(pair[1], 'v'))
    })
}

fn is_count_with(word: &str, suffix: char) -> bool {
    word.strip_suffix(suffix)
        .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------------
// Formatting

/// `median (min-max)` of the runs that produced a value; missing runs are counted.
fn summary(values: impl Iterator<Item = Option<Duration>>) -> String {
    let values: Vec<Option<Duration>> = values.collect();
    let mut present: Vec<Duration> = values.iter().flatten().copied().collect();
    let missing = values.len() - present.len();
    if present.is_empty() {
        return "none".to_owned();
    }
    present.sort_unstable();
    let median = present[present.len() / 2];
    let low = present[0];
    let high = present[present.len() - 1];
    let text = format!("{} ({}-{})", human(median), human(low), human(high));
    if missing > 0 {
        format!("{text}, {missing} none")
    } else {
        text
    }
}

/// Whole seconds as such (a setting), else milliseconds below 10 s and seconds above.
fn human(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if duration >= Duration::from_secs(1) && duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else if millis < 10.0 {
        format!("{millis:.1}ms")
    } else if millis < 10_000.0 {
        format!("{millis:.0}ms")
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
