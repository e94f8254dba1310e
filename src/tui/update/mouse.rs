//! The mouse: the wheel scrolls the list (or the help), a click selects a tab or a row, and a
//! click on the selected row opens it.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use crate::tui::app::App;
use crate::tui::layout;
use crate::tui::popup::Popup;
use crate::tui::screen::Screen;

use super::events_screen::click_event;
use super::list_area::list_body;
use super::navigation::{cursor_mut, list_len, move_selection, open, show, tab_keys};

/// Rows moved per mouse wheel notch.
const WHEEL_ROWS: isize = 3;

pub(super) fn on_mouse(app: &mut App, mouse: MouseEvent) {
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
