//! A poll's rooms as a change to apply rather than a whole snapshot: the rooms whose summary
//! changed (each with all its participants and tracks) and the rooms gone.
//!
//! Rooms are shared (`Arc`), so an update and the snapshots it turns into each other hold the
//! same room, not copies of it. At 10,000 rooms a whole snapshot is megabytes; sent at every poll it made every consumer
//! (the dashboard, `lktop watch`, the recorder) pay for all of it, though ~1 % of the rooms
//! change. An update carries only what changed, so their work follows the changes. A consumer
//! holds a [`Snapshot`] and [`Snapshot::apply`]s each update; a `full` update replaces what it
//! holds: the first poll of a server, and the first poll after the event stream dropped events
//! (a consumer that missed an update would otherwise hold a wrong state for good).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::snapshot::{RoomSummary, Snapshot};

/// What changed in one server's rooms between two polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomsUpdate {
    pub server: String,
    /// When the poll was taken, Unix milliseconds.
    pub taken_at_ms: i64,
    /// `upserted` is every room of the server: drop what you hold first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    /// Rooms new or changed since the previous poll, whole; in name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upserted: Vec<Arc<RoomSummary>>,
    /// Names of the rooms gone since the previous poll, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Whose participants this poll read. Left out when it read every room (all of them
    /// before the polling budget, so a recording from then reads the same).
    #[serde(default, skip_serializing_if = "ParticipantsRead::is_every")]
    pub participants_read: ParticipantsRead,
}

/// Which rooms' participants a poll read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantsRead {
    /// Every room in the snapshot, at `taken_at_ms`.
    #[default]
    Every,
    /// These rooms, each at its time (this poll's, or earlier ones' in a full update); the
    /// others keep what the consumer holds.
    Rooms(BTreeMap<String, i64>),
}

impl ParticipantsRead {
    #[must_use]
    pub fn is_every(&self) -> bool {
        matches!(self, Self::Every)
    }
}

impl RoomsUpdate {
    /// Every room of `snapshot`, to replace what a consumer holds.
    #[must_use]
    pub fn full(snapshot: &Snapshot) -> Self {
        Self {
            server: snapshot.server.clone(),
            taken_at_ms: snapshot.taken_at_ms,
            full: true,
            upserted: snapshot.rooms.values().cloned().collect(),
            removed: Vec::new(),
            participants_read: Self::reads_of(snapshot),
        }
    }

    /// Every read `snapshot` holds, as compact as it can be said.
    fn reads_of(snapshot: &Snapshot) -> ParticipantsRead {
        if snapshot.read_every_room_in_this_poll() {
            ParticipantsRead::Every
        } else {
            ParticipantsRead::Rooms(snapshot.participants_read_at_ms.clone())
        }
    }

    /// What turns `old` into `new`: the rooms added or changed in any way (counts, metadata,
    /// a participant, a track), the rooms gone, and the rooms read (every room whose read time
    /// moved).
    #[must_use]
    pub fn between(old: &Snapshot, new: &Snapshot) -> Self {
        let read = new
            .participants_read_at_ms
            .iter()
            .filter(|(room, at)| old.participants_read_at_ms.get(*room) != Some(*at))
            .map(|(room, at)| (room.clone(), *at));
        let participants_read = if new.read_every_room_in_this_poll() {
            ParticipantsRead::Every
        } else {
            ParticipantsRead::Rooms(read.collect())
        };
        let upserted = new
            .rooms
            .iter()
            .filter(|(name, room)| {
                old.rooms
                    .get(*name)
                    .is_none_or(|before| !Arc::ptr_eq(before, room) && before != *room)
            })
            .map(|(_, room)| Arc::clone(room))
            .collect();
        let removed = old
            .rooms
            .keys()
            .filter(|name| !new.rooms.contains_key(*name))
            .cloned()
            .collect();
        Self {
            server: new.server.clone(),
            taken_at_ms: new.taken_at_ms,
            full: false,
            upserted,
            removed,
            participants_read,
        }
    }

