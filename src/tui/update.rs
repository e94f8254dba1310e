//! `update`: the only function that changes the dashboard's state. It reads nothing but its
//! arguments (the time comes in with `Tick` and engine events) and returns what the event loop
//! must do, so every action is unit-tested without a terminal, an engine or a clock.

use std::time::Duration;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use ratatui::layout::Rect;

use crate::events::{Command, EngineEvent, EventKind};
use crate::record::MAX_SPEED;
use crate::signals::Signal;

use super::action::{Action, DemoFault, Effect, ReplayControl};
use super::app::{App, DetailRow, Flash, Mode, RoomDetail, detail_rows};
use super::cursor::Cursor;
use super::keys::KeyAction;
use super::layout;
use super::log::{Level, LogEntry, describe_command, describe_command_outcome};
use super::popup::{AudioEditor, Confirm, LimitsEditor, LimitsScope, Popup, TextInput};
use super::screen::Screen;

/// How long a footer message stays.
const FLASH_MS: i64 = 4000;
/// Rows moved per mouse wheel notch.
const WHEEL_ROWS: isize = 3;
/// How far the skip key jumps ahead in a recording.
const REPLAY_SKIP: Duration = Duration::from_secs(10);
/// The slowest replay the speed keys reach; the fastest is the player's own limit.
const MIN_REPLAY_SPEED: f64 = 1.0 / 16.0;

/// Applies `action` to `app` and returns what the event loop must do.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(app, key),
        Action::Mouse(mouse) => {
            if !app.too_small() {
                on_mouse(app, mouse);
            }
            Vec::new()
        }
        Action::Paste(text) => {
            if !app.too_small() {
                for c in text.chars().filter(|c| !c.is_control()) {
                    let _ = type_char(app, c);
                }
            }
            Vec::new()
        }
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            clamp_cursors(app);
            Vec::new()
        }
        Action::Tick { now_ms } => {
            app.now_ms = now_ms;
            if app
                .flash
                .as_ref()
                .is_some_and(|flash| flash.until_ms <= now_ms)
            {
                app.flash = None;
            }
            Vec::new()
        }
        Action::Engine(event) => {
            flash_outcome(app, &event);
            app.absorb(*event);
            clamp_cursors(app);
            Vec::new()
        }
        Action::CommandQueued { id, command } => {
            let text = format!("sent · #{id} {}", describe_command(&command));
            log(app, Level::Action, &text);
            flash(app, text, false);
            Vec::new()
        }
        Action::CommandRefused { command, reason } => {
            let text = format!("not sent · {} · {reason}", describe_command(&command));
            log(app, Level::Error, &text);
            flash(app, text, true);
            Vec::new()
        }
        Action::FaultInjected { fault, result } => {
            match result {
                // The sandbox's own `sandbox_fault` events put its beginning and end in the
                // log; the outcome goes to the status line only.
                Ok(detail) => flash(
                    app,
                    format!("demo · {} · {detail}", fault.describe()),
                    false,
                ),
                Err(reason) => {
                    let text = format!("failed · demo: {} · {reason}", fault.describe());
                    log(app, Level::Error, &text);
                    flash(app, text, true);
                }
            }
            Vec::new()
        }
        Action::ReplayFinished { events } => {
            if let Mode::Replay { finished, .. } = &mut app.mode {
                *finished = true;
            }
            log(
                app,
                Level::Info,
                &format!("replay finished after {events} events"),
            );
            Vec::new()
        }
        Action::ReplayProblem { line, message } => {
            let file = match &app.mode {
                Mode::Replay { file, .. } => file.clone(),
                Mode::Live { .. } => "recording".to_owned(),
            };
            log(
                app,
                Level::Warn,
                &format!("{file}:{line}: skipped: {message}"),
            );
            Vec::new()
        }
        Action::Signal(signal) => match signal {
            Signal::Suspend => vec![Effect::Suspend],
            Signal::Continue => vec![Effect::Redraw],
            Signal::Interrupt | Signal::Terminate | Signal::Hangup => {
                app.stopped_by = Some(signal);
                app.should_quit = true;
                vec![Effect::Quit]
            }
        },
    }
}

