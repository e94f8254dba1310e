//! Moving around: screens and tabs, the selection in each screen's list, opening a row and
//! going back, the next server, and keeping every cursor on a row that exists.

use crate::tui::app::{App, RoomDetail};
use crate::tui::cursor::Cursor;
use crate::tui::keys::KeyAction;
use crate::tui::screen::Screen;

use super::events_screen::{events_rows, move_in_events, refresh_events};
use super::list_area::list_body;

pub(super) fn show(app: &mut App, screen: Screen) {
    if screen == Screen::Rooms && app.screen == Screen::RoomDetail {
        app.room_detail = None;
    }
    if screen == Screen::Nodes && app.screen == Screen::NodeDetail {
        app.nodes.detail = None;
    }
    app.screen = screen;
}

pub(super) fn switch_tab(app: &mut App, delta: isize) {
    let current = app.screen.tab_index();
    let count = Screen::TABS.len();
    let next = (current.cast_signed() + delta).rem_euclid(count.cast_signed());
    show(app, Screen::TABS[next.cast_unsigned()]);
}

pub(super) fn open(app: &mut App) {
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
        Screen::History => app.history.detail = app.history.selected().is_some(),
        Screen::Nodes => {
            if let Some(key) = app.nodes.selected(&app.data().servers) {
                app.nodes.detail = Some(key);
                app.screen = Screen::NodeDetail;
            }
        }
        Screen::Connections | Screen::RoomDetail | Screen::NodeDetail => {}
    }
}

pub(super) fn back(app: &mut App) {
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
        Screen::History if app.history.detail => app.history.detail = false,
        Screen::History if !app.history.filter.is_empty() => {
            app.history.filter.clear();
            app.history.cursor = Cursor::default();
        }
        Screen::NodeDetail => {
            app.nodes.detail = None;
            app.screen = Screen::Nodes;
        }
        Screen::Nodes if !app.nodes.filter.is_empty() => {
            app.nodes.filter.clear();
            app.nodes.cursor = Cursor::default();
        }
        _ => app.flash = None,
    }
}

/// The next server, its lists from the top (`s` by default); the room detail closes, being
/// another server's.
pub(super) fn next_server(app: &mut App) {
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

/// Rows in the current screen's list.
pub(super) fn list_len(app: &App) -> usize {
    match app.screen {
        Screen::Overview => app.data().servers.len(),
        Screen::Connections => app.server().map_or(0, |s| s.connections.len()),
        Screen::Rooms => app.server().map_or(0, |s| s.room_order.len()),
        Screen::RoomDetail => app.room_detail_rows().len(),
        Screen::Events => events_rows(app).len(),
        Screen::History => app.history.shown().len(),
        Screen::Nodes => app.nodes.rows(&app.data().servers).len(),
        Screen::NodeDetail => 0,
    }
}

pub(super) fn cursor_mut(app: &mut App) -> Option<&mut Cursor> {
    match app.screen {
        Screen::Overview => Some(&mut app.overview),
        Screen::Connections => Some(&mut app.connections),
        Screen::Rooms => Some(&mut app.rooms.cursor),
        Screen::RoomDetail => app.room_detail.as_mut().map(|d| &mut d.cursor),
        Screen::Events | Screen::NodeDetail => None,
        Screen::History => Some(&mut app.history.cursor),
        Screen::Nodes => Some(&mut app.nodes.cursor),
    }
}

pub(super) fn move_selection(app: &mut App, delta: isize) {
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
pub(super) fn clamp_cursors(app: &mut App) {
    let servers = app.data().servers.len();
    app.selected_server = app.selected_server.min(servers.saturating_sub(1));
    app.overview.clamp(servers);
    let connections = app.server().map_or(0, |s| s.connections.len());
    app.connections.clamp(connections);
    let rooms = app.server().map_or(0, |s| s.room_order.len());
    app.rooms.cursor.clamp(rooms);
    let rows = app.room_detail_rows().len();
    if let Some(detail) = &mut app.room_detail {
        detail.cursor.clamp(rows);
    }
    let finished = app.history.shown().len();
    app.history.cursor.clamp(finished);
    let nodes = app.nodes.rows(&app.data().servers).len();
    app.nodes.cursor.clamp(nodes);
    refresh_events(app);
}

/// The first key of each tab's binding, for the tab bar.
#[must_use]
pub(crate) fn tab_keys(app: &App) -> [String; Screen::TABS.len()] {
    [
        KeyAction::ShowOverview,
        KeyAction::ShowConnections,
        KeyAction::ShowRooms,
        KeyAction::ShowEvents,
        KeyAction::ShowHistory,
        KeyAction::ShowNodes,
    ]
    .map(|action| {
        app.keymap
            .keys(action)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    })
}
