use std::time::Duration;

use super::super::{EventLog, Level, LogEntry};
use crate::config::RoomLimitsConfig;
use crate::events::{
    Command, EngineEvent, EventKind, FaultOrigin, FaultPhase, LiveSettings, Outcome,
    ReplacedLimits, ServerState,
};
use crate::limits::{Enforcement, LimitKind, Violation};
use crate::pool::PoolEvent;
use crate::quality::{Grade, QualityReport, QualityScore};
use crate::reconnect::{ConnectionId, ConnectionState, StateChange};
use crate::snapshot::TrackKind;

const T0: i64 = 1_764_000_000_000;

fn at(at_ms: i64, kind: EventKind) -> EngineEvent {
    EngineEvent { at_ms, kind }
}

/// The log's lines after these events, oldest first.
fn lines(events: &[EngineEvent]) -> Vec<String> {
    let mut log = EventLog::default();
    for event in events {
        log.record(event);
    }
    log.up_to(log.seq()).map(LogEntry::text).collect()
}

fn levels(events: &[EngineEvent]) -> Vec<Level> {
    let mut log = EventLog::default();
    for event in events {
        log.record(event);
    }
    log.up_to(log.seq()).map(|e| e.level).collect()
}

fn state(state: ServerState, cause: Option<&str>, down_for_ms: Option<u64>) -> EventKind {
    EventKind::ServerState {
        server: "eu".into(),
        state,
        cause: cause.map(str::to_owned),
        down_for_ms,
    }
}

fn poll_failed(error: &str) -> EventKind {
    EventKind::PollFailed {
        server: "eu".into(),
        error: error.into(),
    }
}

#[test]
fn a_server_going_down_and_back_is_a_line_each() {
    let refused = "ListRooms: connection refused (http://127.0.0.1:7880)";
    let events = vec![
        at(T0, state(ServerState::Up, None, None)),
        at(T0 + 1_000, state(ServerState::Down, Some(refused), None)),
        at(T0 + 38_000, state(ServerState::Up, None, Some(37_000))),
        at(
            T0 + 40_000,
            state(ServerState::Unauthenticated, Some("invalid API key"), None),
        ),
        at(T0 + 292_000, state(ServerState::Up, None, Some(252_000))),
        at(T0 + 300_000, state(ServerState::Down, None, None)),
        at(
            T0 + 4_080_000,
            state(ServerState::Up, None, Some(3_780_000)),
        ),
    ];
    assert_eq!(
        lines(&events),
        [
            "up",
            "down: ListRooms: connection refused (http://127.0.0.1:7880)",
            "back up after 37 s",
            "unauthenticated: invalid API key",
            "back up after 4 min 12 s",
            "down",
            "back up after 1 h 3 min",
        ]
    );
    let (info, error) = (Level::Info, Level::Error);
    assert_eq!(
        levels(&events),
        [info, error, info, error, info, error, info]
    );
}

#[test]
fn failing_polls_are_one_line_that_counts_and_none_while_the_server_is_down() {
    // Up but answering every poll with an error: one line, counted.
    let mut events = vec![at(T0, state(ServerState::Up, None, None))];
    for i in 0..30 {
        events.push(at(
            T0 + i * 2_000,
            poll_failed("ListRooms: server error: unavailable"),
        ));
    }
    events.push(at(
        T0 + 60_000,
        poll_failed("ListRooms: timed out after 5 s"),
    ));
    // Down: its own line says why; the polls failing under it add nothing.
    events.push(at(
        T0 + 62_000,
        state(ServerState::Down, Some("refused"), None),
    ));
    for i in 0..30 {
        events.push(at(
            T0 + 62_000 + i * 2_000,
            poll_failed("ListRooms: connection refused"),
        ));
    }
    assert_eq!(
        lines(&events),
        [
            "up",
            "poll failed ×30 since 16:00:00: ListRooms: server error: unavailable",
            "poll failed: ListRooms: timed out after 5 s",
            "down: refused",
        ]
    );
}

