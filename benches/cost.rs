//! lktop's own cost at scale: CPU (% of one core) and peak RSS of the release dashboard (in a
//! 160x48 pseudo-terminal) and of `lktop watch --summary`, each watching a separate
//! `lktop sandbox` that holds 10,000 rooms / 100,000 participants, about 1 % of the rooms
//! changing per 2 s poll (a track muted or unmuted), and where that CPU goes.
//!
//! Each subject runs twice after its first full poll: a clean window, where CPU comes from
//! `/proc/PID/stat` (utime + stime), the requests lktop made from its own Prometheus endpoint
//! (`lktop_requests_total`, so CPU per request compares runs that polled at different rates)
//! and the peak RSS from `VmHWM`, and, when `perf` is installed,
//! a profiled window (`perf record --call-graph dwarf`), whose samples are put in stages by the
//! innermost frame that names one: requests and decoding (hyper, reqwest, rustls, prost, lktop's
//! API and pool), snapshot and diff (the poller, snapshots, limits), events and state (the
//! engine, the event stream, the dashboard's state, `watch`, `serde_json`), recording, drawing
//! (ratatui, crossterm, lktop's render) and the rest (the runtime, the allocator, the kernel).
//! The profile is taken apart from the clean window so perf's own cost stays out of the figures.
//!
//! Both subjects run under the default polling budget (`polling.max_requests_per_second` 50)
//! and reading every room every poll (`0`); for each, the polling requests the sandbox received
//! per second by its own count (`/sandbox/status`) say what watching costs the server.
//!
//! `cargo bench --bench cost` (builds `target/release/lktop`; `LKTOP_BIN` points at another
//! binary) takes about twelve minutes; `-- --seconds 20` shortens each window (default 60);
//! `-- watch` or `-- dashboard` runs one subject, `-- budget` or `-- full` one way of
//! polling; `-- --no-profile` skips perf. Targets
//! (issue 17): dashboard under 5 % of a core and under 150 MiB, `watch --summary` under 3 %.
//! Loopback only; every wait has a deadline.

#[path = "support/lktop_processes.rs"]
mod lktop_processes;
#[path = "support/machine.rs"]
mod machine;
#[path = "support/process_cpu.rs"]
mod process_cpu;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;
#[path = "../tests/support/terminal.rs"]
mod terminal;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use lktop_processes::{
    COLS, DashboardTerm, ROWS, WatchProcess, free_port, peak_rss_kib, requests_made,
};
use machine::{machine_line, seconds_arg};
use process_cpu::cpu_seconds;
use sandbox_process::{SCALE_SCENARIO, SandboxProcess, lktop_binary};

const ROOMS: u32 = 10_000;
const PARTICIPANTS_PER_ROOM: u32 = 10;
/// Longest the sandbox and a subject's first poll of 10,000 rooms may take.
const START_DEADLINE: Duration = Duration::from_secs(180);
/// After the first poll, before measuring: the pool has grown and the caches are warm.
const SETTLE: Duration = Duration::from_secs(5);
const PROFILE_HZ: u32 = 199;

/// How the subject polls: within the default budget, or every room every poll (before the
/// budget, and `polling.max_requests_per_second: 0` now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polling {
    Budget,
    Full,
}

impl Polling {
    fn name(self) -> &'static str {
        match self {
            Polling::Budget => "budget 50/s",
            Polling::Full => "every room",
        }
    }

    fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Polling::Budget => &[],
            Polling::Full => &[("LKTOP_POLLING__MAX_REQUESTS_PER_SECOND", "0")],
        }
    }
}

