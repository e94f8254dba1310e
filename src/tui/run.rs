//! The dashboard's event loop: one merged stream of actions (terminal input, engine events or
//! a replay, signals, the heartbeat, results of work the loop started), folded by `update`,
//! drawn only when something changed and at most ~30 times a second.
//!
//! Nothing the loop does waits on the outside world: a command is a non-blocking send whose
//! outcome comes back as an engine event, a demo fault runs as its own task and reports back
//! through the feedback channel, the recording is written by the session's own task. So a
//! key is drawn within a frame whatever the engine, the sandbox or the disk are doing.

use std::io::IsTerminal;
use std::path::Path;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::{IntervalStream, ReceiverStream, UnboundedReceiverStream};
use tokio_stream::{Stream, StreamExt};

use crate::config::{ConfigSources, LoadedConfig};
use crate::engine::Engine;
use crate::events::{EngineEvent, now_ms};
use crate::record::{PlayOptions, Replay, ReplayHandle, ReplayItem};
use crate::session::{DemoControl, Session, SessionOptions};
use crate::signals::{Signal, Signals};
use crate::tui::keys::Keymap;

use super::action::{Action, Effect, ReplayControl};
use super::app::{App, Mode};
use super::terminal::TerminalGuard;
use super::update::update;

/// ~30 frames a second at most: a burst of events costs one frame.
const FRAME_BUDGET: Duration = Duration::from_millis(33);
/// Clocks, ages and countdowns move once a second even when no data arrives.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Actions folded in before a frame at most, so a flood of events still lets a frame out.
const BATCH: usize = 4096;

type ActionStream = Pin<Box<dyn Stream<Item = Vec<Action>> + Send>>;

/// Refuses to start when stdout is not a terminal (a pipe, a file, CI).
fn require_terminal() -> Option<ExitCode> {
    if std::io::stdout().is_terminal() {
        return None;
    }
    eprintln!(
        "lktop: stdout is not a terminal, so the dashboard cannot be drawn.\n\
         hint: use `lktop watch` for engine events as JSON lines, or `lktop watch --summary` for \
         one line per server."
    );
    Some(ExitCode::from(2))
}

/// `--color never`, or `NO_COLOR` under `--color auto` (see [`crate::color`]).
fn monochrome() -> bool {
    !crate::color::in_dashboard()
}

/// The live dashboard: the configured servers, or the built-in sandbox with the demo scenario
/// when none is configured.
///
/// # Errors
/// The runtime, the terminal or the engine cannot start, or the recording cannot be created.
pub(crate) fn run_live(
    loaded: LoadedConfig,
    sources: ConfigSources,
    record: Option<&Path>,
) -> color_eyre::Result<ExitCode> {
    if let Some(code) = require_terminal() {
        return Ok(code);
    }
    let keymap = Keymap::with_overrides(&loaded.config.keys)
        .map_err(|problems| eyre!("key bindings: {problems:?}"))?;
    let keys_config = loaded.config.keys.clone();
    let log_file = super::logfile::init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (session, events) = Session::start(SessionOptions {
            config: loaded.config,
            sources: Some(sources),
            record: record.map(Path::to_path_buf),
        })
        .await
        .map_err(|err| eyre!(err))?;
        let mode = Mode::Live {
            sandbox: session.sandbox_url(),
        };
        let mut app = App::new(
            mode,
            keymap,
            crate::config::RoomLimitsConfig::default(),
            now_ms(),
        );
        app.keys_config = keys_config;
        app.monochrome = monochrome();
        app.recording = session.recording().map(|path| path.display().to_string());
        let source = DashboardSource::Live {
            engine: session.engine(),
            demo: session.demo(),
        };
        let result = drive(&mut app, ReceiverStream::new(events), source).await;
        let report = session.shutdown().await;
        match report.recording {
            Some(Ok((path, events))) => {
                eprintln!("lktop: recorded {events} events to {}", path.display());
            }
            Some(Err(err)) => eprintln!("lktop: {err}"),
            None => {}
        }
        finish(result, &log_file)
    })
}

/// Plays a recording into the dashboard; nothing is monitored or changed.
///
/// # Errors
/// The runtime or the terminal cannot start, or the recording cannot be opened.
pub(crate) fn run_replay(file: &Path, speed: f64, keymap: Keymap) -> color_eyre::Result<ExitCode> {
    if let Some(code) = require_terminal() {
        return Ok(code);
    }
    let replay = Replay::open(file).wrap_err("cannot replay")?;
    let log_file = super::logfile::init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let options = PlayOptions::default()
            .with_speed(speed)
            .wrap_err("--speed")?;
        let (handle, items) = replay.spawn(options);
        let mode = Mode::Replay {
            file: file.display().to_string(),
            speed,
            paused: false,
            at_ms: 0,
            started_at_ms: 0,
            finished: false,
        };
        let mut app = App::new(
            mode,
            keymap,
            crate::config::RoomLimitsConfig::default(),
            now_ms(),
        );
        app.monochrome = monochrome();
        let result = drive(
            &mut app,
            ReceiverStream::new(items),
            DashboardSource::Replay { handle: &handle },
        )
        .await;
        finish(result, &log_file)
    })
}