fn report(grade: Grade, score: f64, p95_ms: u64, success: f64) -> EventKind {
    EventKind::Quality {
        server: "eu".into(),
        report: QualityReport {
            samples: 100,
            failures: 8,
            success_rate: Some(success),
            p50: Some(Duration::from_millis(p95_ms / 2)),
            p95: Some(Duration::from_millis(p95_ms)),
            p99: None,
            mean: None,
            std_dev: None,
            jitter: None,
            raw_score: None,
            score: Some(QualityScore::new(score)),
            grade: Some(grade),
        },
        checkout: crate::events::CheckoutReport::default(),
    }
}

#[test]
fn grade_changes_are_said_once() {
    let events = vec![
        at(T0, report(Grade::Good, 0.81, 40, 1.0)),
        at(T0 + 10_000, report(Grade::Good, 0.78, 45, 1.0)),
        at(T0 + 20_000, report(Grade::Poor, 0.23, 487, 0.92)),
        at(T0 + 30_000, report(Grade::Poor, 0.2, 500, 0.9)),
        at(T0 + 40_000, report(Grade::Fair, 0.55, 120, 0.99)),
    ];
    assert_eq!(
        lines(&events),
        [
            "quality good (score 0.81 · p95 40.0 ms · 100 % ok)",
            "quality good → poor (score 0.23 · p95 487 ms · 92.0 % ok)",
            "quality poor → fair (score 0.55 · p95 120 ms · 99.0 % ok)",
        ]
    );
    assert_eq!(levels(&events), [Level::Info, Level::Warn, Level::Info]);
}

fn violations(list: &[(Option<&str>, LimitKind, u32, u32)]) -> EventKind {
    EventKind::Violations {
        server: "eu".into(),
        violations: list
            .iter()
            .map(|(room, kind, actual, limit)| Violation {
                kind: *kind,
                room: room.map(str::to_owned),
                limit: *limit,
                actual: *actual,
                since_ms: None,
            })
            .collect(),
    }
}

#[test]
fn violations_are_said_when_they_start_and_end_not_while_they_last() {
    use LimitKind::{ConcurrentRooms, Participants, VideoTracks};
    let hall = Some("town-hall");
    let events = vec![
        at(T0, violations(&[])),
        at(T0, violations(&[(hall, Participants, 12, 10)])),
        // The count changes: the same violation going on.
        at(T0, violations(&[(hall, Participants, 14, 10)])),
        at(
            T0,
            violations(&[
                (hall, Participants, 14, 10),
                (None, ConcurrentRooms, 12, 10),
            ]),
        ),
        at(T0, violations(&[(hall, VideoTracks, 5, 4)])),
        at(T0, violations(&[])),
    ];
    assert_eq!(
        lines(&events),
        [
            "town-hall over the participant limit: 12 of 10",
            "concurrent rooms over the limit: 12 of 10",
            "concurrent rooms back within the limit",
            "town-hall back within the participant limit",
            "town-hall over the live video track limit: 5 of 4",
            "town-hall back within the live video track limit",
        ]
    );
}

#[test]
fn a_flapping_violation_collapses_into_its_start_and_end_lines() {
    use LimitKind::Participants;
    let hall = Some("town-hall");
    let mut events = Vec::new();
    for i in 0..3 {
        events.push(at(
            T0 + i * 4_000,
            violations(&[(hall, Participants, 11, 10)]),
        ));
        events.push(at(T0 + i * 4_000 + 2_000, violations(&[])));
    }
    assert_eq!(
        lines(&events),
        [
            "town-hall over the participant limit ×3 since 16:00:00: 11 of 10",
            "town-hall back within the participant limit ×3 since 16:00:02",
        ]
    );
}

fn connection_change(id: u64, to: ConnectionState, attempt: Option<u32>) -> EventKind {
    EventKind::Pool {
        event: PoolEvent::StateChanged {
            server: "eu".into(),
            change: StateChange {
                connection: ConnectionId(id),
                from: ConnectionState::Connected,
                to,
                cause: "connection refused".into(),
                attempt,
                next_retry_in: Some(Duration::from_secs(2)),
            },
        },
    }
}

