//! ListRooms calls per second through lktop's pool, side by side with the ways a program
//! would otherwise call the same server, at concurrency 1, 8 and 32, in one run against one
//! sandbox.
//!
//! The server is `lktop sandbox` as a separate process (the release binary Cargo builds for
//! the bench), holding 10 rooms so ListRooms has a small, realistic answer. Every client runs
//! in its own process or runtime and competes with the server for the same cores:
//!
//! - **lktop pool**: `Pool<LiveKitRoomApi>` with `pool_size` = concurrency, N tasks each
//!   looping `pool.call(|api| api.list_rooms(..))`.
//! - **(a) fresh connection per call**: a new `LiveKitRoomApi` (its own HTTP client, so a new
//!   TCP connection) for every call, N tasks.
//! - **(b) Python** `livekit-api`: one `LiveKitAPI`, N coroutines under `asyncio.gather`
//!   (`benches/peers/python_list_rooms.py`).
//! - **(c) Node** `livekit-server-sdk`: one `RoomServiceClient`, N loops under `Promise.all`
//!   (`benches/peers/node_list_rooms.mjs`).
//! - **(d) raw load generator**: `oha` if installed, else `wrk` with one thread
//!   (`benches/peers/wrk_list_rooms.lua`), replaying the same POST with one long-lived token:
//!   the most this server answers on this machine, the loopback limit.
//!
//! Each cell is a warm-up, then a fixed window in which completed calls are counted; a cell is
//! the median of its runs. Runs are interleaved (run 1 of every cell, then run 2, ...) so a
//! change in the machine's load spreads over all clients instead of hitting one.
//!
//! Prerequisites: the SDKs pinned by the conformance checks (`bash tests/conformance/run.sh`
//! once installs them into `tests/conformance/.deps/venv` and
//! `tests/conformance/node/node_modules`), and `oha` or `wrk` (`apt-get install -y wrk`). A
//! client whose prerequisite is missing is shown as "not installed".
//!
//! `cargo bench --bench throughput` runs 5 s windows after 1 s warm-ups, median of 3 (about 5
//! minutes); `-- --seconds 2 --warmup 1 --runs 1` is a quick look.

#[path = "support/allocator.rs"]
mod allocator;
#[path = "support/process_cpu.rs"]
mod process_cpu;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use livekit_api::access_token::{AccessToken, VideoGrants};
use lktop::api::{CreateRoomOptions, LiveKitRoomApi, RoomApi};
use lktop::config::{Config, ConfigDuration};
use lktop::pool::{Pool, PoolOptions};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinSet;

const CONCURRENCIES: [usize; 3] = [1, 8, 32];
const ROOMS: usize = 10;
const API_KEY: &str = "bench";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Beyond a run's own length: process start-up, imports, and stopping the loops.
const RUN_SLACK: Duration = Duration::from_secs(30);
const SANDBOX_STARTUP: Duration = Duration::from_secs(30);
/// Wide enough for "not installed".
const CELL_WIDTH: usize = 13;

#[derive(Debug, Clone, Copy)]
struct Settings {
    seconds: u64,
    warmup: u64,
    runs: usize,
}

impl Settings {
    /// The settings and the clients to measure: all when none is named (`--only pool --only
    /// raw` to profile two).
    fn from_args() -> Result<(Self, Vec<ClientKind>), String> {
        let mut settings = Self {
            seconds: 5,
            warmup: 1,
            runs: 3,
        };
        let mut only = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .and_then(|value| value.parse::<u64>().ok())
                    .filter(|value| *value > 0)
                    .ok_or_else(|| format!("{name} takes a whole number above 0"))
            };
            match arg.as_str() {
                // What `cargo bench` passes to every bench target.
                "--bench" => {}
                "--seconds" => settings.seconds = value("--seconds")?,
                "--warmup" => settings.warmup = value("--warmup")?,
                "--runs" => {
                    settings.runs = usize::try_from(value("--runs")?).map_err(|e| e.to_string())?;
                }
                "--only" => {
                    let name = args.next().unwrap_or_default();
                    let client = CLIENTS
                        .into_iter()
                        .find(|client| client.short_name() == name)
                        .ok_or_else(|| {
                            format!(
                                "--only takes one of pool, fresh, python, node, raw; not {name:?}"
                            )
                        })?;
                    only.push(client);
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?}; use --seconds N --warmup N --runs N \
                         [--only CLIENT]..."
                    ));
                }
            }
        }
        Ok((settings, only))
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup)
    }

    fn bound(&self) -> Duration {
        self.window() + self.warmup() + RUN_SLACK
    }
}

