//! Popups over the screen: confirmation, the new-room prompt, and the limits and audio
//! editors. Each shows its problems as the values change, before anything is sent.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{block, centered, format};
use crate::tui::app::App;
use crate::tui::popup::{
    AudioEditor, AudioField, Confirm, LimitField, LimitsEditor, LimitsScope, Popup, ProfileSource,
    TextInput,
};
use crate::tui::theme::Theme;

const CURSOR: &str = "█";

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    match &app.popup {
        Some(Popup::Confirm(confirm)) => render_confirm(frame, area, confirm, theme),
        Some(Popup::Input(input)) => render_input(frame, area, input, theme),
        Some(Popup::Limits(editor)) => render_limits(frame, area, editor, theme),
        Some(Popup::Audio(editor)) => render_audio(frame, area, editor, theme),
        Some(Popup::Help { .. }) | None => {}
    }
}

/// Draws `lines` in a centred bordered popup `width` wide (at most), as tall as they need.
fn show(
    frame: &mut Frame,
    area: Rect,
    title: String,
    width: u16,
    lines: Vec<Line<'static>>,
    theme: Theme,
) {
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let popup = centered(area, width.min(area.width.saturating_sub(2)), height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block(title, popup.width, theme)),
        popup,
    );
}

/// Width inside a popup `width` wide, with a one-cell margin on each side.
fn text_width(area: Rect, width: u16) -> usize {
    usize::from(width.min(area.width.saturating_sub(2)).saturating_sub(4))
}

fn wrapped(text: &str, width: usize, style: ratatui::style::Style) -> Vec<Line<'static>> {
    format::wrap(text, width)
        .into_iter()
        .map(|line| Line::from(vec![Span::raw(" "), Span::styled(line, style)]))
        .collect()
}

fn hint(text: &str, theme: Theme) -> Line<'static> {
    Line::from(vec![
        Span::raw(" "),
        Span::styled(text.to_owned(), theme.dim()),
    ])
}

fn render_confirm(frame: &mut Frame, area: Rect, confirm: &Confirm, theme: Theme) {
    let width = 64;
    let mut lines = wrapped(
        &confirm.message,
        text_width(area, width),
        ratatui::style::Style::new(),
    );
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::raw(" "),
        Span::styled("[y]", theme.key()),
        Span::raw(" yes  "),
        Span::styled("[n]", theme.key()),
        Span::raw(" no"),
    ]));
    show(
        frame,
        area,
        format!(" {} ", confirm.title),
        width,
        lines,
        theme,
    );
}

fn render_input(frame: &mut Frame, area: Rect, input: &TextInput, theme: Theme) {
    let width = 60;
    let room = text_width(area, width).saturating_sub(1);
    // The end of a long value stays in view, where the cursor is.
    let value = &input.value;
    let shown = if format::width(value) > room {
        let skip = value.chars().count().saturating_sub(room.saturating_sub(1));
        format!("…{}", value.chars().skip(skip).collect::<String>())
    } else {
        value.clone()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw(" "),
            Span::styled(shown, theme.title()),
            Span::styled(CURSOR, theme.title()),
        ]),
        Line::default(),
    ];
    match input.problem() {
        Some(problem) => lines.extend(wrapped(&problem, text_width(area, width), theme.warn())),
        None => lines.push(Line::default()),
    }
    lines.push(hint(input.hint(), theme));
    show(
        frame,
        area,
        format!(" {} ", input.title),
        width,
        lines,
        theme,
    );
}

/// One editor field: label, then the value between `◀ ▶` when selected.
fn field_line(
    label: &str,
    value: Vec<Span<'static>>,
    selected: bool,
    theme: Theme,
) -> Line<'static> {
    let label_style = if selected {
        theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    let mut spans = vec![
        Span::raw(" "),
        Span::styled(format!("{label:<22}"), label_style),
        Span::raw(" "),
    ];
    if selected {
        spans.push(Span::styled("◀ ", theme.title()));
    } else {
        spans.push(Span::raw("  "));
    }
    spans.extend(value);
    if selected {
        spans.push(Span::styled(" ▶", theme.title()));
    }
    Line::from(spans)
}