fn log(app: &mut App, level: Level, text: &str) {
    let at = app.clock_ms();
    app.log.push(at, level, None, text.to_owned());
    app.live.log_seq = app.log.seq();
    refresh_events(app);
}

fn flash(app: &mut App, text: String, error: bool) {
    app.flash = Some(Flash {
        text,
        error,
        until_ms: app.now_ms + FLASH_MS,
    });
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // Nothing acts on what cannot be seen: while the terminal is too small for the screens
    // and their popups, only quitting and suspending work.
    if app.too_small() {
        return match app
            .keymap
            .action_for(&key, app.screen.context(), app.mode.watching())
        {
            Some(KeyAction::Quit) => on_key_action(app, KeyAction::Quit),
            Some(KeyAction::Suspend) => vec![Effect::Suspend],
            _ => Vec::new(),
        };
    }
    if app.popup.is_some() {
        return on_popup_key(app, key);
    }
    if app.rooms.editing_from.is_some() && app.screen == Screen::Rooms {
        on_filter_key(app, key);
        return Vec::new();
    }
    if app.events_view.is_editing() && app.screen == Screen::Events {
        on_events_filter_key(app, key);
        return Vec::new();
    }
    match app
        .keymap
        .action_for(&key, app.screen.context(), app.mode.watching())
    {
        Some(action) => on_key_action(app, action),
        None => Vec::new(),
    }
}