#[test]
fn a_reconnect_storm_is_one_line_per_target_state() {
    let mut events = Vec::new();
    for attempt in 1..=3 {
        for id in 1..=10 {
            events.push(at(
                T0 + i64::from(attempt) * 1_000,
                connection_change(id, ConnectionState::Reconnecting, Some(attempt)),
            ));
        }
    }
    events.push(at(
        T0 + 9_000,
        connection_change(4, ConnectionState::Failed, None),
    ));
    events.push(at(
        T0 + 9_500,
        connection_change(4, ConnectionState::Reconnecting, Some(3)),
    ));
    assert_eq!(
        lines(&events),
        [
            "connections failed (conn-4: next try in 2.0 s: connection refused)",
            "connections reconnecting ×31 since 16:00:01 (conn-4: attempt 3 in 2.0 s: \
                 connection refused)",
        ]
    );
}

#[test]
fn the_pool_growing_and_shrinking_stay_single_lines() {
    let grew = EventKind::Pool {
        event: PoolEvent::Grew {
            server: "eu".into(),
            connection: ConnectionId(7),
            total: 6,
        },
    };
    let shrank = EventKind::Pool {
        event: PoolEvent::Shrank {
            server: "eu".into(),
            connection: ConnectionId(7),
            total: 5,
            idle_for: Duration::from_secs(60),
        },
    };
    assert_eq!(
        lines(&[
            at(T0, grew.clone()),
            at(T0, shrank.clone()),
            at(T0, grew),
            at(T0, shrank)
        ]),
        [
            "pool grew to 6: conn-7 opened under load",
            "conn-7 closed: idle for 1 min above pool_size (pool now 5)",
            "pool grew to 6: conn-7 opened under load",
            "conn-7 closed: idle for 1 min above pool_size (pool now 5)",
        ]
    );
}

fn removal(identity: &str) -> Enforcement {
    Enforcement::RemoveParticipant {
        room: "town-hall".into(),
        identity: identity.into(),
        reason: "11 participants over the limit of 10".into(),
    }
}

#[test]
fn enforcement_names_its_target_and_collapses_per_target() {
    let enforced = |identity: &str, outcome: Outcome| EventKind::Enforced {
        server: "eu".into(),
        action: removal(identity),
        outcome,
    };
    let done = || Outcome::Done {
        detail: "removed".into(),
    };
    let mute = EventKind::Enforced {
        server: "eu".into(),
        action: Enforcement::MuteTrack {
            room: "town-hall".into(),
            identity: "carol".into(),
            track_sid: "TR_V1".into(),
            kind: TrackKind::Video,
            reason: "5 live video tracks over the limit of 4".into(),
        },
        outcome: Outcome::Failed {
            reason: "not found".into(),
        },
    };
    let events = vec![
        at(T0 + 1_000, enforced("bob", done())),
        at(T0 + 2_000, enforced("alice", done())),
        at(T0 + 3_000, enforced("bob", done())),
        at(T0 + 4_000, mute),
        at(T0 + 5_000, enforced("bob", done())),
        at(
            T0 + 6_000,
            EventKind::EnforcementHeld {
                server: "eu".into(),
                action: removal("bob"),
                removals: 2,
                until_ms: T0 + 3_784_000,
            },
        ),
    ];
    assert_eq!(
        lines(&events),
        [
            "enforce: removed alice from town-hall (11 participants over the limit of 10)",
            "enforce: could not mute TR_V1 of carol in town-hall: not found (5 live video \
                 tracks over the limit of 4)",
            "enforce: removed bob from town-hall ×3 since 16:00:01 (11 participants over \
                 the limit of 10)",
            "enforce: bob rejoined town-hall after 2 removals; held back until 17:03:04",
        ]
    );
    assert_eq!(
        levels(&events),
        [Level::Action, Level::Error, Level::Action, Level::Warn]
    );
}

fn fault(id: u64, origin: FaultOrigin, phase: FaultPhase, detail: Option<&str>) -> EventKind {
    EventKind::SandboxFault {
        id,
        origin,
        phase,
        description: "server restart, down 5 s, rooms kept".into(),
        detail: detail.map(str::to_owned),
    }
}

