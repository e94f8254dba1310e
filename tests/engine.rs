//! The engine against the sandbox: snapshots and changes, commands and their outcomes, limit
//! enforcement, audio profiles in metadata, quality under injected latency and errors, and
//! rejected credentials; a server down for seconds and back (its state, the pool's healing,
//! the dashboard's stale figures), lktop's own pool wait kept apart from the server's
//! latency, the sparkline and the quality report from the same requests, a participant who
//! rejoins and a refused enforcement, and reloads (key bindings, every live setting, limits
//! set in the dashboard).

#[path = "support/configs.rs"]
mod configs;
#[path = "support/fault_proxy.rs"]
#[allow(
    dead_code,
    reason = "the engine tests use only the proxy's refusal of one method"
)]
mod fault_proxy;
#[path = "support/engine_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use configs::{SECRET, TestConfig, sandbox, slow_answers, unavailable};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fault_proxy::{FaultProxy, ProxyMode, http_response};
use harness::{
    EventStream, SERVER, WAIT, bounded, person, start, start_from_file, stop, write_config,
};
use livekit_sandbox::Sandbox;
use lktop::api::RoomApi;
use lktop::config::{AudioProfile, EnforcementMode, KeyList, RoomLimitOverride, RoomLimitsConfig};
use lktop::events::{
    Command, EngineEvent, EventKind, LiveSettings, Outcome, ReplacedLimits, ServerState, now_ms,
};
use lktop::limits::Enforcement;
use lktop::pool::PoolEvent;
use lktop::quality::{DEFAULT_WINDOW, Grade};
use lktop::reconnect::{ConnectionId, ConnectionState};
use lktop::snapshot::RoomChange;
use lktop::tui::keys::{KeyAction, KeySpec};
use lktop::tui::{Action, update};

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
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        let (engine, mut events) =
            start(TestConfig::new().server(SERVER, &sandbox.url()).build()).await;

        let id = engine
            .send(Command::CreateRoom {
                server: SERVER.into(),
                room: "ops".into(),
            })
            .unwrap();
        let outcome = events.outcome(id).await;
        assert!(outcome.is_done(), "{outcome:?}");
        events
            .wait_for(WAIT, "room ops in a poll", |kind| match kind {
                EventKind::RoomChanges { changes, .. }
                    if changes.contains(&RoomChange::RoomStarted { room: "ops".into() }) =>
                {
                    Some(())
                }
                EventKind::Rooms { update, .. }
                    if update.upserted.iter().any(|room| room.name == "ops") =>
                {
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
        assert!(events.outcome(id).await.is_done());
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
        let Outcome::Failed { reason } = events.outcome(id).await else {
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
        let Outcome::Failed { reason } = events.outcome(id).await else {
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
        assert!(events.outcome(id).await.is_done());
        let violations = events.violations().await;
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
        assert!(events.outcome(id).await.is_done());
        events
            .until("violations cleared", |kind| {
                matches!(kind, EventKind::Violations { violations, .. } if violations.is_empty())
            })
            .await;
        assert_enforced(&sandbox);

        stop(engine, sandbox).await;
    })
    .await;
}

/// Waits for a quality report whose grade `wanted` accepts; on timeout the failure lists the
/// reports seen, so a slow machine is told apart from a wrong score.
async fn wait_for_grade(
    events: &mut EventStream,
    within: Duration,
    what: &str,
    wanted: fn(Grade) -> bool,
) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Some(event) = events.next_before(deadline).await {
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
    panic!(
        "no grade {what} within {within:?}; reports seen:\n{}",
        seen.join("\n")
    );
}

#[tokio::test]
async fn quality_drops_under_added_latency_and_recovers() {
    bounded(Duration::from_secs(150), async {
        let sandbox = sandbox().await;
        let (engine, mut events) =
            start(TestConfig::new().server(SERVER, &sandbox.url()).build()).await;
        wait_for_grade(&mut events, WAIT, "excellent", |g| g == Grade::Excellent).await;
        // Under the 500 ms request timeout, well over the 200 ms target.
        sandbox.set_faults(slow_answers(ms(350))).await.unwrap();
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
        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn injected_errors_lower_the_success_rate() {
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        sandbox.set_faults(unavailable(0.3)).await.unwrap();
        let (engine, mut events) =
            start(TestConfig::new().server(SERVER, &sandbox.url()).build()).await;
        let mut rates = Vec::new();
        let settled = events
            .wait_for(
                Duration::from_secs(30),
                "five quality reports over 100 samples",
                |kind| match kind {
                    EventKind::Quality { report, .. } if report.samples >= 100 => {
                        rates.push(report.success_rate?);
                        (rates.len() >= 5).then(|| rates.clone())
                    }
                    _ => None,
                },
            )
            .await;
        let last = *settled.last().unwrap();
        assert!(last < 0.9, "30 % injected errors show: {settled:?}");
        assert!(last > 0.3, "most requests still succeed: {settled:?}");
        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_secret_marks_the_server_unauthenticated() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let config = TestConfig::new()
            .server_with_secret(SERVER, &sandbox.url(), "not-the-secret-at-all-0123456789")
            .build();
        let (engine, mut events) = start(config).await;
        let reason = events
            .wait_for(WAIT, "unauthenticated pool status", |kind| match kind {
                EventKind::PoolStatus { status, .. } => status.unauthenticated.clone(),
                _ => None,
            })
            .await;
        assert!(
            reason.contains("unauthenticated") || reason.contains("signature"),
            "{reason}"
        );
        let failure = events
            .wait_for(WAIT, "failed poll", |kind| match kind {
                EventKind::PollFailed { error, .. } => Some(error.clone()),
                _ => None,
            })
            .await;
        assert!(failure.contains("credentials"), "{failure}");
        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_changed_config_file_applies_live_and_a_bad_one_is_kept_out() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("performance.yaml");
        let file = |max_rooms: u32| {
            config_file(
                &sandbox.url(),
                &format!("room_limits:\n  max_concurrent_rooms: {max_rooms}\n"),
            )
        };
        write_config(&path, &file(10));
        let (engine, mut events) = start_from_file(&path, true).await;
        for name in ["r1", "r2"] {
            sandbox.join(name, &person("x", &[])).unwrap();
        }
        write_config(&path, &file(1));
        let needs_restart = events
            .wait_for(WAIT, "applied configuration", |kind| match kind {
                EventKind::ConfigApplied { needs_restart, .. } => Some(needs_restart.clone()),
                _ => None,
            })
            .await;
        assert!(needs_restart.is_empty(), "{needs_restart:?}");
        let violations = events.violations().await;
        assert_eq!(
            violations[0].to_string(),
            "2 concurrent rooms over the limit of 1"
        );

        // A new secret and pool size are taken in, but only a restart can apply them.
        let rotated = file(1).replace(SECRET, "a-rotated-secret-0123456789abcdef")
            + "connection_pool:\n  pool_size: 3\n";
        write_config(&path, &rotated);
        let applied = events
            .wait_for(
                WAIT,
                "configuration that needs a restart",
                |kind| match kind {
                    EventKind::ConfigApplied { needs_restart, .. } if !needs_restart.is_empty() => {
                        Some(kind.clone())
                    }
                    _ => None,
                },
            )
            .await;
        let EventKind::ConfigApplied { needs_restart, .. } = &applied else {
            unreachable!()
        };
        assert_eq!(needs_restart, &["servers", "connection_pool"]);
        let line = serde_json::to_string(&applied).unwrap();
        assert!(!line.contains("rotated"), "{line}");

        write_config(&path, &file(0));
        let error = events
            .wait_for(WAIT, "rejected configuration", |kind| match kind {
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
        stop(engine, sandbox).await;
    })
    .await;
}

/// A configuration file for the sandbox at `url`: its server, then `sections` (YAML); what
/// they leave out is lktop's default.
fn config_file(url: &str, sections: &str) -> String {
    TestConfig::new().server(SERVER, url).servers_yaml() + sections
}

/// `n` milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The connections' states as the events tell them: every pool status in full, and each
/// state change as it happens.
#[derive(Debug, Default)]
struct ConnectionStates(BTreeMap<ConnectionId, ConnectionState>);

impl ConnectionStates {
    fn absorb(&mut self, kind: &EventKind) {
        match kind {
            EventKind::PoolStatus { status, .. } => {
                self.0 = status
                    .connections
                    .iter()
                    .map(|connection| (connection.id, connection.state))
                    .collect();
            }
            EventKind::Pool {
                event: PoolEvent::StateChanged { change, .. },
            } => {
                self.0.insert(change.connection, change.to);
            }
            _ => {}
        }
    }

    fn all_connected(&self, expected: usize) -> bool {
        self.0.len() == expected
            && self
                .0
                .values()
                .all(|state| *state == ConnectionState::Connected)
    }
}

/// A server state change: (state, cause, `down_for_ms`, when).
type StateEvent = (ServerState, Option<String>, Option<u64>, i64);

fn server_state(event: &EngineEvent) -> Option<StateEvent> {
    match &event.kind {
        EventKind::ServerState {
            state,
            cause,
            down_for_ms,
            ..
        } => Some((*state, cause.clone(), *down_for_ms, event.at_ms)),
        _ => None,
    }
}

/// How often the outage test polls and checks connections.
const OUTAGE_POLL: Duration = Duration::from_millis(500);
const OUTAGE_HEALTH_CHECK: Duration = Duration::from_secs(1);
/// How long the listener stays down: long enough for every connection to use up its
/// reconnection attempts.
const OUTAGE: Duration = Duration::from_secs(5);
const OUTAGE_POOL: usize = 4;
/// Added to every bound the outage test checks: the machine may be loaded.
const SLACK: Duration = Duration::from_secs(2);

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).expect("a test duration fits")
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: up, down for seconds, up again, each step checked"
)]
async fn a_server_down_for_seconds_is_down_once_up_once_stale_meanwhile_and_the_pool_heals() {
    bounded(Duration::from_secs(90), async {
        let sandbox = sandbox().await;
        for (room, identity) in [("north", "ann"), ("south", "bob"), ("east", "cy")] {
            sandbox.join(room, &person(identity, &["audio"])).unwrap();
        }
        let config = TestConfig::new()
            .server(SERVER, &sandbox.url())
            .polling_interval(ms(500))
            .monitoring_interval(ms(1000))
            .pool_size(4, 4)
            .health_check_interval(ms(1000))
            .connection_timeout(ms(1000))
            .max_reconnect_attempts(2)
            // Failed connections are tried again every 2 × 500 ms.
            .reconnect_delays(ms(100), ms(500))
            .build();
        let (engine, mut events) = start(config).await;
        let mut connections = ConnectionStates::default();

        // Up, with every connection connected.
        let mut up = false;
        let deadline = tokio::time::Instant::now() + WAIT;
        while !(up && connections.all_connected(OUTAGE_POOL)) {
            let event = events
                .next_before(deadline)
                .await
                .expect("the server is up and every connection connected");
            connections.absorb(&event.kind);
            up |= matches!(server_state(&event), Some((ServerState::Up, ..)));
        }
        assert!(!events.app.live.servers[0].is_stale());

        sandbox.listener_down().await;
        let went_down_ms = now_ms();
        let mut states = Vec::new();
        let mut failed = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + OUTAGE;
        while let Some(event) = events.next_before(deadline).await {
            connections.absorb(&event.kind);
            if let EventKind::Pool {
                event: PoolEvent::StateChanged { change, .. },
            } = &event.kind
                && change.to == ConnectionState::Failed
            {
                failed.insert(change.connection);
            }
            states.extend(server_state(&event));
            if !states.is_empty() {
                assert!(
                    events.app.live.servers[0].is_stale(),
                    "the figures are stale while the server is down"
                );
            }
        }
        assert!(
            !failed.is_empty(),
            "connections used up their attempts and reached Failed during the outage"
        );

        sandbox.listener_up().await;
        let came_up_ms = now_ms();
        let mut healed_at_ms = None;
        let mut fresh = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !(fresh && healed_at_ms.is_some()) {
            let event = events
                .next_before(deadline)
                .await
                .expect("the server is back up and every connection connected");
            connections.absorb(&event.kind);
            if healed_at_ms.is_none() && connections.all_connected(OUTAGE_POOL) {
                healed_at_ms = Some(event.at_ms);
            }
            states.extend(server_state(&event));
            let back = states.iter().any(|(state, ..)| *state == ServerState::Up);
            if back && matches!(event.kind, EventKind::Rooms { .. }) {
                fresh = true;
            }
            assert_eq!(
                events.app.live.servers[0].is_stale(),
                !fresh,
                "stale until the first poll after the return, fresh from it: {:?}",
                event.kind
            );
        }
        // Nothing more to say about the server while it stays up.
        for event in events.during(Duration::from_secs(2)).await {
            states.extend(server_state(&event));
        }
        assert!(!events.app.live.servers[0].is_stale());

        let [
            (ServerState::Down, Some(cause), None, down_at_ms),
            (ServerState::Up, None, Some(down_for_ms), _),
        ] = states.as_slice()
        else {
            panic!("exactly one down and one up: {states:?}");
        };
        eprintln!("down: {cause}");
        assert!(cause.contains("refused"), "{cause}");
        let detected_ms = down_at_ms - went_down_ms;
        let healed_ms = healed_at_ms.expect("healed") - came_up_ms;
        let outage_ms = came_up_ms - went_down_ms;
        eprintln!(
            "outage of {outage_ms} ms: down reported {detected_ms} ms after the listener \
                 went down (poll interval {} ms); back up after down_for_ms {down_for_ms}; \
                 all {OUTAGE_POOL} connections connected {healed_ms} ms after the listener \
                 came back (health check interval {} ms)",
            OUTAGE_POLL.as_millis(),
            OUTAGE_HEALTH_CHECK.as_millis()
        );
        assert!(
            detected_ms <= millis(OUTAGE_POLL + SLACK),
            "down reported {detected_ms} ms after the listener went down"
        );
        assert!(
            healed_ms <= millis(OUTAGE_HEALTH_CHECK + Duration::from_secs(1) + SLACK),
            "the pool took {healed_ms} ms to heal"
        );
        let down_for_ms = i64::try_from(*down_for_ms).unwrap();
        assert!(
            (outage_ms - millis(SLACK)..=outage_ms + millis(OUTAGE_HEALTH_CHECK + SLACK))
                .contains(&down_for_ms),
            "down for {down_for_ms} ms of an outage of {outage_ms} ms"
        );

        stop(engine, sandbox).await;
    })
    .await;
}

/// The room's audio profile as its metadata holds it.
fn audio_profile_of(sandbox: &Sandbox, room: &str) -> serde_json::Value {
    let metadata = sandbox.rooms().lock().unwrap().list_rooms(&[room.into()])[0]
        .metadata
        .clone();
    let json: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    json["audio_optimization"].clone()
}

#[tokio::test]
async fn applying_the_default_audio_profile_writes_the_configured_default_not_the_rooms_own() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        sandbox.join("studio", &person("ann", &["audio"])).unwrap();
        let mut config = TestConfig::new().server(SERVER, &sandbox.url()).build();
        config.audio_optimization = AudioProfile {
            target_latency_ms: 80,
            jitter_buffer_ms: 150,
            ..AudioProfile::default()
        };
        let (engine, mut events) = start(config).await;

        let own = AudioProfile {
            target_latency_ms: 30,
            buffer_size_ms: 10,
            jitter_buffer_ms: 40,
            echo_cancellation: false,
            noise_suppression: false,
            auto_gain_control: false,
        };
        let id = engine
            .send(Command::ApplyAudioProfile {
                server: SERVER.into(),
                room: "studio".into(),
                profile: Some(own),
            })
            .unwrap();
        assert!(events.outcome(id).await.is_done());
        assert_eq!(audio_profile_of(&sandbox, "studio"), serde_json::json!(own));

        // `d` in the editor.
        let id = engine
            .send(Command::ApplyAudioProfile {
                server: SERVER.into(),
                room: "studio".into(),
                profile: None,
            })
            .unwrap();
        let outcome = events.outcome(id).await;
        assert!(outcome.is_done(), "{outcome:?}");
        let written = audio_profile_of(&sandbox, "studio");
        assert_eq!(written["target_latency_ms"], 80, "{written}");
        assert_eq!(written["jitter_buffer_ms"], 150, "{written}");
        assert_eq!(written["echo_cancellation"], true, "{written}");

        stop(engine, sandbox).await;
    })
    .await;
}

