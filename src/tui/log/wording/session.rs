//! The session itself: what is watched, events the dashboard had no time for, and the
//! recording stopping.

use crate::tui::log::note::{CollapseKey, Level, Note};

pub(super) fn started(servers: &[String], sandbox: Option<&str>) -> Note {
    let text = match sandbox {
        Some(url) => format!("watching the built-in sandbox at {url}"),
        None => format!("watching {}", servers.join(", ")),
    };
    Note::new(Level::Info, None, text)
}

pub(super) fn events_dropped(count: u64) -> Note {
    Note::new(
        Level::Warn,
        None,
        "events dropped while the dashboard was busy",
    )
    .detail(format!(
        ": {count} this time; the next statuses carry the full state"
    ))
    .collapsing(CollapseKey::EventsDropped)
}

/// The recording stopped before the session did: where it went, how far it got and why.
pub(super) fn recording_stopped(path: &str, events: u64, reason: &str) -> Note {
    Note::new(
        Level::Error,
        None,
        format!("recording to {path} stopped after {events} events: {reason}"),
    )
}
