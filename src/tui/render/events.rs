//! The event log: the full events screen (scrollable) and the pane under the other screens
//! (the newest entries that fit).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, format, message};
use crate::tui::app::App;
use crate::tui::log::LogEntry;
use crate::tui::theme::Theme;

/// Width of the level column (`action`).
const LEVEL: usize = 6;

/// The events screen: `app.events_scroll` entries back from the newest.
pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let entries = app.log.up_to(app.data().log_seq);
    let len = entries.len();
    let mut outer = block(format!(" events ({len}) "), area.width, theme);
    let inner = outer.inner(area);
    let height = usize::from(inner.height);
    let scroll = app.events_scroll.min(len.saturating_sub(height));
    let end = len - scroll;
    let start = end.saturating_sub(height);
    if start > 0 {
        outer = outer.title(
            Line::from(Span::styled(format!(" ↑ {start} more "), theme.dim())).right_aligned(),
        );
    }
    if scroll > 0 {
        outer = outer.title_bottom(
            Line::from(Span::styled(format!(" ↓ {scroll} newer "), theme.dim())).right_aligned(),
        );
    }
    frame.render_widget(outer, area);
    if len == 0 {
        message(frame, inner, "nothing has happened yet", theme.dim());
        return;
    }
    let server_width = server_width(app);
    let lines: Vec<Line> = entries
        .skip(start)
        .take(end - start)
        .map(|entry| line(entry, server_width, usize::from(inner.width), theme))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The pane under the other screens: the newest entries that fit.
pub fn render_pane(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let entries = app.log.up_to(app.data().log_seq);
    let outer = block(" events ", area.width, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let height = usize::from(inner.height);
    let skip = entries.len().saturating_sub(height);
    let server_width = server_width(app);
    let lines: Vec<Line> = entries
        .skip(skip)
        .map(|entry| line(entry, server_width, usize::from(inner.width), theme))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The server column is as wide as the longest server name.
fn server_width(app: &App) -> usize {
    app.data()
        .servers
        .iter()
        .map(|s| format::width(&s.name))
        .max()
        .unwrap_or(0)
        .min(16)
}

/// `HH:MM:SS level  server  text`, coloured by level, cut to `width`.
fn line(entry: &LogEntry, server_width: usize, width: usize, theme: Theme) -> Line<'static> {
    let style = theme.level(entry.level);
    let mut spans = vec![
        Span::styled(format::clock(entry.at_ms), theme.dim()),
        Span::raw(" "),
        Span::styled(format!("{:<LEVEL$}", entry.level.label()), style),
        Span::raw(" "),
    ];
    let mut used = 8 + 1 + LEVEL + 1;
    if server_width > 0 {
        let server = entry.server.as_deref().unwrap_or("");
        spans.push(Span::styled(format::pad(server, server_width), theme.dim()));
        spans.push(Span::raw(" "));
        used += server_width + 1;
    }
    let room = width.saturating_sub(used);
    spans.push(Span::styled(
        format::truncate(&entry.text, room).into_owned(),
        style,
    ));
    Line::from(spans)
}