/// The exit status: 0 after a quit, 128 + the signal's number after a stop signal.
fn finish(
    result: color_eyre::Result<Option<Signal>>,
    log_file: &Path,
) -> color_eyre::Result<ExitCode> {
    let stopped_by = result?;
    tracing::info!(signal = stopped_by.map(Signal::name), "dashboard closed");
    if std::env::var_os("LKTOP_LOG").is_some() {
        eprintln!("lktop: logs are in {}", log_file.display());
    }
    Ok(stopped_by
        .and_then(Signal::exit_code)
        .unwrap_or(ExitCode::SUCCESS))
}

/// Where the dashboard's data comes from and what its effects act on.
enum DashboardSource<'a> {
    Live {
        engine: &'a Engine,
        demo: Option<DemoControl>,
    },
    Replay {
        handle: &'a ReplayHandle,
    },
}

/// Items of the data source become actions.
trait IntoAction {
    fn into_action(self) -> Action;
}

impl IntoAction for EngineEvent {
    fn into_action(self) -> Action {
        Action::Engine(Box::new(self))
    }
}

impl IntoAction for ReplayItem {
    fn into_action(self) -> Action {
        match self {
            ReplayItem::Event(event) => Action::Engine(event),
            ReplayItem::Problem { line, message } => Action::ReplayProblem { line, message },
            ReplayItem::Finished { events } => Action::ReplayFinished { events },
        }
    }
}

