//! Text typed or pasted: into the open prompt or an editor's digits, or into the rooms filter,
//! which applies as it is typed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::App;
use crate::tui::cursor::Cursor;
use crate::tui::popup::Popup;
use crate::tui::screen::Screen;

/// Pasted text, as if typed, its control characters (line breaks) left out.
pub(super) fn paste(app: &mut App, text: &str) {
    for c in text.chars().filter(|c| !c.is_control()) {
        let _ = type_char(app, c);
    }
}

/// A typed or pasted character for whatever takes text right now.
pub(super) fn type_char(app: &mut App, c: char) -> bool {
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
        None if app.history.filter.is_editing() && app.screen == Screen::History => {
            app.history.filter.push(c);
            app.history.cursor = Cursor::default();
            true
        }
        None if app.nodes.filter.is_editing() && app.screen == Screen::Nodes => {
            app.nodes.filter.push(c);
            app.nodes.cursor = Cursor::default();
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

pub(super) fn on_filter_key(app: &mut App, key: KeyEvent) {
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

/// A key while the History or Nodes filter is typed: `enter` keeps it, `esc` restores the
/// one before.
pub(super) fn on_text_filter_key(app: &mut App, key: KeyEvent) {
    let (filter, cursor) = match app.screen {
        Screen::History => (&mut app.history.filter, &mut app.history.cursor),
        Screen::Nodes => (&mut app.nodes.filter, &mut app.nodes.cursor),
        _ => return,
    };
    *cursor = Cursor::default();
    if let Some(c) = filter.on_key(key) {
        let _ = type_char(app, c);
    }
}