/// What one run of one client at one concurrency counted.
#[derive(Debug, Clone, Copy)]
struct Sample {
    calls: u64,
    seconds: f64,
    p50: Option<Duration>,
    /// This process's CPU per call during the window: the client's own cost, for the clients
    /// that run in this process (the pool, a fresh connection per call).
    cpu_per_call: Option<Duration>,
}

impl Sample {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
}

/// The peers' JSON line.
#[derive(Debug, Deserialize)]
struct PeerReport {
    calls: u64,
    seconds: f64,
    errors: u64,
    p50_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Pool,
    FreshConnection,
    Python,
    Node,
    Raw,
}

impl ClientKind {
    fn short_name(self) -> &'static str {
        match self {
            Self::Pool => "pool",
            Self::FreshConnection => "fresh",
            Self::Python => "python",
            Self::Node => "node",
            Self::Raw => "raw",
        }
    }
}

const CLIENTS: [ClientKind; 5] = [
    ClientKind::Pool,
    ClientKind::FreshConnection,
    ClientKind::Python,
    ClientKind::Node,
    ClientKind::Raw,
];

enum LoadGenerator {
    Oha(PathBuf),
    Wrk(PathBuf),
}

/// Everything the clients need to reach the server.
struct Target {
    url: String,
    secret: SecretString,
    /// Long-lived roomList token for the raw generator.
    token: String,
    root: PathBuf,
    /// The conformance checks' venv interpreter, which has `livekit-api`.
    python: Option<PathBuf>,
    /// `node`, when the conformance checks' `livekit-server-sdk` is installed too.
    node: Option<PathBuf>,
    generator: Option<LoadGenerator>,
}

/// The sandbox process; killed when dropped, however the bench ends.
struct SandboxProcess {
    child: Child,
    /// Kept open: the sandbox writes its credentials after the URL and fails on a closed pipe.
    _stdout: BufReader<ChildStdout>,
    url: String,
}

impl SandboxProcess {
    async fn start(binary: &Path, secret: &SecretString) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["sandbox", "--port", "0", "--scenario", "none"])
            .args(["--api-key", API_KEY, "--api-secret", secret.expose_secret()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("the sandbox has no stdout")?;
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        tokio::time::timeout(SANDBOX_STARTUP, stdout.read_line(&mut first))
            .await
            .map_err(|_| "the sandbox printed no URL in time".to_owned())?
            .map_err(|err| format!("reading the sandbox's stdout: {err}"))?;
        let url = first
            .trim()
            .strip_prefix("LIVEKIT_URL=")
            .ok_or_else(|| format!("the sandbox's first line is not LIVEKIT_URL=...: {first:?}"))?
            .to_owned();
        Ok(Self {
            child,
            _stdout: stdout,
            url,
        })
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

#[tokio::main]
async fn main() {
    let (settings, only) = match Settings::from_args() {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let secret = SecretString::from(format!("{:032x}", rand::random::<u128>()));
    let sandbox = SandboxProcess::start(Path::new(env!("CARGO_BIN_EXE_lktop")), &secret)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let target = Target {
        token: long_lived_token(&secret),
        url: sandbox.url.clone(),
        secret,
        python: existing(root.join("tests/conformance/.deps/venv/bin/python")),
        node: existing(root.join("tests/conformance/node/node_modules/livekit-server-sdk"))
            .and_then(|_| existing(which("node")?)),
        generator: find_load_generator(),
        root,
    };
    create_rooms(&target).await;

    let results = measure_all(&target, settings, &only).await;
    let rooms_left = list_rooms_once(&target).await;
    sandbox.stop().await;

    print!("{}", report(&target, settings, &results).await);
    if rooms_left != ROOMS {
        eprintln!(
            "error: {rooms_left} of {ROOMS} rooms were left at the end; the figures are void"
        );
        std::process::exit(1);
    }
}

fn existing(path: PathBuf) -> Option<PathBuf> {
    path.exists().then_some(path)
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    })
}

fn find_load_generator() -> Option<LoadGenerator> {
    which("oha")
        .map(LoadGenerator::Oha)
        .or_else(|| which("wrk").map(LoadGenerator::Wrk))
}

/// Valid for the whole bench and then some; the server checks it on every request like any.
fn long_lived_token(secret: &SecretString) -> String {
    AccessToken::with_api_key(API_KEY, secret.expose_secret())
        .with_ttl(Duration::from_secs(6 * 3600))
        .with_grants(VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        })
        .to_jwt()
        .expect("the token signs")
}

