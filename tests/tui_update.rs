//! `update()` for every action: key actions from the key map, popups, mouse, paste, resize,
//! the heartbeat, engine events and the event loop's feedback. No terminal, no engine, no
//! clock: state in, state and effects out.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use lktop::config::{EnforcementMode, RoomLimitsConfig};
use lktop::events::{Command, EngineEvent, EventKind, Outcome};
use lktop::limits::{LimitKind, Violation};
use lktop::nodes::{NodeHealth, NodeSource};
use lktop::poller::PollStats;
use lktop::pool::{ConnectionInfo, PoolEvent, PoolStatus};
use lktop::reconnect::{ConnectionId, ConnectionState, StateChange};
use lktop::rooms_update::RoomsUpdate;
use lktop::snapshot::{
    ParticipantSummary, RoomSummary, Snapshot, TrackCounts, TrackKind, TrackSummary,
};
use lktop::tui::keys::{KeyAction, Keymap};
use lktop::tui::log::LogEntry;
use lktop::tui::nodes_table::NodeSort;
use lktop::tui::popup::{LimitsScope, Popup};
use lktop::tui::{Action, App, DemoFault, Effect, Mode, ReplayControl, Screen, update};

const NOW: i64 = 1_764_000_000_000;

fn event(kind: EventKind) -> Action {
    Action::Engine(Box::new(EngineEvent { at_ms: NOW, kind }))
}

fn connection(id: u64, state: ConnectionState, answered: u64, total_ms: u64) -> ConnectionInfo {
    ConnectionInfo {
        id: ConnectionId(id),
        state,
        in_use: false,
        checking: false,
        created_at: UNIX_EPOCH + Duration::from_millis(u64::try_from(NOW).unwrap() - 60_000),
        last_used: Some(SystemTime::UNIX_EPOCH),
        total_requests: answered,
        failed_requests: 0,
        current_latency: Some(Duration::from_millis(2)),
        average_latency: Some(Duration::from_millis(2)),
        answered_requests: answered,
        answered_latency_total: Duration::from_millis(total_ms),
        reconnect_attempts: 0,
        last_error: None,
        quality_score: None,
    }
}

fn status(server: &str, connections: Vec<ConnectionInfo>) -> PoolStatus {
    PoolStatus {
        server: server.into(),
        total: connections.len(),
        in_use: 0,
        healthy: connections
            .iter()
            .filter(|c| c.state == ConnectionState::Connected)
            .count(),
        failed: 0,
        waiters: 0,
        max: 10,
        unauthenticated: None,
        events_dropped: 0,
        connections,
    }
}

/// A pool status of the server `main` with these connections.
fn pool_status(connections: Vec<ConnectionInfo>) -> Action {
    event(EventKind::PoolStatus {
        status: status("main", connections),
        requests: None,
    })
}

fn track(sid: &str, kind: TrackKind, muted: bool) -> TrackSummary {
    TrackSummary {
        sid: sid.into(),
        kind,
        source: "microphone".into(),
        name: String::new(),
        muted,
        mime_type: "audio/opus".into(),
        simulcast: false,
        layers: Vec::new(),
        encryption: None,
    }
}

fn room(name: &str, participants: u32) -> RoomSummary {
    let list: Vec<ParticipantSummary> = (0..participants)
        .map(|i| ParticipantSummary {
            identity: format!("{name}-user-{i}"),
            sid: format!("PA_{name}_{i}"),
            name: String::new(),
            joined_at_ms: NOW - 1000,
            state: "active".into(),
            tracks: vec![track(
                &format!("TR_{name}_{i}"),
                TrackKind::Audio,
                i % 2 == 1,
            )],
            kind: lktop::snapshot::ParticipantKind::Standard,
            region: String::new(),
            client_protocol: 0,
            permission: None,
            attributes: std::collections::BTreeMap::new(),
        })
        .collect();
    RoomSummary {
        name: name.into(),
        sid: format!("RM_{name}"),
        created_at: NOW / 1000 - 600,
        max_participants: 0,
        metadata: String::new(),
        num_participants: participants,
        num_publishers: participants,
        tracks: TrackCounts {
            audio: participants,
            audio_muted: participants / 2,
            video: 0,
            video_muted: 0,
        },
        participants: Some(list),
    }
}

fn snapshot(server: &str, rooms: &[(&str, u32)]) -> Action {
    let rooms: BTreeMap<String, Arc<RoomSummary>> = rooms
        .iter()
        .map(|(name, participants)| ((*name).to_owned(), Arc::new(room(name, *participants))))
        .collect();
    event(EventKind::Rooms {
        update: RoomsUpdate::full(
            &Snapshot {
                server: server.into(),
                taken_at_ms: NOW,
                rooms,
                participants_read_at_ms: BTreeMap::new(),
            }
            .with_every_room_read(),
        ),
        stats: PollStats {
            rooms: 0,
            participant_calls: 0,
            unread_rooms: 0,
            failed_rooms: Vec::new(),
            took: Duration::from_millis(5),
        },
    })
}

fn started(servers: &[&str]) -> Action {
    event(EventKind::Started {
        servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        sandbox: None,
        webhooks: None,
        node_sources: std::collections::BTreeMap::new(),
        settings: lktop::events::LiveSettings {
            poll_interval_ms: 2000,
            poll_budget_per_second: 50,
            ..lktop::events::LiveSettings::default()
        },
    })
}

