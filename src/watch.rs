//! `lktop watch`: the engine without a screen. Prints every engine event as one JSON line, or
//! with `--summary` one line per server per interval; `--record FILE` also writes every event to
//! a recording (see [`crate::record`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{ConfigSources, LoadedConfig};
use crate::events::{EngineEvent, EventKind, ServerState};
use crate::session::{Session, SessionOptions};
use crate::signals::{Signal, Signals};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Watch options")]
pub(crate) struct WatchArgs {
    /// One line per server every interval instead of every event as JSON
    #[arg(long)]
    pub(crate) summary: bool,
    /// Interval of the summary lines
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub(crate) every: crate::config::ConfigDuration,
    /// Stop after this long (default: run until Ctrl-C)
    #[arg(long, value_name = "DURATION")]
    pub(crate) duration: Option<crate::config::ConfigDuration>,
    /// Also write every event to FILE, one JSON line each (gzip-compressed when FILE ends in
    /// .gz), a recording to replay later; the file is truncated first
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub(crate) record: Option<PathBuf>,
}

/// Runs the engine until Ctrl-C, SIGTERM or `--duration`.
///
/// # Errors
/// The runtime cannot start.
pub(crate) fn run(
    args: &WatchArgs,
    loaded: LoadedConfig,
    sources: ConfigSources,
) -> color_eyre::Result<ExitCode> {
    crate::logging::init_stderr("warn");
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
    let mut signals = Signals::stop()?;
    let Some((session, mut events)) = start(args, loaded, sources).await else {
        return Ok(ExitCode::FAILURE);
    };
    let mut out = std::io::stdout();
    let stopped_by = follow(args, &mut signals, &mut events, &mut out).await;
    // What the engine says while stopping is printed too, so the output and the recording
    // hold the same events.
    let stopping = tokio::spawn(session.shutdown());
    while let Some(event) = events.recv().await {
        if !args.summary {
            let line = serde_json::to_string(&event).unwrap_or_default();
            if write_lines(&mut out, &[line]).is_err() {
                break;
            }
        }
    }
    drop(events);
    let report = stopping.await?;
    match report.recording {
        Some(Ok((path, events))) => {
            eprintln!(
                "lktop watch: recorded {events} events to {}",
                path.display()
            );
        }
        Some(Err(err)) => eprintln!("lktop watch: {err}"),
        None => {}
    }
    Ok(stopped_by
        .and_then(Signal::exit_code)
        .unwrap_or(ExitCode::SUCCESS))
}

/// Starts the session, saying on stderr when it watches the built-in sandbox; `None` (the
/// error said) when it cannot start.
async fn start(
    args: &WatchArgs,
    loaded: LoadedConfig,
    sources: ConfigSources,
) -> Option<(Session, mpsc::Receiver<EngineEvent>)> {
    let builtin = loaded.config.servers.is_empty();
    let (session, events) = match Session::start(SessionOptions {
        config: loaded.config,
        sources: Some(sources),
        record: args.record.clone(),
    })
    .await
    {
        Ok(started) => started,
        Err(err) => {
            eprintln!("error: {err}");
            return None;
        }
    };
    if builtin && let Some(url) = session.sandbox_url() {
        eprintln!(
            "lktop watch: no server configured; watching the built-in sandbox at {url} (demo \
             scenario). Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET to watch your \
             server."
        );
    }
    Some((session, events))
}

/// Prints the events (or the summary every interval) until a stop signal, `--duration`, the
/// end of the events or a closed stdout; the signal that stopped it, if one did.
async fn follow(
    args: &WatchArgs,
    signals: &mut Signals,
    events: &mut mpsc::Receiver<EngineEvent>,
    out: &mut std::io::Stdout,
) -> Option<Signal> {
    let mut summary = Summary::default();
    let mut summary_tick = tokio::time::interval(args.every.get());
    summary_tick.tick().await;
    let stop_after = args.duration.map_or(
        Duration::from_secs(u64::MAX / 4),
        crate::config::ConfigDuration::get,
    );
    let deadline = tokio::time::sleep(stop_after);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            signal = signals.recv() => return Some(signal),
            () = &mut deadline => return None,
            _ = summary_tick.tick(), if args.summary => {
                if write_lines(out, &summary.lines()).is_err() {
                    return None;
                }
            }
            event = events.recv() => {
                // The events ended: the engine is gone, no signal stopped it.
                let event = event?;
                if let EventKind::RecordingStopped { path, events, reason } = &event.kind {
                    // Said on stderr too: stdout may be going to a pipe nobody reads.
                    eprintln!(
                        "lktop watch: recording stopped after {events} events to {path}, \
                         watching goes on: {reason}"
                    );
                }
                if args.summary {
                    summary.absorb(&event);
                } else {
                    let line = serde_json::to_string(&event).unwrap_or_default();
                    if write_lines(out, &[line]).is_err() {
                        return None;
                    }
                }
            }
        }
    }
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
    /// The rooms as of the latest poll, kept up to date by each update; counted when a line
    /// is printed.
    rooms: Option<Snapshot>,
    violations: usize,
    webhooks: Option<crate::webhooks::WebhookTotals>,
    /// The nodes' media plane as of the latest reading, when the server has node sources.
    media: Option<String>,
    media_violations: usize,
}

