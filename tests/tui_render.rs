//! Every screen and popup drawn into a `TestBackend` at 80x24 and 160x48 and compared with
//! the reviewed snapshots in `tests/snapshots/`. State changes go through `update` with real
//! key events (the keys read from the key map), so the tests exercise the real flow.
//!
//! After a deliberate change: `INSTA_UPDATE=always cargo test --test tui_render`, then read
//! every changed snapshot before committing it.

#[path = "support/dashboard_fixture.rs"]
mod dashboard_fixture;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dashboard_fixture::{NODES, NOW_MS, eu_west_nodes, eu_west_sources, sample_app};
use lktop::events::{EngineEvent, EventKind, FaultOrigin, FaultPhase, Outcome, ServerState};
use lktop::limits::{Enforcement, LimitKind, Violation};
use lktop::pool::PoolEvent;
use lktop::quality::{Grade, QualityReport, QualityScore};
use lktop::reconnect::{ConnectionId, ConnectionState, StateChange};
use lktop::snapshot::RoomChange;
use lktop::tui::app::App;
use lktop::tui::keys::KeyAction;
use lktop::tui::{Action, Mode, Screen, update};
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const ROOMS: usize = 40;

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| lktop::tui::render::draw(frame, app))
        .expect("drawing never fails");
    terminal
}

/// Presses the first key bound to `action`.
fn press(app: &mut App, action: KeyAction) {
    let key = *app
        .keymap
        .keys(action)
        .first()
        .unwrap_or_else(|| panic!("{action} has a key"));
    let _ = update(app, Action::Key(KeyEvent::new(key.code(), key.modifiers())));
}

