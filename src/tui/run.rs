//! The dashboard's event loop: one merged stream of actions (terminal input, engine events or
//! a replay, the heartbeat, results of the loop's own work), folded by `update`, drawn only
//! when something changed and at most ~30 times a second.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::FutureExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::{IntervalStream, ReceiverStream};
use tokio_stream::{Stream, StreamExt};

use crate::config::{ConfigSources, LoadedConfig};
use crate::engine::{Engine, EngineOptions};
use crate::events::{EngineEvent, now_ms};
use crate::keymap::Keymap;
use crate::record::{PlayOptions, Recorder, Replay, ReplayHandle, ReplayItem};
use crate::sandbox::Sandbox;
use crate::sandbox::faults::{Disruption, Faults};
use crate::sandbox::twirp_error::TwirpCode;

use super::action::{Action, DemoFault, Effect, ReplayControl};
use super::app::{App, Mode};
use super::terminal::TerminalGuard;
use super::update::update;

/// ~30 frames a second at most: a burst of events costs one frame.
const FRAME_BUDGET: Duration = Duration::from_millis(33);
/// Clocks, ages and countdowns move once a second even when no data arrives.
const HEARTBEAT: Duration = Duration::from_secs(1);

type ActionStream = Pin<Box<dyn Stream<Item = Action> + Send>>;

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

/// `NO_COLOR` set to anything but the empty string turns colour off (no-color.org).
fn monochrome() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// The live dashboard: the configured servers, or the built-in sandbox with the demo scenario
/// when none is configured.
///
/// # Errors
/// The runtime, the terminal or the engine cannot start, or the recording cannot be created.
pub fn run_live(
    loaded: LoadedConfig,
    sources: ConfigSources,
    record: Option<&Path>,
) -> color_eyre::Result<ExitCode> {
    if let Some(code) = require_terminal() {
        return Ok(code);
    }
    let keymap = Keymap::with_overrides(&loaded.config.keys)
        .map_err(|problems| eyre!("key bindings: {problems:?}"))?;
    let log_file = super::logfile::init()?;
    let recorder = record
        .map(Recorder::create)
        .transpose()
        .wrap_err("cannot record")?
        .map(Box::new);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(live(loaded, sources, keymap, recorder, &log_file))
}

async fn live(
    loaded: LoadedConfig,
    sources: ConfigSources,
    keymap: Keymap,
    recorder: Option<Box<Recorder>>,
    log_file: &Path,
) -> color_eyre::Result<ExitCode> {
    let mut config = loaded.config;
    let mut sandbox = None;
    if config.servers.is_empty() {
        let (started, server) = crate::watch::start_demo_sandbox()
            .await
            .wrap_err("cannot start the built-in sandbox")?;
        tracing::info!(url = %started.url(), "no server configured; running the demo sandbox");
        config.servers.push(server);
        sandbox = Some(started);
    }
    let limits = config.room_limits.clone();
    let (engine, events) = Engine::start(EngineOptions {
        config,
        sources: Some(sources),
        watch_config: true,
        sandbox: sandbox.as_ref().map(Sandbox::url),
    })
    .await
    .map_err(|err| eyre!(err))?;

    let mode = Mode::Live {
        sandbox: sandbox.as_ref().map(Sandbox::url),
    };
    let mut app = App::new(mode, keymap, limits, now_ms());
    app.monochrome = monochrome();
    let source = Source::Live {
        engine: &engine,
        sandbox: sandbox.as_ref(),
        recorder,
    };
    let result = drive(&mut app, ReceiverStream::new(events), source).await;
    engine.shutdown(Duration::from_secs(2)).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    finish(result, log_file)
}

/// Plays a recording into the dashboard; nothing is monitored or changed.
///
/// # Errors
/// The runtime or the terminal cannot start, or the recording cannot be opened.
pub fn run_replay(file: &Path, speed: f64, keymap: Keymap) -> color_eyre::Result<ExitCode> {
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
            Source::Replay { handle: &handle },
        )
        .await;
        finish(result, &log_file)
    })
}