/// What a bound key does.
#[expect(
    clippy::too_many_lines,
    reason = "one arm per key action reads best as one table"
)]
fn on_key_action(app: &mut App, action: KeyAction) -> Vec<Effect> {
    match action {
        KeyAction::Quit => {
            app.should_quit = true;
            return vec![Effect::Quit];
        }
        KeyAction::Suspend => return vec![Effect::Suspend],
        KeyAction::Help => app.popup = Some(Popup::Help { scroll: 0 }),
        KeyAction::NextTab => switch_tab(app, 1),
        KeyAction::PrevTab => switch_tab(app, -1),
        KeyAction::ShowOverview => show(app, Screen::Overview),
        KeyAction::ShowConnections => show(app, Screen::Connections),
        KeyAction::ShowRooms => show(app, Screen::Rooms),
        KeyAction::ShowEvents => show(app, Screen::Events),
        KeyAction::Up => move_selection(app, -1),
        KeyAction::Down => move_selection(app, 1),
        KeyAction::PageUp => {
            let page = page_rows(app);
            move_selection(app, -page);
        }
        KeyAction::PageDown => {
            let page = page_rows(app);
            move_selection(app, page);
        }
        KeyAction::Top => move_selection(app, isize::MIN / 2),
        KeyAction::Bottom => move_selection(app, isize::MAX / 2),
        KeyAction::Open => open(app),
        KeyAction::Back => back(app),
        KeyAction::Freeze => {
            if app.frozen.take().is_none() {
                let mut frozen = app.live.clone();
                frozen.at_ms = app.clock_ms();
                app.log.hold(Some(frozen.log_seq));
                app.frozen = Some(Box::new(frozen));
                flash(
                    app,
                    "frozen: data keeps arriving underneath; f to thaw".into(),
                    false,
                );
            } else {
                app.log.hold(None);
                app.reorder_rooms();
                clamp_cursors(app);
            }
        }
        KeyAction::PausePolling => return pause(app),
        KeyAction::NextServer => {
            let count = app.data().servers.len();
            if count > 1 {
                app.selected_server = (app.selected_server + 1) % count;
                app.overview.selected = app.selected_server;
                app.connections = Cursor::default();
                app.rooms.cursor = Cursor::default();
                if app.screen == Screen::RoomDetail {
                    app.screen = Screen::Rooms;
                    app.room_detail = None;
                }
            }
        }
        KeyAction::EditLimits => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            app.popup = Some(Popup::Limits(LimitsEditor::new(
                LimitsScope::Global,
                app.live.limits.clone(),
            )));
        }
        KeyAction::RetryNow => {
            if let Some(server) = selected_server_name(app) {
                return send(app, Command::RetryNow { server });
            }
        }
        KeyAction::ReloadConfig => return send(app, Command::ReloadConfig),
        KeyAction::Filter => {
            app.rooms.editing_from = Some(app.rooms.filter.clone());
        }
        KeyAction::FilterEvents => app.events_view.start_filter(),
        KeyAction::Sort => {
            app.rooms.sort = app.rooms.sort.next();
            app.rooms.descending = app.rooms.sort.default_descending();
            app.reorder_rooms();
        }
        KeyAction::ReverseSort => {
            app.rooms.descending = !app.rooms.descending;
            app.reorder_rooms();
        }
        KeyAction::CreateRoom => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            if let Some(server) = selected_server_name(app) {
                app.popup = Some(Popup::Input(TextInput {
                    title: format!("New room on {server}"),
                    server,
                    value: String::new(),
                }));
            }
        }
        KeyAction::DeleteRoom => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            if let Some((server, room)) = target_room(app) {
                let known = app
                    .server()
                    .and_then(|s| s.snapshot.as_ref())
                    .and_then(|s| s.rooms.get(&room));
                let participants = known.map_or(0, |r| r.num_participants);
                let sid = known.map(|r| format!(" ({})", r.sid)).unwrap_or_default();
                app.popup = Some(Popup::Confirm(Confirm {
                    title: "Delete room".into(),
                    message: format!(
                        "Delete room {room}{sid} on {server}? Its {participants} participant{} \
                         {} disconnected at once and its metadata (the audio profile with it) is \
                         lost; anyone who joins again gets a new, empty room.",
                        if participants == 1 { "" } else { "s" },
                        if participants == 1 { "is" } else { "are" },
                    ),
                    command: Command::DeleteRoom { server, room },
                }));
            }
        }
        KeyAction::RoomLimits => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            if let Some((_, room)) = target_room(app) {
                app.popup = Some(Popup::Limits(LimitsEditor::new(
                    LimitsScope::Room(room),
                    app.live.limits.clone(),
                )));
            }
        }
        KeyAction::AudioProfile => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            if let Some((server, room)) = target_room(app) {
                let metadata = app
                    .server()
                    .and_then(|s| s.snapshot.as_ref())
                    .and_then(|s| s.rooms.get(&room))
                    .map(|r| r.metadata.clone())
                    .unwrap_or_default();
                let default = app.live.audio_default;
                app.popup = Some(Popup::Audio(AudioEditor::new(
                    server, room, &metadata, default,
                )));
            }
        }
        KeyAction::RemoveParticipant => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            if let Some((server, room, identity, _)) = selected_in_detail(app) {
                app.popup = Some(Popup::Confirm(Confirm {
                    title: "Remove participant".into(),
                    message: format!(
                        "Remove {identity} from room {room} on {server}? They are disconnected \
                         at once; their tracks end. A client with a valid token can join again."
                    ),
                    command: Command::RemoveParticipant {
                        server,
                        room,
                        identity,
                    },
                }));
            }
        }
        KeyAction::ToggleMute => {
            if refuse_in_replay(app) {
                return Vec::new();
            }
            match selected_in_detail(app) {
                Some((server, room, identity, Some((track_sid, muted)))) => {
                    return send(
                        app,
                        Command::MuteTrack {
                            server,
                            room,
                            identity,
                            track_sid,
                            muted: !muted,
                        },
                    );
                }
                Some(_) => flash(
                    app,
                    "select a track (the rows under a participant) to mute it".into(),
                    true,
                ),
                None => {}
            }
        }
        KeyAction::FaultLatency => return vec![Effect::Fault(DemoFault::LatencySpike)],
        KeyAction::FaultErrors => return vec![Effect::Fault(DemoFault::ErrorBurst)],
        KeyAction::FaultRestart => return vec![Effect::Fault(DemoFault::Restart)],
        KeyAction::FaultClear => return vec![Effect::Fault(DemoFault::Clear)],
        KeyAction::ReplayFaster => return change_replay_speed(app, 2.0),
        KeyAction::ReplaySlower => return change_replay_speed(app, 0.5),
        KeyAction::ReplaySkip => {
            if app.mode.is_replay() {
                flash(
                    app,
                    format!("skipped {} s ahead", REPLAY_SKIP.as_secs()),
                    false,
                );
                return vec![Effect::Replay(ReplayControl::Skip(REPLAY_SKIP))];
            }
        }
    }
    Vec::new()
}

