//! `lktop watch`: the engine without a screen. Prints every engine event as one JSON line, or
//! with `--summary` one line per server per interval; `--record FILE` also writes every event to
//! a recording (see [`crate::record`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::SecretString;

use crate::config::{ConfigSources, LoadedConfig, ServerConfig};
use crate::engine::{Engine, EngineOptions};
use crate::events::{EngineEvent, EventKind};
use crate::record::Recorder;
use crate::sandbox::scenario::Scenario;
use crate::sandbox::{Sandbox, SandboxOptions};

/// Name of the server entry the engine gets for its own sandbox.
pub const SANDBOX_SERVER: &str = "sandbox";

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Watch options")]
pub struct WatchArgs {
    /// One line per server every interval instead of every event as JSON
    #[arg(long)]
    pub summary: bool,
    /// Interval of the summary lines
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub every: crate::config::ConfigDuration,
    /// Stop after this long (default: run until Ctrl-C)
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<crate::config::ConfigDuration>,
    /// Also write every event to FILE, one JSON line each (gzip-compressed when FILE ends in
    /// .gz), a recording to replay later; the file is truncated first
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

/// Runs the engine until Ctrl-C, SIGTERM or `--duration`.
///
/// # Errors
/// The runtime cannot start.
pub fn run(
    args: &WatchArgs,
    loaded: LoadedConfig,
    sources: ConfigSources,
) -> color_eyre::Result<ExitCode> {
    crate::logging::init_stderr("lktop=warn");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(watch(args, loaded, sources))
}

async fn watch(
    args: &WatchArgs,
    loaded: LoadedConfig,
    sources: ConfigSources,
) -> color_eyre::Result<ExitCode> {
    // Before anything starts: a recording that cannot be created is a usage error.
    let mut recorder = match args.record.as_deref().map(Recorder::create).transpose() {
        Ok(recorder) => recorder,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut config = loaded.config;
    let mut sandbox = None;
    if config.servers.is_empty() {
        let (started, server) = start_demo_sandbox().await?;
        eprintln!(
            "lktop watch: no server configured; watching the built-in sandbox at {} (demo \
             scenario). Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET to watch your \
             server.",
            started.url()
        );
        config.servers.push(server);
        sandbox = Some(started);
    }
    let (engine, mut events) = match Engine::start(EngineOptions {
        config,
        sources: Some(sources),
        watch_config: true,
        sandbox: sandbox.as_ref().map(Sandbox::url),
    })
    .await
    {
        Ok(started) => started,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };

    let mut summary = Summary::default();
    let mut summary_tick = tokio::time::interval(args.every.get());
    summary_tick.tick().await;
    let stop_after = args.duration.map_or(
        Duration::from_secs(u64::MAX / 4),
        crate::config::ConfigDuration::get,
    );
    let deadline = tokio::time::sleep(stop_after);
    tokio::pin!(deadline);
    let stop = crate::sandbox::cli::wait_for_stop_signal();
    tokio::pin!(stop);
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            () = &mut stop => break,
            () = &mut deadline => break,
            _ = summary_tick.tick(), if args.summary => {
                if write_lines(&mut out, &summary.lines()).is_err() {
                    break;
                }
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                record(&mut recorder, &event);
                if args.summary {
                    summary.absorb(&event);
                } else {
                    let line = serde_json::to_string(&event).unwrap_or_default();
                    if write_lines(&mut out, &[line]).is_err() {
                        break;
                    }
                }
            }
        }
    }
    engine.shutdown(Duration::from_secs(2)).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    if let Some(recorder) = recorder {
        let path = recorder.path().to_owned();
        match recorder.finish() {
            Ok(events) => eprintln!(
                "lktop watch: recorded {events} events to {}",
                path.display()
            ),
            Err(err) => eprintln!("lktop watch: {err}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the event to the recording, if any. A failure ends the recording (said once on
/// stderr); the watch goes on.
fn record(recorder: &mut Option<Recorder>, event: &EngineEvent) {
    let Some(active) = recorder else { return };
    if let Err(err) = active.write(event) {
        eprintln!(
            "lktop watch: the recording stopped after {} events, watching goes on: {err}",
            active.events()
        );
        *recorder = None;
    }
}

/// The built-in sandbox with the demo scenario, on a free loopback port with a fresh secret.
///
/// # Errors
/// No loopback port could be bound.
pub async fn start_demo_sandbox() -> std::io::Result<(Sandbox, ServerConfig)> {
    let secret: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let secret = SecretString::from(secret);
    let sandbox =
        Sandbox::start(SandboxOptions::new("lktop-demo", &secret).with_scenario(Scenario::demo()))
            .await?;
    let server = ServerConfig {
        name: SANDBOX_SERVER.to_owned(),
        url: sandbox.url(),
        api_key: "lktop-demo".to_owned(),
        api_secret: Some(secret),
    };
    Ok((sandbox, server))
}

/// `lktop | head` closes the pipe; that ends the watch quietly.
fn write_lines(out: &mut std::io::Stdout, lines: &[String]) -> std::io::Result<()> {
    let mut out = out.lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

#[derive(Default)]
struct ServerSummary {
    state: String,
    pool: String,
    quality: String,
    latency: String,
    rooms: String,
    violations: usize,
}

/// The latest state of each server, for `--summary`.
#[derive(Default)]
struct Summary {
    servers: BTreeMap<String, ServerSummary>,
}

impl Summary {
    fn absorb(&mut self, event: &EngineEvent) {
        match &event.kind {
            EventKind::PoolStatus { status } => {
                let entry = self.servers.entry(status.server.clone()).or_default();
                entry.pool = format!(
                    "pool {}/{} in use, {} healthy, {} failed, max {}",
                    status.in_use, status.total, status.healthy, status.failed, status.max
                );
                entry.state = match &status.unauthenticated {
                    Some(reason) => format!("UNAUTHENTICATED ({reason})"),
                    None if status.healthy > 0 => "up".to_owned(),
                    None => "DOWN".to_owned(),
                };
            }
            EventKind::Quality { server, report } => {
                let entry = self.servers.entry(server.clone()).or_default();
                entry.quality = match (report.grade, report.score) {
                    (Some(grade), Some(score)) => format!("quality {grade} {:.2}", score.value()),
                    _ => "quality n/a".to_owned(),
                };
                let ms = |value: Option<Duration>| {
                    value.map_or_else(
                        || "-".to_owned(),
                        |d| format!("{:.0}ms", d.as_secs_f64() * 1000.0),
                    )
                };
                entry.latency = format!(
                    "p50 {} p95 {} ok {}",
                    ms(report.p50),
                    ms(report.p95),
                    report
                        .success_rate
                        .map_or_else(|| "-".to_owned(), |rate| format!("{:.1}%", rate * 100.0))
                );
            }
            EventKind::Snapshot { snapshot, .. } => {
                let entry = self.servers.entry(snapshot.server.clone()).or_default();
                let tracks = snapshot.track_counts();
                entry.rooms = format!(
                    "{} rooms, {} participants, audio {} ({} muted), video {} ({} muted)",
                    snapshot.rooms.len(),
                    snapshot.participant_count(),
                    tracks.audio,
                    tracks.audio_muted,
                    tracks.video,
                    tracks.video_muted
                );
            }
            EventKind::Violations { server, violations } => {
                self.servers.entry(server.clone()).or_default().violations = violations.len();
            }
            _ => {}
        }
    }

    fn lines(&self) -> Vec<String> {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        self.servers
            .iter()
            .map(|(name, s)| {
                format!(
                    "{now} {name}: {} | {} | {} {} | {} | {} violations",
                    or_dash(&s.state),
                    or_dash(&s.pool),
                    or_dash(&s.quality),
                    s.latency,
                    or_dash(&s.rooms),
                    s.violations
                )
            })
            .collect()
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}
