//! Room lifecycle rules and room alerts, end to end against the sandbox on loopback: a room
//! alone past `solo_timeout` under `enforce` is deleted (as the sandbox's own room store says)
//! while a room of two stays; a room deleted and created again under the same name between
//! two polls is reported as recreated; a participant count that collapses between two polls
//! is reported for the room and for the server.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/engine_harness.rs"]
#[allow(
    dead_code,
    reason = "the lifecycle tests use the engine harness without files"
)]
mod harness;

use std::time::Duration;

use configs::TestConfig;
use harness::{EventStream, SERVER, WAIT, bounded, person, start, stop};
use livekit_sandbox::Sandbox;
use lktop::api::RoomApi;
use lktop::config::{Config, ConfigDuration, EnforcementMode, LifecycleLimit};
use lktop::events::{Command, EventKind};
use lktop::limits::{Enforcement, LimitKind};
use lktop::room_alerts::RoomAlert;
use lktop::tui::App;

fn config_for(sandbox: &Sandbox) -> Config {
    TestConfig::new().server(SERVER, &sandbox.url()).build()
}

/// The dashboard's event log, a line per entry.
fn log_text(app: &App) -> String {
    app.log
        .up_to(u64::MAX)
        .map(lktop::tui::log::LogEntry::text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until a poll lists `room` with `participants`, so what a test does next happens
/// between that poll and a later one.
async fn polled_with(events: &mut EventStream, room: &str, participants: u32) {
    events
        .wait_for(
            WAIT,
            &format!("{room} polled with {participants}"),
            |kind| {
                let EventKind::Rooms { update, .. } = kind else {
                    return None;
                };
                update
                    .upserted
                    .iter()
                    .any(|listed| listed.name == room && listed.num_participants == participants)
                    .then_some(())
            },
        )
        .await;
}

#[tokio::test]
async fn a_room_alone_past_solo_timeout_is_deleted_under_enforce_and_a_pair_is_not() {
    bounded(Duration::from_secs(60), async {
        let sandbox = configs::sandbox().await;
        sandbox.join("solo", &person("alice", &["audio"])).unwrap();
        for identity in ["bob", "carol"] {
            sandbox.join("pair", &person(identity, &["audio"])).unwrap();
        }
        let mut config = config_for(&sandbox);
        config.room_limits.lifecycle.solo_timeout =
            LifecycleLimit::After(ConfigDuration::from_secs(1));
        config.room_limits.lifecycle.enforcement = EnforcementMode::Enforce;
        let (engine, mut events) = start(config).await;

        let violations = events.violations().await;
        let solo: Vec<_> = violations
            .iter()
            .filter(|v| v.kind == LimitKind::SoloTimeout)
            .map(|v| v.room.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(solo, ["solo"], "{violations:?}");

        let (action, outcome) = events
            .wait_for(WAIT, "the solo room deleted", |kind| match kind {
                EventKind::Enforced {
                    action: action @ Enforcement::DeleteRoom { .. },
                    outcome,
                    ..
                } => Some((action.clone(), outcome.clone())),
                _ => None,
            })
            .await;
        assert!(outcome.is_done(), "{outcome:?}");
        let Enforcement::DeleteRoom {
            room, rule, reason, ..
        } = &action
        else {
            unreachable!("picked a deletion");
        };
        assert_eq!((room.as_str(), *rule), ("solo", LimitKind::SoloTimeout));
        assert!(
            reason.contains("longer than its solo_timeout of 1s"),
            "{reason}"
        );
        {
            let store = sandbox.rooms();
            let store = store.lock().unwrap();
            assert!(!store.has_room("solo"), "the sandbox deleted it");
            assert!(store.has_room("pair"));
        }

        // Polls go on well past the timeout: the pair is never a candidate.
        let later = events.during(Duration::from_millis(1500)).await;
        let deleted: Vec<&str> = later
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Enforced {
                    action: Enforcement::DeleteRoom { room, .. },
                    ..
                } => Some(room.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, Vec::<&str>::new());
        assert!(sandbox.rooms().lock().unwrap().has_room("pair"));
        let log = log_text(&events.app);
        assert!(
            log.contains("enforce: deleted solo") && log.contains("solo_timeout of 1s"),
            "{log}"
        );

        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_room_recreated_between_two_polls_is_alerted_and_nothing_is_done_about_it() {
    bounded(Duration::from_secs(60), async {
        let sandbox = configs::sandbox().await;
        for identity in ["a", "b", "c"] {
            sandbox.join("all-hands", &person(identity, &[])).unwrap();
        }
        let first_sid = sandbox
            .rooms()
            .lock()
            .unwrap()
            .list_rooms(&["all-hands".into()])[0]
            .sid
            .clone();
        let (engine, mut events) = start(config_for(&sandbox)).await;
        polled_with(&mut events, "all-hands", 3).await;

        // Gone and back under one lock, so no poll can see the room missing in between.
        let second_sid = {
            let store = sandbox.rooms();
            let mut store = store.lock().unwrap();
            store.delete_room("all-hands").unwrap();
            let now_ms = sandbox.clock().now_ms();
            store.join("all-hands", "a", "a", now_ms).unwrap();
            store.list_rooms(&["all-hands".into()])[0].sid.clone()
        };
        let alert = events
            .wait_for(WAIT, "the recreated room", |kind| match kind {
                EventKind::RoomAlert {
                    alert: alert @ RoomAlert::RoomRecreated { .. },
                    ..
                } => Some(alert.clone()),
                _ => None,
            })
            .await;
        assert_eq!(
            alert,
            RoomAlert::RoomRecreated {
                room: "all-hands".into(),
                sid_before: first_sid,
                sid_after: second_sid,
                participants_before: 3,
                participants_after: 1,
            }
        );
        assert!(
            log_text(&events.app).contains("all-hands recreated"),
            "{}",
            log_text(&events.app)
        );
        assert!(sandbox.rooms().lock().unwrap().has_room("all-hands"));

        stop(engine, sandbox).await;
    })
    .await;
}

#[tokio::test]
async fn a_participant_count_that_collapses_between_two_polls_is_alerted_for_room_and_server() {
    bounded(Duration::from_secs(60), async {
        let sandbox = configs::sandbox().await;
        let identities: Vec<String> = (0..12).map(|n| format!("p{n:02}")).collect();
        for identity in &identities {
            sandbox.join("town-hall", &person(identity, &[])).unwrap();
        }
        let mut config = config_for(&sandbox);
        config.room_limits.alerts.count_collapse_fraction = Some(0.5);
        config.room_limits.alerts.count_collapse_min = 10;
        let (engine, mut events) = start(config).await;
        polled_with(&mut events, "town-hall", 12).await;

        // Ten leave while polling is paused, so the next poll sees them all gone at once.
        let id = engine.send(Command::SetPolling { paused: true }).unwrap();
        assert!(events.outcome(id).await.is_done());
        events.during(Duration::from_millis(300)).await;
        let api = configs::room_api(&sandbox.url(), Duration::from_secs(2));
        for identity in &identities[2..] {
            api.remove_participant("town-hall", identity).await.unwrap();
        }
        let id = engine.send(Command::SetPolling { paused: false }).unwrap();
        assert!(events.outcome(id).await.is_done());

        let mut collapses = Vec::new();
        while collapses.len() < 2 {
            collapses.push(
                events
                    .wait_for(WAIT, "collapses", |kind| match kind {
                        EventKind::RoomAlert {
                            alert: alert @ RoomAlert::CountCollapsed { .. },
                            ..
                        } => Some(alert.clone()),
                        _ => None,
                    })
                    .await,
            );
        }
        let expected = |room: Option<&str>| RoomAlert::CountCollapsed {
            room: room.map(str::to_owned),
            before: 12,
            after: 2,
            fraction: 0.5,
        };
        assert_eq!(collapses, [expected(Some("town-hall")), expected(None)]);
        let log = log_text(&events.app);
        assert!(
            log.contains("town-hall: participants collapsed") && log.contains("12 → 2"),
            "{log}"
        );

        stop(engine, sandbox).await;
    })
    .await;
}