fn refuse_in_replay(app: &mut App) -> bool {
    if app.mode.is_replay() {
        flash(
            app,
            "replay: read-only, nothing can be changed".into(),
            true,
        );
        return true;
    }
    false
}

fn send(app: &mut App, command: Command) -> Vec<Effect> {
    if refuse_in_replay(app) {
        return Vec::new();
    }
    vec![Effect::Send(command)]
}

fn pause(app: &mut App) -> Vec<Effect> {
    match &mut app.mode {
        Mode::Replay { paused, .. } => {
            *paused = !*paused;
            let control = if *paused {
                ReplayControl::Pause
            } else {
                ReplayControl::Resume
            };
            vec![Effect::Replay(control)]
        }
        Mode::Live { .. } => vec![Effect::Send(Command::SetPolling {
            paused: !app.polling_paused,
        })],
    }
}

/// Multiplies the replay's speed by `factor`, within what the player accepts.
fn change_replay_speed(app: &mut App, factor: f64) -> Vec<Effect> {
    let Mode::Replay { speed, .. } = &mut app.mode else {
        return Vec::new();
    };
    let (at_limit, limit) = if factor > 1.0 {
        (*speed >= MAX_SPEED, "fastest")
    } else {
        (*speed <= MIN_REPLAY_SPEED, "slowest")
    };
    if at_limit {
        flash(app, format!("replay: already at the {limit} speed"), true);
        return Vec::new();
    }
    let changed = (*speed * factor).clamp(MIN_REPLAY_SPEED, MAX_SPEED);
    *speed = changed;
    flash(app, format!("replay speed ×{changed}"), false);
    vec![Effect::Replay(ReplayControl::SetSpeed(changed))]
}

fn selected_server_name(app: &App) -> Option<String> {
    app.server().map(|server| server.name.clone())
}

/// The room an action applies to: the open room on the detail screen, else the selected row
/// of the rooms table.
fn target_room(app: &mut App) -> Option<(String, String)> {
    let server = selected_server_name(app)?;
    let room = match app.screen {
        Screen::RoomDetail => app.room_detail.as_ref().map(|d| d.room.clone()),
        Screen::Rooms => app.selected_room_name().map(str::to_owned),
        _ => None,
    };
    if room.is_none() {
        flash(app, "no room selected".into(), true);
    }
    Some((server, room?))
}

/// On the detail screen: the selected row's participant, and its track (sid, muted) when the
/// row is a track.
type DetailTarget = (String, String, String, Option<(String, bool)>);

fn selected_in_detail(app: &App) -> Option<DetailTarget> {
    if app.screen != Screen::RoomDetail {
        return None;
    }
    let detail = app.room_detail.as_ref()?;
    let room = app.detail_room()?;
    let participants = room.participants.as_ref()?;
    let row = *detail_rows(room).get(detail.cursor.selected)?;
    let (p, track) = match row {
        DetailRow::Participant(p) => (p, None),
        DetailRow::Track(p, t) => (p, Some(t)),
    };
    let participant = participants.get(p)?;
    let track = track
        .and_then(|t| participant.tracks.get(t))
        .map(|t| (t.sid.clone(), t.muted));
    Some((
        app.server()?.name.clone(),
        detail.room.clone(),
        participant.identity.clone(),
        track,
    ))
}

fn show(app: &mut App, screen: Screen) {
    if screen == Screen::Rooms && app.screen == Screen::RoomDetail {
        app.room_detail = None;
    }
    app.screen = screen;
}

fn switch_tab(app: &mut App, delta: isize) {
    let current = app.screen.tab_index();
    let count = Screen::TABS.len();
    let next = (current.cast_signed() + delta).rem_euclid(count.cast_signed());
    show(app, Screen::TABS[next.cast_unsigned()]);
}

fn open(app: &mut App) {
    match app.screen {
        Screen::Overview => {
            app.selected_server = app.overview.selected;
            app.screen = Screen::Rooms;
        }
        Screen::Rooms => {
            if let Some(room) = app.selected_room_name().map(str::to_owned) {
                app.room_detail = Some(RoomDetail {
                    server: app.selected_server,
                    room,
                    cursor: Cursor::default(),
                });
                app.screen = Screen::RoomDetail;
            }
        }
        Screen::Events => {
            let seq = app.data().log_seq;
            app.events_view.open(&app.log, seq);
        }
        Screen::Connections | Screen::RoomDetail => {}
    }
}

