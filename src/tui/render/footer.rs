//! The bottom line: a message when there is one, else key hints for the screen, read from the
//! key map (the same table the help overlay lists), as many as fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use crate::tui::app::App;
use crate::tui::keys::{KeyAction, Watching};
use crate::tui::screen::Screen;
use crate::tui::theme::Theme;

/// The hints worth the room on each screen, most useful first, with a description of what
/// the key does there when the key map's general one would not say it; help and quit are
/// always among them when they fit.
fn curated(screen: Screen) -> &'static [(KeyAction, Option<&'static str>)] {
    use KeyAction as A;
    match screen {
        Screen::Overview => &[
            (A::Open, Some("rooms")),
            (A::NextServer, None),
            (A::Freeze, None),
            (A::PausePolling, None),
            (A::EditLimits, None),
            (A::NextTab, None),
        ],
        Screen::Connections => &[
            (A::RetryNow, None),
            (A::NextServer, None),
            (A::Freeze, None),
            (A::PausePolling, None),
            (A::NextTab, None),
        ],
        Screen::Rooms => &[
            (A::Filter, None),
            (A::Sort, None),
            (A::Open, None),
            (A::CreateRoom, None),
            (A::DeleteRoom, None),
            (A::RoomLimits, None),
            (A::AudioProfile, None),
            (A::ReverseSort, None),
            (A::Freeze, None),
        ],
        Screen::RoomDetail => &[
            (A::Back, None),
            (A::ToggleMute, None),
            (A::RemoveParticipant, None),
            (A::RoomLimits, None),
            (A::AudioProfile, None),
            (A::DeleteRoom, None),
            (A::Freeze, None),
        ],
        Screen::History => &[
            (A::Open, Some("details")),
            (A::FilterHistory, Some("filter")),
            (A::SortHistory, None),
            (A::ReverseHistory, None),
            (A::Back, Some("back")),
            (A::NextTab, None),
        ],
        Screen::Nodes => &[
            (A::Open, Some("details")),
            (A::FilterNodes, Some("filter")),
            (A::SortNodes, None),
            (A::ReverseNodes, None),
            (A::Back, Some("back")),
            (A::Freeze, None),
            (A::NextTab, None),
        ],
        Screen::NodeDetail => &[(A::Back, None), (A::Freeze, None), (A::NextTab, None)],
        Screen::Events => &[
            (A::Up, Some("older")),
            (A::Down, Some("newer")),
            (A::Open, Some("details")),
            (A::FilterEvents, Some("filter")),
            (A::Back, Some("back")),
            (A::Freeze, None),
            (A::NextTab, None),
        ],
    }
}

/// Demo fault keys, after the screen's own.
const DEMO: [(KeyAction, Option<&str>); 5] = [
    (KeyAction::FaultLatency, None),
    (KeyAction::FaultErrors, None),
    (KeyAction::FaultMedia, Some("media fault")),
    (KeyAction::FaultRestart, None),
    (KeyAction::FaultClear, None),
];
/// Playback keys of a replay, after the screen's own, in as few words as say it.
const REPLAY: [(KeyAction, Option<&str>); 3] = [
    (KeyAction::ReplayFaster, Some("faster")),
    (KeyAction::ReplaySlower, Some("slower")),
    (KeyAction::ReplaySkip, Some("+10 s")),
];
const ALWAYS: [KeyAction; 2] = [KeyAction::Help, KeyAction::Quit];

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    if let Some(flash) = &app.flash {
        let style = if flash.error {
            theme.error()
        } else {
            theme.ok()
        };
        let text = format::truncate(&flash.text, usize::from(area.width)).into_owned();
        frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
        return;
    }
    let typing = if app.rooms.editing_from.is_some() && app.screen == Screen::Rooms {
        Some("typing a filter: enter keeps it · esc restores the previous one · ctrl+u clears")
    } else if app.history.filter.is_editing() && app.screen == Screen::History {
        Some(
            "typing a filter (room or server): enter keeps it · esc restores the previous one · ctrl+u clears",
        )
    } else if app.nodes.filter.is_editing() && app.screen == Screen::Nodes {
        Some(
            "typing a filter (server, node, region or state): enter keeps it · esc restores the previous one · ctrl+u clears",
        )
    } else if app.events_view.is_editing() && app.screen == Screen::Events {
        Some("typing a filter: enter keeps it · esc clears it · ctrl+u empties it")
    } else {
        None
    };
    if let Some(hint) = typing {
        frame.render_widget(
            Paragraph::new(Span::styled(
                format::truncate(hint, usize::from(area.width)).into_owned(),
                theme.dim(),
            )),
            area,
        );
        return;
    }
    frame.render_widget(
        Paragraph::new(hints(app, usize::from(area.width), theme)),
        area,
    );
}

/// `key desc` pairs for the screen that fit in `width`.
fn hints(app: &App, width: usize, theme: Theme) -> Line<'static> {
    let screen = app.screen.context();
    let watching = app.mode.watching();
    let replay = app.mode.is_replay();
    let hint = |(action, text): (KeyAction, Option<&str>)| -> Option<(KeyAction, String, String)> {
        // A replay is read-only: only keys that work in it are offered.
        if !action.context().is_active(screen, watching) || (replay && action.is_live_only()) {
            return None;
        }
        let text = match action {
            KeyAction::PausePolling if replay => Some("pause playback"),
            _ => text,
        };
        let key = app.keymap.keys(action).first()?.to_string();
        Some((
            action,
            key,
            format!(" {} ", text.unwrap_or(action.description())),
        ))
    };
    let extra: &[(KeyAction, Option<&str>)] = match watching {
        Watching::Sandbox => &DEMO,
        Watching::Recording => &REPLAY,
        Watching::Servers => &[],
    };
    let wanted: Vec<(KeyAction, Option<&str>)> = curated(app.screen)
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .chain(ALWAYS.iter().map(|&action| (action, None)))
        .collect();
    let candidates: Vec<_> = wanted.into_iter().filter_map(hint).collect();
    let cost =
        |(_, key, desc): &(KeyAction, String, String)| format::width(key) + format::width(desc) + 1;
    // Help and quit first, then the others in order while they fit.
    let mut budget = width;
    let mut keep = vec![false; candidates.len()];
    for pass_always in [true, false] {
        for (i, candidate) in candidates.iter().enumerate() {
            if keep[i] || ALWAYS.contains(&candidate.0) != pass_always {
                continue;
            }
            let c = cost(candidate);
            if c <= budget {
                budget -= c;
                keep[i] = true;
            } else if !pass_always {
                // Keep the order readable: stop at the first that does not fit.
                break;
            }
        }
    }
    let mut spans = Vec::new();
    for (candidate, _) in candidates.into_iter().zip(&keep).filter(|(_, k)| **k) {
        let (_, key, desc) = candidate;
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(desc));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}