/// A live app watching one server with three rooms (`alpha` 2, `bravo` 60 — over the
/// default 50 —, `charlie` 0), 80x24.
fn app_with(mode: Mode) -> App {
    let mut app = App::new(mode, Keymap::default(), RoomLimitsConfig::default(), NOW);
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    update(&mut app, started(&["main"]));
    update(
        &mut app,
        pool_status(vec![
            connection(1, ConnectionState::Connected, 10, 20),
            connection(2, ConnectionState::Connected, 5, 10),
        ]),
    );
    update(
        &mut app,
        snapshot("main", &[("alpha", 2), ("bravo", 60), ("charlie", 0)]),
    );
    update(
        &mut app,
        event(EventKind::Violations {
            server: "main".into(),
            violations: vec![Violation {
                kind: LimitKind::Participants,
                room: Some("bravo".into()),
                limit: 50,
                actual: 60,
                since_ms: None,
            }],
        }),
    );
    app
}

fn live() -> App {
    app_with(Mode::Live { sandbox: None })
}

/// The live dashboard on its rooms table.
fn on_rooms() -> App {
    let mut app = live();
    act(&mut app, KeyAction::ShowRooms);
    app
}

/// The live dashboard on its rooms table, `bravo` (the second room) selected.
fn on_bravo() -> App {
    let mut app = on_rooms();
    act(&mut app, KeyAction::Down);
    app
}

fn demo() -> App {
    app_with(Mode::Live {
        sandbox: Some("http://127.0.0.1:7880".into()),
    })
}

fn replay() -> App {
    app_with(Mode::Replay {
        file: "r.ndjson".into(),
        speed: 1.0,
        paused: false,
        at_ms: 0,
        started_at_ms: 0,
        finished: false,
    })
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, key(code))
}

fn char_key(c: char) -> KeyCode {
    KeyCode::Char(c)
}

/// Presses the first key the default map binds to `action`.
fn act(app: &mut App, action: KeyAction) -> Vec<Effect> {
    let spec = app.keymap.keys(action)[0];
    update(
        app,
        Action::Key(KeyEvent::new(spec.code(), spec.modifiers())),
    )
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, char_key(c));
    }
}

fn last_log(app: &App) -> String {
    app.log
        .up_to(u64::MAX)
        .last()
        .map(LogEntry::text)
        .unwrap_or_default()
}

#[test]
fn every_key_action_has_a_default_key_and_is_handled_on_every_screen() {
    for action in KeyAction::ALL {
        assert!(
            !Keymap::default().keys(action).is_empty(),
            "{action} has no key"
        );
        for screen in [
            Screen::Overview,
            Screen::Connections,
            Screen::Rooms,
            Screen::Events,
            Screen::History,
            Screen::Nodes,
            Screen::NodeDetail,
        ] {
            let mut app = demo();
            app.screen = screen;
            let _ = act(&mut app, action);
        }
    }
}

#[test]
fn quit_asks_the_loop_to_stop() {
    let mut app = live();
    assert_eq!(act(&mut app, KeyAction::Quit), vec![Effect::Quit]);
    assert!(app.should_quit);
}

#[test]
fn help_opens_and_any_other_key_closes_it() {
    let mut app = live();
    act(&mut app, KeyAction::Help);
    assert_eq!(app.popup, Some(Popup::Help { scroll: 0 }));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.popup, Some(Popup::Help { scroll: 1 }));
    // q closes help instead of quitting.
    assert!(press(&mut app, char_key('q')).is_empty());
    assert_eq!(app.popup, None);
    assert!(!app.should_quit);
}

#[test]
fn tabs_cycle_both_ways_and_number_keys_jump() {
    let mut app = live();
    act(&mut app, KeyAction::NextTab);
    assert_eq!(app.screen, Screen::Connections);
    act(&mut app, KeyAction::PrevTab);
    act(&mut app, KeyAction::PrevTab);
    assert_eq!(app.screen, Screen::Nodes);
    for (action, screen) in [
        (KeyAction::ShowOverview, Screen::Overview),
        (KeyAction::ShowConnections, Screen::Connections),
        (KeyAction::ShowRooms, Screen::Rooms),
        (KeyAction::ShowEvents, Screen::Events),
        (KeyAction::ShowHistory, Screen::History),
        (KeyAction::ShowNodes, Screen::Nodes),
    ] {
        act(&mut app, action);
        assert_eq!(app.screen, screen);
    }
}

#[test]
fn up_down_page_top_bottom_move_the_rooms_cursor_within_bounds() {
    let mut app = on_rooms();
    assert_eq!(app.selected_room_name(), Some("alpha"));
    act(&mut app, KeyAction::Down);
    assert_eq!(app.selected_room_name(), Some("bravo"));
    act(&mut app, KeyAction::Bottom);
    assert_eq!(app.selected_room_name(), Some("charlie"));
    act(&mut app, KeyAction::Down);
    assert_eq!(app.selected_room_name(), Some("charlie"));
    act(&mut app, KeyAction::Top);
    assert_eq!(app.selected_room_name(), Some("alpha"));
    act(&mut app, KeyAction::Up);
    assert_eq!(app.selected_room_name(), Some("alpha"));
    act(&mut app, KeyAction::PageDown);
    assert_eq!(app.selected_room_name(), Some("charlie"));
    act(&mut app, KeyAction::PageUp);
    assert_eq!(app.selected_room_name(), Some("alpha"));
}

/// The text of the entry selected on the events screen.
fn selected_event(app: &App) -> String {
    let rows = app.events_view.rows(&app.log, app.data().log_seq);
    let window = app.events_view.window(&rows, 10);
    rows[window.selected].text()
}

/// The events screen's rows, oldest first.
fn event_rows(app: &App) -> Vec<String> {
    app.events_view
        .rows(&app.log, app.data().log_seq)
        .iter()
        .map(|entry| entry.text())
        .collect()
}

