//! The engine against the sandbox: snapshots and changes, commands and their outcomes, limit
//! enforcement, audio profiles in metadata, quality under injected latency and errors, and
//! rejected credentials.

use std::time::Duration;

use lktop::config::{
    Config, ConfigDuration, EnforcementMode, QualityConfig, RoomLimitsConfig, ServerConfig,
};
use lktop::engine::{Engine, EngineOptions};
use lktop::events::{Command, EngineEvent, EventKind, Outcome};
use lktop::quality::{DEFAULT_WINDOW, Grade};
use lktop::sandbox::admin::{JoinRequest, TrackRequest};
use lktop::sandbox::faults::Faults;
use lktop::sandbox::{Sandbox, SandboxOptions};
use lktop::snapshot::RoomChange;
use secrecy::SecretString;
use tokio::sync::mpsc;

const KEY: &str = "devkey";
const SECRET: &str = "engine-test-secret-0123456789abcdef";
const SERVER: &str = "sb";

fn config(url: &str, secret: &str) -> Config {
    let mut config = Config::default();
    config.servers.push(ServerConfig {
        name: SERVER.into(),
        url: url.into(),
        api_key: KEY.into(),
        api_secret: Some(SecretString::from(secret)),
    });
    config.polling.interval = ConfigDuration::from_millis(100);
    config.quality_monitoring = QualityConfig {
        monitoring_interval: ConfigDuration::from_millis(100),
        ..QualityConfig::default()
    };
    let pool = &mut config.connection_pool;
    pool.pool_size = 2;
    pool.max_pool_size = 4;
    pool.connection_timeout = ConfigDuration::from_millis(500);
    pool.health_check_interval = ConfigDuration::from_millis(200);
    pool.reconnect_base_delay = ConfigDuration::from_millis(20);
    pool.reconnect_max_delay = ConfigDuration::from_millis(200);
    config
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::new(KEY, &SecretString::from(SECRET)))
        .await
        .expect("the sandbox starts")
}

async fn start(sandbox: &Sandbox, secret: &str) -> (Engine, mpsc::Receiver<EngineEvent>) {
    Engine::start(EngineOptions {
        config: config(&sandbox.url(), secret),
        sources: None,
        watch_config: false,
        sandbox: None,
    })
    .await
    .expect("the engine starts")
}

/// The first event `pick` accepts, within `within`.
async fn wait_for<T>(
    events: &mut mpsc::Receiver<EngineEvent>,
    within: Duration,
    mut pick: impl FnMut(&EventKind) -> Option<T>,
) -> T {
    tokio::time::timeout(within, async {
        loop {
            let event = events.recv().await.expect("the engine is running");
            if let Some(found) = pick(&event.kind) {
                return found;
            }
        }
    })
    .await
    .expect("the awaited event arrives in time")
}

fn outcome_of(id: u64) -> impl FnMut(&EventKind) -> Option<Outcome> {
    move |kind| match kind {
        EventKind::Command {
            id: done, outcome, ..
        } if *done == id => Some(outcome.clone()),
        _ => None,
    }
}