fn api(target: &Target) -> Result<LiveKitRoomApi, String> {
    LiveKitRoomApi::new(&target.url, API_KEY, &target.secret, REQUEST_TIMEOUT)
        .map_err(|err| err.to_string())
}

async fn create_rooms(target: &Target) {
    let api = api(target).expect("the API client builds");
    for index in 0..ROOMS {
        let options = CreateRoomOptions {
            // Outlive the bench: the sandbox closes an empty room after 5 minutes by default.
            empty_timeout: 86_400,
            departure_timeout: 86_400,
            max_participants: 100,
            metadata: format!(r#"{{"bench":"throughput","index":{index}}}"#),
        };
        api.create_room(&format!("bench-room-{index:02}"), options)
            .await
            .expect("the room is created");
    }
    assert_eq!(list_rooms_once(target).await, ROOMS);
}

async fn list_rooms_once(target: &Target) -> usize {
    api(target)
        .expect("the API client builds")
        .list_rooms(vec![])
        .await
        .expect("ListRooms answers")
        .len()
}

/// Results by client and concurrency: the samples, or why there are none.
type Results = Vec<(ClientKind, Vec<Result<Vec<Sample>, String>>)>;

async fn measure_all(target: &Target, settings: Settings, only: &[ClientKind]) -> Results {
    let mut results: Results = CLIENTS
        .iter()
        .filter(|client| only.is_empty() || only.contains(client))
        .map(|client| (*client, vec![Ok(Vec::new()); CONCURRENCIES.len()]))
        .collect();
    for run in 1..=settings.runs {
        for (column, concurrency) in CONCURRENCIES.into_iter().enumerate() {
            for (client, cells) in &mut results {
                let Ok(samples) = &mut cells[column] else {
                    continue;
                };
                eprint!(
                    "run {run}/{}, c={concurrency}, {:<28}",
                    settings.runs,
                    label(*client)
                );
                let outcome = tokio::time::timeout(
                    settings.bound(),
                    measure(*client, target, concurrency, settings),
                )
                .await
                .unwrap_or_else(|_| Err(format!("no result within {:?}", settings.bound())));
                match outcome {
                    Ok(sample) => {
                        eprintln!(" {:>9.0} calls/s", sample.rate());
                        samples.push(sample);
                    }
                    Err(err) => {
                        eprintln!(" {err}");
                        cells[column] = Err(err);
                    }
                }
            }
        }
    }
    results
}

async fn measure(
    client: ClientKind,
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    match client {
        ClientKind::Pool => measure_pool(target, concurrency, settings).await,
        ClientKind::FreshConnection => measure_fresh(target, concurrency, settings).await,
        ClientKind::Python => {
            let python = target.python.as_ref().ok_or("not installed")?;
            let script = target.root.join("benches/peers/python_list_rooms.py");
            let mut command = Command::new(python);
            command.arg(script).env("PYTHONDONTWRITEBYTECODE", "1");
            run_peer(command, target, concurrency, settings).await
        }
        ClientKind::Node => {
            let node = target.node.as_ref().ok_or("not installed")?;
            let mut command = Command::new(node);
            command.arg(target.root.join("benches/peers/node_list_rooms.mjs"));
            run_peer(command, target, concurrency, settings).await
        }
        ClientKind::Raw => match &target.generator {
            Some(LoadGenerator::Wrk(wrk)) => run_wrk(wrk, target, concurrency, settings).await,
            Some(LoadGenerator::Oha(oha)) => run_oha(oha, target, concurrency, settings).await,
            None => Err("not installed".to_owned()),
        },
    }
}

/// Counts the calls `call` completes in the window after the warm-up, over `concurrency`
/// tasks; the first failed call ends the run with its error.
async fn count_calls<F, Fut, E>(
    concurrency: usize,
    settings: Settings,
    call: F,
) -> Result<Sample, String>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // A JoinSet aborts its tasks when dropped: a run cut off by its time bound leaves no loop
    // behind to load the server during the next one.
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (call, counting, stop) = (call.clone(), Arc::clone(&counting), Arc::clone(&stop));
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                call().await.map_err(|err| err.to_string())?;
                if counting.load(Ordering::Relaxed) {
                    latencies.push(started.elapsed());
                }
            }
            Ok::<_, String>(latencies)
        });
    }
    tokio::time::sleep(settings.warmup()).await;
    counting.store(true, Ordering::Relaxed);
    let begun = Instant::now();
    let cpu_before = process_cpu::cpu_seconds(std::process::id());
    tokio::time::sleep(settings.window()).await;
    counting.store(false, Ordering::Relaxed);
    let cpu = process_cpu::cpu_seconds(std::process::id()) - cpu_before;
    let seconds = begun.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    while let Some(task) = tasks.join_next().await {
        latencies.extend(task.map_err(|err| err.to_string())??);
    }
    latencies.sort_unstable();
    let calls = latencies.len() as u64;
    Ok(Sample {
        calls,
        seconds,
        #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
        cpu_per_call: (calls > 0).then(|| Duration::from_secs_f64(cpu / calls as f64)),
        p50: latencies
            .get(latencies.len().saturating_sub(1) / 2)
            .copied(),
    })
}

