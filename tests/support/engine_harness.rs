//! A real engine against the built-in sandbox on loopback, for the engine's integration tests:
//! the engine (from a configuration `configs::TestConfig` built, or from a file), and its event
//! stream read with deadlines and folded, event by event, into a dashboard `App` through the
//! real `update` — what the live dashboard does with the stream, minus the terminal.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use livekit_sandbox::Sandbox;
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use lktop::config::{Config, ConfigSources};
use lktop::engine::{Engine, EngineOptions};
use lktop::events::{EngineEvent, EventKind, Outcome, now_ms};
use lktop::limits::Violation;
use lktop::tui::keys::Keymap;
use lktop::tui::{Action, App, Mode, update};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub const SERVER: &str = "sb";
/// Bound of one wait for the engine; generous, since the machine may be loaded.
pub const WAIT: Duration = Duration::from_secs(10);

/// Replaces the file in one step (a sibling written, then renamed over it), so a watcher
/// never reads it half-written.
pub fn write_config(path: &Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).expect("the configuration is written");
    std::fs::rename(&next, path).expect("the configuration is replaced");
}

/// The engine for `config`, with no file behind it.
pub async fn start(config: Config) -> (Engine, EventStream) {
    let (engine, events) = Engine::start(EngineOptions {
        config,
        sources: None,
        watch_config: false,
        sandbox: None,
    })
    .await
    .expect("the engine starts");
    (engine, EventStream::new(events))
}

/// The engine for the configuration in `path`, which `ReloadConfig` reads again and, with
/// `watch`, every change to the file reloads.
pub async fn start_from_file(path: &Path, watch: bool) -> (Engine, EventStream) {
    let sources = ConfigSources {
        file: Some(path.to_path_buf()),
        overrides: Vec::new(),
        lk_projects: Vec::new(),
    };
    let loaded = lktop::config::load(&sources).expect("the configuration file is valid");
    let (engine, events) = Engine::start(EngineOptions {
        config: loaded.config,
        sources: Some(sources),
        watch_config: watch,
        sandbox: None,
    })
    .await
    .expect("the engine starts");
    (engine, EventStream::new(events))
}

/// `test`, failing if it takes longer than `limit`: a hung engine fails its test instead of
/// holding up the run. The test is boxed here, since the engine tests' futures are large.
pub fn bounded(limit: Duration, test: impl Future<Output = ()>) -> impl Future<Output = ()> {
    let bounded = tokio::time::timeout(limit, Box::pin(test));
    async move { bounded.await.expect("bounded") }
}

/// Stops the engine, then the sandbox it was watching, at the end of a test.
pub async fn stop(engine: Engine, sandbox: Sandbox) {
    engine.shutdown(Duration::from_secs(2)).await;
    sandbox.shutdown().await;
}

/// A participant who publishes one track of each kind in `tracks` (`audio`, `video`).
pub fn person(identity: &str, tracks: &[&str]) -> JoinRequest {
    JoinRequest {
        identity: identity.into(),
        name: identity.into(),
        tracks: tracks
            .iter()
            .map(|kind| TrackRequest {
                kind: (*kind).into(),
                source: None,
                name: None,
                muted: false,
            })
            .collect(),
    }
}

/// The live dashboard's state, before any event.
pub fn dashboard() -> App {
    App::new(
        Mode::Live { sandbox: None },
        Keymap::default(),
        lktop::config::RoomLimitsConfig::default(),
        now_ms(),
    )
}

/// The engine's events as read so far, each folded into `app` as it is read.
pub struct EventStream {
    events: mpsc::Receiver<EngineEvent>,
    /// The dashboard fed every event read, in order.
    pub app: App,
}

impl EventStream {
    pub fn new(events: mpsc::Receiver<EngineEvent>) -> Self {
        Self {
            events,
            app: dashboard(),
        }
    }

    /// The next event, already folded into `app`; `None` once `deadline` has passed.
    pub async fn next_before(&mut self, deadline: Instant) -> Option<EngineEvent> {
        let event = tokio::time::timeout_at(deadline, self.events.recv())
            .await
            .ok()?
            .expect("the engine is running");
        let _ = update(&mut self.app, Action::Engine(Box::new(event.clone())));
        Some(event)
    }

    /// The first event `pick` accepts within `within`; fails naming `what` otherwise.
    pub async fn wait_for<T>(
        &mut self,
        within: Duration,
        what: &str,
        mut pick: impl FnMut(&EventKind) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        while let Some(event) = self.next_before(deadline).await {
            if let Some(found) = pick(&event.kind) {
                return found;
            }
        }
        panic!("no {what} within {within:?}");
    }

    /// Waits up to `WAIT` for the first event that `seen` accepts; fails naming `what`
    /// otherwise.
    pub async fn until(&mut self, what: &str, seen: impl Fn(&EventKind) -> bool) {
        self.wait_for(WAIT, what, |kind| seen(kind).then_some(()))
            .await;
    }

    /// The first violations reported (up to `WAIT`): the limits some room, or the server,
    /// went over.
    pub async fn violations(&mut self) -> Vec<Violation> {
        self.wait_for(WAIT, "violations", |kind| match kind {
            EventKind::Violations { violations, .. } if !violations.is_empty() => {
                Some(violations.clone())
            }
            _ => None,
        })
        .await
    }

    /// The outcome of command `id`.
    pub async fn outcome(&mut self, id: u64) -> Outcome {
        self.wait_for(
            WAIT,
            &format!("outcome of command {id}"),
            |kind| match kind {
                EventKind::Command {
                    id: done, outcome, ..
                } if *done == id => Some(outcome.clone()),
                _ => None,
            },
        )
        .await
    }

    /// Every event of the next `span`.
    pub async fn during(&mut self, span: Duration) -> Vec<EngineEvent> {
        let deadline = Instant::now() + span;
        let mut seen = Vec::new();
        while let Some(event) = self.next_before(deadline).await {
            seen.push(event);
        }
        seen
    }
}