/// The live dashboard's events screen after `n` rejected configurations.
fn events_after_rejections(n: usize) -> App {
    let mut app = live();
    for action in rejected(n) {
        update(&mut app, action);
    }
    act(&mut app, KeyAction::ShowEvents);
    app
}

fn rejected(n: usize) -> Vec<Action> {
    (0..n)
        .map(|i| {
            event(EventKind::ConfigRejected {
                error: format!("e{i}"),
            })
        })
        .collect()
}

#[test]
fn the_events_screen_selects_back_in_time_and_back_follows_again() {
    let mut app = events_after_rejections(100);
    assert!(app.events_view.is_following());
    assert_eq!(selected_event(&app), "configuration rejected: e99");
    act(&mut app, KeyAction::Up);
    assert_eq!(selected_event(&app), "configuration rejected: e98");
    // New entries do not move the selection off its entry.
    update(
        &mut app,
        event(EventKind::ConfigRejected {
            error: "newer".into(),
        }),
    );
    assert_eq!(selected_event(&app), "configuration rejected: e98");
    // 80x24: the list is 19 rows tall, a page.
    act(&mut app, KeyAction::PageUp);
    assert_eq!(selected_event(&app), "configuration rejected: e79");
    act(&mut app, KeyAction::Back);
    assert!(app.events_view.is_following());
    assert_eq!(selected_event(&app), "configuration rejected: newer");
    act(&mut app, KeyAction::Top);
    act(&mut app, KeyAction::Bottom);
    assert!(app.events_view.is_following());
}

#[test]
fn slash_on_the_events_screen_filters_the_log_as_typed() {
    let mut app = events_after_rejections(12);
    act(&mut app, KeyAction::FilterEvents);
    assert!(app.events_view.is_editing());
    assert!(app.rooms.editing_from.is_none(), "not the rooms filter");
    type_text(&mut app, "e1");
    assert_eq!(
        event_rows(&app),
        [
            "configuration rejected: e1",
            "configuration rejected: e10",
            "configuration rejected: e11"
        ]
    );
    // Keys are text while typing: q does not quit, and the filter narrows at once.
    type_text(&mut app, " q");
    assert!(!app.should_quit);
    assert!(event_rows(&app).is_empty());
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, " level:error");
    press(&mut app, KeyCode::Enter);
    assert!(!app.events_view.is_editing());
    assert_eq!(app.events_view.filter(), "e1 level:error");
    assert_eq!(event_rows(&app).len(), 3);
    // New entries that match are kept, others not.
    update(
        &mut app,
        event(EventKind::ConfigRejected {
            error: "e100".into(),
        }),
    );
    update(
        &mut app,
        event(EventKind::ConfigRejected {
            error: "zzz".into(),
        }),
    );
    assert_eq!(event_rows(&app).len(), 4);
    // Esc clears it.
    act(&mut app, KeyAction::Back);
    assert_eq!(app.events_view.filter(), "");
    assert!(event_rows(&app).len() > 14);
    // Esc while typing clears too; a paste types into the prompt.
    act(&mut app, KeyAction::FilterEvents);
    update(&mut app, Action::Paste("zzz".into()));
    assert_eq!(event_rows(&app), ["configuration rejected: zzz"]);
    press(&mut app, KeyCode::Esc);
    assert!(!app.events_view.is_editing());
    assert_eq!(app.events_view.filter(), "");
}

#[test]
fn the_rooms_screen_keeps_its_own_slash() {
    let mut app = on_rooms();
    press(&mut app, char_key('/'));
    assert!(app.rooms.editing_from.is_some());
    assert!(!app.events_view.is_editing());
}

#[test]
fn enter_opens_the_selected_entry_and_esc_closes_it() {
    let mut app = events_after_rejections(5);
    act(&mut app, KeyAction::Up);
    act(&mut app, KeyAction::Open);
    let detail = app.events_view.detail().expect("the detail view is open");
    let entry = app.log.find(detail.id, app.data().log_seq).unwrap();
    assert_eq!(entry.text(), "configuration rejected: e3");
    // Up and down scroll the text now, not the selection.
    act(&mut app, KeyAction::Up);
    assert_eq!(app.events_view.detail().map(|d| d.id), Some(detail.id));
    act(&mut app, KeyAction::Back);
    assert_eq!(app.events_view.detail(), None);
    assert_eq!(selected_event(&app), "configuration rejected: e3");
}

#[test]
fn a_click_selects_an_event_and_a_second_click_opens_it() {
    let mut app = events_after_rejections(40);
    let click = |row| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // 80x24: tabs on row 1, the list's block from row 2, its first row on row 3.
    update(&mut app, click(3));
    let rows = app.events_view.rows(&app.log, app.data().log_seq);
    let first_shown = rows[rows.len() - 19].text();
    assert_eq!(selected_event(&app), first_shown);
    update(&mut app, click(3));
    assert!(app.events_view.detail().is_some());
}

#[test]
fn a_command_outcome_from_the_engine_shows_in_the_footer() {
    let mut app = live();
    let outcome = |id, outcome| {
        event(EventKind::Command {
            id,
            command: Command::DeleteRoom {
                server: "main".into(),
                room: "bravo".into(),
            },
            outcome,
        })
    };
    update(
        &mut app,
        outcome(
            4,
            Outcome::Done {
                detail: "deleted".into(),
            },
        ),
    );
    let flash = app.flash.clone().expect("a footer message");
    assert_eq!(flash.text, "done · #4 delete room bravo · deleted");
    assert!(!flash.error);
    assert_eq!(last_log(&app), flash.text);
    update(
        &mut app,
        outcome(
            5,
            Outcome::Failed {
                reason: "room not found".into(),
            },
        ),
    );
    let flash = app.flash.clone().unwrap();
    assert_eq!(flash.text, "failed · #5 delete room bravo · room not found");
    assert!(flash.error);
}