async fn measure_pool(
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    let mut config = Config::default().connection_pool;
    config.pool_size = u32::try_from(concurrency).map_err(|err| err.to_string())?;
    config.max_pool_size = config.pool_size.max(32);
    config.connection_timeout = ConfigDuration::from_secs(REQUEST_TIMEOUT.as_secs());
    // The pool's events are not the subject here; a full channel only counts drops.
    let (events, _unread) = tokio::sync::mpsc::channel(1024);
    let (url, secret) = (target.url.clone(), target.secret.clone());
    let pool = Pool::start(PoolOptions::new("bench", config, events), move || {
        LiveKitRoomApi::new(&url, API_KEY, &secret, REQUEST_TIMEOUT)
    })
    .map_err(|err| err.to_string())?;
    let caller = pool.clone();
    let sample = count_calls(concurrency, settings, move || {
        let pool = caller.clone();
        async move {
            pool.call(|api| async move { api.list_rooms(vec![]).await })
                .await
                .map(drop)
        }
    })
    .await;
    pool.shutdown().await;
    sample
}

async fn measure_fresh(
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    let (url, secret) = (Arc::new(target.url.clone()), target.secret.clone());
    count_calls(concurrency, settings, move || {
        let (url, secret) = (Arc::clone(&url), secret.clone());
        async move {
            let api = LiveKitRoomApi::new(&url, API_KEY, &secret, REQUEST_TIMEOUT)
                .map_err(|err| err.to_string())?;
            api.list_rooms(vec![])
                .await
                .map(drop)
                .map_err(|err| err.to_string())
        }
    })
    .await
}

/// Runs a peer script (`SCRIPT URL KEY SECRET CONCURRENCY SECONDS WARMUP`) and reads its JSON
/// line.
async fn run_peer(
    mut command: Command,
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    command
        .args([&target.url, API_KEY, target.secret.expose_secret()])
        .args([
            concurrency.to_string(),
            settings.seconds.to_string(),
            settings.warmup.to_string(),
        ]);
    let stdout = run_bounded(command).await?;
    let line = stdout.lines().last().unwrap_or_default();
    let report: PeerReport =
        serde_json::from_str(line).map_err(|err| format!("unreadable report {line:?}: {err}"))?;
    if report.errors > 0 {
        return Err(format!("{} calls failed", report.errors));
    }
    Ok(Sample {
        calls: report.calls,
        seconds: report.seconds,
        p50: report.p50_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        cpu_per_call: None,
    })
}

