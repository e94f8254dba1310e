//! Enforcement: what lktop did to keep a room within its limits (or could not do) — a mute, a
//! removal, a room deleted by a lifecycle rule — and a participant or track held back after
//! coming back again.

use crate::events::Outcome;
use crate::limits::Enforcement;
use crate::tui::log::note::{CollapseKey, EnforcementTarget, Level, Note};
use crate::tui::render::format;

/// `enforce: removed bob from town-hall (9 participants over the limit of 8)`, or `enforce:
/// could not remove bob from town-hall: not found (…)`; collapsed per target and outcome.
pub(super) fn enforced(server: &str, action: &Enforcement, outcome: &Outcome) -> Note {
    let (room, done, failed, target, reason) = match action {
        Enforcement::RemoveParticipant {
            room,
            identity,
            reason,
        } => (
            room,
            format!("removed {identity} from {room}"),
            format!("could not remove {identity} from {room}"),
            EnforcementTarget::Participant {
                room: room.clone(),
                identity: identity.clone(),
            },
            reason,
        ),
        Enforcement::MuteTrack {
            room,
            identity,
            track_sid,
            reason,
            ..
        } => (
            room,
            format!("muted {track_sid} of {identity} in {room}"),
            format!("could not mute {track_sid} of {identity} in {room}"),
            EnforcementTarget::Track {
                room: room.clone(),
                identity: identity.clone(),
                track_sid: track_sid.clone(),
            },
            reason,
        ),
        Enforcement::DeleteRoom {
            room, sid, reason, ..
        } => (
            room,
            format!("deleted {room} ({sid})"),
            format!("could not delete {room} ({sid})"),
            EnforcementTarget::Room { room: room.clone() },
            reason,
        ),
    };
    let note = match outcome {
        Outcome::Done { .. } => Note::new(Level::Action, Some(server), format!("enforce: {done}"))
            .detail(format!(" ({reason})")),
        Outcome::Failed { reason: failure } => {
            Note::new(Level::Error, Some(server), format!("enforce: {failed}"))
                .detail(format!(": {failure} ({reason})"))
        }
    };
    note.collapsing(CollapseKey::Enforced {
        target,
        done: outcome.is_done(),
    })
    .about(room)
}

/// `enforce: bob rejoined town-hall after 2 removals; held back until 12:03:04`.
pub(super) fn held(server: &str, action: &Enforcement, removals: u32, until_ms: i64) -> Note {
    let until = format::clock(until_ms);
    let (room, identity, head, detail) = match action {
        Enforcement::RemoveParticipant { room, identity, .. } => (
            room,
            identity,
            format!("enforce: {identity} rejoined {room}"),
            format!(
                " after {}; held back until {until}",
                format::plural(removals, "removal")
            ),
        ),
        Enforcement::MuteTrack {
            room,
            identity,
            track_sid,
            ..
        } => (
            room,
            identity,
            format!("enforce: {track_sid} of {identity} in {room} is live again"),
            format!(
                " after {}; held back until {until}",
                format::plural(removals, "mute")
            ),
        ),
        // Never held (a deleted room has no one to come back), said as plainly if it were.
        Enforcement::DeleteRoom { room, .. } => (
            room,
            room,
            format!("enforce: {room} is back"),
            format!(
                " after {}; held back until {until}",
                format::plural(removals, "deletion")
            ),
        ),
    };
    Note::new(Level::Warn, Some(server), head)
        .detail(detail)
        .collapsing(CollapseKey::EnforcementHeld {
            room: room.clone(),
            identity: identity.clone(),
        })
        .about(room)
}
