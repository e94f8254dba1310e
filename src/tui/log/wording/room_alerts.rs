//! Room alerts: a room recreated under the same name, a participant count that collapsed.
//! Each is a moment, said once at warn level; lktop does nothing about it.

use crate::room_alerts::RoomAlert;
use crate::tui::log::note::{CollapseKey, Level, Note};

/// `all-hands recreated: RM_1 → RM_2, 435 participants before, 3 after`; `big: participants
/// fell from 40 to 19 (more than 50 %)`; the server's total without a room.
pub(super) fn room_alert(server: &str, alert: &RoomAlert) -> Note {
    let (head, detail, kind) = match alert {
        RoomAlert::RoomRecreated {
            room,
            sid_before,
            sid_after,
            participants_before,
            participants_after,
        } => (
            format!("{room} recreated"),
            format!(
                ": {sid_before} → {sid_after}, {participants_before} participants before, \
                 {participants_after} after; the previous room's state is gone"
            ),
            "room_recreated",
        ),
        RoomAlert::CountCollapsed {
            room,
            before,
            after,
            fraction,
        } => (
            match room {
                Some(room) => format!("{room}: participants collapsed"),
                None => "participants collapsed".to_owned(),
            },
            format!(
                ": {before} → {after} between two polls (more than {} %)",
                (fraction * 100.0).round()
            ),
            "count_collapsed",
        ),
    };
    let note = Note::new(Level::Warn, Some(server), head)
        .detail(detail)
        .collapsing(CollapseKey::RoomAlert {
            room: alert.room().map(str::to_owned),
            alert: kind,
        });
    match alert.room() {
        Some(room) => note.about(room),
        None => note,
    }
}