#[test]
fn a_frozen_log_keeps_a_repeating_entry_where_it_was() {
    let mut app = live();
    let failed = || {
        event(EventKind::PollFailed {
            server: "main".into(),
            error: "ListRooms: connection refused".into(),
        })
    };
    update(&mut app, failed());
    update(&mut app, failed());
    act(&mut app, KeyAction::ShowEvents);
    act(&mut app, KeyAction::Freeze);
    let frozen = event_rows(&app);
    assert_eq!(
        frozen.last().unwrap(),
        "poll failed ×2 since 16:00:00: ListRooms: connection refused"
    );
    update(&mut app, failed());
    update(&mut app, failed());
    assert_eq!(event_rows(&app), frozen, "the frozen view does not change");
    act(&mut app, KeyAction::Freeze);
    assert_eq!(
        event_rows(&app).last().unwrap(),
        "poll failed ×4 since 16:00:00: ListRooms: connection refused"
    );
    assert_eq!(event_rows(&app).len(), frozen.len());
}

#[test]
fn open_goes_from_overview_to_rooms_to_the_room_and_back_returns() {
    let mut app = live();
    act(&mut app, KeyAction::Open);
    assert_eq!(app.screen, Screen::Rooms);
    act(&mut app, KeyAction::Down);
    act(&mut app, KeyAction::Open);
    assert_eq!(app.screen, Screen::RoomDetail);
    assert_eq!(app.detail_room().map(|r| r.name.as_str()), Some("bravo"));
    act(&mut app, KeyAction::Back);
    assert_eq!(app.screen, Screen::Rooms);
    assert!(app.room_detail.is_none());
}

#[test]
fn freeze_keeps_the_view_while_data_flows_underneath() {
    let mut app = live();
    act(&mut app, KeyAction::Freeze);
    assert!(app.is_frozen());
    update(&mut app, snapshot("main", &[("delta", 1)]));
    assert_eq!(
        app.server().unwrap().room_order,
        ["alpha", "bravo", "charlie"]
    );
    assert_eq!(app.live.servers[0].room_order, ["delta"]);
    act(&mut app, KeyAction::Freeze);
    assert!(!app.is_frozen());
    assert_eq!(app.server().unwrap().room_order, ["delta"]);
}

#[test]
fn pause_polling_sends_the_command_live_and_pauses_a_replay() {
    let mut app = live();
    assert_eq!(
        act(&mut app, KeyAction::PausePolling),
        vec![Effect::Send(Command::SetPolling { paused: true })]
    );
    update(
        &mut app,
        event(EventKind::Command {
            id: 1,
            command: Command::SetPolling { paused: true },
            outcome: Outcome::Done {
                detail: String::new(),
            },
        }),
    );
    assert!(app.polling_paused);
    assert_eq!(
        act(&mut app, KeyAction::PausePolling),
        vec![Effect::Send(Command::SetPolling { paused: false })]
    );

    let mut app = replay();
    assert_eq!(
        act(&mut app, KeyAction::PausePolling),
        vec![Effect::Replay(ReplayControl::Pause)]
    );
    assert_eq!(
        act(&mut app, KeyAction::PausePolling),
        vec![Effect::Replay(ReplayControl::Resume)]
    );
}

#[test]
fn next_server_cycles_and_resets_the_room_cursor() {
    let mut app = live();
    update(&mut app, started(&["main", "backup"]));
    update(&mut app, snapshot("backup", &[("zulu", 1)]));
    act(&mut app, KeyAction::ShowRooms);
    act(&mut app, KeyAction::Down);
    act(&mut app, KeyAction::NextServer);
    assert_eq!(app.server().unwrap().name, "backup");
    assert_eq!(app.selected_room_name(), Some("zulu"));
    act(&mut app, KeyAction::NextServer);
    assert_eq!(app.server().unwrap().name, "main");
}

#[test]
fn edit_limits_validates_live_and_sends_set_limits() {
    let mut app = live();
    act(&mut app, KeyAction::EditLimits);
    assert!(matches!(&app.popup, Some(Popup::Limits(e)) if e.scope == LimitsScope::Global));
    // Concurrent rooms: 10 → 11 with right, then typed 0 is refused live.
    press(&mut app, KeyCode::Right);
    type_text(&mut app, "0");
    let Some(Popup::Limits(editor)) = &app.popup else {
        panic!()
    };
    assert!(!editor.problems().is_empty());
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "an invalid value is not sent"
    );
    press(&mut app, KeyCode::Backspace);
    // Down to participants, type 40; down to enforcement, toggle.
    press(&mut app, KeyCode::Down);
    type_text(&mut app, "40");
    for _ in 0..3 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Right);
    let effects = press(&mut app, KeyCode::Enter);
    let expected = RoomLimitsConfig {
        max_concurrent_rooms: 11,
        max_participants_per_room: 40,
        enforcement: EnforcementMode::Enforce,
        ..RoomLimitsConfig::default()
    };
    assert_eq!(
        effects,
        vec![Effect::Send(Command::SetLimits {
            limits: expected.clone()
        })]
    );
    assert_eq!(app.popup, None);
    // The engine's answer changes the limits shown.
    update(
        &mut app,
        event(EventKind::Command {
            id: 3,
            command: Command::SetLimits {
                limits: expected.clone(),
            },
            outcome: Outcome::Done {
                detail: "ok".into(),
            },
        }),
    );
    assert_eq!(app.live.limits, expected);
    assert!(last_log(&app).starts_with("done · #3 set limits"));
}

