//! One poll's room changes as log lines: a line per room whose participants or tracks changed
//! (`town-hall: 2 joined, 1 left, 3 muted`), the busiest first; past [`NAMED_ROOMS`] rooms, one
//! more line sums up the rest. Rooms that finished and rooms that started get lines of their
//! own, one per room, or one naming them all when more than [`NAMED_ROOMS`] did at once (a
//! server restart that lost its rooms is one thing that happened, not hundreds).

use std::collections::BTreeMap;

use crate::snapshot::RoomChange;

use super::note::{Level, Note};

/// Rooms named on lines of their own per poll; the rest are summed up.
pub(crate) const NAMED_ROOMS: usize = 5;

/// The churn words, in the order a line lists them.
const CHURN: [&str; 6] = [
    "joined",
    "left",
    "published",
    "unpublished",
    "muted",
    "unmuted",
];

/// Counts of each kind of change in [`CHURN`] order.
type Churn = [usize; CHURN.len()];

pub(crate) fn notes(server: &str, changes: &[RoomChange]) -> Vec<Note> {
    let mut started: Vec<&str> = Vec::new();
    let mut finished: Vec<&str> = Vec::new();
    let mut churn: BTreeMap<&str, Churn> = BTreeMap::new();
    for change in changes {
        let (room, kind) = match change {
            RoomChange::RoomStarted { room } => {
                started.push(room);
                continue;
            }
            RoomChange::RoomFinished { room } => {
                finished.push(room);
                continue;
            }
            RoomChange::ParticipantJoined { room, .. } => (room, 0),
            RoomChange::ParticipantLeft { room, .. } => (room, 1),
            RoomChange::TrackPublished { room, .. } => (room, 2),
            RoomChange::TrackUnpublished { room, .. } => (room, 3),
            RoomChange::TrackMuted { room, .. } => (room, 4),
            RoomChange::TrackUnmuted { room, .. } => (room, 5),
        };
        churn.entry(room.as_str()).or_default()[kind] += 1;
    }
    let mut notes = openings(server, &finished, "finished");
    notes.extend(openings(server, &started, "started"));

    let mut busiest: Vec<(&str, Churn)> = churn.into_iter().collect();
    // Most changes first; the map's name order breaks ties (the sort is stable).
    busiest.sort_by_key(|(_, counts)| std::cmp::Reverse(counts.iter().sum::<usize>()));
    let rest = busiest.split_off(busiest.len().min(NAMED_ROOMS));
    for (room, counts) in &busiest {
        notes.push(
            Note::new(Level::Info, Some(server), *room)
                .detail(format!(": {}", words(counts)))
                .about(room),
        );
    }
    if !rest.is_empty() {
        let mut sum = Churn::default();
        for (_, counts) in &rest {
            for (total, count) in sum.iter_mut().zip(counts) {
                *total += count;
            }
        }
        let rooms = if rest.len() == 1 { "room" } else { "rooms" };
        notes.push(
            Note::new(
                Level::Info,
                Some(server),
                format!("and {} more {rooms}", rest.len()),
            )
            .detail(format!(": {}", words(&sum)))
            .about_all(rest.iter().map(|(room, _)| *room)),
        );
    }
    notes
}

/// `2 joined, 1 left, 3 muted`: the non-zero counts.
fn words(counts: &Churn) -> String {
    counts
        .iter()
        .zip(CHURN)
        .filter(|(count, _)| **count > 0)
        .map(|(count, word)| format!("{count} {word}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `room town-hall started` per room, or `12 rooms started: a, b, …` for many.
fn openings(server: &str, rooms: &[&str], verb: &str) -> Vec<Note> {
    if rooms.len() <= NAMED_ROOMS {
        return rooms
            .iter()
            .map(|room| {
                Note::new(Level::Info, Some(server), format!("room {room} {verb}")).about(room)
            })
            .collect();
    }
    vec![
        Note::new(
            Level::Info,
            Some(server),
            format!("{} rooms {verb}", rooms.len()),
        )
        .detail(format!(": {}", rooms.join(", ")))
        .about_all(rooms.iter().copied()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(room: &str, who: &str) -> RoomChange {
        RoomChange::ParticipantJoined {
            room: room.into(),
            identity: who.into(),
        }
    }

    fn left(room: &str) -> RoomChange {
        RoomChange::ParticipantLeft {
            room: room.into(),
            identity: "x".into(),
        }
    }

    fn muted(room: &str) -> RoomChange {
        RoomChange::TrackMuted {
            room: room.into(),
            identity: "x".into(),
            track_sid: "TR".into(),
        }
    }

    fn texts(notes: &[Note]) -> Vec<String> {
        notes
            .iter()
            .map(|n| format!("{}{}", n.head, n.detail))
            .collect()
    }

    #[test]
    fn each_room_that_changed_gets_a_line_that_names_it() {
        let changes = vec![
            RoomChange::RoomStarted {
                room: "lobby".into(),
            },
            joined("town-hall", "a"),
            joined("town-hall", "b"),
            left("town-hall"),
            muted("town-hall"),
            muted("town-hall"),
            muted("town-hall"),
            joined("standup", "c"),
            RoomChange::RoomFinished {
                room: "retro".into(),
            },
        ];
        let notes = notes("eu", &changes);
        assert_eq!(
            texts(&notes),
            [
                "room retro finished",
                "room lobby started",
                "town-hall: 2 joined, 1 left, 3 muted",
                "standup: 1 joined",
            ]
        );
        assert_eq!(notes[2].rooms, ["town-hall"]);
        assert!(
            notes
                .iter()
                .all(|n| n.server.as_deref() == Some("eu") && n.level == Level::Info)
        );
    }

    #[test]
    fn past_five_rooms_the_busiest_are_named_and_the_rest_summed_up() {
        let mut changes = Vec::new();
        for (i, room) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
            // Room a changes once, b twice, … h eight times.
            for _ in 0..=i {
                changes.push(joined(room, "x"));
            }
        }
        changes.push(left("a"));
        changes.push(muted("b"));
        let notes = notes("eu", &changes);
        assert_eq!(
            texts(&notes),
            [
                "h: 8 joined",
                "g: 7 joined",
                "f: 6 joined",
                "e: 5 joined",
                "d: 4 joined",
                "and 3 more rooms: 6 joined, 1 left, 1 muted",
            ]
        );
        assert_eq!(notes[5].rooms, ["b", "c", "a"], "ties by name");
    }

    #[test]
    fn many_rooms_opening_at_once_are_one_line() {
        let started: Vec<RoomChange> = (0..7)
            .map(|i| RoomChange::RoomStarted {
                room: format!("r{i}"),
            })
            .collect();
        let notes = notes("eu", &started);
        assert_eq!(
            texts(&notes),
            ["7 rooms started: r0, r1, r2, r3, r4, r5, r6"]
        );
        assert_eq!(notes[0].rooms.len(), 7);
        assert!(super::notes("eu", &[]).is_empty());
    }
}