/// One thread: like the SDKs' single event loop, and it leaves the most CPU to the server.
async fn run_wrk(
    wrk: &Path,
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    let script = target.root.join("benches/peers/wrk_list_rooms.lua");
    let wrk_run = |seconds: u64| {
        let mut command = Command::new(wrk);
        command
            .args(["-t1", "-c", &concurrency.to_string()])
            .args(["-d", &format!("{seconds}s"), "--latency", "-s"])
            .arg(&script)
            .arg(&target.url)
            .env("LKTOP_BENCH_TOKEN", &target.token);
        command
    };
    run_bounded(wrk_run(settings.warmup)).await?;
    let out = run_bounded(wrk_run(settings.seconds)).await?;
    for problem in ["Non-2xx or 3xx responses:", "Socket errors:"] {
        if let Some(line) = out.lines().find(|line| line.trim().starts_with(problem)) {
            return Err(format!("wrk: {}", line.trim()));
        }
    }
    // "  123456 requests in 5.00s, 12.34MB read"
    let summary = out
        .lines()
        .find(|line| line.contains(" requests in "))
        .ok_or_else(|| format!("no summary in wrk's output: {out}"))?;
    let mut words = summary.split_whitespace();
    let calls = words
        .next()
        .and_then(|calls| calls.parse().ok())
        .ok_or_else(|| format!("unreadable wrk summary: {summary}"))?;
    let seconds = words
        .nth(2)
        .and_then(|time| parse_wrk_duration(time.trim_end_matches(',')))
        .ok_or_else(|| format!("unreadable wrk summary: {summary}"))?;
    // "     50%  116.00us" in the latency distribution.
    let p50 = out
        .lines()
        .find_map(|line| line.trim().strip_prefix("50%"))
        .and_then(|value| parse_wrk_duration(value.trim()))
        .map(Duration::from_secs_f64);
    Ok(Sample {
        calls,
        seconds,
        p50,
        cpu_per_call: None,
    })
}