fn back(app: &mut App) {
    match app.screen {
        Screen::RoomDetail => {
            app.room_detail = None;
            app.screen = Screen::Rooms;
        }
        Screen::Rooms if !app.rooms.filter.is_empty() => {
            app.rooms.set_filter(String::new());
            app.reorder_rooms();
        }
        Screen::Events => {
            let seq = app.data().log_seq;
            app.events_view.back(&app.log, seq);
        }
        _ => app.flash = None,
    }
}

/// Rows in the current screen's list.
fn list_len(app: &App) -> usize {
    match app.screen {
        Screen::Overview => app.data().servers.len(),
        Screen::Connections => app.server().map_or(0, |s| s.connections.len()),
        Screen::Rooms => app.server().map_or(0, |s| s.room_order.len()),
        Screen::RoomDetail => app.detail_room().map_or(0, |room| detail_rows(room).len()),
        Screen::Events => events_rows(app).len(),
    }
}

/// The table body of the current screen, where rows are drawn.
fn list_body(app: &App) -> Rect {
    let area = Rect::new(0, 0, app.width, app.height);
    let main = layout::areas(area, app.screen).main;
    match app.screen {
        Screen::Overview => layout::table_body(layout::overview(main, app.data().servers.len()).0),
        Screen::RoomDetail => layout::table_body(layout::room_detail(main).1),
        Screen::Connections | Screen::Rooms => layout::table_body(main),
        Screen::Events => Rect {
            x: main.x + 1,
            y: main.y + 1,
            width: main.width.saturating_sub(2),
            height: main.height.saturating_sub(2),
        },
    }
}

fn page_rows(app: &App) -> isize {
    isize::try_from(list_body(app).height.max(1)).unwrap_or(1)
}

fn cursor_mut(app: &mut App) -> Option<&mut Cursor> {
    match app.screen {
        Screen::Overview => Some(&mut app.overview),
        Screen::Connections => Some(&mut app.connections),
        Screen::Rooms => Some(&mut app.rooms.cursor),
        Screen::RoomDetail => app.room_detail.as_mut().map(|d| &mut d.cursor),
        Screen::Events => None,
    }
}

fn move_selection(app: &mut App, delta: isize) {
    if app.screen == Screen::Events {
        move_in_events(app, delta);
        return;
    }
    let len = list_len(app);
    let height = usize::from(list_body(app).height);
    if let Some(cursor) = cursor_mut(app) {
        cursor.step(delta, len);
        *cursor = cursor.scrolled(height);
    }
    if app.screen == Screen::Overview {
        app.selected_server = app.overview.selected;
    }
}

/// Keeps every cursor on an existing row after the data or the terminal changed.
fn clamp_cursors(app: &mut App) {
    let servers = app.data().servers.len();
    app.selected_server = app.selected_server.min(servers.saturating_sub(1));
    app.overview.clamp(servers);
    let connections = app.server().map_or(0, |s| s.connections.len());
    app.connections.clamp(connections);
    let rooms = app.server().map_or(0, |s| s.room_order.len());
    app.rooms.cursor.clamp(rooms);
    let rows = app.detail_room().map_or(0, |room| detail_rows(room).len());
    if let Some(detail) = &mut app.room_detail {
        detail.cursor.clamp(rows);
    }
    refresh_events(app);
}

fn on_mouse(app: &mut App, mouse: crossterm::event::MouseEvent) {
    if let Some(Popup::Help { scroll }) = &mut app.popup {
        match mouse.kind {
            MouseEventKind::ScrollDown => *scroll = scroll.saturating_add(3),
            MouseEventKind::ScrollUp => *scroll = scroll.saturating_sub(3),
            _ => {}
        }
        return;
    }
    if app.popup.is_some() {
        return;
    }
    match mouse.kind {
        MouseEventKind::ScrollDown => move_selection(app, WHEEL_ROWS),
        MouseEventKind::ScrollUp => move_selection(app, -WHEEL_ROWS),
        MouseEventKind::Down(MouseButton::Left) => click(app, mouse.column, mouse.row),
        _ => {}
    }
}