fn person(identity: &str, tracks: &[&str]) -> JoinRequest {
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

const WAIT: Duration = Duration::from_secs(10);

/// Enforcement left the two oldest participants and one live audio track in `ops`.
fn assert_enforced(sandbox: &Sandbox) {
    let store = sandbox.rooms();
    let store = store.lock().unwrap();
    let left: Vec<&str> = store
        .participants("ops")
        .iter()
        .map(|p| p.identity.as_str())
        .collect();
    assert_eq!(left, ["a", "b"], "the newest participant went first");
    let live_audio = store
        .participants("ops")
        .iter()
        .flat_map(|p| &p.tracks)
        .filter(|t| t.r#type == 0 && !t.muted)
        .count();
    assert_eq!(live_audio, 1);
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: create, profile, refuse, observe, enforce"
)]
async fn commands_snapshots_audio_profiles_and_enforcement() {
    tokio::time::timeout(
        Duration::from_secs(60),
        Box::pin(async {
            let sandbox = sandbox().await;
            let (engine, mut events) = start(&sandbox, SECRET).await;

            let id = engine
                .send(Command::CreateRoom {
                    server: SERVER.into(),
                    room: "ops".into(),
                })
                .unwrap();
            let outcome = wait_for(&mut events, WAIT, outcome_of(id)).await;
            assert!(outcome.is_done(), "{outcome:?}");
            wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::RoomChanges { changes, .. }
                    if changes.contains(&RoomChange::RoomStarted { room: "ops".into() }) =>
                {
                    Some(())
                }
                EventKind::Snapshot { snapshot, .. } if snapshot.rooms.contains_key("ops") => {
                    Some(())
                }
                _ => None,
            })
            .await;
            let metadata = sandbox.rooms().lock().unwrap().list_rooms(&["ops".into()])[0]
                .metadata
                .clone();
            assert!(metadata.contains("audio_optimization"), "{metadata}");

            // A profile merges into metadata that holds other keys, keeping them.
            sandbox
                .rooms()
                .lock()
                .unwrap()
                .update_room_metadata("ops", r#"{"team":"sre"}"#)
                .unwrap();
            let id = engine
                .send(Command::ApplyAudioProfile {
                    server: SERVER.into(),
                    room: "ops".into(),
                    profile: None,
                })
                .unwrap();
            assert!(wait_for(&mut events, WAIT, outcome_of(id)).await.is_done());
            let metadata = sandbox.rooms().lock().unwrap().list_rooms(&["ops".into()])[0]
                .metadata
                .clone();
            let json: serde_json::Value = serde_json::from_str(&metadata).unwrap();
            assert_eq!(json["team"], "sre");
            assert_eq!(json["audio_optimization"]["target_latency_ms"], 50);

            // Commands on missing things fail with the reason; none is lost.
            let id = engine
                .send(Command::DeleteRoom {
                    server: SERVER.into(),
                    room: "missing".into(),
                })
                .unwrap();
            let Outcome::Failed { reason } = wait_for(&mut events, WAIT, outcome_of(id)).await
            else {
                panic!("deleting a missing room fails")
            };
            assert!(reason.contains("not found"), "{reason}");

            // Invalid limits are refused and the running ones kept.
            let id = engine
                .send(Command::SetLimits {
                    limits: RoomLimitsConfig {
                        max_participants_per_room: 0,
                        ..RoomLimitsConfig::default()
                    },
                })
                .unwrap();
            let Outcome::Failed { reason } = wait_for(&mut events, WAIT, outcome_of(id)).await
            else {
                panic!("max_participants_per_room 0 is refused")
            };
            assert!(reason.contains("max_participants_per_room"), "{reason}");

            // Observe: an over-full room is reported, nothing is done to it.
            for (identity, tracks) in [
                ("a", ["audio", "video"]),
                ("b", ["audio", "video"]),
                ("c", ["audio", "video"]),
            ] {
                sandbox.join("ops", &person(identity, &tracks)).unwrap();
            }
            let limits = RoomLimitsConfig {
                max_participants_per_room: 2,
                max_audio_tracks_per_room: 1,
                max_video_tracks_per_room: 5,
                ..RoomLimitsConfig::default()
            };
            let id = engine
                .send(Command::SetLimits {
                    limits: limits.clone(),
                })
                .unwrap();
            assert!(wait_for(&mut events, WAIT, outcome_of(id)).await.is_done());
            let violations = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::Violations { violations, .. } if !violations.is_empty() => {
                    Some(violations.clone())
                }
                _ => None,
            })
            .await;
            assert!(
                violations
                    .iter()
                    .any(|v| v.to_string() == "room ops: 3 participants over the limit of 2"),
                "{violations:?}"
            );
            assert_eq!(sandbox.rooms().lock().unwrap().participants("ops").len(), 3);

            // Enforce: the newest participant is removed, then the newest live audio track muted.
            let id = engine
                .send(Command::SetLimits {
                    limits: RoomLimitsConfig {
                        enforcement: EnforcementMode::Enforce,
                        ..limits
                    },
                })
                .unwrap();
            assert!(wait_for(&mut events, WAIT, outcome_of(id)).await.is_done());
            wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::Violations { violations, .. } if violations.is_empty() => Some(()),
                _ => None,
            })
            .await;
            assert_enforced(&sandbox);

            engine.shutdown(Duration::from_secs(2)).await;
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}

