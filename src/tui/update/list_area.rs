//! Where the current screen draws its list's rows: what a click lands on, how far a page
//! moves, and which rows the events screen shows.

use ratatui::layout::Rect;

use crate::tui::app::App;
use crate::tui::layout;
use crate::tui::screen::Screen;

/// The table body of the current screen, where rows are drawn.
pub(super) fn list_body(app: &App) -> Rect {
    let area = Rect::new(0, 0, app.width, app.height);
    let main = layout::areas(area, app.screen).main;
    match app.screen {
        Screen::Overview => layout::table_body(layout::overview(main, app.data().servers.len()).0),
        Screen::RoomDetail => layout::table_body(layout::room_detail(main).1),
        Screen::Connections | Screen::Rooms | Screen::Nodes => layout::table_body(main),
        // No list: the detail is one page of facts.
        Screen::NodeDetail => Rect::default(),
        Screen::History => layout::table_body(layout::history(main, app.history.detail).0),
        Screen::Events => Rect {
            x: main.x + 1,
            y: main.y + 1,
            width: main.width.saturating_sub(2),
            height: main.height.saturating_sub(2),
        },
    }
}

pub(super) fn page_rows(app: &App) -> isize {
    isize::try_from(list_body(app).height.max(1)).unwrap_or(1)
}