/// What was measured of one subject.
struct Figures {
    subject: &'static str,
    polling: Polling,
    cpu_percent: f64,
    /// lktop's requests to the server per second, and its CPU time per request.
    requests_per_second: f64,
    /// Polling requests per second the server received, by its own count.
    server_requests_per_second: f64,
    cpu_per_request: Duration,
    peak_rss_mib: f64,
    stages: Option<BTreeMap<Stage, usize>>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = seconds_arg(&args, 60);
    let window = Duration::from_secs(seconds);
    let profile = !args.iter().any(|arg| arg == "--no-profile") && perf_available();
    let named = |choices: &[&str]| -> Vec<String> {
        args.iter()
            .filter(|arg| choices.contains(&arg.as_str()))
            .cloned()
            .collect()
    };
    let parts = named(&["watch", "dashboard"]);
    let modes = named(&["budget", "full"]);
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|arg| arg == part);
    let polled = |mode: &str| modes.is_empty() || modes.iter().any(|arg| arg == mode);
    let binary = lktop_binary();

    println!("{}", machine_line());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox =
        SandboxProcess::with_scenario(&binary, dir.path(), SCALE_SCENARIO, START_DEADLINE);

    let windows = Windows {
        length: window,
        profile,
        dir: dir.path(),
        sandbox: &sandbox,
    };
    let mut results = Vec::new();
    for (polling, mode) in [(Polling::Budget, "budget"), (Polling::Full, "full")] {
        if !polled(mode) {
            continue;
        }
        if wanted("watch") {
            let metrics_port = free_port();
            let mut watch = WatchProcess::start(
                &binary,
                dir.path(),
                &sandbox.url,
                metrics_port,
                polling.settings(),
            );
            watch.wait_for_line(START_DEADLINE, |line| {
                line.contains(&format!("{ROOMS} rooms"))
            });
            results.push(windows.measure("watch --summary", polling, watch.pid(), metrics_port));
            watch.stop();
        }
        if wanted("dashboard") {
            let metrics_port = free_port();
            let term = DashboardTerm::open(
                &binary,
                dir.path(),
                &sandbox.url,
                metrics_port,
                polling.settings(),
            );
            term.wait_for(START_DEADLINE, &format!("· {ROOMS} rooms ·"));
            results.push(windows.measure("dashboard", polling, term.pid(), metrics_port));
            term.quit();
        }
    }
    sandbox.stop();

    print_results(&results, &binary, seconds);
}

/// The figures of every subject, one line each.
fn print_results(results: &[Figures], binary: &str, seconds: u64) {
    println!();
    println!(
        "lktop's own cost ({binary}), against `lktop sandbox` in another process holding {ROOMS} \
         rooms / {} participants, ~1 % of rooms changing per 2 s poll; dashboard in a \
         {COLS}x{ROWS} pseudo-terminal; {seconds} s per window",
        ROOMS * PARTICIPANTS_PER_ROOM
    );
    println!(
        "{:<16} | {:<11} | {:>12} | {:>10} | {:>13} | {:>12} | {:>13} | stages (share of profiled CPU)",
        "subject",
        "polling",
        "CPU (core %)",
        "requests/s",
        "server recv/s",
        "CPU/request",
        "peak RSS"
    );
    for figures in results {
        println!(
            "{:<16} | {:<11} | {:>11.1}% | {:>10.0} | {:>13.0} | {:>9.1} µs | {:>9.0} MiB | {}",
            figures.subject,
            figures.polling.name(),
            figures.cpu_percent,
            figures.requests_per_second,
            figures.server_requests_per_second,
            figures.cpu_per_request.as_secs_f64() * 1e6,
            figures.peak_rss_mib,
            figures.stages.as_ref().map_or_else(
                || "(not profiled: perf is missing or --no-profile)".to_owned(),
                shares
            )
        );
    }
}

/// How a subject is measured once its first poll is done.
struct Windows<'a> {
    length: Duration,
    profile: bool,
    /// Where profiles are written.
    dir: &'a Path,
    /// The server watched, whose own request count says what watching costs it.
    sandbox: &'a SandboxProcess,
}

impl Windows<'_> {
    /// After [`SETTLE`], a clean window for CPU, requests and memory, then, if asked, a
    /// profiled one for the stages.
    fn measure(
        &self,
        subject: &'static str,
        polling: Polling,
        pid: u32,
        metrics_port: u16,
    ) -> Figures {
        thread::sleep(SETTLE);
        let (cpu_before, requests_before) = (cpu_seconds(pid), requests_made(metrics_port));
        let received_before = self.sandbox.polling_requests_received();
        let started = Instant::now();
        thread::sleep(self.length);
        let cpu = cpu_seconds(pid) - cpu_before;
        let requests = requests_made(metrics_port) - requests_before;
        #[expect(clippy::cast_precision_loss, reason = "request counts of one run")]
        let received = (self.sandbox.polling_requests_received() - received_before) as f64;
        let elapsed = started.elapsed().as_secs_f64();
        #[expect(clippy::cast_precision_loss, reason = "kibibytes of one process")]
        let peak_rss_mib = peak_rss_kib(pid) as f64 / 1024.0;
        let stages = self
            .profile
            .then(|| profiled_stages(pid, self.length, &self.dir.join(format!("{pid}.perf"))));
        Figures {
            subject,
            polling,
            cpu_percent: cpu / elapsed * 100.0,
            requests_per_second: requests / elapsed,
            server_requests_per_second: received / elapsed,
            cpu_per_request: Duration::from_secs_f64(cpu / requests.max(1.0)),
            peak_rss_mib,
            stages,
        }
    }
}