/// Presses a key that is not in the key map (popups and the filter prompt read these).
fn key(app: &mut App, code: KeyCode) {
    let _ = update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The fixture at `width` x `height` after `setup`.
fn app_at(width: u16, height: u16, setup: &dyn Fn(&mut App)) -> App {
    let mut app = sample_app(ROOMS, width, height);
    let _ = update(&mut app, Action::Resize { width, height });
    setup(&mut app);
    app
}

/// Snapshots of `setup`'s screen at both sizes.
fn check(name: &str, setup: &dyn Fn(&mut App)) {
    for (width, height) in SIZES {
        let app = app_at(width, height, setup);
        insta::assert_snapshot!(
            format!("{name}_{width}x{height}"),
            draw(&app, width, height).backend()
        );
    }
}

fn rooms(app: &mut App) {
    press(app, KeyAction::ShowRooms);
    assert_eq!(app.screen, Screen::Rooms);
}

/// Presses `action` `times` times over.
fn press_times(app: &mut App, action: KeyAction, times: usize) {
    for _ in 0..times {
        press(app, action);
    }
}

/// Presses `action` on the rooms table (its popups and the room detail open from there).
fn from_rooms(app: &mut App, action: KeyAction) {
    rooms(app);
    press(app, action);
}

/// `text` typed into the rooms table's filter, not yet applied with enter.
fn typing_room_filter(app: &mut App, text: &str) {
    from_rooms(app, KeyAction::Filter);
    type_text(app, text);
}

/// `text` typed into the events' filter.
fn typing_event_filter(app: &mut App, text: &str) {
    press(app, KeyAction::ShowEvents);
    press(app, KeyAction::FilterEvents);
    type_text(app, text);
}

/// Asserts that `app` drawn at `width` x `height` shows each of `texts` (the screen read row
/// after row, as one text).
fn assert_shows(app: &App, (width, height): (u16, u16), texts: &[&str]) {
    let screen: String = draw(app, width, height)
        .backend()
        .buffer()
        .content()
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect();
    for text in texts {
        assert!(
            screen.contains(text),
            "{text:?} is not on the screen: {screen}"
        );
    }
}

/// Each screen and popup compared with its snapshots at both sizes, a test each: the test's
/// name, its snapshots' name, and how the fixture gets there.
macro_rules! screens {
    ($($test:ident: $snapshot:literal => $setup:expr,)*) => {
        $(
            #[test]
            fn $test() {
                check($snapshot, &$setup);
            }
        )*
    };
}

screens! {
    overview: "overview" => |app| assert_eq!(app.screen, Screen::Overview),
    connections: "connections" => |app| press(app, KeyAction::ShowConnections),
    rooms_table: "rooms" => rooms,
    rooms_sorted_by_participants_and_scrolled: "rooms_sorted" => |app| {
        from_rooms(app, KeyAction::Sort);
        press_times(app, KeyAction::Down, 25);
    },
    rooms_with_a_filter_being_typed: "rooms_filter" => |app| {
        typing_room_filter(app, "p>5");
        assert!(app.rooms.editing_from.is_some());
    },
    rooms_filter_matching_nothing: "rooms_filter_empty" => |app| {
        typing_room_filter(app, "nothing-like-this");
        key(app, KeyCode::Enter);
    },
    room_detail: "room_detail" => |app| {
        from_rooms(app, KeyAction::Open);
        assert_eq!(app.screen, Screen::RoomDetail);
        press_times(app, KeyAction::Down, 2);
    },
    room_detail_of_a_vanished_room: "room_detail_gone" => |app| {
        from_rooms(app, KeyAction::Open);
        if let Some(detail) = &mut app.room_detail {
            detail.room = "retro-0000".to_owned();
        }
    },
    room_detail_without_participants: "room_detail_unread" => |app| {
        typing_room_filter(app, "office-hours-0003");
        key(app, KeyCode::Enter);
        press(app, KeyAction::Open);
        assert_eq!(
            app.room_detail.as_ref().map(|d| d.room.as_str()),
            Some("office-hours-0003")
        );
    },
    footer_message: "flash_error" => |app| {
        let command = lktop::events::Command::DeleteRoom {
            server: "eu-west".to_owned(),
            room: "all-hands-0000".to_owned(),
        };
        let _ = update(
            app,
            Action::CommandRefused {
                command,
                reason: "the engine is shutting down".to_owned(),
            },
        );
    },
    events: "events" => |app| press(app, KeyAction::ShowEvents),
    history: "history" => |app| press(app, KeyAction::ShowHistory),
    nodes: "nodes" => |app| press(app, KeyAction::ShowNodes),
    node_detail: "node_detail" => |app| {
        press(app, KeyAction::ShowNodes);
        press(app, KeyAction::Down);
        press(app, KeyAction::Open);
        assert_eq!(app.screen, Screen::NodeDetail);
        assert_eq!(
            app.nodes.detail.as_ref().map(|key| key.node_id.as_str()),
            Some(NODES[1])
        );
    },
    nodes_with_a_source_down: "nodes_source_down" => |app| {
        media_trouble(app);
        press(app, KeyAction::ShowNodes);
    },
    overview_media: "overview_media" => media_trouble,
    history_detail: "history_detail" => |app| {
        press(app, KeyAction::ShowHistory);
        press(app, KeyAction::Down);
        press(app, KeyAction::Open);
        assert!(app.history.detail);
    },
    events_scrolled_back: "events_scrolled" => |app| {
        busy_log(app);
        press(app, KeyAction::ShowEvents);
        // Past the top of the window: the list scrolls with the selection.
        press_times(app, KeyAction::Up, 45);
    },
    events_of_an_incident: "events_incident" => |app| {
        incident(app);
        press(app, KeyAction::ShowEvents);
    },
    events_filtered_while_typing: "events_filter" => |app| {
        incident(app);
        typing_event_filter(app, "server:eu level:warn town");
        assert!(app.events_view.is_editing());
    },
    events_filter_matching_nothing: "events_filter_empty" => |app| {
        typing_event_filter(app, "level:loud");
        key(app, KeyCode::Enter);
    },
    event_detail_of_a_collapsed_entry: "event_detail" => |app| {
        incident(app);
        typing_event_filter(app, "reconnecting");
        key(app, KeyCode::Enter);
        press(app, KeyAction::Open);
        assert!(app.events_view.detail().is_some());
    },
    event_detail_keeps_line_breaks: "event_detail_lines" => |app| {
        incident(app);
        press(app, KeyAction::ShowEvents);
        press(app, KeyAction::Open);
    },
    help_overlay: "help" => |app| press(app, KeyAction::Help),
    help_overlay_scrolled: "help_scrolled" => |app| {
        press(app, KeyAction::Help);
        key_times(app, KeyCode::Down, 30);
    },
    limits_editor_global: "limits_global" => |app| {
        press(app, KeyAction::EditLimits);
        key(app, KeyCode::Down);
        key(app, KeyCode::Right);
    },
    limits_editor_global_with_a_bad_value: "limits_global_problem" => |app| {
        press(app, KeyAction::EditLimits);
        key(app, KeyCode::Char('0'));
    },
    limits_editor_room: "limits_room" => |app| {
        from_rooms(app, KeyAction::RoomLimits);
        key(app, KeyCode::Down);
        type_text(app, "12");
    },
    audio_editor: "audio" => |app| {
        from_rooms(app, KeyAction::AudioProfile);
        key(app, KeyCode::Down);
        type_text(app, "90");
    },
    confirm_popup: "confirm" => |app| {
        from_rooms(app, KeyAction::DeleteRoom);
    },
    create_room_input: "create_room" => |app| {
        from_rooms(app, KeyAction::CreateRoom);
        type_text(app, "town-hall");
    },
    frozen_and_polling_paused_header: "frozen_paused" => |app| {
        press(app, KeyAction::Freeze);
        app.flash = None;
        app.polling_paused = true;
        let _ = update(
            app,
            Action::Tick {
                now_ms: NOW_MS + 65_000,
            },
        );
    },
    recording_header: "recording" => |app| {
        app.recording = Some("incident.ndjson.gz".to_owned());
    },
    demo_header: "demo" => |app| {
        app.mode = demo();
        rooms(app);
    },
    second_server: "second_server" => |app| {
        press(app, KeyAction::NextServer);
        press(app, KeyAction::ShowConnections);
    },
}

/// Presses `code` `times` times over.
fn key_times(app: &mut App, code: KeyCode, times: usize) {
    for _ in 0..times {
        key(app, code);
    }
}

/// `p > 5` typed, then a backspace: `p >` cannot be read, so `p>5` stays applied.
fn unreadable_filter(app: &mut App) {
    typing_room_filter(app, "p > 5");
    key(app, KeyCode::Backspace);
}

#[test]
fn rooms_with_an_unreadable_filter_being_typed() {
    check("rooms_filter_problem", &|app| {
        unreadable_filter(app);
        assert!(app.rooms.filter_problem.is_some());
    });
    let applied = app_at(160, 48, &|app| typing_room_filter(app, "p>5"));
    let app = app_at(160, 48, &unreadable_filter);
    assert_eq!(
        app.server().unwrap().room_order,
        applied.server().unwrap().room_order,
        "the table keeps the last filter that could be read"
    );
    // The problem is drawn in the theme's error style.
    let terminal = draw(&app, 160, 48);
    let buffer = terminal.backend().buffer();
    let problem = "p>: a number must follow >";
    let (x, y) = (0..buffer.area.height)
        .find_map(|y| {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            let start = row.find(problem)?;
            Some((u16::try_from(row[..start].chars().count()).unwrap(), y))
        })
        .expect("the problem is on screen");
    assert_eq!(buffer[(x, y)].fg, Color::Red, "error style");
    assert_eq!(buffer[(x + 4, y)].fg, Color::Red, "error style");

    // Kept with enter, the title still says the text is not what applies.
    let kept = app_at(160, 48, &|app| {
        unreadable_filter(app);
        key(app, KeyCode::Enter);
    });
    let screen = format!("{:?}", draw(&kept, 160, 48).backend());
    assert!(
        screen.contains("(p>: a number must follow >; the last valid filter applies)"),
        "{screen}"
    );
}

#[test]
fn whole_sids_in_the_room_detail() {
    // The first room's rows: its recording, then its first participant (an agent), then
    // that participant's first track.
    let app = app_at(80, 24, &|app| {
        from_rooms(app, KeyAction::Open);
        press(app, KeyAction::Down);
        press(app, KeyAction::Down);
    });
    // A whole sid in its column, and the selected track's identity and sids in full.
    assert_shows(
        &app,
        (80, 24),
        &[
            "TR_A000000kQ7xZ ",
            "ada-100 · track TR_A000000kQ7xZ (microphone) · audio/opus",
        ],
    );
    let app = app_at(160, 48, &|app| {
        from_rooms(app, KeyAction::Open);
    });
    assert_shows(
        &app,
        (160, 48),
        &[
            "⏺ egress room composite",
            "EG_rec0Wm3Zt8 · room composite to file · active · started",
            "[agent] Ada",
        ],
    );
}

#[test]
fn a_closed_connection_says_why() {
    let app = app_at(160, 48, &|app| {
        engine(
            app,
            1,
            EventKind::Pool {
                event: PoolEvent::StateChanged {
                    server: "eu-west".into(),
                    change: StateChange {
                        connection: ConnectionId(5),
                        from: ConnectionState::Connected,
                        to: ConnectionState::Disconnected,
                        cause: "idle for 1m above pool_size".into(),
                        attempt: None,
                        next_retry_in: None,
                    },
                },
            },
        );
        press(app, KeyAction::ShowConnections);
    });
    assert_shows(
        &app,
        (160, 48),
        &["conn-5 closed 0s ago: idle for 1m above pool_size"],
    );
}

/// Sixty more log entries, one a second after the fixture's now.
fn busy_log(app: &mut App) {
    for i in 0..60_i64 {
        let event = EngineEvent {
            at_ms: NOW_MS + (i + 1) * 1000,
            kind: EventKind::RoomChanges {
                server: "eu-west".to_owned(),
                changes: vec![RoomChange::RoomStarted {
                    room: format!("burst-{i:02}"),
                }],
            },
        };
        let _ = update(app, Action::Engine(Box::new(event)));
    }
    let _ = update(
        app,
        Action::Tick {
            now_ms: NOW_MS + 61_000,
        },
    );
}

/// A reading with the first node's metrics endpoint refusing, and the API's counts drifting
/// from the nodes'.
fn media_trouble(app: &mut App) {
    let mut nodes = eu_west_nodes(22);
    // Its metrics gone, the first node is known from the registry only.
    nodes[0] = lktop::nodes::NodeHealth {
        node_id: nodes[0].node_id.clone(),
        state: nodes[0].state.clone(),
        region: nodes[0].region.clone(),
        cpu_load: nodes[0].cpu_load,
        registry_updated_at_ms: nodes[0].registry_updated_at_ms,
        sources: vec![lktop::nodes::NodeSource::Redis],
        ..lktop::nodes::NodeHealth::default()
    };
    engine(
        app,
        0,
        EventKind::NodeHealth {
            server: "eu-west".into(),
            nodes,
            sources: eu_west_sources(true),
        },
    );
    engine(
        app,
        0,
        EventKind::NodeCountDrift {
            server: "eu-west".into(),
            drift: Some(lktop::nodes::CountDrift {
                api_rooms: 40,
                node_rooms: 27,
                api_participants: 225,
                node_participants: 171,
                for_ms: 45_000,
            }),
        },
    );
}

/// Feeds `kind` at `NOW_MS + secs`.
fn engine(app: &mut App, secs: i64, kind: EventKind) {
    let event = EngineEvent {
        at_ms: NOW_MS + secs * 1000,
        kind,
    };
    let _ = update(app, Action::Engine(Box::new(event)));
}

/// Three minutes of an incident on eu-west after the fixture's now: a demo restart takes the
/// server down, polls fail, ten connections reconnect, the grade drops, a room goes over its
/// limit and is enforced, the server comes back and a reload changes the polling.
#[expect(clippy::too_many_lines, reason = "test data: one event after another")]
fn incident(app: &mut App) {
    let server = || "eu-west".to_owned();
    engine(
        app,
        1,
        EventKind::SandboxFault {
            id: 3,
            origin: FaultOrigin::Key,
            phase: FaultPhase::Began,
            description: "server restart, down 5 s, rooms kept".into(),
            detail: None,
        },
    );
    engine(
        app,
        2,
        EventKind::ServerState {
            server: server(),
            state: ServerState::Down,
            cause: Some("ListRooms: connection refused (http://127.0.0.1:7880)".into()),
            down_for_ms: None,
        },
    );
    for poll in 0..30 {
        engine(
            app,
            2 + poll * 2,
            EventKind::PollFailed {
                server: server(),
                error: "ListRooms: connection refused (os error 111)".into(),
            },
        );
        if poll == 19 {
            engine(
                app,
                2 + poll * 2,
                EventKind::Quality {
                    server: server(),
                    report: QualityReport {
                        samples: 300,
                        failures: 24,
                        success_rate: Some(0.92),
                        p50: Some(Duration::from_millis(120)),
                        p95: Some(Duration::from_millis(487)),
                        p99: None,
                        mean: None,
                        std_dev: None,
                        jitter: None,
                        raw_score: None,
                        score: Some(QualityScore::new(0.23)),
                        grade: Some(Grade::Poor),
                    },
                    checkout: lktop::events::CheckoutReport::default(),
                },
            );
        }
        if poll < 10 {
            engine(
                app,
                2 + poll * 2,
                EventKind::Pool {
                    event: PoolEvent::StateChanged {
                        server: server(),
                        change: StateChange {
                            connection: ConnectionId(u64::try_from(poll).unwrap() + 1),
                            from: ConnectionState::Connected,
                            to: ConnectionState::Reconnecting,
                            cause: "connection refused".into(),
                            attempt: Some(3),
                            next_retry_in: Some(Duration::from_secs(2)),
                        },
                    },
                },
            );
        }
    }
    engine(
        app,
        63,
        EventKind::ServerState {
            server: server(),
            state: ServerState::Up,
            cause: None,
            down_for_ms: Some(61_000),
        },
    );
    engine(
        app,
        63,
        EventKind::SandboxFault {
            id: 3,
            origin: FaultOrigin::Key,
            phase: FaultPhase::Ended,
            description: "server restart, down 5 s, rooms kept".into(),
            detail: Some("restarted, back after 61 s".into()),
        },
    );
    // The fixture's violations go on; town-hall's starts, grows and ends.
    let before = app.live.servers[0].violations.clone();
    let with_town_hall = |actual| {
        let mut violations = before.clone();
        violations.push(Violation {
            kind: LimitKind::Participants,
            room: Some("town-hall".into()),
            limit: 10,
            actual,
            since_ms: None,
        });
        violations
    };
    engine(
        app,
        70,
        EventKind::Violations {
            server: server(),
            violations: with_town_hall(12),
        },
    );
    engine(
        app,
        72,
        EventKind::Violations {
            server: server(),
            violations: with_town_hall(13),
        },
    );
    for (i, identity) in ["bob", "carol", "bob", "bob"].iter().enumerate() {
        engine(
            app,
            74 + i64::try_from(i).unwrap() * 2,
            EventKind::Enforced {
                server: server(),
                action: Enforcement::RemoveParticipant {
                    room: "town-hall".into(),
                    identity: (*identity).into(),
                    reason: "13 participants over the limit of 10".into(),
                },
                outcome: Outcome::Done {
                    detail: "removed".into(),
                },
            },
        );
    }
    engine(
        app,
        84,
        EventKind::EnforcementHeld {
            server: server(),
            action: Enforcement::RemoveParticipant {
                room: "town-hall".into(),
                identity: "bob".into(),
                reason: "11 participants over the limit of 10".into(),
            },
            removals: 3,
            until_ms: NOW_MS + 204_000,
        },
    );
    let joined = |room: &str, who: &str| RoomChange::ParticipantJoined {
        room: room.into(),
        identity: who.into(),
    };
    engine(
        app,
        86,
        EventKind::RoomChanges {
            server: server(),
            changes: vec![
                joined("town-hall", "dave"),
                joined("town-hall", "erin"),
                RoomChange::ParticipantLeft {
                    room: "town-hall".into(),
                    identity: "carol".into(),
                },
                joined("standup", "frank"),
            ],
        },
    );
    engine(
        app,
        90,
        EventKind::Violations {
            server: server(),
            violations: before,
        },
    );
    engine(
        app,
        120,
        EventKind::ConfigApplied {
            source: "config/performance.yaml".into(),
            settings: lktop::events::LiveSettings {
                limits: dashboard_fixture::limits(),
                poll_interval_ms: 5000,
                poll_budget_per_second: 50,
                ..lktop::events::LiveSettings::default()
            },
            changes: vec![
                "polling.interval: 2s → 5s".into(),
                "connection_pool.pool_size: 5 → 8".into(),
            ],
            limits_replaced: None,
            needs_restart: vec!["connection_pool".into()],
        },
    );
    let _ = update(
        app,
        Action::Tick {
            now_ms: NOW_MS + 121_000,
        },
    );
}

#[test]
fn the_selected_event_is_highlighted() {
    let app = app_at(80, 24, &|app| {
        press(app, KeyAction::ShowEvents);
        press(app, KeyAction::Up);
    });
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let selected = lktop::tui::theme::Theme::new(false)
        .selected()
        .bg
        .expect("the selection has a background");
    // The list's rows are 3..=21; the fixture's 19 entries fill them from the top, the newest
    // on 21.
    let highlighted: Vec<u16> = (3..=21)
        .filter(|&y| buffer[(40, y)].bg == selected)
        .collect();
    assert_eq!(highlighted, [20], "the entry before the newest");
}

/// eu-west stopped answering just after the fixture's last poll, 72 s ago now: its polls
/// fail, its figures are from before.
fn outage(app: &mut App) {
    engine(
        app,
        1,
        EventKind::PollFailed {
            server: "eu-west".into(),
            error: "ListRooms: connection refused (http://eu-west.example.com:7880)".into(),
        },
    );
    engine(
        app,
        1,
        EventKind::ServerState {
            server: "eu-west".into(),
            state: ServerState::Down,
            cause: Some("ListRooms: connection refused (http://eu-west.example.com:7880)".into()),
            down_for_ms: None,
        },
    );
    let _ = update(
        app,
        Action::Tick {
            now_ms: NOW_MS + 73_000,
        },
    );
}

#[test]
fn a_server_that_went_down_shows_its_figures_as_old() {
    check("outage_overview", &outage);
    check("outage_rooms", &|app| {
        outage(app);
        rooms(app);
    });
    check("outage_room_detail", &|app| {
        outage(app);
        from_rooms(app, KeyAction::Open);
    });
    // Snapshots hold text only: the figures' dimming is checked on the cells. eu-west's
    // participant count (225) is dimmed while it is down, and not before.
    let dimmed = |setup: &dyn Fn(&mut App)| {
        let app = app_at(160, 48, setup);
        let terminal = draw(&app, 160, 48);
        let buffer = terminal.backend().buffer();
        let row: u16 = 4;
        let line: String = (0..160).map(|x| buffer[(x, row)].symbol()).collect();
        let column = line.find("225").expect("eu-west's participants in its row");
        let column = u16::try_from(line[..column].chars().count()).unwrap();
        buffer[(column, row)]
            .modifier
            .contains(ratatui::style::Modifier::DIM)
    };
    // The nodes' figures are as old as their last reading, and say so.
    let nodes_after_outage = app_at(160, 48, &|app| {
        outage(app);
        press(app, KeyAction::ShowNodes);
    });
    assert_shows(
        &nodes_after_outage,
        (160, 48),
        &["· eu-west as of 15:59:59, 1m14s ago"],
    );
    assert!(!dimmed(&|_| {}), "current figures are drawn plainly");
    assert!(dimmed(&outage), "a down server's figures are dimmed");
}

#[test]
fn replay_header() {
    // Three minutes into a recording, at twice its speed.
    let replay = |paused| Mode::Replay {
        file: "incident-2025-11-24.ndjson".to_owned(),
        speed: 2.0,
        paused,
        at_ms: NOW_MS - 1_000,
        started_at_ms: NOW_MS - 193_000,
        finished: false,
    };
    check("replay", &|app| app.mode = replay(true));
    // On the rooms screen of a replay the footer offers no key that would change a server.
    check("replay_rooms", &|app| {
        app.mode = replay(false);
        rooms(app);
    });
}

/// Live against the built-in sandbox.
fn demo() -> Mode {
    Mode::Live {
        sandbox: Some("http://127.0.0.1:7880".to_owned()),
    }
}

#[test]
fn monochrome_rooms() {
    let monochrome_rooms = |app: &mut App| {
        app.monochrome = true;
        rooms(app);
    };
    check("monochrome_rooms", &monochrome_rooms);
    for (width, height) in SIZES {
        let app = app_at(width, height, &monochrome_rooms);
        let terminal = draw(&app, width, height);
        let colored = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
            .count();
        assert_eq!(colored, 0, "NO_COLOR: no cell may have a colour");
    }
}

#[test]
fn too_small() {
    let app = sample_app(ROOMS, 59, 19);
    insta::assert_snapshot!("too_small_59x19", draw(&app, 59, 19).backend());
}

/// Every screen and popup, by number, for the property test.
fn setup(case: u8, app: &mut App) {
    match case {
        0 => {}
        1 => press(app, KeyAction::ShowConnections),
        2 => rooms(app),
        3 => typing_room_filter(app, "a>1"),
        4 => from_rooms(app, KeyAction::Open),
        5 => {
            incident(app);
            typing_event_filter(app, "level:w");
        }
        6 => press(app, KeyAction::Help),
        7 => press(app, KeyAction::EditLimits),
        8 => {
            from_rooms(app, KeyAction::RoomLimits);
            type_text(app, "99999999999");
        }
        9 => {
            from_rooms(app, KeyAction::AudioProfile);
        }
        10 => {
            from_rooms(app, KeyAction::DeleteRoom);
        }
        11 => {
            from_rooms(app, KeyAction::CreateRoom);
            type_text(app, &"x".repeat(300));
        }
        12 => {
            press(app, KeyAction::Freeze);
            app.polling_paused = true;
            app.mode = Mode::Replay {
                file: "a-very-long-recording-file-name.ndjson".to_owned(),
                speed: 0.25,
                paused: false,
                at_ms: NOW_MS,
                started_at_ms: NOW_MS - 7_300_000,
                finished: true,
            };
        }
        14 => {
            incident(app);
            press(app, KeyAction::ShowEvents);
            press(app, KeyAction::Open);
            press_times(app, KeyAction::Down, 5);
        }
        16 => {
            media_trouble(app);
            press(app, KeyAction::ShowNodes);
        }
        17 => {
            press(app, KeyAction::ShowNodes);
            press(app, KeyAction::Open);
        }
        13 => {
            app.mode = demo();
            app.monochrome = true;
            press(app, KeyAction::NextServer);
            rooms(app);
        }
        _ => {
            from_rooms(app, KeyAction::Open);
            press_times(app, KeyAction::Down, 40);
            press(app, KeyAction::Help);
            key_times(app, KeyCode::PageDown, 100);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_screen_draws_at_any_size(case in 0_u8..18, width in 1_u16..=220, height in 1_u16..=70) {
        // Set up at a size where keys work (below the minimum they do nothing), then resized.
        let mut app = sample_app(12, 160, 48);
        let _ = update(&mut app, Action::Resize { width: 160, height: 48 });
        setup(case, &mut app);
        let _ = update(&mut app, Action::Resize { width, height });
        let _ = draw(&app, width, height);
    }
}