/// The sandbox's added latency in the pool-wait test: every answer takes at least this long.
const SERVER_TIME: Duration = Duration::from_millis(200);
/// Commands sent to a pool of one connection: `WAVE` every `WAVE_EVERY`, `BURST` in all.
const BURST: usize = 60;
const WAVE: usize = 4;
const WAVE_EVERY: Duration = Duration::from_millis(200);

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: a burst on one connection, then the reports checked"
)]
async fn waiting_for_a_pooled_connection_is_lktops_cost_not_the_servers() {
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        sandbox.join("lobby", &person("ann", &[])).unwrap();
        sandbox.set_faults(slow_answers(SERVER_TIME)).await.unwrap();
        let config = TestConfig::new()
            .server(SERVER, &sandbox.url())
            .polling_interval(ms(1000))
            .monitoring_interval(ms(250))
            .pool_size(1, 1)
            .connection_timeout(ms(1000))
            .health_check_interval(ms(30_000))
            .build();
        let (engine, mut events) = start(config).await;
        events
            .until("a poll", |kind| matches!(kind, EventKind::Rooms { .. }))
            .await;
        let failures_before = events
            .wait_for(WAIT, "a quality report", |kind| match kind {
                EventKind::Quality { report, .. } if report.samples > 0 => Some(report.failures),
                _ => None,
            })
            .await;
        assert_eq!(failures_before, 0, "the sandbox answers every request");

        // Four times as many requests as the only connection can carry, for three seconds:
        // each holds it for SERVER_TIME, the queue grows, and the later ones (polls
        // among them) wait past the 1 s connection_timeout.
        let mut ids = Vec::new();
        let mut outcomes = BTreeMap::new();
        let mut states = Vec::new();
        let mut polls_waited_out = 0;
        let mut next_wave = tokio::time::Instant::now();
        let deadline = next_wave + Duration::from_secs(30);
        while ids.len() < BURST || outcomes.len() < ids.len() {
            if ids.len() < BURST && tokio::time::Instant::now() >= next_wave {
                for _ in 0..WAVE {
                    let room = format!("missing-{}", ids.len());
                    ids.push(
                        engine
                            .send(Command::DeleteRoom {
                                server: SERVER.into(),
                                room,
                            })
                            .unwrap(),
                    );
                }
                next_wave += WAVE_EVERY;
            }
            let until = if ids.len() < BURST {
                next_wave
            } else {
                deadline
            };
            let Some(event) = events.next_before(until).await else {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "every command of the burst ends"
                );
                continue;
            };
            states.extend(server_state(&event));
            match event.kind {
                EventKind::Command { id, outcome, .. } if ids.contains(&id) => {
                    outcomes.insert(id, outcome);
                }
                EventKind::PollFailed { error, .. } if error.contains("became free") => {
                    polls_waited_out += 1;
                }
                _ => {}
            }
        }
        let timed_out = outcomes
                .values()
                .filter(|outcome| {
                    matches!(outcome, Outcome::Failed { reason } if reason.contains("became free"))
                })
                .count();
        let answered = outcomes
                .values()
                .filter(|outcome| {
                    matches!(outcome, Outcome::Failed { reason } if reason.contains("not found"))
                })
                .count();
        assert!(
            timed_out > 0,
            "some waited past connection_timeout: {outcomes:?}"
        );
        assert!(answered > 1, "some got the server's answer: {outcomes:?}");
        assert_eq!(timed_out + answered, BURST, "{outcomes:?}");

        let (report, checkout) = events
            .wait_for(
                WAIT,
                "a quality report after the burst",
                |kind| match kind {
                    EventKind::Quality {
                        report, checkout, ..
                    } => Some((report.clone(), *checkout)),
                    _ => None,
                },
            )
            .await;
        let (p50, p95) = (report.p50.unwrap(), report.p95.unwrap());
        let wait_p95 = checkout.wait_p95.unwrap();
        eprintln!(
            "server time {SERVER_TIME:?}: report p50 {p50:?} p95 {p95:?}, {} failures; \
                 checkout: {} checkouts, {} timeouts, wait p50 {:?} p95 {wait_p95:?}",
            report.failures, checkout.checkouts, checkout.timeouts, checkout.wait_p50
        );
        // The wait is lktop's: counted in the checkout figures ...
        assert!(
            checkout.timeouts >= u64::try_from(timed_out).unwrap(),
            "{checkout:?}"
        );
        assert!(
            wait_p95 >= SERVER_TIME * 2,
            "requests queued behind each other: {checkout:?}"
        );
        // ... and in neither the server's latency nor its failures.
        assert_eq!(report.failures, 0, "{report:?}");
        assert!(p50 >= SERVER_TIME, "{report:?}");
        assert!(
            p95 < SERVER_TIME + Duration::from_millis(300) && p95 < wait_p95,
            "the server's p95 is its answer time, not the wait: {report:?}"
        );
        eprintln!("polls that waited out connection_timeout: {polls_waited_out}");
        assert!(
            polls_waited_out > 0,
            "a poll, too, waited out the busy pool"
        );
        assert!(
            states.iter().all(|(state, ..)| *state == ServerState::Up),
            "a busy pool is not a server that is down: {states:?}"
        );

        stop(engine, sandbox).await;
    })
    .await;
}