#[test]
fn demo_faults_name_their_number_and_origin() {
    let events = vec![
        at(T0, fault(3, FaultOrigin::Key, FaultPhase::Began, None)),
        at(
            T0,
            fault(
                3,
                FaultOrigin::Key,
                FaultPhase::Ended,
                Some("restarted, back after 5.0 s"),
            ),
        ),
        at(
            T0,
            fault(4, FaultOrigin::Scheduled, FaultPhase::Began, None),
        ),
        at(
            T0,
            fault(
                5,
                FaultOrigin::Api,
                FaultPhase::Refused,
                Some("a restart is under way"),
            ),
        ),
    ];
    assert_eq!(
        lines(&events),
        [
            "demo fault #3 began (demo key): server restart, down 5 s, rooms kept",
            "demo fault #3 ended: restarted, back after 5.0 s",
            "demo fault #4 began (scheduled): server restart, down 5 s, rooms kept",
            "demo fault #5 refused (admin API): server restart, down 5 s, rooms kept: a \
                 restart is under way",
        ]
    );
}

#[test]
fn a_reload_lists_its_changes_and_what_it_could_not_apply() {
    let applied = EventKind::ConfigApplied {
        source: "lktop.yaml".into(),
        settings: LiveSettings::default(),
        changes: vec![
            "polling.interval: 2s → 5s".into(),
            "room_limits.max_participants_per_room: 50 → 40".into(),
        ],
        limits_replaced: Some(ReplacedLimits {
            set_at_ms: T0 - 60_000,
            limits: RoomLimitsConfig::default(),
        }),
        needs_restart: vec!["connection_pool".into()],
    };
    let mut log = EventLog::default();
    log.record(&at(T0, applied));
    log.record(&at(
        T0,
        EventKind::ConfigRejected {
            error: "the configuration has 2 problems:\n\nlktop.yaml:2:14: …\nlktop.yaml:3:3: …"
                .into(),
        },
    ));
    let entries: Vec<_> = log.up_to(log.seq()).collect();
    assert_eq!(
        entries[0].text(),
        "configuration applied from lktop.yaml: 2 changes\npolling.interval: 2s → 5s\n\
             room_limits.max_participants_per_room: 50 → 40\nthe room limits set in the \
             dashboard at 15:59:00 were replaced by the file's\nrestart lktop to apply the \
             changed connection_pool"
    );
    assert_eq!(entries[0].level, Level::Warn);
    assert_eq!(
        entries[1].text(),
        "configuration rejected: the configuration has 2 problems:\n\nlktop.yaml:2:14: \
             …\nlktop.yaml:3:3: …"
    );
    let quiet = EventKind::ConfigApplied {
        source: "lktop.yaml".into(),
        settings: LiveSettings::default(),
        changes: vec!["polling.interval: 2s → 5s".into()],
        limits_replaced: None,
        needs_restart: Vec::new(),
    };
    assert_eq!(
        lines(&[at(T0, quiet)]),
        ["configuration applied from lktop.yaml: 1 change\npolling.interval: 2s → 5s"]
    );
}

#[test]
fn commands_say_their_outcome_and_name_server_and_room() {
    let mut log = EventLog::default();
    log.record(&at(
        T0,
        EventKind::Command {
            id: 3,
            command: Command::DeleteRoom {
                server: "eu".into(),
                room: "retro".into(),
            },
            outcome: Outcome::Failed {
                reason: "room not found".into(),
            },
        },
    ));
    log.record(&at(
        T0,
        EventKind::Command {
            id: 4,
            command: Command::ReloadConfig,
            outcome: Outcome::Done {
                detail: String::new(),
            },
        },
    ));
    let entries: Vec<_> = log.up_to(log.seq()).collect();
    assert_eq!(
        entries[0].text(),
        "failed · #3 delete room retro · room not found"
    );
    assert_eq!(
        (
            entries[0].level,
            entries[0].server.as_deref(),
            &entries[0].rooms[..]
        ),
        (Level::Error, Some("eu"), &["retro".to_owned()][..])
    );
    assert_eq!(entries[1].text(), "done · #4 reload configuration");
}