    /// Names of the rooms this update touches: upserted, then removed.
    pub fn touched(&self) -> impl Iterator<Item = &str> {
        self.upserted
            .iter()
            .map(|room| room.name.as_str())
            .chain(self.removed.iter().map(String::as_str))
    }
}

impl Snapshot {
    /// Applies `update`: after it this snapshot equals the one the update was made from, if
    /// it held the previous one (or the update is full).
    pub fn apply(&mut self, update: RoomsUpdate) {
        if update.full {
            self.rooms.clear();
        }
        self.server = update.server;
        self.taken_at_ms = update.taken_at_ms;
        if update.full {
            self.participants_read_at_ms.clear();
        }
        for name in &update.removed {
            self.rooms.remove(name);
            self.participants_read_at_ms.remove(name);
        }
        for room in update.upserted {
            let another_room = self
                .rooms
                .get(&room.name)
                .is_some_and(|held| held.sid != room.sid);
            if room.participants.is_none() || another_room {
                self.participants_read_at_ms.remove(&room.name);
            }
            self.rooms.insert(room.name.clone(), room);
        }
        match update.participants_read {
            ParticipantsRead::Every => {
                let at = self.taken_at_ms;
                for room in self.rooms.values().filter(|r| r.participants.is_some()) {
                    match self.participants_read_at_ms.get_mut(&room.name) {
                        Some(read_at) => *read_at = at,
                        None => {
                            self.participants_read_at_ms.insert(room.name.clone(), at);
                        }
                    }
                }
            }
            ParticipantsRead::Rooms(read) => self.participants_read_at_ms.extend(read),
        }
    }

    /// A snapshot built from a full update alone.
    #[must_use]
    pub fn from_update(update: RoomsUpdate) -> Self {
        let mut snapshot = Self::default();
        snapshot.apply(update);
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::TrackCounts;

    fn room(name: &str, participants: u32) -> RoomSummary {
        RoomSummary {
            name: name.into(),
            sid: format!("RM_{name}"),
            created_at: 1_764_000_000,
            max_participants: 0,
            metadata: String::new(),
            num_participants: participants,
            num_publishers: 0,
            tracks: TrackCounts::default(),
            participants: Some(Vec::new()),
        }
    }

    fn snapshot(at_ms: i64, rooms: &[RoomSummary]) -> Snapshot {
        Snapshot {
            server: "local".into(),
            taken_at_ms: at_ms,
            rooms: rooms
                .iter()
                .map(|r| (r.name.clone(), Arc::new(r.clone())))
                .collect(),
            participants_read_at_ms: rooms.iter().map(|r| (r.name.clone(), at_ms)).collect(),
        }
    }

    #[test]
    fn an_update_carries_only_what_changed_and_rebuilds_the_new_snapshot() {
        let old = snapshot(1_000, &[room("a", 1), room("b", 2), room("c", 3)]);
        let new = snapshot(3_000, &[room("a", 1), room("b", 5), room("d", 0)]);
        let update = RoomsUpdate::between(&old, &new);
        assert!(!update.full);
        let upserted: Vec<&str> = update.upserted.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(upserted, ["b", "d"]);
        assert_eq!(update.removed, ["c"]);
        assert_eq!(update.touched().collect::<Vec<_>>(), ["b", "d", "c"]);

        let mut held = old.clone();
        held.apply(update);
        assert_eq!(held, new);
    }

    #[test]
    fn a_full_update_replaces_whatever_was_held() {
        let wrong = snapshot(1_000, &[room("stale", 9)]);
        let new = snapshot(3_000, &[room("a", 1)]);
        let mut held = wrong;
        held.apply(RoomsUpdate::full(&new));
        assert_eq!(held, new);
        assert_eq!(Snapshot::from_update(RoomsUpdate::full(&new)), new);
    }

    #[test]
    fn a_quiet_poll_is_a_small_event() {
        let same = snapshot(1_000, &[room("a", 1)]);
        let later = snapshot(3_000, &[room("a", 1)]);
        let json = serde_json::to_string(&RoomsUpdate::between(&same, &later)).unwrap();
        assert_eq!(json, r#"{"server":"local","taken_at_ms":3000}"#);
        let back: RoomsUpdate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, RoomsUpdate::between(&same, &later));
    }
}
