//! The top line: the name, where the data comes from, and badges (frozen, polling paused,
//! replay state) with the clock at the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use crate::tui::app::{App, Mode};
use crate::tui::theme::Theme;

const NAME: &str = "lktop";

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut badges: Vec<Span> = Vec::new();
    let mut badge = |text: String, color: Color| {
        badges.push(Span::styled(format!(" {text} "), theme.badge(color)));
        badges.push(Span::raw(" "));
    };
    if let Mode::Replay {
        paused, finished, ..
    } = &app.mode
    {
        if *finished {
            badge("FINISHED".into(), Color::Magenta);
        } else if *paused {
            badge("PAUSED".into(), Color::Yellow);
        }
    }
    if let Some(frozen) = &app.frozen {
        badge(
            format!("FROZEN since {}", format::clock(frozen.at_ms)),
            Color::Blue,
        );
    }
    if app.polling_paused {
        badge("POLLING PAUSED".into(), Color::Yellow);
    }
    if app.recording.is_some() {
        badge("REC".into(), Color::Red);
    }
    badges.push(Span::styled(
        format::clock(app.clock_ms()),
        theme.title().remove_modifier(Modifier::BOLD),
    ));
    let right = Line::from(badges);
    let right_width = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)])
            .spacing(1)
            .areas(area);

    let (label, rest) = source(app);
    let room = usize::from(left_area.width).saturating_sub(NAME.len() + 1);
    let full = format!("{label}{rest}");
    let shown = format::truncate(&full, room);
    let mut left = vec![Span::styled(NAME, theme.title()), Span::raw(" ")];
    // The label keeps its own style when the whole of it survived the cut.
    match shown.strip_prefix(label.as_str()) {
        Some(tail) if !label.is_empty() => {
            left.push(Span::styled(label.clone(), theme.warn()));
            left.push(Span::raw(tail.to_owned()));
        }
        _ => left.push(Span::raw(shown.into_owned())),
    }
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(Paragraph::new(right).right_aligned(), right_area);
}

/// What is watched: a label (`demo:`, `replay:`) and the rest of the text.
fn source(app: &App) -> (String, String) {
    match &app.mode {
        Mode::Live { sandbox: Some(url) } => (
            "demo:".to_owned(),
            format!(" built-in sandbox at {url} — set LIVEKIT_URL to monitor your server"),
        ),
        Mode::Live { sandbox: None } => {
            let names: Vec<&str> = app
                .data()
                .servers
                .iter()
                .map(|server| server.name.as_str())
                .collect();
            (String::new(), names.join(", "))
        }
        Mode::Replay {
            file,
            speed,
            at_ms,
            started_at_ms,
            ..
        } => (
            "replay:".to_owned(),
            format!(
                " {file} ×{} — {} played",
                format::speed(*speed),
                format::mmss(at_ms.saturating_sub(*started_at_ms))
            ),
        ),
    }
}
