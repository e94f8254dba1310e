//! Room limits: a limit exceeded and met again, said when it starts and when it ends, never
//! while it lasts; the lifecycle rules (solo, empty, too old) alike.

use crate::limits::{LimitKind, Violation, seconds_text};
use crate::tui::log::memory::Memory;
use crate::tui::log::note::{CollapseKey, Level, Note};
use crate::tui::render::format;

/// The limits that began or ceased to be exceeded since the server's last set of violations:
/// those met again first, then the new ones.
pub(super) fn violations(server: &str, violations: &[Violation], memory: &mut Memory) -> Vec<Note> {
    let changes = memory.violations(server, violations);
    let ended = changes.ended.iter().map(|v| limit_met(server, v));
    let started = changes.started.iter().map(|v| limit_exceeded(server, v));
    ended.chain(started).collect()
}

/// The limit a violation is about, as a line names it.
fn limit_name(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::ConcurrentRooms => "concurrent room limit",
        LimitKind::Participants => "participant limit",
        LimitKind::AudioTracks => "live audio track limit",
        LimitKind::VideoTracks => "live video track limit",
        LimitKind::SoloTimeout => "solo_timeout",
        LimitKind::EmptyTimeout => "empty_timeout",
        LimitKind::MaxDuration => "max_duration",
    }
}

/// `: 12 of 10`; for a lifecycle rule, the state and since when: `: alone (or only agents)
/// since 12:03:04, limit 5m`.
fn figures(violation: &Violation) -> String {
    let state = match violation.kind {
        LimitKind::SoloTimeout => "alone (or only agents) since",
        LimitKind::EmptyTimeout => "empty since",
        LimitKind::MaxDuration => "created at",
        _ => return format!(": {} of {}", violation.actual, violation.limit),
    };
    let limit = seconds_text(violation.limit);
    match violation.since_ms {
        Some(since_ms) => format!(": {state} {}, limit {limit}", format::clock(since_ms)),
        None => format!(": limit {limit}"),
    }
}

/// `town-hall over the participant limit: 12 of 10`; `concurrent rooms over the limit: 12 of
/// 10` for the server-wide one.
fn limit_exceeded(server: &str, violation: &Violation) -> Note {
    let head = match &violation.room {
        Some(room) => format!("{room} over the {}", limit_name(violation.kind)),
        None => "concurrent rooms over the limit".to_owned(),
    };
    let note = Note::new(Level::Warn, Some(server), head)
        .detail(figures(violation))
        .collapsing(CollapseKey::LimitExceeded {
            room: violation.room.clone(),
            kind: violation.kind,
        });
    about_room(note, violation.room.as_deref())
}

/// `town-hall back within the participant limit`.
fn limit_met(server: &str, violation: &Violation) -> Note {
    let head = match &violation.room {
        Some(room) => format!("{room} back within the {}", limit_name(violation.kind)),
        None => "concurrent rooms back within the limit".to_owned(),
    };
    let note = Note::new(Level::Info, Some(server), head).collapsing(CollapseKey::LimitMet {
        room: violation.room.clone(),
        kind: violation.kind,
    });
    about_room(note, violation.room.as_deref())
}

fn about_room(note: Note, room: Option<&str>) -> Note {
    match room {
        Some(room) => note.about(room),
        None => note,
    }
}
