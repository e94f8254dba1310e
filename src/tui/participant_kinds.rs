//! Participants by kind over a server's rooms, for the overview's `people` line, kept up to
//! date room by room as updates arrive: a poll that changed three rooms costs three rooms,
//! not a walk over every participant.

use std::collections::{BTreeMap, HashMap};

use crate::rooms_update::RoomsUpdate;
use crate::snapshot::{ParticipantKind, RoomSummary, Snapshot};

const KINDS: usize = ParticipantKind::ALL.len();

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantKinds {
    by_room: HashMap<String, [u64; KINDS]>,
    total: [u64; KINDS],
}

impl ParticipantKinds {
    /// Counted again from a whole snapshot.
    pub(crate) fn recount(&mut self, snapshot: &Snapshot) {
        *self = Self::default();
        for room in snapshot.rooms.values() {
            self.count(room);
        }
    }

    /// Before `room` changes or goes: its participants leave the totals.
    pub(crate) fn forget(&mut self, room: &str) {
        if let Some(counts) = self.by_room.remove(room) {
            for (total, count) in self.total.iter_mut().zip(counts) {
                *total -= count;
            }
        }
    }

    /// `room` as it is now; a room whose participants are unknown counts nobody.
    pub(crate) fn count(&mut self, room: &RoomSummary) {
        self.forget(&room.name);
        let Some(participants) = &room.participants else {
            return;
        };
        let mut counts = [0; KINDS];
        for participant in participants {
            counts[index(participant.kind)] += 1;
        }
        for (total, count) in self.total.iter_mut().zip(counts) {
            *total += count;
        }
        self.by_room.insert(room.name.clone(), counts);
    }

    /// The rooms a non-full update changes or removes, counted as they will be.
    pub(crate) fn apply(&mut self, update: &RoomsUpdate) {
        for room in &update.removed {
            self.forget(room);
        }
        for room in &update.upserted {
            self.count(room);
        }
    }

    /// The kinds with anyone, and how many.
    #[must_use]
    pub fn totals(&self) -> BTreeMap<ParticipantKind, u64> {
        ParticipantKind::ALL
            .into_iter()
            .zip(self.total)
            .filter(|(_, count)| *count > 0)
            .collect()
    }
}

fn index(kind: ParticipantKind) -> usize {
    ParticipantKind::ALL
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(KINDS - 1)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livekit_protocol as proto;

    use super::*;

    fn snapshot(rooms: &[(&str, &[proto::participant_info::Kind])]) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: 1,
            rooms: rooms
                .iter()
                .map(|(name, kinds)| {
                    let room = proto::Room {
                        name: (*name).into(),
                        sid: format!("RM_{name}"),
                        ..Default::default()
                    };
                    let people: Vec<proto::ParticipantInfo> = kinds
                        .iter()
                        .enumerate()
                        .map(|(i, kind)| proto::ParticipantInfo {
                            identity: format!("{name}-{i}"),
                            kind: *kind as i32,
                            ..Default::default()
                        })
                        .collect();
                    (
                        (*name).to_owned(),
                        Arc::new(RoomSummary::new(&room, Some(&people))),
                    )
                })
                .collect(),
            participants_read_at_ms: BTreeMap::new(),
        }
    }

    #[test]
    fn an_update_counts_only_its_rooms_and_agrees_with_a_recount() {
        use proto::participant_info::Kind::{Agent, Sip, Standard};
        let before = snapshot(&[("a", &[Standard, Agent]), ("b", &[Sip]), ("c", &[Standard])]);
        let after = snapshot(&[("a", &[Standard, Standard]), ("c", &[Standard])]);
        let mut kinds = ParticipantKinds::default();
        kinds.recount(&before);
        assert_eq!(kinds.totals()[&ParticipantKind::Sip], 1);

        kinds.apply(&RoomsUpdate::between(&before, &after));
        let mut recounted = ParticipantKinds::default();
        recounted.recount(&after);
        assert_eq!(kinds.totals(), recounted.totals());
        assert_eq!(
            kinds.totals(),
            BTreeMap::from([(ParticipantKind::Standard, 3)])
        );
    }
}
