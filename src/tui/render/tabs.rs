//! The tab bar, and which server the per-server screens show.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use super::{format, key_of};
use crate::tui::app::App;
use crate::tui::keys::KeyAction;
use crate::tui::layout::{self, TAB_DIVIDER};
use crate::tui::theme::Theme;
use crate::tui::update::tab_keys;

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let keys = tab_keys(app);
    let titles = layout::tab_titles(keys.each_ref().map(String::as_str));
    // `layout::tab_at` counts exactly these cells: the titles (padding included) and a
    // one-cell divider between them.
    let tabs_width: usize = titles
        .iter()
        .map(|(_, title)| format::width(title))
        .sum::<usize>()
        + usize::from(TAB_DIVIDER) * (titles.len() - 1);
    let tabs = Tabs::new(titles.iter().map(|(_, title)| Line::from(title.as_str())))
        .padding("", "")
        .divider("│")
        .style(theme.dim())
        .highlight_style(theme.selected().patch(theme.title()))
        .select(app.screen.tab_index());
    frame.render_widget(tabs, area);

    let servers = &app.data().servers;
    if servers.len() < 2 {
        return;
    }
    let Some(server) = app.server() else {
        return;
    };
    let room = usize::from(area.width).saturating_sub(tabs_width + 2);
    let mut spans = vec![
        Span::styled("server: ", theme.dim()),
        Span::styled(server.name.clone(), theme.title()),
    ];
    if let Some(key) = key_of(app, KeyAction::NextServer) {
        spans.push(Span::styled(format!(" ({key}: next)"), theme.dim()));
    }
    let mut line = Line::from(spans);
    if line.width() > room {
        line = Line::from(Span::styled(server.name.clone(), theme.title()));
        if line.width() > room {
            return;
        }
    }
    let width = u16::try_from(line.width())
        .unwrap_or(u16::MAX)
        .min(area.width);
    let right = Rect {
        x: area.right() - width,
        width,
        ..area
    };
    frame.render_widget(Paragraph::new(line), right);
}