fn perf_available() -> bool {
    Command::new("perf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Samples `pid` for `window` and counts the samples per stage.
fn profiled_stages(pid: u32, window: Duration, data: &Path) -> BTreeMap<Stage, usize> {
    let recorded = Command::new("perf")
        .args(["record", "--quiet", "-F", &PROFILE_HZ.to_string()])
        .args(["--call-graph", "dwarf,16384", "-p", &pid.to_string(), "-o"])
        .arg(data)
        .args(["--", "sleep", &window.as_secs().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("perf record runs");
    assert!(recorded.success(), "perf record failed: {recorded}");
    let script = Command::new("perf")
        .args(["script", "--no-inline", "-F", "ip,sym", "-i"])
        .arg(data)
        .stderr(Stdio::null())
        .output()
        .expect("perf script runs");
    let text = String::from_utf8_lossy(&script.stdout);
    let mut counts = BTreeMap::new();
    // One sample is a block of frames, innermost first, ended by a blank line.
    for sample in text.split("\n\n") {
        let frames: Vec<&str> = sample
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        if frames.is_empty() {
            continue;
        }
        *counts.entry(Stage::of(&frames)).or_default() += 1;
    }
    counts
}

/// Where a profiled sample's CPU went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Requests,
    Snapshot,
    Events,
    Recording,
    Drawing,
    Rest,
}

impl Stage {
    /// Frame names, by the stage they put a sample in; the innermost frame that names one wins,
    /// so an allocation or a system call counts for whoever made it.
    const RULES: &[(Stage, &[&str])] = &[
        (
            Stage::Drawing,
            &["ratatui::", "crossterm::", "lktop::tui::render"],
        ),
        (Stage::Recording, &["lktop::record::", "flate2::"]),
        (
            Stage::Requests,
            &[
                "hyper::",
                "hyper_util::",
                "h2::",
                "reqwest::",
                "rustls::",
                "http::",
                "prost::",
                "livekit_api::",
                "livekit_protocol::",
                "jsonwebtoken::",
                "lktop::api::",
                "lktop::pool::",
            ],
        ),
        (
            Stage::Snapshot,
            &["lktop::snapshot::", "lktop::poller::", "lktop::limits::"],
        ),
        (Stage::Events, &["lktop::", "serde_json::", "serde::"]),
    ];

    fn of(frames: &[&str]) -> Stage {
        frames
            .iter()
            .find_map(|frame| {
                Self::RULES.iter().find_map(|(stage, names)| {
                    names
                        .iter()
                        .any(|name| frame.contains(name))
                        .then_some(*stage)
                })
            })
            .unwrap_or(Stage::Rest)
    }

    fn name(self) -> &'static str {
        match self {
            Stage::Requests => "requests+decoding",
            Stage::Snapshot => "snapshot+diff",
            Stage::Events => "events+state",
            Stage::Recording => "recording",
            Stage::Drawing => "drawing",
            Stage::Rest => "runtime+alloc+kernel",
        }
    }
}

fn shares(counts: &BTreeMap<Stage, usize>) -> String {
    let total: usize = counts.values().sum();
    if total == 0 {
        return "(no samples)".to_owned();
    }
    counts
        .iter()
        .map(|(stage, count)| {
            #[expect(clippy::cast_precision_loss, reason = "sample counts are small")]
            let share = *count as f64 / total as f64 * 100.0;
            format!("{} {share:.0}%", stage.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
        + &format!(" ({total} samples)")
}