/// The sparkline checks of one event: each request tally becomes the server's sparkline
/// sample, and every quality report grades the requests those tallies counted.
#[derive(Debug, Default)]
struct TallyCheck {
    /// Requests counted by the tallies so far.
    counted: u64,
    /// Samples of the last quality report, until a tally counts past them.
    report_samples: Option<u64>,
    /// Samples the tallies added to the sparkline.
    pushed: usize,
}

impl TallyCheck {
    /// Reads the next event, checking what folding it did to the sparkline.
    async fn next(
        &mut self,
        events: &mut EventStream,
        deadline: tokio::time::Instant,
    ) -> Option<EngineEvent> {
        let before = events
            .app
            .live
            .servers
            .first()
            .map(|server| server.latency.clone());
        let event = events.next_before(deadline).await?;
        let Some(before) = before else {
            // The engine's start names the server; nothing to compare with before it.
            return Some(event);
        };
        let after = &events.app.live.servers[0].latency;
        match &event.kind {
            EventKind::PoolStatus { requests, .. } => {
                let tally = requests.expect("every pool status carries the requests' tally");
                match tally.mean() {
                    Some(mean) => assert_eq!(after.latest(), Some(Some(mean)), "{tally:?}"),
                    None if tally.failed > 0 => assert_eq!(after.latest(), Some(None)),
                    // No request, no sample.
                    None => assert_eq!(after, &before),
                }
                if tally.answered + tally.failed > 0 {
                    self.pushed += 1;
                }
                self.counted += tally.answered + tally.failed;
                if let Some(samples) = self.report_samples.take() {
                    assert!(
                        self.counted >= samples,
                        "the tallies count the requests the report graded: {} < {samples}",
                        self.counted
                    );
                }
            }
            EventKind::Quality { report, .. } => {
                // Within the first minute nothing has left the window yet.
                assert!(
                    report.samples >= self.counted,
                    "the report grades the requests the tallies counted: {} < {}",
                    report.samples,
                    self.counted
                );
                self.report_samples = Some(report.samples);
            }
            _ => assert_eq!(after, &before, "only tallies add samples: {:?}", event.kind),
        }
        Some(event)
    }
}