#[test]
fn escape_cancels_an_editor_without_sending() {
    let mut app = live();
    act(&mut app, KeyAction::EditLimits);
    press(&mut app, KeyCode::Right);
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.popup, None);
    assert_eq!(app.live.limits, RoomLimitsConfig::default());
}

#[test]
fn retry_now_targets_the_selected_server() {
    let mut app = live();
    assert_eq!(
        act(&mut app, KeyAction::RetryNow),
        vec![Effect::Send(Command::RetryNow {
            server: "main".into()
        })]
    );
}

#[test]
fn filter_narrows_rooms_as_typed_enter_keeps_escape_restores() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::Filter);
    type_text(&mut app, "p>1");
    assert_eq!(app.server().unwrap().room_order, ["alpha", "bravo"]);
    type_text(&mut app, " !");
    assert_eq!(app.server().unwrap().room_order, ["bravo"]);
    // While typing, letters are text, not key bindings (q does not quit).
    type_text(&mut app, " q");
    assert!(!app.should_quit);
    assert!(app.server().unwrap().room_order.is_empty());
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.rooms.filter, "p>1 !");
    act(&mut app, KeyAction::Filter);
    type_text(&mut app, "zzz");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.rooms.filter, "p>1 !");
    // Back on the rooms screen clears the filter.
    act(&mut app, KeyAction::Back);
    assert_eq!(app.server().unwrap().room_order.len(), 3);
}

#[test]
fn sort_cycles_columns_and_reverse_flips_the_order() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::Sort);
    assert_eq!(
        app.server().unwrap().room_order,
        ["bravo", "alpha", "charlie"]
    );
    act(&mut app, KeyAction::ReverseSort);
    assert_eq!(
        app.server().unwrap().room_order,
        ["charlie", "alpha", "bravo"]
    );
}

#[test]
fn create_room_prompts_for_a_valid_name() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::CreateRoom);
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "an empty name is not sent"
    );
    type_text(&mut app, "standup");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Effect::Send(Command::CreateRoom {
            server: "main".into(),
            room: "standup".into()
        })]
    );
}

#[test]
fn delete_room_asks_first_and_no_cancels() {
    let mut app = on_bravo();
    act(&mut app, KeyAction::DeleteRoom);
    let Some(Popup::Confirm(confirm)) = &app.popup else {
        panic!("{:?}", app.popup)
    };
    assert!(confirm.message.contains("bravo") && confirm.message.contains("60 participants"));
    assert!(press(&mut app, char_key('n')).is_empty());
    assert_eq!(app.popup, None);
    act(&mut app, KeyAction::DeleteRoom);
    assert_eq!(
        press(&mut app, char_key('y')),
        vec![Effect::Send(Command::DeleteRoom {
            server: "main".into(),
            room: "bravo".into()
        })]
    );
}

#[test]
fn room_limits_edit_only_that_rooms_override() {
    let mut app = on_bravo();
    act(&mut app, KeyAction::RoomLimits);
    type_text(&mut app, "70");
    let effects = press(&mut app, KeyCode::Enter);
    let Some(Effect::Send(Command::SetLimits { limits })) = effects.first() else {
        panic!("{effects:?}")
    };
    assert_eq!(limits.overrides["bravo"].max_participants, Some(70));
    assert_eq!(limits.overrides["bravo"].max_audio_tracks, None);
    assert_eq!(limits.max_participants_per_room, 50);
}

#[test]
fn audio_profile_starts_from_the_default_and_d_writes_the_default() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::AudioProfile);
    press(&mut app, KeyCode::Right); // target latency 50 → 55
    let effects = press(&mut app, KeyCode::Enter);
    let Some(Effect::Send(Command::ApplyAudioProfile {
        room,
        profile: Some(profile),
        ..
    })) = effects.first()
    else {
        panic!("{effects:?}")
    };
    assert_eq!((room.as_str(), profile.target_latency_ms), ("alpha", 55));
    act(&mut app, KeyAction::AudioProfile);
    assert_eq!(
        press(&mut app, char_key('d')),
        vec![Effect::Send(Command::ApplyAudioProfile {
            server: "main".into(),
            room: "alpha".into(),
            profile: None
        })]
    );
}

#[test]
fn remove_participant_and_mute_work_on_the_selected_row_of_the_room() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::Open); // alpha: user-0 (track live), user-1 (track muted)
    act(&mut app, KeyAction::ToggleMute);
    assert!(
        app.flash.as_ref().unwrap().error,
        "a participant row has no track to mute"
    );
    act(&mut app, KeyAction::Down); // user-0's track
    assert_eq!(
        act(&mut app, KeyAction::ToggleMute),
        vec![Effect::Send(Command::MuteTrack {
            server: "main".into(),
            room: "alpha".into(),
            identity: "alpha-user-0".into(),
            track_sid: "TR_alpha_0".into(),
            muted: true
        })]
    );
    act(&mut app, KeyAction::Bottom); // user-1's muted track: unmute
    let effects = act(&mut app, KeyAction::ToggleMute);
    assert!(matches!(
        &effects[..],
        [Effect::Send(Command::MuteTrack { muted: false, .. })]
    ));
    act(&mut app, KeyAction::RemoveParticipant);
    assert!(matches!(app.popup, Some(Popup::Confirm(_))));
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Effect::Send(Command::RemoveParticipant {
            server: "main".into(),
            room: "alpha".into(),
            identity: "alpha-user-1".into()
        })]
    );
}

#[test]
fn demo_fault_keys_work_only_on_the_built_in_sandbox() {
    for (action, fault) in [
        (KeyAction::FaultLatency, DemoFault::LatencySpike),
        (KeyAction::FaultErrors, DemoFault::ErrorBurst),
        (KeyAction::FaultRestart, DemoFault::Restart),
        (KeyAction::FaultClear, DemoFault::Clear),
    ] {
        assert_eq!(act(&mut demo(), action), vec![Effect::Fault(fault)]);
        assert!(
            act(&mut live(), action).is_empty(),
            "{action} outside the demo"
        );
    }
}