fn input_action(event: std::io::Result<TermEvent>) -> Option<Action> {
    match event.ok()? {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        TermEvent::Mouse(mouse) => Some(Action::Mouse(mouse)),
        TermEvent::Paste(text) => Some(Action::Paste(text)),
        TermEvent::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// Every source as one stream of batches: each batch is everything already waiting, taken
/// with the loop's own waker (a source polled with any other waker would never wake the loop
/// again, and a key would wait for the next heartbeat).
fn actions<T>(
    data: ReceiverStream<T>,
    feedback: mpsc::UnboundedReceiver<Action>,
    signals: Signals,
) -> ActionStream
where
    T: IntoAction + Send + 'static,
{
    let heartbeat = IntervalStream::new(tokio::time::interval(HEARTBEAT))
        .map(|_| Action::Tick { now_ms: now_ms() });
    let signals = futures_util::stream::unfold(signals, |mut signals| async move {
        let signal = signals.recv().await;
        Some((Action::Signal(signal), signals))
    });
    let merged = EventStream::new()
        .filter_map(input_action)
        .merge(signals)
        .merge(data.map(IntoAction::into_action))
        .merge(heartbeat)
        .merge(UnboundedReceiverStream::new(feedback));
    Box::pin(futures_util::StreamExt::ready_chunks(merged, BATCH))
}

/// The loop. The terminal is taken here and given back before returning, whatever happens.
/// Returns the signal that stopped it, if one did.
async fn drive<T>(
    app: &mut App,
    data: ReceiverStream<T>,
    source: DashboardSource<'_>,
) -> color_eyre::Result<Option<Signal>>
where
    T: IntoAction + Send + 'static,
{
    let signals = Signals::with_job_control().wrap_err("cannot install signal handlers")?;
    let mut guard = TerminalGuard::enter().wrap_err("cannot take over the terminal")?;
    let size = guard.terminal().size()?;
    let _ = update(
        app,
        Action::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let panic_on_draw = std::env::var_os("LKTOP_DEBUG_PANIC").is_some();

    // Results of work the loop started (demo faults) come back as actions through this
    // channel, merged like every other source.
    let (feedback, feedback_rx) = mpsc::unbounded_channel::<Action>();
    let mut actions = actions(data, feedback_rx, signals);
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;
    let mut focused: Option<(String, String)> = None;

    while !app.should_quit {
        let due = last_frame.map_or_else(Instant::now, |at| at + FRAME_BUDGET);
        if dirty && Instant::now() >= due {
            draw(&mut guard, app, panic_on_draw)?;
            last_frame = Some(Instant::now());
            dirty = false;
        }
        let batch = if dirty {
            tokio::select! {
                batch = actions.next() => batch,
                () = tokio::time::sleep_until(due) => continue,
            }
        } else {
            actions.next().await
        };
        let Some(batch) = batch else { break };
        // What the user did goes first and is drawn at once, outside the frame budget (which
        // is there for bursts of data): a key that arrives with a poll's worth of data is not
        // made to wait for that data to be folded in.
        let (input, data): (Vec<Action>, Vec<Action>) =
            batch.into_iter().partition(Action::is_input);
        if !input.is_empty() {
            fold(app, input, &source, &feedback, &mut guard)?;
            focused = tell_focus(app, &source, focused);
            if !app.should_quit {
                draw(&mut guard, app, panic_on_draw)?;
                last_frame = Some(Instant::now());
            }
        }
        fold(app, data, &source, &feedback, &mut guard)?;
        dirty = true;
    }
    drop(guard);
    Ok(app.stopped_by)
}

/// Tells a live engine which room is open on screen when that changed, so its polls read it
/// first; returns what it now knows.
fn tell_focus(
    app: &App,
    source: &DashboardSource<'_>,
    told: Option<(String, String)>,
) -> Option<(String, String)> {
    let now = app.focused_room();
    if now == told {
        return told;
    }
    if let DashboardSource::Live { engine, .. } = source {
        if let Some((server, _)) = &told {
            engine.focus_room(server, None);
        }
        if let Some((server, room)) = &now {
            engine.focus_room(server, Some(room));
        }
    }
    now
}

fn draw(guard: &mut TerminalGuard, app: &App, panic_on_draw: bool) -> color_eyre::Result<()> {
    assert!(
        !panic_on_draw,
        "LKTOP_DEBUG_PANIC is set: panicking on purpose to test terminal restore"
    );
    guard
        .terminal()
        .draw(|frame| super::render::draw(frame, app))?;
    Ok(())
}

/// Folds actions in, one after another, with the actions their effects lead to.
fn fold(
    app: &mut App,
    actions: Vec<Action>,
    source: &DashboardSource<'_>,
    feedback: &mpsc::UnboundedSender<Action>,
    guard: &mut TerminalGuard,
) -> color_eyre::Result<()> {
    for action in actions {
        let mut pending = vec![action];
        while let Some(action) = pending.pop() {
            for effect in update(app, action) {
                if let Some(follow_up) = carry_out(effect, source, feedback, guard)? {
                    pending.push(follow_up);
                }
            }
        }
    }
    Ok(())
}

/// Carries out one effect without waiting on anything outside; returns an action to fold in
/// at once (before anything else arrives) when there is one.
fn carry_out(
    effect: Effect,
    source: &DashboardSource<'_>,
    feedback: &mpsc::UnboundedSender<Action>,
    guard: &mut TerminalGuard,
) -> color_eyre::Result<Option<Action>> {
    let follow_up = match (effect, source) {
        (Effect::Quit, _) | (Effect::Replay(_), DashboardSource::Live { .. }) => None,
        (Effect::Suspend, _) => {
            // The terminal as it was before lktop, for the shell while lktop is stopped.
            super::terminal::restore();
            crate::signals::suspend_self();
            guard.resume().wrap_err("cannot take the terminal again")?;
            None
        }
        (Effect::Redraw, _) => {
            guard.redraw_all()?;
            None
        }
        // The id comes back at once, so the `sent` line is logged before the outcome that
        // arrives later through the engine's stream.
        (Effect::Send(command), DashboardSource::Live { engine, .. }) => {
            Some(match engine.send(command.clone()) {
                Ok(id) => Action::CommandQueued { id, command },
                Err(reason) => Action::CommandRefused { command, reason },
            })
        }
        (Effect::Fault(fault), DashboardSource::Live { demo, .. }) => match demo {
            Some(demo) => {
                let injected = demo.inject(fault);
                let feedback = feedback.clone();
                tokio::spawn(async move {
                    let result = injected.await;
                    let _ = feedback.send(Action::FaultInjected { fault, result });
                });
                None
            }
            None => Some(Action::FaultInjected {
                fault,
                result: Err("fault keys work only on the built-in sandbox".to_owned()),
            }),
        },
        (Effect::Replay(control), DashboardSource::Replay { handle }) => {
            match control {
                ReplayControl::Pause => handle.pause(),
                ReplayControl::Resume => handle.resume(),
                ReplayControl::Skip(span) => handle.skip(span),
                ReplayControl::SetSpeed(speed) => {
                    // `update` keeps the speed within the player's range; were it outside,
                    // the player would keep playing at its speed.
                    if let Err(err) = handle.set_speed(speed) {
                        tracing::warn!(%err, "replay speed unchanged");
                    }
                }
            }
            None
        }
        (Effect::Send(command), DashboardSource::Replay { .. }) => Some(Action::CommandRefused {
            command,
            reason: "a replay is read-only".to_owned(),
        }),
        (Effect::Fault(fault), DashboardSource::Replay { .. }) => Some(Action::FaultInjected {
            fault,
            result: Err("a replay has no server".to_owned()),
        }),
    };
    Ok(follow_up)
}
