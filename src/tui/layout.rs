//! Where everything goes on screen. Drawing and mouse handling both ask these functions, so a
//! click lands on the row that was drawn there.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────┐
//! │ header: lktop · source (demo / server / replay) · badges · clock │  1 line
//! │ tabs: 1 Overview │ 2 Connections │ 3 Rooms │ 4 Events │ …        │  1 line
//! │ ┌ main ─────────────────────────────────────────────────────┐ │
//! │ │ the screen: tables in bordered blocks, a header row,       │ │
//! │ │ then one row per item                                      │ │
//! │ └────────────────────────────────────────────────────────────┘ │
//! │ ┌ events ───────────────────────────────────────────────────┐ │  5 lines (8 when tall),
//! │ │ the newest log entries                                     │ │  not on the events tab
//! │ │                                                            │ │  nor the node detail
//! │ └────────────────────────────────────────────────────────────┘ │
//! │ footer: key hints from the key map, or a message             │  1 line
//! └──────────────────────────────────────────────────────────────┘
//! ```

use ratatui::layout::{Constraint, Layout, Rect};

use super::screen::Screen;

/// Below this the dashboard shows "terminal too small" instead of a broken layout.
pub(crate) const MIN_WIDTH: u16 = 60;
pub(crate) const MIN_HEIGHT: u16 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Areas {
    pub(crate) header: Rect,
    pub(crate) tabs: Rect,
    pub(crate) main: Rect,
    pub(crate) log: Option<Rect>,
    pub(crate) footer: Rect,
}

#[must_use]
pub(crate) fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

#[must_use]
pub(crate) fn areas(area: Rect, screen: Screen) -> Areas {
    // The node detail is a page of facts and sparklines that needs the rows.
    let log_height = match screen {
        Screen::Events | Screen::NodeDetail => 0,
        _ if area.height >= 40 => 10,
        _ => 5,
    };
    let [header, tabs, main, log, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(log_height),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        tabs,
        main,
        log: (log_height > 0).then_some(log),
        footer,
    }
}

/// The rows of a table drawn in a bordered block with one header row.
#[must_use]
pub(crate) fn table_body(block: Rect) -> Rect {
    Rect {
        x: block.x.saturating_add(1),
        y: block.y.saturating_add(2),
        width: block.width.saturating_sub(2),
        height: block.height.saturating_sub(3),
    }
}

/// The overview: the servers table on top (as tall as it needs, at most half), the selected
/// server's details below.
#[must_use]
pub(crate) fn overview(main: Rect, servers: usize) -> (Rect, Rect) {
    let wanted = u16::try_from(servers.max(1))
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let [table, detail] = Layout::vertical([
        Constraint::Length(wanted.min(main.height / 2)),
        Constraint::Min(0),
    ])
    .areas(main);
    (table, detail)
}

/// The room detail: the room's facts, limits and audio profile on top, its participants and
/// their tracks below.
#[must_use]
pub(crate) fn room_detail(main: Rect) -> (Rect, Rect) {
    let [info, participants] =
        Layout::vertical([Constraint::Length(8), Constraint::Min(4)]).areas(main);
    (info, participants)
}

/// The History screen: the table, and under it the selected room's detail when open.
#[must_use]
pub(crate) fn history(main: Rect, detail: bool) -> (Rect, Option<Rect>) {
    if !detail {
        return (main, None);
    }
    let [table, detail] = Layout::vertical([Constraint::Min(5), Constraint::Length(8)]).areas(main);
    (table, Some(detail))
}

/// The tab titles as drawn, with the key that opens each (from the key map).
#[must_use]
pub(crate) fn tab_titles(
    keys: [&str; Screen::TABS.len()],
) -> [(Screen, String); Screen::TABS.len()] {
    let mut titles = Screen::TABS.map(|screen| (screen, String::new()));
    for ((screen, title), key) in titles.iter_mut().zip(keys) {
        *title = if key.is_empty() {
            format!(" {} ", screen.title())
        } else {
            format!(" {key} {} ", screen.title())
        };
    }
    titles
}

/// Width of the divider ratatui's `Tabs` draws between titles (`│`).
pub(crate) const TAB_DIVIDER: u16 = 1;

/// The tab under column `x` of the tab bar drawn from `titles`.
#[must_use]
pub(crate) fn tab_at(bar: Rect, titles: &[(Screen, String)], x: u16) -> Option<Screen> {
    let mut left = bar.x;
    for (screen, title) in titles {
        let width = u16::try_from(title.chars().count()).unwrap_or(u16::MAX);
        if x >= left && x < left.saturating_add(width) {
            return Some(*screen);
        }
        left = left.saturating_add(width).saturating_add(TAB_DIVIDER);
    }
    None
}

/// Index of the row at screen row `y` of a table whose body is `body`, scrolled by `offset`.
#[must_use]
pub(crate) fn row_at(body: Rect, offset: usize, y: u16) -> Option<usize> {
    (y >= body.y && y < body.y.saturating_add(body.height))
        .then(|| offset + usize::from(y - body.y))
}