#[tokio::test]
async fn the_latency_sparkline_and_the_quality_report_come_from_the_same_requests() {
    const FAULT: Duration = Duration::from_millis(300);
    bounded(Duration::from_secs(55), async {
        let sandbox = sandbox().await;
        for identity in ["ann", "bob"] {
            sandbox
                .join("lobby", &person(identity, &["audio"]))
                .unwrap();
        }
        let config = TestConfig::new()
            .server(SERVER, &sandbox.url())
            .monitoring_interval(ms(500))
            // Over the added latency: slow answers are answers.
            .connection_timeout(ms(2000))
            .build();
        let (engine, mut events) = start(config).await;
        let mut check = TallyCheck::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(45);

        // A few fast requests first, in the sparkline.
        while events
            .app
            .live
            .servers
            .first()
            .is_none_or(|s| s.latency.is_empty())
        {
            check
                .next(&mut events, deadline)
                .await
                .expect("a first sparkline sample");
        }
        assert!(
            events.app.live.servers[0]
                .latency
                .latest()
                .unwrap()
                .unwrap()
                < FAULT
        );

        sandbox.set_faults(slow_answers(FAULT)).await.unwrap();
        let pushed_before = check.pushed;
        let p50 = loop {
            let event = check
                .next(&mut events, deadline)
                .await
                .expect("the report's p50 moves over the added latency");
            if let EventKind::Quality { report, .. } = &event.kind
                && report.p50.is_some_and(|p50| p50 >= FAULT)
            {
                break report.p50.unwrap();
            }
        };
        // The first sample after the fault may hold fast answers from before it; the two
        // after it are of slow answers only.
        while check.pushed < pushed_before + 3 {
            check
                .next(&mut events, deadline)
                .await
                .expect("three sparkline samples after the fault");
        }
        let newest: Vec<Option<Duration>> = events.app.live.servers[0].latency.newest(2).collect();
        eprintln!("report p50 {p50:?}; newest sparkline samples {newest:?}");
        assert!(
            newest
                .iter()
                .all(|sample| sample.is_some_and(|s| s >= FAULT)),
            "{newest:?}"
        );

        stop(engine, sandbox).await;
    })
    .await;
}