#[test]
fn repeats_of_everything_else_collapse_too() {
    let dropped = |count| at(T0, EventKind::EventsDropped { count });
    let rejected = |reason: &str| {
        at(
            T0,
            EventKind::Pool {
                event: PoolEvent::Unauthenticated {
                    server: "eu".into(),
                    reason: reason.into(),
                },
            },
        )
    };
    assert_eq!(
        lines(&[
            dropped(5),
            dropped(12),
            rejected("invalid API key"),
            rejected("invalid API key"),
        ]),
        [
            "events dropped while the dashboard was busy ×2 since 16:00:00: 12 this time; \
                 the next statuses carry the full state",
            "credentials rejected ×2 since 16:00:00: invalid API key",
        ]
    );
}

#[test]
fn a_new_session_learns_grades_again() {
    let started = || {
        at(
            T0,
            EventKind::Started {
                servers: vec!["eu".into()],
                sandbox: None,
                webhooks: None,
                node_sources: std::collections::BTreeMap::new(),
                settings: LiveSettings::default(),
            },
        )
    };
    let good = || at(T0, report(Grade::Good, 0.8, 40, 1.0));
    assert_eq!(
        lines(&[started(), good(), good(), started(), good()]),
        [
            "watching eu",
            "quality good (score 0.80 · p95 40.0 ms · 100 % ok)",
            "watching eu",
            "quality good (score 0.80 · p95 40.0 ms · 100 % ok)",
        ]
    );
}

#[test]
fn lifecycle_rules_say_since_when_and_a_deleted_room_says_why() {
    let solo = Violation {
        kind: LimitKind::SoloTimeout,
        room: Some("lobby".into()),
        limit: 300,
        actual: 301,
        since_ms: Some(T0),
    };
    let delete = Enforcement::DeleteRoom {
        room: "lobby".into(),
        sid: "RM_1".into(),
        rule: LimitKind::SoloTimeout,
        reason: "room lobby had one participant (or only agents) for 5m 1s, longer than its \
                 solo_timeout of 5m"
            .into(),
    };
    let events = [
        at(
            T0 + 301_000,
            EventKind::Violations {
                server: "eu".into(),
                violations: vec![solo],
            },
        ),
        at(
            T0 + 301_000,
            EventKind::Enforced {
                server: "eu".into(),
                action: delete,
                outcome: Outcome::Done {
                    detail: "deleted lobby (RM_1)".into(),
                },
            },
        ),
        at(
            T0 + 302_000,
            EventKind::Violations {
                server: "eu".into(),
                violations: Vec::new(),
            },
        ),
    ];
    assert_eq!(
        lines(&events),
        [
            "lobby over the solo_timeout: alone (or only agents) since 16:00:00, limit 5m",
            "enforce: deleted lobby (RM_1) (room lobby had one participant (or only agents) for \
             5m 1s, longer than its solo_timeout of 5m)",
            "lobby back within the solo_timeout",
        ]
    );
}

#[test]
fn room_alerts_are_one_warning_each() {
    use crate::room_alerts::RoomAlert;
    let events = [
        at(
            T0,
            EventKind::RoomAlert {
                server: "eu".into(),
                alert: RoomAlert::RoomRecreated {
                    room: "all-hands".into(),
                    sid_before: "RM_1".into(),
                    sid_after: "RM_2".into(),
                    participants_before: 435,
                    participants_after: 3,
                },
            },
        ),
        at(
            T0,
            EventKind::RoomAlert {
                server: "eu".into(),
                alert: RoomAlert::CountCollapsed {
                    room: None,
                    before: 440,
                    after: 5,
                    fraction: 0.5,
                },
            },
        ),
    ];
    assert_eq!(
        lines(&events),
        [
            "all-hands recreated: RM_1 → RM_2, 435 participants before, 3 after; the previous \
             room's state is gone",
            "participants collapsed: 440 → 5 between two polls (more than 50 %)",
        ]
    );
    assert_eq!(levels(&events), [Level::Warn, Level::Warn]);
}