#[test]
fn a_replay_refuses_every_change() {
    for action in [
        KeyAction::EditLimits,
        KeyAction::RetryNow,
        KeyAction::CreateRoom,
        KeyAction::DeleteRoom,
        KeyAction::RoomLimits,
        KeyAction::AudioProfile,
    ] {
        let mut app = replay();
        act(&mut app, KeyAction::ShowRooms);
        assert!(act(&mut app, action).is_empty(), "{action}");
        assert_eq!(app.popup, None, "{action}");
        assert!(
            app.flash
                .as_ref()
                .is_some_and(|f| f.text.contains("read-only"))
        );
    }
}

#[test]
fn replay_keys_change_the_speed_within_the_players_range_and_skip_ahead() {
    let mut app = replay();
    assert_eq!(
        act(&mut app, KeyAction::ReplayFaster),
        vec![Effect::Replay(ReplayControl::SetSpeed(2.0))]
    );
    assert_eq!(
        act(&mut app, KeyAction::ReplaySlower),
        vec![Effect::Replay(ReplayControl::SetSpeed(1.0))]
    );
    for _ in 0..4 {
        assert_eq!(act(&mut app, KeyAction::ReplaySlower).len(), 1);
    }
    assert_eq!(
        app.mode,
        Mode::Replay {
            file: "r.ndjson".into(),
            speed: 1.0 / 16.0,
            paused: false,
            at_ms: NOW,
            started_at_ms: NOW,
            finished: false,
        },
        "the header shows the speed"
    );
    assert!(act(&mut app, KeyAction::ReplaySlower).is_empty());
    assert!(app.flash.as_ref().unwrap().text.contains("slowest"));
    let mut faster = Vec::new();
    while let [effect] = act(&mut app, KeyAction::ReplayFaster).as_slice() {
        faster.push(effect.clone());
    }
    assert_eq!(
        faster.last(),
        Some(&Effect::Replay(ReplayControl::SetSpeed(1000.0))),
        "capped at the player's fastest"
    );
    assert!(app.flash.as_ref().unwrap().text.contains("fastest"));
    assert_eq!(
        act(&mut app, KeyAction::ReplaySkip),
        vec![Effect::Replay(ReplayControl::Skip(Duration::from_secs(10)))]
    );
    for action in [
        KeyAction::ReplayFaster,
        KeyAction::ReplaySlower,
        KeyAction::ReplaySkip,
    ] {
        assert!(
            act(&mut live(), action).is_empty(),
            "{action} outside a replay"
        );
        assert!(act(&mut demo(), action).is_empty(), "{action} in the demo");
    }
}

#[test]
fn the_reload_key_asks_the_engine_to_read_the_file_again_except_in_a_replay() {
    assert_eq!(
        act(&mut live(), KeyAction::ReloadConfig),
        vec![Effect::Send(Command::ReloadConfig)]
    );
    let mut app = replay();
    assert!(act(&mut app, KeyAction::ReloadConfig).is_empty());
    assert!(
        app.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("read-only"))
    );
}