/// One enforcement the engine reported: when, what, and how it went (`None`: held).
#[derive(Debug, Clone)]
struct Enforced {
    at_ms: i64,
    action: Enforcement,
    done: Option<bool>,
    removals: u32,
    until_ms: i64,
}

impl Enforced {
    fn of(event: &EngineEvent) -> Option<Self> {
        match &event.kind {
            EventKind::Enforced {
                action, outcome, ..
            } => Some(Self {
                at_ms: event.at_ms,
                action: action.clone(),
                done: Some(outcome.is_done()),
                removals: 0,
                until_ms: 0,
            }),
            EventKind::EnforcementHeld {
                action,
                removals,
                until_ms,
                ..
            } => Some(Self {
                at_ms: event.at_ms,
                action: action.clone(),
                done: None,
                removals: *removals,
                until_ms: *until_ms,
            }),
            _ => None,
        }
    }

    fn removes(&self, room: &str, who: &str) -> bool {
        matches!(&self.action, Enforcement::RemoveParticipant { room: r, identity, .. }
            if r == room && identity == who)
    }

    fn mutes(&self, who: &str) -> bool {
        matches!(&self.action, Enforcement::MuteTrack { identity, .. } if identity == who)
    }

    fn reason(&self) -> &str {
        self.action.reason()
    }
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: two rooms enforced side by side over half a minute"
)]
async fn a_rejoining_participant_is_held_and_a_refused_mute_waits_out_its_cooldown() {
    let cooldown = millis(Duration::from_secs(30));
    bounded(Duration::from_secs(90), async {
        let sandbox = sandbox().await;
        // `crowd`: one participant too many, who comes back after each removal.
        for identity in ["a", "b", "c"] {
            sandbox.join("crowd", &person(identity, &[])).unwrap();
        }
        // `band`: one live audio track too many, and the server refuses every mute.
        for identity in ["a", "b"] {
            sandbox.join("band", &person(identity, &["audio"])).unwrap();
        }
        let proxy = FaultProxy::start(sandbox.addr()).await;
        proxy.set_mode(ProxyMode::Refuse {
            method: "MutePublishedTrack".into(),
            answer: http_response(
                "412 Precondition Failed",
                "application/json",
                br#"{"code":"failed_precondition","msg":"track cannot be muted"}"#,
            ),
        });
        let mut config = TestConfig::new()
            .server(SERVER, &proxy.url())
            .polling_interval(ms(200))
            .build();
        config.room_limits = RoomLimitsConfig {
            max_participants_per_room: 2,
            max_audio_tracks_per_room: 1,
            enforcement: EnforcementMode::Enforce,
            overrides: [(
                "band".to_owned(),
                RoomLimitOverride {
                    max_participants: Some(10),
                    ..RoomLimitOverride::default()
                },
            )]
            .into(),
            ..RoomLimitsConfig::default()
        };
        let (engine, mut events) = start(config).await;

        let mut seen: Vec<Enforced> = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let done = |seen: &[Enforced]| {
            let holds = seen.iter().filter(|e| e.done.is_none()).count();
            let mutes_of_b = seen.iter().filter(|e| e.mutes("b")).count();
            holds >= 2 && mutes_of_b >= 2
        };
        while !done(&seen) {
            let event = events
                .next_before(deadline)
                .await
                .expect("two holds and a second mute of b's track within a minute");
            let Some(enforced) = Enforced::of(&event) else {
                continue;
            };
            if enforced.removes("crowd", "c") && enforced.done == Some(true) {
                // Back at once, as a client that reconnects by itself.
                sandbox.join("crowd", &person("c", &[])).unwrap();
            }
            if enforced.mutes("b") && !seen.iter().any(|e| e.mutes("b")) {
                // One more live audio track: the counts in the mutes' reasons change.
                sandbox.join("band", &person("d", &["audio"])).unwrap();
            }
            seen.push(enforced);
        }
        let started_ms = seen[0].at_ms;
        for e in &seen {
            let what = match e.done {
                Some(true) => "done".to_owned(),
                Some(false) => "failed".to_owned(),
                None => format!("held {} ms (removals {})", e.until_ms - e.at_ms, e.removals),
            };
            eprintln!("+{:>5} ms {what}: {:?}", e.at_ms - started_ms, e.action);
        }

        // The rejoining participant: removed, held 30 s, removed again, held 60 s.
        let crowd: Vec<&Enforced> = seen.iter().filter(|e| e.removes("crowd", "c")).collect();
        assert!(
            seen.iter()
                .filter(|e| matches!(e.action, Enforcement::RemoveParticipant { .. }))
                .all(|e| e.removes("crowd", "c")),
            "only the newest participant of crowd is removed: {seen:?}"
        );
        let [first, held, second, held_again, ..] = crowd.as_slice() else {
            panic!("removed, held, removed, held: {crowd:?}");
        };
        assert_eq!(first.done, Some(true), "{first:?}");
        assert_eq!((held.done, held.removals), (None, 1), "{held:?}");
        let first_hold = held.until_ms - held.at_ms;
        assert!(
            (cooldown - 1000..=cooldown + 1000).contains(&first_hold),
            "held for {first_hold} ms"
        );
        assert_eq!(second.done, Some(true), "{second:?}");
        assert!(
            second.at_ms >= held.until_ms - 100,
            "not removed again within the hold: {second:?} {held:?}"
        );
        assert_eq!((held_again.done, held_again.removals), (None, 2));
        let second_hold = held_again.until_ms - held_again.at_ms;
        assert!(
            (2 * cooldown - 1000..=2 * cooldown + 1000).contains(&second_hold),
            "the second hold doubles: {second_hold} ms"
        );

        // The refused mute: tried once, not again within its cooldown though its reason
        // changed, then once more.
        let b: Vec<&Enforced> = seen.iter().filter(|e| e.mutes("b")).collect();
        let [tried, retried] = b.as_slice() else {
            panic!("two attempts: {b:?}");
        };
        assert_eq!((tried.done, retried.done), (Some(false), Some(false)));
        assert!(tried.reason().contains("2 live audio"), "{tried:?}");
        assert!(retried.reason().contains("3 live audio"), "{retried:?}");
        let after = retried.at_ms - tried.at_ms;
        assert!(
            (cooldown - 500..=cooldown + 10_000).contains(&after),
            "retried {after} ms after the first attempt"
        );
        let d: Vec<&Enforced> = seen.iter().filter(|e| e.mutes("d")).collect();
        assert!(
            d.first().is_some_and(|e| e.at_ms < tried.at_ms + cooldown),
            "the new track's mute is its own, tried at once: {d:?}"
        );
        assert!(
            d.iter()
                .zip(d.iter().skip(1))
                .all(|(a, b)| b.at_ms - a.at_ms >= cooldown - 500),
            "{d:?}"
        );
        assert!(proxy.faulted_requests() >= 3);

        stop(engine, sandbox).await;
    })
    .await;
}

