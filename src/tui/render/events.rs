//! The event log: the events screen (the entries the filter keeps, with a selection, or the
//! selected entry in full) and the pane under the other screens (the newest entries that
//! fit). Every entry is one line in a list, cut with `…`; the detail view shows all of it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, format, key_of, message};
use crate::tui::app::App;
use crate::tui::events_view::{DetailLine, EventDetail, detail_lines};
use crate::tui::keys::KeyAction;
use crate::tui::log::{LOG_CAPACITY, LogEntry};
use crate::tui::theme::Theme;

/// Width of the level column (`action`).
const LEVEL: usize = 6;
/// Width of the labels of the detail view's facts (`repeats`).
const LABEL: usize = 8;
/// How the filter is written, shown while it is typed.
const FILTER_HINT: &str = "enter keep · esc clear · level:warn server:NAME room:NAME";

/// The events screen: the list, or the entry open in the detail view.
pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    match app.events_view.detail() {
        Some(detail) => render_detail(frame, area, app, detail, theme),
        None => render_list(frame, area, app, theme),
    }
}

fn render_list(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let view = &app.events_view;
    let seq = app.data().log_seq;
    let total = app.log.up_to(seq).len();
    let rows = view.rows(&app.log, seq);
    let title = if view.filter().trim().is_empty() {
        format!(" events ({}) ", thousands(total))
    } else {
        format!(
            " events ({} of {}) · filter: {} ",
            thousands(rows.len()),
            thousands(total),
            view.filter().trim()
        )
    };
    let mut outer = block(title, area.width, theme);
    let inner = outer.inner(area);
    let height = usize::from(inner.height);
    let window = view.window(&rows, height);
    if window.start > 0 {
        outer = outer.title(
            Line::from(Span::styled(
                format!(" ↑ {} more ", thousands(window.start)),
                theme.dim(),
            ))
            .right_aligned(),
        );
    }
    if window.end < rows.len() {
        outer = outer.title_bottom(
            Line::from(Span::styled(
                format!(" ↓ {} newer ", thousands(rows.len() - window.end)),
                theme.dim(),
            ))
            .right_aligned(),
        );
    }
    if view.is_editing() {
        outer = outer.title_bottom(Line::from(vec![
            Span::styled(format!(" / {}", view.filter()), theme.title()),
            Span::styled("█", theme.title()),
            Span::styled(format!("  {FILTER_HINT} "), theme.dim()),
        ]));
    }
    frame.render_widget(outer, area);
    if rows.is_empty() {
        let text = if total == 0 {
            "nothing has happened yet".to_owned()
        } else {
            match view.query().problem() {
                Some(problem) => format!("no entry matches the filter: {problem}"),
                None => "no entry matches the filter".to_owned(),
            }
        };
        message(frame, inner, &text, theme.dim());
        return;
    }
    let server_width = server_width(app);
    for (offset, index) in (window.start..window.end).enumerate() {
        let row = Rect {
            y: inner.y + u16::try_from(offset).unwrap_or(u16::MAX),
            height: 1,
            ..inner
        };
        let mut line = line(rows[index], server_width, usize::from(inner.width), theme);
        if index == window.selected {
            line = line.style(theme.selected());
        }
        frame.render_widget(line, row);
    }
}

/// One entry in full: its facts, then its text wrapped to the width with its line breaks.
fn render_detail(frame: &mut Frame, area: Rect, app: &App, detail: EventDetail, theme: Theme) {
    let keys = [KeyAction::Back, KeyAction::Up, KeyAction::Down]
        .map(|action| key_of(app, action).unwrap_or_default());
    let hint = format!(" {} back · {}/{} scroll ", keys[0], keys[1], keys[2]);
    let mut outer = block(" event ", area.width, theme)
        .title_bottom(Line::from(Span::styled(hint, theme.dim())));
    let inner = outer.inner(area);
    let Some(entry) = app.log.find(detail.id, app.data().log_seq) else {
        frame.render_widget(outer, area);
        message(
            frame,
            inner,
            &format!(
                "this entry has left the log, which keeps the newest {}",
                thousands(LOG_CAPACITY)
            ),
            theme.dim(),
        );
        return;
    };
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    let all = detail_lines(entry, width);
    let scroll = detail.scroll.min(all.len().saturating_sub(height));
    let below = all.len().saturating_sub(scroll + height);
    if below > 0 {
        outer = outer.title_bottom(
            Line::from(Span::styled(format!(" ↓ {below} more "), theme.dim())).right_aligned(),
        );
    }
    let style = theme.level(entry.level);
    let lines: Vec<Line> = all
        .into_iter()
        .skip(scroll)
        .take(height)
        .map(|line| match line {
            DetailLine::Fact(label, value) => {
                let value_style = if label == "level" {
                    style
                } else {
                    theme.title()
                };
                Line::from(vec![
                    Span::styled(format::pad(label, LABEL), theme.dim()),
                    Span::styled(
                        format::truncate(&value, width.saturating_sub(LABEL)).into_owned(),
                        value_style,
                    ),
                ])
            }
            DetailLine::Blank => Line::default(),
            DetailLine::Text(text) => Line::from(Span::styled(text, style)),
        })
        .collect();
    frame.render_widget(outer, area);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The pane under the other screens: the newest entries that fit.
pub(crate) fn render_pane(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
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

/// `HH:MM:SS level  server  text`, coloured by level, on one line cut to `width`.
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
        format::truncate(&entry.one_line(), room).into_owned(),
        style,
    ));
    Line::from(spans)
}

/// A count with thousands separated: `1,812`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_812), "1,812");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