#[test]
fn mouse_clicks_tabs_and_rows_wheel_scrolls_second_click_opens() {
    let mut app = live();
    let click = |column, row| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Tab bar is row 1: " 1 Overview │ 2 Connections │ 3 Rooms │ 4 Events "
    update(&mut app, click(30, 1));
    assert_eq!(app.screen, Screen::Rooms);
    // Rooms table: block at row 2, header row 3, first row 4.
    update(&mut app, click(5, 5));
    assert_eq!(app.selected_room_name(), Some("bravo"));
    update(&mut app, click(5, 5));
    assert_eq!(app.screen, Screen::RoomDetail);
    act(&mut app, KeyAction::Back);
    let wheel = |kind| {
        Action::Mouse(MouseEvent {
            kind,
            column: 5,
            row: 6,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(&mut app, wheel(MouseEventKind::ScrollDown));
    assert_eq!(app.selected_room_name(), Some("charlie"));
    update(&mut app, wheel(MouseEventKind::ScrollUp));
    assert_eq!(app.selected_room_name(), Some("alpha"));
}

#[test]
fn paste_types_into_the_open_prompt() {
    let mut app = on_rooms();
    act(&mut app, KeyAction::CreateRoom);
    update(&mut app, Action::Paste("town\nhall".into()));
    let Some(Popup::Input(input)) = &app.popup else {
        panic!()
    };
    assert_eq!(input.value, "townhall");
}

#[test]
fn resize_keeps_the_cursor_on_screen() {
    let mut app = live();
    let names: Vec<(String, u32)> = (0..100).map(|i| (format!("room-{i:03}"), 1)).collect();
    let rooms: Vec<(&str, u32)> = names.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    update(&mut app, snapshot("main", &rooms));
    act(&mut app, KeyAction::ShowRooms);
    act(&mut app, KeyAction::Bottom);
    update(
        &mut app,
        Action::Resize {
            width: 60,
            height: 20,
        },
    );
    assert_eq!((app.width, app.height), (60, 20));
    let cursor = app.rooms.cursor;
    assert_eq!(cursor.selected, 99);
    assert!(cursor.offset <= 99 && 99 < cursor.offset + 20);
}

#[test]
fn the_heartbeat_moves_the_clock_and_expires_messages() {
    let mut app = live();
    act(&mut app, KeyAction::Freeze);
    assert!(app.flash.is_some());
    update(&mut app, Action::Tick { now_ms: NOW + 1000 });
    assert_eq!(app.now_ms, NOW + 1000);
    assert!(app.flash.is_some());
    update(
        &mut app,
        Action::Tick {
            now_ms: NOW + 60_000,
        },
    );
    assert!(app.flash.is_none());
}

#[test]
fn engine_events_fill_connections_histories_countdowns_and_violations() {
    let mut app = live();
    let server = &app.live.servers[0];
    assert_eq!(server.connections.len(), 2);
    assert_eq!(server.violating_rooms["bravo"], [LimitKind::Participants]);
    // Five more answered requests on conn-1 taking 50 ms: one 10 ms sample.
    update(
        &mut app,
        pool_status(vec![
            connection(1, ConnectionState::Connected, 15, 70),
            connection(2, ConnectionState::Reconnecting, 5, 10),
        ]),
    );
    update(
        &mut app,
        event(EventKind::Pool {
            event: PoolEvent::StateChanged {
                server: "main".into(),
                change: StateChange {
                    connection: ConnectionId(2),
                    from: ConnectionState::Connected,
                    to: ConnectionState::Reconnecting,
                    cause: "connection refused".into(),
                    attempt: Some(2),
                    next_retry_in: Some(Duration::from_millis(1500)),
                },
            },
        }),
    );
    let server = &app.live.servers[0];
    let one = &server.connections[&ConnectionId(1)];
    assert_eq!(one.history.latest(), Some(Some(Duration::from_millis(10))));
    let two = &server.connections[&ConnectionId(2)];
    assert_eq!(
        two.history.latest(),
        Some(None),
        "no answer is a gap, not a zero"
    );
    assert_eq!(two.attempt, Some(2));
    assert_eq!(two.retry_in(NOW + 500), Some(Duration::from_secs(1)));
    assert!(last_log(&app).contains("connection refused"));
}

#[test]
fn command_feedback_and_fault_results_are_logged_and_flashed() {
    let mut app = live();
    update(
        &mut app,
        Action::CommandQueued {
            id: 7,
            command: Command::RetryNow {
                server: "main".into(),
            },
        },
    );
    assert_eq!(last_log(&app), "sent · #7 retry main now");
    update(
        &mut app,
        Action::CommandRefused {
            command: Command::ReloadConfig,
            reason: "the engine is shut down".into(),
        },
    );
    assert!(last_log(&app).ends_with("· the engine is shut down"));
    assert!(app.flash.as_ref().unwrap().error);
    update(
        &mut app,
        Action::FaultInjected {
            fault: DemoFault::Restart,
            result: Err("boom".into()),
        },
    );
    assert!(last_log(&app).ends_with("· boom"));
    app.recording = Some("session.ndjson.gz".into());
    update(
        &mut app,
        event(EventKind::RecordingStopped {
            path: "session.ndjson.gz".into(),
            events: 41,
            reason: "disk full".into(),
        }),
    );
    assert!(
        last_log(&app).contains("session.ndjson.gz stopped after 41 events: disk full"),
        "{}",
        last_log(&app)
    );
    assert_eq!(app.recording, None, "the header's REC goes");
}

#[test]
fn replay_progress_problems_and_the_end_are_shown() {
    let mut app = replay();
    update(
        &mut app,
        Action::ReplayProblem {
            line: 12,
            message: "expected value".into(),
        },
    );
    assert_eq!(last_log(&app), "r.ndjson:12: skipped: expected value");
    update(&mut app, Action::ReplayFinished { events: 99 });
    assert!(matches!(
        app.mode,
        Mode::Replay {
            finished: true,
            at_ms: NOW,
            ..
        }
    ));
    assert!(last_log(&app).contains("99 events"));
}

#[test]
fn a_replay_counts_ages_from_the_recording_not_the_wall_clock() {
    let mut app = replay();
    update(
        &mut app,
        Action::Tick {
            now_ms: NOW + 3_600_000,
        },
    );
    assert_eq!(app.clock_ms(), NOW);
    let mut app = live();
    update(
        &mut app,
        Action::Tick {
            now_ms: NOW + 3_600_000,
        },
    );
    assert_eq!(app.clock_ms(), NOW + 3_600_000);
}

/// Folds in a reload's `ConfigApplied` that changes only the key bindings, to `keys`.
fn reload_keys(app: &mut App, keys: &[(&str, &str)]) {
    let applied = event(EventKind::ConfigApplied {
        source: "performance.yaml".into(),
        settings: lktop::events::LiveSettings {
            limits: app.live.limits.clone(),
            audio_default: app.live.audio_default,
            poll_interval_ms: app.poll_interval_ms,
            poll_budget_per_second: 50,
            history_max_rooms: 1000,
            quality: lktop::config::QualityConfig::default(),
            media_limits: app.live.media_limits,
            keys: keys
                .iter()
                .map(|(action, key)| ((*action).to_owned(), lktop::config::KeyList::from(*key)))
                .collect(),
        },
        changes: Vec::new(),
        limits_replaced: None,
        needs_restart: Vec::new(),
    });
    assert!(update(app, applied).is_empty());
}

#[test]
fn reloaded_keys_rebind_the_dashboard_and_keys_that_make_no_key_map_are_refused() {
    let mut app = live();
    let plain_f = key(char_key('f'));
    let ctrl_f = Action::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));

    reload_keys(&mut app, &[("freeze", "ctrl+f")]);
    assert_eq!(last_log(&app), "key bindings reloaded");
    update(&mut app, plain_f.clone());
    assert!(!app.is_frozen(), "f alone no longer freezes");
    update(&mut app, ctrl_f.clone());
    assert!(app.is_frozen(), "ctrl+f freezes");
    update(&mut app, ctrl_f.clone());
    assert!(!app.is_frozen());

    // Two actions on one key, and a misspelt action: refused with the reasons, and the
    // running keys stay.
    let running = app.keymap.clone();
    reload_keys(
        &mut app,
        &[("freeze", "ctrl+f"), ("quit", "ctrl+f"), ("freez", "x")],
    );
    let refusal = last_log(&app);
    assert!(
        refusal.starts_with("key bindings not changed, the running ones stay:"),
        "{refusal}"
    );
    assert!(refusal.contains("keys.freez:"), "{refusal}");
    assert!(
        refusal.contains(r#"keys.freeze: "ctrl+f" is also bound to quit"#),
        "{refusal}"
    );
    let entry = app.log.up_to(u64::MAX).last().unwrap();
    assert_eq!(entry.level, lktop::tui::log::Level::Error);
    assert_eq!(app.keymap, running);
    update(&mut app, ctrl_f.clone());
    assert!(app.is_frozen(), "ctrl+f still freezes");
    assert!(!app.should_quit);
    update(&mut app, ctrl_f);
    assert!(!app.is_frozen());

    // A reload back to the defaults rebinds f.
    reload_keys(&mut app, &[]);
    assert_eq!(last_log(&app), "key bindings reloaded");
    assert_eq!(app.keymap, Keymap::default());
    update(&mut app, plain_f);
    assert!(app.is_frozen());
}

/// The live dashboard on its Nodes screen: `main` reads its nodes from metrics, and has three
/// (`ND_b` 1 % loss, `ND_a` 9 %, `ND_c` unknown); `edge` has no node source.
fn on_nodes() -> App {
    let mut app = live();
    update(
        &mut app,
        event(EventKind::Started {
            servers: vec!["main".into(), "edge".into()],
            sandbox: None,
            webhooks: None,
            node_sources: BTreeMap::from([("main".to_owned(), vec![NodeSource::Metrics])]),
            settings: lktop::events::LiveSettings::default(),
        }),
    );
    let node = |id: &str, loss: Option<f64>| NodeHealth {
        node_id: id.to_owned(),
        state: Some("SERVING".to_owned()),
        packet_loss_pct: loss,
        ..NodeHealth::default()
    };
    update(
        &mut app,
        event(EventKind::NodeHealth {
            server: "main".into(),
            nodes: vec![
                node("ND_b", Some(1.0)),
                node("ND_a", Some(9.0)),
                node("ND_c", None),
            ],
            sources: Vec::new(),
        }),
    );
    act(&mut app, KeyAction::ShowNodes);
    assert_eq!(app.screen, Screen::Nodes);
    app
}

/// The node each row opens, top to bottom (`None` for a server's line); every detail is
/// closed again with back.
fn opened_rows(app: &mut App) -> Vec<Option<String>> {
    act(app, KeyAction::Top);
    let mut opened = Vec::new();
    for row in 0..4 {
        if row > 0 {
            act(app, KeyAction::Down);
        }
        act(app, KeyAction::Open);
        opened.push(app.nodes.detail.as_ref().map(|key| key.node_id.clone()));
        if app.screen == Screen::NodeDetail {
            act(app, KeyAction::Back);
        }
        assert_eq!(app.screen, Screen::Nodes);
        assert!(app.nodes.detail.is_none(), "back closes the detail");
    }
    opened
}

#[test]
fn nodes_sort_by_server_then_node_and_o_cycles_worst_first() {
    let mut app = on_nodes();
    // edge's "not configured" line first (e before m), then main's nodes by id.
    assert_eq!(
        opened_rows(&mut app),
        [
            None,
            Some("ND_a".into()),
            Some("ND_b".into()),
            Some("ND_c".into())
        ]
    );
    while app.nodes.sort != NodeSort::Loss {
        act(&mut app, KeyAction::SortNodes);
    }
    // The most loss first, the unknown last, the server's line after the nodes.
    assert_eq!(
        opened_rows(&mut app),
        [
            Some("ND_a".into()),
            Some("ND_b".into()),
            Some("ND_c".into()),
            None
        ]
    );
    act(&mut app, KeyAction::ReverseNodes);
    assert_eq!(
        opened_rows(&mut app),
        [
            Some("ND_b".into()),
            Some("ND_a".into()),
            Some("ND_c".into()),
            None
        ],
        "reversed, the unknown figure is still last"
    );
}

#[test]
fn enter_opens_the_node_esc_returns_and_the_filter_narrows_the_nodes() {
    let mut app = on_nodes();
    act(&mut app, KeyAction::Down);
    act(&mut app, KeyAction::Open);
    assert_eq!(app.screen, Screen::NodeDetail);
    assert_eq!(
        app.nodes
            .detail
            .as_ref()
            .map(|k| (k.server.as_str(), k.node_id.as_str())),
        Some(("main", "ND_a"))
    );
    // Leaving by the tab key closes the detail too.
    act(&mut app, KeyAction::ShowNodes);
    assert_eq!(
        (app.screen, app.nodes.detail.is_none()),
        (Screen::Nodes, true)
    );

    act(&mut app, KeyAction::FilterNodes);
    type_text(&mut app, "nd_c");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.nodes.filter.text, "nd_c");
    assert_eq!(opened_rows(&mut app)[0], Some("ND_c".into()));
    act(&mut app, KeyAction::Back);
    assert!(
        app.nodes.filter.is_empty(),
        "esc on the table clears the filter"
    );

    act(&mut app, KeyAction::FilterNodes);
    type_text(&mut app, "xyz");
    press(&mut app, KeyCode::Esc);
    assert!(
        app.nodes.filter.is_empty(),
        "esc while typing restores the filter before"
    );
}