/// The settings and changes of the next `ConfigApplied`.
async fn applied(events: &mut EventStream) -> (LiveSettings, Vec<String>, Option<ReplacedLimits>) {
    events
        .wait_for(WAIT, "an applied configuration", |kind| match kind {
            EventKind::ConfigApplied {
                settings,
                changes,
                limits_replaced,
                ..
            } => Some((settings.clone(), changes.clone(), limits_replaced.clone())),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn new_keys_in_the_watched_file_rebind_the_dashboard_and_a_clash_is_refused() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("performance.yaml");
        let polling = "polling:\n  interval: 200ms\n";
        write_config(&path, &config_file(&sandbox.url(), polling));
        let (engine, mut events) = start_from_file(&path, true).await;
        events
            .until("a poll", |kind| matches!(kind, EventKind::Rooms { .. }))
            .await;
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            events.app.keymap.keys(KeyAction::Freeze),
            [KeySpec::new(KeyCode::Char('f'), KeyModifiers::NONE)]
        );

        write_config(
            &path,
            &config_file(
                &sandbox.url(),
                &format!("{polling}keys:\n  freeze: ctrl+f\n"),
            ),
        );
        let (settings, changes, _) = applied(&mut events).await;
        assert_eq!(
            settings.keys,
            [("freeze".to_owned(), KeyList::from("ctrl+f"))].into()
        );
        assert_eq!(changes, ["keys.freeze: (not set) → ctrl+f"]);
        // Folded into the dashboard: ctrl+f freezes, f alone no longer does.
        let app = &mut events.app;
        assert!(
            app.log
                .up_to(u64::MAX)
                .any(|entry| entry.text() == "key bindings reloaded"),
            "the reload is logged"
        );
        let _ = update(
            app,
            Action::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE)),
        );
        assert!(!app.is_frozen());
        let _ = update(app, Action::Key(ctrl_f));
        assert!(app.is_frozen(), "ctrl+f freezes");
        let _ = update(app, Action::Key(ctrl_f));
        assert!(!app.is_frozen());

        // q is quit's: the dashboard refuses the new keys and the running ones stay. The
        // configuration knows nothing of keys; the dashboard checks a reload's keys.
        write_config(
            &path,
            &config_file(&sandbox.url(), &format!("{polling}keys:\n  freeze: q\n")),
        );
        let _ = applied(&mut events).await;
        let error = events
            .app
            .log
            .up_to(u64::MAX)
            .map(lktop::tui::log::LogEntry::text)
            .find(|text| text.starts_with("key bindings not changed"))
            .expect("the refused keys are logged");
        assert!(error.contains("keys.freeze"), "{error}");
        let _ = update(&mut events.app, Action::Key(ctrl_f));
        assert!(events.app.is_frozen(), "ctrl+f still freezes");

        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_reload_announces_every_live_setting_it_changed_and_the_dashboard_takes_them() {
    bounded(Duration::from_secs(30), async {
        let sandbox = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("performance.yaml");
        let file = |interval: &str, latency: u32, good: f64| {
            config_file(
                &sandbox.url(),
                &format!(
                    "polling:\n  interval: {interval}\naudio_optimization:\n  \
                         target_latency_ms: {latency}\nquality_monitoring:\n  thresholds:\n    \
                         good: {good}\n"
                ),
            )
        };
        write_config(&path, &file("2s", 50, 0.7));
        let (engine, mut events) = start_from_file(&path, false).await;
        events
            .until("the engine's start", |kind| {
                matches!(kind, EventKind::Started { .. })
            })
            .await;
        assert_eq!(events.app.poll_interval_ms, 2000);

        write_config(&path, &file("5s", 80, 0.75));
        let id = engine.send(Command::ReloadConfig).unwrap();
        let (settings, changes, replaced) = applied(&mut events).await;
        assert!(events.outcome(id).await.is_done());
        assert_eq!(
            changes,
            [
                "audio_optimization.target_latency_ms: 50 → 80",
                "quality_monitoring.thresholds.good: 0.7 → 0.75",
                "polling.interval: 2s → 5s",
            ]
        );
        assert_eq!(settings.poll_interval_ms, 5000);
        assert_eq!(
            settings.audio_default,
            AudioProfile {
                target_latency_ms: 80,
                ..AudioProfile::default()
            }
        );
        assert!((settings.quality.thresholds.good - 0.75).abs() < 1e-9);
        assert!(replaced.is_none());
        // The dashboard takes them.
        assert_eq!(events.app.live.audio_default, settings.audio_default);
        assert_eq!(events.app.poll_interval_ms, 5000);

        stop(engine, sandbox).await;
    })
    .await;
}

