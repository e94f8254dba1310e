//! The events screen. Its list, filter prompt and detail view live in `EventsView`; these hand
//! it the log and the list's size.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::app::App;
use crate::tui::log::LogEntry;

use super::list_area::list_body;

/// The entries the events screen lists (the filter's, up to the freeze).
pub(super) fn events_rows(app: &App) -> Vec<&LogEntry> {
    app.events_view.rows(&app.log, app.data().log_seq)
}

/// After the log or the frozen view changed: what the events filter keeps.
pub(super) fn refresh_events(app: &mut App) {
    let seq = app.data().log_seq;
    app.events_view.refresh(&app.log, seq);
}

/// Up and down on the events screen: the selection, or the open entry's text.
pub(super) fn move_in_events(app: &mut App, delta: isize) {
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

pub(super) fn click_event(app: &mut App, column: u16, row: u16) {
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

/// Keys while the events filter prompt is open: the filter applies as it is typed.
pub(super) fn on_events_filter_key(app: &mut App, key: KeyEvent) {
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
