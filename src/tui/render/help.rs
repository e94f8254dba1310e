//! The help overlay: every binding of the key map, grouped by where it works, then the fixed
//! keys of the popups and the rooms and events filter syntax. The footer reads the same table, so the
//! two never disagree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{block, centered, format};
use crate::tui::app::App;
use crate::tui::keys::Context;
use crate::tui::log::FILTER_SYNTAX as EVENTS_FILTER_SYNTAX;
use crate::tui::popup::Popup;
use crate::tui::theme::Theme;

/// Keys the popups handle themselves (not rebindable).
const POPUP_KEYS: [(&str, &str); 8] = [
    ("↑ ↓", "editors: previous / next field"),
    ("← →", "editors: change the value (shift: ×10)"),
    ("0-9", "editors: type a value"),
    (
        "backspace",
        "editors: delete a digit, or a room limit inherits again",
    ),
    ("enter", "editors: apply"),
    ("esc", "editors: cancel"),
    ("d", "audio editor: write the default profile"),
    ("y / n", "confirm: yes / no"),
];

const FILTER_SYNTAX: [(&str, &str); 4] = [
    ("word", "rooms whose name contains it (any case)"),
    ("p>10", "participants; also <, <=, =, >= (p<5, p>=2)"),
    ("a>2 v=0", "live audio / video tracks"),
    ("!", "rooms over one of their limits"),
];

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let scroll = match &app.popup {
        Some(Popup::Help { scroll }) => *scroll,
        _ => 0,
    };
    let lines = lines(app, theme);
    let width = area.width.saturating_sub(4).min(84);
    let wanted = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let height = area.height.saturating_sub(2).min(wanted);
    let popup = centered(area, width, height);
    let visible = usize::from(height.saturating_sub(2));
    let scroll = scroll.min(lines.len().saturating_sub(visible));
    let mut outer = block(" help ", width, theme).title_bottom(
        Line::from(Span::styled(
            " ↑↓ scroll · any other key closes ",
            theme.dim(),
        ))
        .right_aligned(),
    );
    if scroll + visible < lines.len() {
        outer = outer.title_bottom(Line::from(Span::styled(
            format!(" ↓ {} more ", lines.len() - scroll - visible),
            theme.dim(),
        )));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(outer)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        popup,
    );
}

fn lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let entries: Vec<_> = app.keymap.entries().collect();
    let key_width = entries
        .iter()
        .map(|(_, keys)| format::width(&join(keys)))
        .chain(
            POPUP_KEYS
                .iter()
                .chain(&FILTER_SYNTAX)
                .chain(&EVENTS_FILTER_SYNTAX)
                .map(|(k, _)| format::width(k)),
        )
        .max()
        .unwrap_or(0)
        .min(20);
    let mut lines = Vec::new();
    let mut contexts: Vec<Context> = Vec::new();
    for (action, _) in &entries {
        if !contexts.contains(&action.context()) {
            contexts.push(action.context());
        }
    }
    for context in contexts {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        let mut heading = capitalized(context.title());
        match context {
            Context::Demo => heading.push_str(" (built-in sandbox only)"),
            Context::Replay => heading.push_str(" (lktop replay only)"),
            _ => {}
        }
        lines.push(Line::from(Span::styled(heading, theme.header_row())));
        for (action, keys) in entries.iter().filter(|(a, _)| a.context() == context) {
            let key = if keys.is_empty() {
                Span::styled(format::pad("(unbound)", key_width), theme.dim())
            } else {
                Span::styled(format::pad(&join(keys), key_width), theme.title())
            };
            lines.push(Line::from(vec![
                Span::raw("  "),
                key,
                Span::raw("  "),
                Span::raw(action.description()),
            ]));
        }
    }
    for (heading, table) in [
        ("In popups", POPUP_KEYS.as_slice()),
        (
            "Rooms filter (words combine: all must match)",
            FILTER_SYNTAX.as_slice(),
        ),
        (
            "Events filter (words combine: all must match)",
            EVENTS_FILTER_SYNTAX.as_slice(),
        ),
    ] {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(heading, theme.header_row())));
        for (key, description) in table {
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(format::pad(key, key_width), theme.title()),
                Span::raw("  "),
                Span::raw(*description),
            ]));
        }
    }
    lines
}

fn join(keys: &[crate::tui::keys::KeySpec]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