/// Whether the violations stay for the next `polls` snapshots: false as soon as the engine
/// reports that none are left.
async fn still_violated(events: &mut EventStream, polls: usize) -> bool {
    let mut polls_seen = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while polls_seen < polls {
        let event = events
            .next_before(deadline)
            .await
            .expect("the engine keeps polling");
        match &event.kind {
            EventKind::Rooms { .. } => polls_seen += 1,
            EventKind::Violations { violations, .. } if violations.is_empty() => return false,
            _ => {}
        }
    }
    true
}

#[tokio::test]
async fn limits_set_in_the_dashboard_survive_a_reload_until_the_file_changes_its_own() {
    bounded(Duration::from_secs(40), async {
        let sandbox = sandbox().await;
        for n in 0..10 {
            sandbox
                .join("hall", &person(&format!("p{n}"), &[]))
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("performance.yaml");
        let file = |interval: &str, participants: u32| {
            config_file(
                &sandbox.url(),
                &format!(
                    "polling:\n  interval: {interval}\nroom_limits:\n  \
                         max_participants_per_room: {participants}\n"
                ),
            )
        };
        write_config(&path, &file("200ms", 50));
        let (engine, mut events) = start_from_file(&path, false).await;

        // Set in the dashboard: hall's 10 are over the limit.
        let dashboard = RoomLimitsConfig {
            max_participants_per_room: 7,
            ..RoomLimitsConfig::default()
        };
        let before_ms = now_ms();
        let id = engine
            .send(Command::SetLimits {
                limits: dashboard.clone(),
            })
            .unwrap();
        assert!(events.outcome(id).await.is_done());
        let after_ms = now_ms();
        events.violations().await;
        assert_eq!(events.app.live.limits, dashboard);

        // A reload that leaves the file's limits as they were keeps the dashboard's.
        write_config(&path, &file("300ms", 50));
        let id = engine.send(Command::ReloadConfig).unwrap();
        let (settings, changes, replaced) = applied(&mut events).await;
        assert!(events.outcome(id).await.is_done());
        assert_eq!(changes, ["polling.interval: 200ms → 300ms"]);
        assert_eq!(settings.limits, dashboard);
        assert_eq!(replaced, None);
        assert_eq!(events.app.live.limits, dashboard);
        assert!(
            still_violated(&mut events, 5).await,
            "the dashboard's limit is still in force"
        );

        // A reload that changes the file's limits replaces them, and says so.
        write_config(&path, &file("300ms", 20));
        let id = engine.send(Command::ReloadConfig).unwrap();
        let (settings, changes, replaced) = applied(&mut events).await;
        assert!(events.outcome(id).await.is_done());
        assert_eq!(changes, ["room_limits.max_participants_per_room: 7 → 20"]);
        assert_eq!(
            settings.limits,
            RoomLimitsConfig {
                max_participants_per_room: 20,
                ..RoomLimitsConfig::default()
            }
        );
        let replaced = replaced.expect("the dashboard's limits were replaced");
        assert_eq!(replaced.limits, dashboard);
        assert!(
            (before_ms..=after_ms).contains(&replaced.set_at_ms),
            "set between {before_ms} and {after_ms}: {replaced:?}"
        );
        assert_eq!(events.app.live.limits, settings.limits);
        assert!(
            !still_violated(&mut events, 10).await,
            "the file's limit is in force"
        );

        stop(engine, sandbox).await;
    })
    .await;
}

/// Polling requests the sandbox received so far, by its own count.
fn polling_requests(sandbox: &Sandbox) -> u64 {
    sandbox.requests_received("ListRooms") + sandbox.requests_received("ListParticipants")
}

/// 40 rooms under a budget of 16 requests per second, polled every 250 ms (three rooms read
/// per poll): the server receives no more than the budget, by its own count; the budget that
/// cannot read every room within `max_staleness` (1 s) says so once with the rate that would
/// (44 per second); the lists not read carry their age to the dashboard.
#[tokio::test]
async fn the_polling_budget_bounds_what_the_server_receives_and_says_when_it_falls_short() {
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        for index in 0..40 {
            sandbox
                .join(
                    &format!("room-{index:02}"),
                    &person(&format!("user-{index}"), &["audio"]),
                )
                .unwrap();
        }
        let config = TestConfig::new()
            .server(SERVER, &sandbox.url())
            .polling_interval(ms(250))
            .polling_budget(16, Duration::from_secs(1))
            .health_check_interval(Duration::from_secs(60))
            .build();
        let (engine, mut events) = start(config).await;
        let (needed, enough) = events
            .wait_for(WAIT, "the budget's shortfall", |kind| match kind {
                EventKind::PollBudget { coverage, .. } => {
                    assert_eq!((coverage.rooms, coverage.reads_per_interval), (40, 3));
                    Some((coverage.needed_per_second, coverage.enough))
                }
                _ => None,
            })
            .await;
        assert_eq!((needed, enough), (44, false));

        let before = polling_requests(&sandbox);
        let window = Duration::from_secs(3);
        let seen = events.during(window).await;
        let sent = polling_requests(&sandbox) - before;
        // The budget over the window, plus one poll that may straddle its edge.
        assert!(
            sent <= 16 * 3 + 4,
            "{sent} polling requests reached the server in 3 s at a budget of 16/s"
        );
        assert!(sent >= 16, "polling went on: {sent} requests");
        assert!(
            !seen
                .iter()
                .any(|event| matches!(event.kind, EventKind::PollBudget { .. })),
            "the shortfall is said once"
        );
        let polls: Vec<&lktop::poller::PollStats> = seen
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Rooms { stats, .. } => Some(stats),
                _ => None,
            })
            .collect();
        assert!(polls.iter().all(|stats| stats.participant_calls <= 3));

        let server = &events.app.live.servers[0];
        let snapshot = server.snapshot.as_ref().expect("rooms were read");
        let older = snapshot
            .rooms
            .keys()
            .filter(|room| {
                snapshot
                    .participants_read_at(room)
                    .is_some_and(|at| at < snapshot.taken_at_ms)
            })
            .count();
        assert!(
            older >= 30,
            "the dashboard knows which lists are older than the poll: {older} of 40"
        );
        stop(engine, sandbox).await;
    })
    .await;
}