fn click(app: &mut App, column: u16, row: u16) {
    let area = Rect::new(0, 0, app.width, app.height);
    let areas = layout::areas(area, app.screen);
    if row == areas.tabs.y {
        let titles = layout::tab_titles(tab_keys(app).each_ref().map(String::as_str));
        if let Some(screen) = layout::tab_at(areas.tabs, &titles, column) {
            show(app, screen);
        }
        return;
    }
    if app.screen == Screen::Events {
        click_event(app, column, row);
        return;
    }
    let body = list_body(app);
    if column < body.x || column >= body.x + body.width {
        return;
    }
    let offset = cursor_mut(app).map_or(0, |c| c.scrolled(usize::from(body.height)).offset);
    let Some(index) = layout::row_at(body, offset, row) else {
        return;
    };
    if index >= list_len(app) {
        return;
    }
    let already = cursor_mut(app).is_some_and(|c| c.selected == index);
    if let Some(cursor) = cursor_mut(app) {
        cursor.selected = index;
        *cursor = cursor.scrolled(usize::from(body.height));
    }
    if app.screen == Screen::Overview {
        app.selected_server = index;
    }
    // A second click on the selected row opens it, as Enter does.
    if already {
        open(app);
    }
}

/// The first key of each tab's binding, for the tab bar.
#[must_use]
pub(crate) fn tab_keys(app: &App) -> [String; 4] {
    [
        KeyAction::ShowOverview,
        KeyAction::ShowConnections,
        KeyAction::ShowRooms,
        KeyAction::ShowEvents,
    ]
    .map(|action| {
        app.keymap
            .keys(action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    })
}

fn on_filter_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => app.rooms.editing_from = None,
        KeyCode::Esc => {
            let before = app.rooms.editing_from.take().unwrap_or_default();
            app.rooms.set_filter(before);
            app.reorder_rooms();
        }
        KeyCode::Backspace => {
            let mut text = app.rooms.filter.clone();
            text.pop();
            app.rooms.set_filter(text);
            app.reorder_rooms();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            app.rooms.set_filter(String::new());
            app.reorder_rooms();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let _ = type_char(app, c);
        }
        _ => {}
    }
    app.rooms.cursor = Cursor::default();
}

/// A typed or pasted character for whatever takes text right now.
fn type_char(app: &mut App, c: char) -> bool {
    match &mut app.popup {
        Some(Popup::Input(input)) => {
            input.value.push(c);
            true
        }
        Some(Popup::Limits(editor)) if c.is_ascii_digit() => {
            editor.type_digit(c);
            true
        }
        Some(Popup::Audio(editor)) if c.is_ascii_digit() => {
            editor.type_digit(c);
            true
        }
        None if app.events_view.is_editing() && app.screen == Screen::Events => {
            let seq = app.data().log_seq;
            app.events_view.type_char(c, &app.log, seq);
            true
        }
        None if app.rooms.editing_from.is_some() => {
            let mut text = app.rooms.filter.clone();
            text.push(c);
            app.rooms.set_filter(text);
            app.reorder_rooms();
            true
        }
        _ => false,
    }
}

fn on_popup_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(popup) = app.popup.take() else {
        return Vec::new();
    };
    match popup {
        Popup::Help { mut scroll } => {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => scroll += 10,
                KeyCode::PageUp => scroll = scroll.saturating_sub(10),
                // Any other key closes help, as in htop.
                _ => return Vec::new(),
            }
            app.popup = Some(Popup::Help { scroll });
        }
        Popup::Confirm(confirm) => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => return send(app, confirm.command),
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                flash(app, format!("{}: cancelled", confirm.title), false);
            }
            _ => app.popup = Some(Popup::Confirm(confirm)),
        },
        Popup::Input(input) => return on_input_key(app, input, key),
        Popup::Limits(editor) => return on_limits_key(app, editor, key),
        Popup::Audio(editor) => return on_audio_key(app, editor, key),
    }
    Vec::new()
}

fn on_input_key(app: &mut App, mut input: TextInput, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if input.problem().is_none() => {
            return send(
                app,
                Command::CreateRoom {
                    server: input.server,
                    room: input.value.trim().to_owned(),
                },
            );
        }
        KeyCode::Backspace => {
            input.value.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => input.value.push(c),
        _ => {}
    }
    app.popup = Some(Popup::Input(input));
    Vec::new()
}