fn render_limits(frame: &mut Frame, area: Rect, editor: &LimitsEditor, theme: Theme) {
    let width = 62;
    let title = match &editor.scope {
        LimitsScope::Global => " Limits — global ".to_owned(),
        LimitsScope::Room(room) => format!(" Limits — room {room} "),
    };
    let mut lines = vec![Line::default()];
    let selected = editor.field();
    for &field in editor.fields() {
        let is_selected = field == selected;
        let value = match (&editor.typing, field) {
            (Some(typing), _) if is_selected => vec![
                Span::styled(typing.clone(), theme.title()),
                Span::styled(CURSOR, theme.title()),
            ],
            (_, LimitField::Enforcement) => {
                vec![Span::raw(editor.limits.enforcement.as_str().to_owned())]
            }
            _ => {
                let (value, inherited) = editor.value(field);
                if inherited {
                    vec![Span::styled(format!("{value} (global)"), theme.dim())]
                } else {
                    vec![Span::raw(value.to_string())]
                }
            }
        };
        lines.push(field_line(field.label(), value, is_selected, theme));
    }
    lines.push(Line::default());
    let problems = editor.problems();
    for problem in &problems {
        lines.extend(wrapped(problem, text_width(area, width), theme.error()));
    }
    if !problems.is_empty() {
        lines.push(Line::default());
    }
    let room_hint = if matches!(editor.scope, LimitsScope::Room(_)) {
        " · backspace inherits"
    } else {
        ""
    };
    lines.push(hint(
        &format!("↑↓ field · ←→ change · digits type{room_hint}"),
        theme,
    ));
    lines.push(hint("enter apply · esc cancel", theme));
    show(frame, area, title, width, lines, theme);
}

fn render_audio(frame: &mut Frame, area: Rect, editor: &AudioEditor, theme: Theme) {
    let width = 62;
    let title = format!(
        " Audio profile — room {} on {} ",
        editor.room, editor.server
    );
    let mut lines = Vec::new();
    let source = match &editor.source {
        ProfileSource::Room => Span::styled("from the room's metadata", theme.dim()),
        ProfileSource::Default => Span::styled("the room has none; default shown", theme.dim()),
        ProfileSource::Unreadable(why) => {
            Span::styled(format!("metadata unreadable: {why}"), theme.warn())
        }
    };
    lines.push(Line::from(vec![Span::raw(" "), source]));
    lines.push(Line::default());
    let selected = editor.field();
    let profile = &editor.profile;
    for field in AudioField::ALL {
        let is_selected = field == selected;
        let value = match (&editor.typing, field) {
            (Some(typing), _) if is_selected => vec![
                Span::styled(typing.clone(), theme.title()),
                Span::styled(CURSOR, theme.title()),
            ],
            (_, AudioField::TargetLatency) => {
                vec![Span::raw(profile.target_latency_ms.to_string())]
            }
            (_, AudioField::BufferSize) => vec![Span::raw(profile.buffer_size_ms.to_string())],
            (_, AudioField::JitterBuffer) => vec![Span::raw(profile.jitter_buffer_ms.to_string())],
            (_, AudioField::EchoCancellation) => vec![on_off(profile.echo_cancellation, theme)],
            (_, AudioField::NoiseSuppression) => vec![on_off(profile.noise_suppression, theme)],
            (_, AudioField::AutoGain) => vec![on_off(profile.auto_gain_control, theme)],
        };
        lines.push(field_line(field.label(), value, is_selected, theme));
    }
    lines.push(Line::default());
    if let Some(problem) = editor.problem() {
        lines.extend(wrapped(&problem, text_width(area, width), theme.error()));
        lines.push(Line::default());
    }
    lines.push(hint("↑↓ field · ←→ change · digits type", theme));
    lines.push(hint("enter apply · d write default · esc cancel", theme));
    show(frame, area, title, width, lines, theme);
}

fn on_off(flag: bool, theme: Theme) -> Span<'static> {
    if flag {
        Span::styled("on", theme.ok())
    } else {
        Span::styled("off", theme.dim())
    }
}