/// A room gone from ListRooms, with no webhooks to say so, is kept in the room history with
/// what polling saw of it.
#[tokio::test]
async fn a_room_gone_from_polls_goes_into_the_history() {
    bounded(Duration::from_secs(60), async {
        let sandbox = sandbox().await;
        let (engine, mut events) =
            start(TestConfig::new().server(SERVER, &sandbox.url()).build()).await;
        sandbox.join("retro", &person("ann", &["audio"])).unwrap();
        sandbox.join("retro", &person("ben", &[])).unwrap();
        events
            .until("retro polled", |kind| match kind {
                EventKind::Rooms { update, .. } => {
                    update.upserted.iter().any(|room| room.name == "retro")
                }
                _ => false,
            })
            .await;
        let api = configs::room_api(&sandbox.url(), Duration::from_secs(5));
        api.delete_room("retro").await.unwrap();
        let finished = events
            .wait_for(WAIT, "retro in the history", |kind| match kind {
                EventKind::RoomFinished { room, .. } if room.room == "retro" => Some(room.clone()),
                _ => None,
            })
            .await;
        assert_eq!(finished.told_by, "poll");
        assert_eq!(
            (finished.peak_participants, finished.participants_seen),
            (2, 2)
        );
        assert_eq!(finished.tracks_published, 1);
        assert_eq!(
            finished.disconnect_reasons,
            BTreeMap::from([(lktop::history::REASON_IN_ROOM_AT_END.to_owned(), 2)])
        );
        stop(engine, sandbox).await;
    })
    .await;
}
