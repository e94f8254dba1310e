//! How old a server's figures are, in words every screen uses the same way: the state and
//! since when, and "as of" for figures that are no longer current.

use ratatui::style::Style;
use ratatui::text::Span;

use super::format;
use crate::events::ServerState;
use crate::tui::app::App;
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

/// `down 1m12s`, `unauthenticated 40s`, `up`, `starting`: the state, with its age when it
/// is not up.
pub(crate) fn state_label(app: &App, server: &ServerView) -> String {
    match &server.state {
        Some(view) if view.state != ServerState::Up => format!(
            "{} {}",
            view.state,
            format::age(app.view_clock_ms() - view.since_ms)
        ),
        _ => server.health().label().to_owned(),
    }
}

/// `as of 12:03:04, 1m12s ago` for stale figures; `None` while they are current.
pub(crate) fn as_of(app: &App, server: &ServerView) -> Option<String> {
    if !server.is_stale() {
        return None;
    }
    Some(match server.figures_at_ms() {
        Some(at) => format!(
            "as of {}, {} ago",
            format::clock(at),
            format::age(app.view_clock_ms() - at)
        ),
        None => "never read".to_owned(),
    })
}

/// Why the figures are stale, under a label (`down`, `credentials`, `poll error`): the
/// server is not up, or its last polls failed.
pub(crate) fn reason(app: &App, server: &ServerView) -> Option<(&'static str, String)> {
    if let Some(view) = &server.state
        && view.state != ServerState::Up
    {
        let (label, what) = match view.state {
            ServerState::Unauthenticated => {
                ("credentials", "the server refuses lktop's credentials")
            }
            _ => ("down", "the server has not answered"),
        };
        let since = format!(
            "since {} ({})",
            format::clock(view.since_ms),
            format::age(app.view_clock_ms() - view.since_ms)
        );
        return Some((
            label,
            match &view.cause {
                Some(cause) => format!("{what} {since}: {cause}"),
                None => format!("{what} {since}"),
            },
        ));
    }
    let failing = server.poll_error.as_ref()?;
    let times = if failing.count > 1 {
        format!(" ×{}", failing.count)
    } else {
        String::new()
    };
    Some((
        "poll error",
        format!(
            "polls failing{times} since {}: {}",
            format::clock(failing.since_ms),
            failing.error
        ),
    ))
}

/// The style of a figure: dimmed while stale.
pub(crate) fn figure_style(server: &ServerView, theme: Theme) -> Style {
    if server.is_stale() {
        theme.dim()
    } else {
        Style::default()
    }
}

/// `· as of 12:03:04, 1m12s ago ` for a title, in the warning style.
pub(crate) fn title_badge(app: &App, server: &ServerView, theme: Theme) -> Option<Span<'static>> {
    as_of(app, server).map(|text| Span::styled(format!("· {text} "), theme.warn()))
}