impl ServerSummary {
    fn rooms_text(&self) -> String {
        let Some(snapshot) = &self.rooms else {
            return "-".to_owned();
        };
        let tracks = snapshot.track_counts();
        let mut text = format!(
            "{} rooms, {} participants, audio {} ({} muted), video {} ({} muted)",
            snapshot.rooms.len(),
            snapshot.participant_count(),
            tracks.audio,
            tracks.audio_muted,
            tracks.video,
            tracks.video_muted
        );
        // Under the polling budget some lists are older than the poll: say how old.
        if let Some(oldest) = snapshot.oldest_read_at(snapshot.taken_at_ms)
            && oldest < snapshot.taken_at_ms
        {
            let age =
                Duration::from_millis(u64::try_from(snapshot.taken_at_ms - oldest).unwrap_or(0));
            let _ = write!(
                text,
                ", oldest participant list {}",
                humantime::format_duration(Duration::from_secs(age.as_secs()))
            );
        }
        text
    }
}

/// The latest state of each server, for `--summary`.
#[derive(Default)]
struct Summary {
    servers: BTreeMap<String, ServerSummary>,
}

impl Summary {
    fn absorb(&mut self, event: &EngineEvent) {
        match &event.kind {
            EventKind::PoolStatus { status, .. } => {
                let entry = self.servers.entry(status.server.clone()).or_default();
                entry.pool = format!(
                    "pool {}/{} in use, {} healthy, {} failed, max {}",
                    status.in_use, status.total, status.healthy, status.failed, status.max
                );
            }
            EventKind::ServerState {
                server,
                state,
                cause,
                ..
            } => {
                let entry = self.servers.entry(server.clone()).or_default();
                entry.state = match (state, cause) {
                    (ServerState::Up, _) => "up".to_owned(),
                    (_, Some(cause)) => format!("{} ({cause})", state.as_str().to_uppercase()),
                    (_, None) => state.as_str().to_uppercase(),
                };
            }
            EventKind::Quality { server, report, .. } => {
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
            EventKind::Rooms { update, .. } => {
                let entry = self.servers.entry(update.server.clone()).or_default();
                entry
                    .rooms
                    .get_or_insert_with(Snapshot::default)
                    .apply(update.clone());
            }
            EventKind::Snapshot { snapshot, .. } => {
                let entry = self.servers.entry(snapshot.server.clone()).or_default();
                entry.rooms = Some(Snapshot::clone(snapshot).with_every_room_read());
            }
            EventKind::Violations { server, violations } => {
                self.servers.entry(server.clone()).or_default().violations = violations.len();
            }
            EventKind::Webhook {
                server,
                webhook,
                update,
            } => {
                let entry = self.servers.entry(server.clone()).or_default();
                entry.webhooks = Some(webhook.totals);
                if let (Some(rooms), Some(update)) = (&mut entry.rooms, update) {
                    rooms.apply(update.clone());
                }
            }
            EventKind::WebhookDrift { server, drift } => {
                self.servers.entry(server.clone()).or_default().webhooks = Some(drift.totals);
            }
            EventKind::NodeHealth {
                server,
                nodes,
                sources,
            } => {
                self.servers.entry(server.clone()).or_default().media =
                    Some(media_text(nodes, sources));
            }
            EventKind::MediaViolations { server, violations } => {
                self.servers
                    .entry(server.clone())
                    .or_default()
                    .media_violations = violations.len();
            }
            _ => {}
        }
    }

    fn lines(&self) -> Vec<String> {
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        self.servers
            .iter()
            .map(|(name, s)| {
                let webhooks = s.webhooks.map_or_else(String::new, |totals| {
                    format!(
                        " | webhooks {} taken, {} duplicates, {} out of order, drift {}",
                        totals.taken, totals.duplicates, totals.out_of_order, totals.drift
                    )
                });
                let media = s.media.as_ref().map_or_else(String::new, |media| {
                    format!(" | {media}, {} media violations", s.media_violations)
                });
                format!(
                    "{now} {name}: {} | {} | {} {} | {} | {} violations{webhooks}{media}",
                    or_dash(&s.state),
                    or_dash(&s.pool),
                    or_dash(&s.quality),
                    s.latency,
                    s.rooms_text(),
                    s.violations
                )
            })
            .collect()
    }
}

/// `media 2 nodes (1 draining), worst loss 8.1%, worst rtt p95 250ms`, or which source is
/// down.
fn media_text(
    nodes: &[crate::nodes::NodeHealth],
    sources: &[crate::nodes::SourceStatus],
) -> String {
    let down: Vec<String> = sources
        .iter()
        .filter(|source| source.state != crate::nodes::SourceState::Up)
        .map(|source| {
            format!(
                "{} {} {}",
                source.source.as_str(),
                source.target,
                source.state.as_str()
            )
        })
        .collect();
    let worst = |figure: fn(&crate::nodes::NodeHealth) -> Option<f64>| {
        nodes.iter().filter_map(figure).reduce(f64::max)
    };
    let draining = nodes.iter().filter(|node| node.is_draining()).count();
    let mut text = format!("media {} nodes", nodes.len());
    if draining > 0 {
        let _ = write!(text, " ({draining} draining)");
    }
    if let Some(loss) = worst(|node| node.packet_loss_pct) {
        let _ = write!(text, ", worst loss {loss:.1}%");
    }
    if let Some(rtt) = worst(|node| node.rtt_p95_ms) {
        let _ = write!(text, ", worst rtt p95 {rtt:.0}ms");
    }
    if !down.is_empty() {
        let _ = write!(text, ", {}", down.join(", "));
    }
    text
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}