fn finish(result: color_eyre::Result<()>, log_file: &Path) -> color_eyre::Result<ExitCode> {
    result?;
    tracing::info!("dashboard closed");
    if std::env::var_os("LKTOP_LOG").is_some() {
        eprintln!("lktop: logs are in {}", log_file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the dashboard's data comes from and what its effects act on.
enum Source<'a> {
    Live {
        engine: &'a Engine,
        sandbox: Option<&'a Sandbox>,
        recorder: Option<Box<Recorder>>,
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

/// The loop. The terminal is taken here and given back before returning, whatever happens.
async fn drive<T>(
    app: &mut App,
    data: ReceiverStream<T>,
    mut source: Source<'_>,
) -> color_eyre::Result<()>
where
    T: IntoAction + Send + 'static,
{
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

    // The loop's own results (command ids, fault outcomes, recording errors) come back as
    // actions through this channel, merged like every other source.
    let (feedback, feedback_rx) = mpsc::unbounded_channel::<Action>();
    let heartbeat = IntervalStream::new(tokio::time::interval(HEARTBEAT))
        .map(|_| Action::Tick { now_ms: now_ms() });
    let actions: ActionStream = Box::pin(
        EventStream::new()
            .filter_map(input_action)
            .merge(data.map(IntoAction::into_action))
            .merge(heartbeat)
            .merge(tokio_stream::wrappers::UnboundedReceiverStream::new(
                feedback_rx,
            )),
    );
    let mut actions = actions;
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;

    loop {
        let due = last_frame.map_or_else(Instant::now, |at| at + FRAME_BUDGET);
        if dirty && Instant::now() >= due {
            assert!(
                !panic_on_draw,
                "LKTOP_DEBUG_PANIC is set: panicking on purpose to test terminal restore"
            );
            guard
                .terminal()
                .draw(|frame| super::render::draw(frame, app))?;
            last_frame = Some(Instant::now());
            dirty = false;
        }
        let next = if dirty {
            tokio::select! {
                next = actions.next() => next,
                () = tokio::time::sleep_until(due) => continue,
            }
        } else {
            actions.next().await
        };
        let Some(first) = next else { break };
        // Everything already waiting is folded in before the next frame.
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match actions.next().now_or_never() {
                Some(Some(action)) => batch.push(action),
                _ => break,
            }
        }
        for action in batch {
            if let (Action::Engine(event), Source::Live { recorder, .. }) = (&action, &mut source) {
                record(recorder, event, &feedback);
            }
            for effect in update(app, action) {
                carry_out(effect, &mut source, &feedback).await;
            }
        }
        dirty = true;
        if app.should_quit {
            break;
        }
    }
    drop(guard);
    if let Source::Live {
        recorder: Some(recorder),
        ..
    } = source
    {
        let path = recorder.path().to_path_buf();
        let events = recorder.finish().wrap_err("cannot finish the recording")?;
        eprintln!("lktop: recorded {events} events to {}", path.display());
    }
    Ok(())
}

fn record(
    recorder: &mut Option<Box<Recorder>>,
    event: &EngineEvent,
    feedback: &mpsc::UnboundedSender<Action>,
) {
    if let Some(active) = recorder
        && let Err(err) = active.write(event)
    {
        let _ = feedback.send(Action::RecordingFailed {
            reason: err.to_string(),
        });
        *recorder = None;
    }
}

async fn carry_out(
    effect: Effect,
    source: &mut Source<'_>,
    feedback: &mpsc::UnboundedSender<Action>,
) {
    match (effect, source) {
        (Effect::Quit, _) | (Effect::Replay(_), Source::Live { .. }) => {}
        (Effect::Send(command), Source::Live { engine, .. }) => {
            let action = match engine.send(command.clone()) {
                Ok(id) => Action::CommandQueued { id, command },
                Err(reason) => Action::CommandRefused { command, reason },
            };
            let _ = feedback.send(action);
        }
        (Effect::Fault(fault), Source::Live { sandbox, .. }) => {
            let result = match sandbox {
                Some(sandbox) => inject(sandbox, fault).await,
                None => Err("fault keys work only on the built-in sandbox".to_owned()),
            };
            let _ = feedback.send(Action::FaultInjected { fault, result });
        }
        (Effect::Replay(control), Source::Replay { handle }) => match control {
            ReplayControl::Pause => handle.pause(),
            ReplayControl::Resume => handle.resume(),
        },
        (Effect::Send(command), Source::Replay { .. }) => {
            let _ = feedback.send(Action::CommandRefused {
                command,
                reason: "a replay is read-only".to_owned(),
            });
        }
        (Effect::Fault(fault), Source::Replay { .. }) => {
            let _ = feedback.send(Action::FaultInjected {
                fault,
                result: Err("a replay has no server".to_owned()),
            });
        }
    }
}

/// What each demo key does to the sandbox.
async fn inject(sandbox: &Sandbox, fault: DemoFault) -> Result<String, String> {
    let disruption = match fault {
        DemoFault::LatencySpike => Disruption::Faults {
            faults: Faults {
                latency_ms: 300,
                jitter_ms: 200,
                ..Faults::default()
            },
            duration: Some(Duration::from_secs(20)),
        },
        DemoFault::ErrorBurst => Disruption::Faults {
            faults: Faults {
                error_rate: 0.5,
                error_code: TwirpCode::Unavailable,
                ..Faults::default()
            },
            duration: Some(Duration::from_secs(15)),
        },
        DemoFault::Restart => Disruption::Restart {
            keep_state: true,
            downtime: Some(Duration::from_secs(5)),
        },
        DemoFault::Clear => Disruption::Clear,
    };
    match tokio::time::timeout(Duration::from_secs(5), sandbox.disrupt(disruption)).await {
        Ok(Ok(())) => Ok("injected into the built-in sandbox".to_owned()),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err("the sandbox did not answer within 5 s".to_owned()),
    }
}

/// The path the dashboard logs to.
#[must_use]
pub fn default_log_path() -> PathBuf {
    super::logfile::path()
}