/// Waits for a quality report whose grade `wanted` accepts; on timeout the failure lists the
/// reports seen, so a slow machine is told apart from a wrong score.
async fn wait_for_grade(
    events: &mut mpsc::Receiver<EngineEvent>,
    within: Duration,
    what: &str,
    wanted: fn(Grade) -> bool,
) {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(within, async {
        loop {
            let event = events.recv().await.expect("the engine is running");
            if let EventKind::Quality { report, .. } = &event.kind {
                seen.push(format!(
                    "{:?} score {:?} p95 {:?} ok {:?} n {}",
                    report.grade,
                    report.score.map(lktop::quality::QualityScore::value),
                    report.p95,
                    report.success_rate,
                    report.samples
                ));
                if report.grade.is_some_and(wanted) {
                    return;
                }
            }
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "no grade {what} within {within:?}; reports seen:\n{}",
        seen.join("\n")
    );
}

#[tokio::test]
async fn quality_drops_under_added_latency_and_recovers() {
    tokio::time::timeout(
        Duration::from_secs(150),
        Box::pin(async {
            let sandbox = sandbox().await;
            let (engine, mut events) = start(&sandbox, SECRET).await;
            wait_for_grade(&mut events, WAIT, "excellent", |g| g == Grade::Excellent).await;
            // Under the 500 ms request timeout, well over the 200 ms target.
            sandbox
                .set_faults(Faults {
                    latency_ms: 350,
                    ..Faults::default()
                })
                .await
                .unwrap();
            wait_for_grade(&mut events, Duration::from_secs(20), "fair or worse", |g| {
                g <= Grade::Fair
            })
            .await;
            sandbox.clear_faults().await;
            // The slow answers stay in the 60 s quality window until enough fast ones outnumber
            // them; on a loaded machine few requests get through, so in the worst case they
            // leave only with the window itself.
            wait_for_grade(
                &mut events,
                DEFAULT_WINDOW + Duration::from_secs(20),
                "good or better",
                |g| g >= Grade::Good,
            )
            .await;
            engine.shutdown(Duration::from_secs(2)).await;
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}

#[tokio::test]
async fn injected_errors_lower_the_success_rate() {
    tokio::time::timeout(
        Duration::from_secs(60),
        Box::pin(async {
            let sandbox = sandbox().await;
            sandbox
                .set_faults(Faults {
                    error_rate: 0.3,
                    ..Faults::default()
                })
                .await
                .unwrap();
            let (engine, mut events) = start(&sandbox, SECRET).await;
            let mut rates = Vec::new();
            let settled = wait_for(&mut events, Duration::from_secs(30), |kind| match kind {
                EventKind::Quality { report, .. } if report.samples >= 100 => {
                    rates.push(report.success_rate?);
                    (rates.len() >= 5).then(|| rates.clone())
                }
                _ => None,
            })
            .await;
            let last = *settled.last().unwrap();
            assert!(last < 0.9, "30 % injected errors show: {settled:?}");
            assert!(last > 0.3, "most requests still succeed: {settled:?}");
            engine.shutdown(Duration::from_secs(2)).await;
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}

#[tokio::test]
async fn a_wrong_secret_marks_the_server_unauthenticated() {
    tokio::time::timeout(
        Duration::from_secs(30),
        Box::pin(async {
            let sandbox = sandbox().await;
            let (engine, mut events) = start(&sandbox, "not-the-secret-at-all-0123456789").await;
            let reason = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::PoolStatus { status, .. } => status.unauthenticated.clone(),
                _ => None,
            })
            .await;
            assert!(
                reason.contains("unauthenticated") || reason.contains("signature"),
                "{reason}"
            );
            let failure = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::PollFailed { error, .. } => Some(error.clone()),
                _ => None,
            })
            .await;
            assert!(failure.contains("credentials"), "{failure}");
            engine.shutdown(Duration::from_secs(2)).await;
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}

#[tokio::test]
async fn a_changed_config_file_applies_live_and_a_bad_one_is_kept_out() {
    tokio::time::timeout(
        Duration::from_secs(30),
        Box::pin(async {
            let sandbox = sandbox().await;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("performance.yaml");
            let file = |max_rooms: u32| {
                format!(
                    "servers:\n  - name: {SERVER}\n    url: {}\n    api_key: {KEY}\n    \
                 api_secret: {SECRET}\nroom_limits:\n  max_concurrent_rooms: {max_rooms}\n",
                    sandbox.url()
                )
            };
            std::fs::write(&path, file(10)).unwrap();
            let sources = lktop::config::ConfigSources {
                file: Some(path.clone()),
                overrides: Vec::new(),
            };
            let loaded = lktop::config::load(&sources).unwrap();
            let (engine, mut events) = Engine::start(EngineOptions {
                config: loaded.config,
                sources: Some(sources),
                watch_config: true,
                sandbox: None,
            })
            .await
            .unwrap();
            for name in ["r1", "r2"] {
                sandbox.join(name, &person("x", &[])).unwrap();
            }
            std::fs::write(&path, file(1)).unwrap();
            let needs_restart = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::ConfigApplied { needs_restart, .. } => Some(needs_restart.clone()),
                _ => None,
            })
            .await;
            assert!(needs_restart.is_empty(), "{needs_restart:?}");
            let violations = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::Violations { violations, .. } if !violations.is_empty() => {
                    Some(violations.clone())
                }
                _ => None,
            })
            .await;
            assert_eq!(
                violations[0].to_string(),
                "2 concurrent rooms over the limit of 1"
            );

            // A new secret and pool size are taken in, but only a restart can apply them.
            let rotated = file(1).replace(SECRET, "a-rotated-secret-0123456789abcdef")
                + "connection_pool:\n  pool_size: 3\n";
            std::fs::write(&path, rotated).unwrap();
            let applied = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::ConfigApplied { needs_restart, .. } if !needs_restart.is_empty() => {
                    Some(kind.clone())
                }
                _ => None,
            })
            .await;
            let EventKind::ConfigApplied { needs_restart, .. } = &applied else {
                unreachable!()
            };
            assert_eq!(needs_restart, &["servers", "connection_pool"]);
            let line = serde_json::to_string(&applied).unwrap();
            assert!(!line.contains("rotated"), "{line}");

            std::fs::write(&path, file(0)).unwrap();
            let error = wait_for(&mut events, WAIT, |kind| match kind {
                EventKind::ConfigRejected { error } => Some(error.clone()),
                _ => None,
            })
            .await;
            assert!(
                error.contains("room_limits.max_concurrent_rooms"),
                "{error}"
            );
            assert!(
                error.contains("the running configuration is kept"),
                "{error}"
            );
            assert!(!error.contains(SECRET));
            engine.shutdown(Duration::from_secs(2)).await;
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("bounded");
}