/// wrk's durations: `116.00us`, `1.20ms`, `5.00s`, `1.02m`; in seconds.
fn parse_wrk_duration(text: &str) -> Option<f64> {
    let (number, scale) = [("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)]
        .into_iter()
        .find_map(|(unit, scale)| Some((text.strip_suffix(unit)?, scale)))?;
    number.parse::<f64>().ok().map(|value| value * scale)
}

/// oha's JSON summary: `summary.requestsPerSec` and `summary.total` (seconds), the p50 in
/// `latencyPercentiles`, and every status in `statusCodeDistribution`.
async fn run_oha(
    oha: &Path,
    target: &Target,
    concurrency: usize,
    settings: Settings,
) -> Result<Sample, String> {
    let oha_run = |seconds: u64| {
        let mut command = Command::new(oha);
        command
            .args(["--no-tui", "--output-format", "json"])
            .args(["-z", &format!("{seconds}s"), "-c", &concurrency.to_string()])
            .args(["-m", "POST", "-T", "application/protobuf"])
            .args(["-H", &format!("Authorization: Bearer {}", target.token)])
            .arg(format!(
                "{}/twirp/livekit.RoomService/ListRooms",
                target.url
            ));
        command
    };
    run_bounded(oha_run(settings.warmup)).await?;
    let out = run_bounded(oha_run(settings.seconds)).await?;
    let json: serde_json::Value =
        serde_json::from_str(&out).map_err(|err| format!("unreadable oha output: {err}"))?;
    let statuses = json["statusCodeDistribution"]
        .as_object()
        .ok_or("oha reported no status codes")?;
    let mut calls = 0;
    for (status, count) in statuses {
        let count = count.as_u64().unwrap_or_default();
        if status != "200" {
            return Err(format!("oha: {count} answers with HTTP {status}"));
        }
        calls += count;
    }
    // Requests still in flight at the deadline are aborted and listed as errors; only other
    // errors are failures.
    if let Some(errors) = json["errorDistribution"].as_object() {
        let failures: Vec<&String> = errors.keys().filter(|e| !e.contains("deadline")).collect();
        if !failures.is_empty() {
            return Err(format!("oha: errors {failures:?}"));
        }
    }
    let seconds = json["summary"]["total"]
        .as_f64()
        .ok_or("oha reported no total time")?;
    let p50 = json["latencyPercentiles"]["p50"]
        .as_f64()
        .map(Duration::from_secs_f64);
    Ok(Sample {
        calls,
        seconds,
        p50,
        cpu_per_call: None,
    })
}

/// Runs a command to completion (killed if it outlives the run's bound) and returns its
/// stdout; a non-zero exit is an error with the end of its stderr.
async fn run_bounded(mut command: Command) -> Result<String, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = command.output().await.map_err(|err| {
        let program = command
            .as_std()
            .get_program()
            .to_string_lossy()
            .into_owned();
        format!("cannot run {program}: {err}")
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        Err(format!(
            "exit {}: {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
    }
}

fn label(client: ClientKind) -> &'static str {
    match client {
        ClientKind::Pool => "lktop pool",
        ClientKind::FreshConnection => "(a) fresh connection per call",
        ClientKind::Python => "(b) Python livekit-api",
        ClientKind::Node => "(c) Node livekit-server-sdk",
        ClientKind::Raw => "(d) raw load generator",
    }
}

/// The median run of a cell (by rate).
fn median(samples: &[Sample]) -> Option<Sample> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// One client's medians, one per concurrency, or why a cell has none.
struct Row {
    name: String,
    cells: Vec<Result<Sample, String>>,
}

fn rows(results: &Results, names: &[(ClientKind, String)]) -> Vec<Row> {
    results
        .iter()
        .map(|(client, cells)| Row {
            name: names
                .iter()
                .find(|(kind, _)| kind == client)
                .map_or_else(|| label(*client).to_owned(), |(_, name)| name.clone()),
            cells: cells
                .iter()
                .map(|cell| match cell {
                    Ok(samples) => median(samples).ok_or_else(|| "no run".to_owned()),
                    Err(err) => Err(err.clone()),
                })
                .collect(),
        })
        .collect()
}

async fn report(target: &Target, settings: Settings, results: &Results) -> String {
    let rows = rows(results, &client_names(target).await);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nListRooms calls/s ({ROOMS} rooms), lktop sandbox as a separate process on loopback, \
         {} s window after {} s warm-up, median of {}",
        settings.seconds, settings.warmup, settings.runs
    );
    // One table per figure of a sample, a row per client; a failed cell shows its error.
    let figure_table = |out: &mut String, text: fn(&Sample) -> String| {
        table(
            out,
            "client",
            rows.iter().map(|row| {
                let cells = row.cells.iter().map(|cell| match cell {
                    Ok(sample) => text(sample),
                    Err(err) => shorten(err),
                });
                (row.name.clone(), cells.collect())
            }),
        );
    };
    figure_table(&mut out, |sample| format!("{:.0}", sample.rate()));
    let _ = writeln!(out, "\nlatency per call, p50 of the median run (ms)");
    figure_table(&mut out, |sample| {
        sample.p50.map_or_else(
            || "-".to_owned(),
            |p50| format!("{:.3}", p50.as_secs_f64() * 1000.0),
        )
    });
    let _ = writeln!(
        out,
        "\nclient CPU per call in this process, of the median run (µs; the other clients run \
         in processes of their own)"
    );
    figure_table(&mut out, |sample| {
        sample.cpu_per_call.map_or_else(
            || "-".to_owned(),
            |cpu| format!("{:.1}", cpu.as_secs_f64() * 1e6),
        )
    });
    let _ = writeln!(
        out,
        "\ntargets: lktop pool's calls/s ÷ the other's, median of the per-run ratios"
    );
    table(&mut out, "ratio (target)", target_rows(results));
    out
}

/// What the pool is compared with in a target.
#[derive(Clone, Copy)]
enum Rival {
    Client(ClientKind),
    /// Whichever of the Python and Node SDKs made more calls.
    FasterSdk,
}

/// The issue's targets: the pool's rate over a rival's, at least this much.
const TARGETS: [(&str, Rival, f64); 3] = [
    (
        "pool ÷ fresh connection",
        Rival::Client(ClientKind::FreshConnection),
        3.0,
    ),
    ("pool ÷ faster official SDK", Rival::FasterSdk, 2.0),
    (
        "pool ÷ raw load generator",
        Rival::Client(ClientKind::Raw),
        0.7,
    ),
];

/// Each target per concurrency: the median over the runs of the pool's rate ÷ the rival's
/// rate in the same run. The two were measured seconds apart, so a change in the machine's
/// load between runs cancels out instead of landing on one side of the ratio.
fn target_rows(results: &Results) -> Vec<(String, Vec<String>)> {
    let runs = |client: ClientKind, column: usize| -> Option<Vec<f64>> {
        let (_, cells) = results.iter().find(|(kind, _)| *kind == client)?;
        let samples = cells[column].as_ref().ok()?;
        Some(samples.iter().map(Sample::rate).collect())
    };
    let rival_runs = |rival: Rival, column: usize| match rival {
        Rival::Client(client) => runs(client, column),
        Rival::FasterSdk => match (
            runs(ClientKind::Python, column),
            runs(ClientKind::Node, column),
        ) {
            (Some(python), Some(node)) => {
                Some(python.iter().zip(&node).map(|(p, n)| p.max(*n)).collect())
            }
            (python, node) => python.or(node),
        },
    };
    TARGETS
        .into_iter()
        .map(|(name, rival, goal)| {
            let cells = (0..CONCURRENCIES.len()).map(|column| {
                let pool = runs(ClientKind::Pool, column).unwrap_or_default();
                let other = rival_runs(rival, column).unwrap_or_default();
                let mut ratios: Vec<f64> = pool
                    .iter()
                    .zip(&other)
                    .filter(|(_, other)| **other > 0.0)
                    .map(|(pool, other)| pool / other)
                    .collect();
                ratios.sort_by(f64::total_cmp);
                match ratios.get(ratios.len().saturating_sub(1) / 2) {
                    Some(ratio) => {
                        let verdict = if *ratio >= goal { "PASS" } else { "MISS" };
                        format!("{ratio:.2}x {verdict}")
                    }
                    None => "n/a".to_owned(),
                }
            });
            (format!("{name} (≥ {goal}x)"), cells.collect())
        })
        .collect()
}

/// A table with one column per concurrency.
fn table(out: &mut String, first: &str, rows: impl IntoIterator<Item = (String, Vec<String>)>) {
    let rows: Vec<_> = rows.into_iter().collect();
    let width = rows
        .iter()
        .map(|(name, _)| name.chars().count())
        .chain([first.len()])
        .max()
        .unwrap_or(0);
    let mut line = |name: &str, cells: &mut dyn Iterator<Item = String>| {
        let pad = width - name.chars().count();
        let _ = write!(out, "{name}{:pad$}", "");
        for cell in cells {
            let _ = write!(out, " | {cell:>CELL_WIDTH$}");
        }
        let _ = writeln!(out);
    };
    line(
        first,
        &mut CONCURRENCIES
            .iter()
            .map(|concurrency| format!("c={concurrency}")),
    );
    for (name, cells) in rows {
        line(&name, &mut cells.into_iter());
    }
}

/// Why a cell has no figure, cut to the cell (the full reason is on stderr).
fn shorten(err: &str) -> String {
    if err.chars().count() <= CELL_WIDTH {
        err.to_owned()
    } else {
        let kept: String = err.chars().take(CELL_WIDTH - 1).collect();
        format!("{kept}…")
    }
}

/// Clients with the versions that ran, for the table.
async fn client_names(target: &Target) -> Vec<(ClientKind, String)> {
    let mut names = vec![
        (
            ClientKind::Pool,
            format!("lktop pool (lktop {})", env!("CARGO_PKG_VERSION")),
        ),
        (
            ClientKind::FreshConnection,
            "(a) fresh LiveKitRoomApi per call".to_owned(),
        ),
    ];
    if let Some(python) = &target.python {
        let mut command = Command::new(python);
        command.args(["-c", "from livekit import api; print(api.__version__)"]);
        if let Ok(version) = run_bounded(command).await {
            names.push((
                ClientKind::Python,
                format!("(b) Python livekit-api {}", version.trim()),
            ));
        }
    }
    let package = target.node.as_ref().map(|_| {
        target
            .root
            .join("tests/conformance/node/node_modules/livekit-server-sdk/package.json")
    });
    if let Some(version) = package
        .and_then(|package| std::fs::read_to_string(package).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned))
    {
        names.push((
            ClientKind::Node,
            format!("(c) Node livekit-server-sdk {version}"),
        ));
    }
    names.push((
        ClientKind::Raw,
        match &target.generator {
            Some(LoadGenerator::Oha(_)) => "(d) oha (raw HTTP)".to_owned(),
            Some(LoadGenerator::Wrk(_)) => "(d) wrk -t1 (raw HTTP)".to_owned(),
            None => label(ClientKind::Raw).to_owned(),
        },
    ));
    names
}