fn on_limits_key(app: &mut App, mut editor: LimitsEditor, key: KeyEvent) -> Vec<Effect> {
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if editor.problems().is_empty() => {
            return send(
                app,
                Command::SetLimits {
                    limits: editor.candidate(),
                },
            );
        }
        KeyCode::Up | KeyCode::BackTab => editor.select(-1),
        KeyCode::Down | KeyCode::Tab => editor.select(1),
        KeyCode::Left => editor.step(if shift { -10 } else { -1 }),
        KeyCode::Right => editor.step(if shift { 10 } else { 1 }),
        KeyCode::Backspace | KeyCode::Delete => editor.backspace(),
        KeyCode::Char(c) if c.is_ascii_digit() => editor.type_digit(c),
        _ => {}
    }
    app.popup = Some(Popup::Limits(editor));
    Vec::new()
}

fn on_audio_key(app: &mut App, mut editor: AudioEditor, key: KeyEvent) -> Vec<Effect> {
    let multiple = if key.modifiers.contains(KeyModifiers::SHIFT) {
        10
    } else {
        1
    };
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if editor.problem().is_none() => {
            let profile = Some(editor.candidate());
            return send(
                app,
                Command::ApplyAudioProfile {
                    server: editor.server,
                    room: editor.room,
                    profile,
                },
            );
        }
        KeyCode::Char('d') => {
            return send(
                app,
                Command::ApplyAudioProfile {
                    server: editor.server,
                    room: editor.room,
                    profile: None,
                },
            );
        }
        KeyCode::Up | KeyCode::BackTab => editor.select(-1),
        KeyCode::Down | KeyCode::Tab => editor.select(1),
        KeyCode::Left => editor.step(-1, multiple),
        KeyCode::Right | KeyCode::Char(' ') => editor.step(1, multiple),
        KeyCode::Backspace | KeyCode::Delete => editor.backspace(),
        KeyCode::Char(c) if c.is_ascii_digit() => editor.type_digit(c),
        _ => {}
    }
    app.popup = Some(Popup::Audio(editor));
    Vec::new()
}

// The events screen: its list, filter prompt and detail view live in `EventsView`; these
// hand it the log and the list's size.

/// The entries the events screen lists (the filter's, up to the freeze).
fn events_rows(app: &App) -> Vec<&LogEntry> {
    app.events_view.rows(&app.log, app.data().log_seq)
}

/// After the log or the frozen view changed: what the events filter keeps.
fn refresh_events(app: &mut App) {
    let seq = app.data().log_seq;
    app.events_view.refresh(&app.log, seq);
}

/// Up and down on the events screen: the selection, or the open entry's text.
fn move_in_events(app: &mut App, delta: isize) {
    let body = list_body(app);
    let seq = app.data().log_seq;
    app.events_view.move_by(
        &app.log,
        seq,
        delta,
        usize::from(body.height),
        usize::from(body.width),
    );
}

fn click_event(app: &mut App, column: u16, row: u16) {
    let body = list_body(app);
    if column < body.x || column >= body.x + body.width || row < body.y {
        return;
    }
    let seq = app.data().log_seq;
    app.events_view.click(
        &app.log,
        seq,
        usize::from(row - body.y),
        usize::from(body.height),
    );
}

/// A command's outcome shows in the footer as well as in the log, in the same words.
fn flash_outcome(app: &mut App, event: &EngineEvent) {
    if let EventKind::Command {
        id,
        command,
        outcome,
    } = &event.kind
    {
        let (level, text) = describe_command_outcome(*id, command, outcome);
        flash(app, text, level == Level::Error);
    }
}

/// Keys while the events filter prompt is open: the filter applies as it is typed.
fn on_events_filter_key(app: &mut App, key: KeyEvent) {
    let seq = app.data().log_seq;
    let view = &mut app.events_view;
    match key.code {
        KeyCode::Enter => view.keep_filter(),
        KeyCode::Esc => view.drop_filter(&app.log, seq),
        KeyCode::Backspace => view.backspace(&app.log, seq),
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            view.set_filter(String::new(), &app.log, seq);
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            view.type_char(c, &app.log, seq);
        }
        _ => {}
    }
}
