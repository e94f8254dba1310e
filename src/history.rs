//! Rooms that finished, so a room that closed is not gone without a trace: each live room's
//! life (peak, who was in it, tracks published, how people left) is followed from polls and
//! webhooks, and summed up when the room finishes (a `room_finished` webhook, or gone from
//! ListRooms).

use std::collections::{BTreeMap, HashMap, HashSet};

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

use crate::rooms_update::RoomsUpdate;
use crate::snapshot::Snapshot;

/// How the departures of participants who left without a `participant_left` webhook are
/// counted: polling saw them gone, not why.
pub const REASON_NOT_TOLD: &str = "not told (gone between polls)";
/// Participants still in the room when it finished.
pub const REASON_IN_ROOM_AT_END: &str = "in the room at its end";

/// A room that finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedRoom {
    pub room: String,
    pub sid: String,
    /// Unix ms.
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub duration_ms: u64,
    /// The most participants seen at once.
    pub peak_participants: u32,
    /// Distinct identities seen in it.
    pub participants_seen: u32,
    /// Distinct tracks seen published in it.
    pub tracks_published: u32,
    /// How its participants left: disconnect reasons (`CLIENT_INITIATED`, `ROOM_DELETED`, …)
    /// from webhooks, and the two counts polling can give.
    pub disconnect_reasons: BTreeMap<String, u32>,
    /// `webhook` (a `room_finished` webhook) or `poll` (gone from `ListRooms`).
    pub told_by: String,
}

#[derive(Debug, Clone, Default)]
struct Life {
    sid: String,
    started_at_ms: i64,
    peak: u32,
    seen: HashSet<String>,
    present: HashSet<String>,
    tracks: HashSet<String>,
    reasons: BTreeMap<String, u32>,
}

impl Life {
    fn finish(mut self, room: &str, finished_at_ms: i64, told_by: &str) -> FinishedRoom {
        if !self.present.is_empty() {
            *self
                .reasons
                .entry(REASON_IN_ROOM_AT_END.to_owned())
                .or_default() += u32::try_from(self.present.len()).unwrap_or(u32::MAX);
        }
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        FinishedRoom {
            room: room.to_owned(),
            sid: self.sid,
            started_at_ms: self.started_at_ms,
            finished_at_ms,
            duration_ms: u64::try_from(finished_at_ms - self.started_at_ms).unwrap_or(0),
            peak_participants: self.peak,
            participants_seen: count(self.seen.len()),
            tracks_published: count(self.tracks.len()),
            disconnect_reasons: self.reasons,
            told_by: told_by.to_owned(),
        }
    }

    fn arrive(&mut self, identity: &str) {
        self.seen.insert(identity.to_owned());
        self.present.insert(identity.to_owned());
        self.peak = self
            .peak
            .max(u32::try_from(self.present.len()).unwrap_or(u32::MAX));
    }

    fn leave(&mut self, identity: &str, reason: &str) {
        if self.present.remove(identity) {
            *self.reasons.entry(reason.to_owned()).or_default() += 1;
        }
    }
}

/// Finished rooms remembered so a listing that still shows one does not start it again.
const REMEMBERED_FINISHED: usize = 1024;

/// Every live room's life on one server.
#[derive(Debug, Default)]
pub struct RoomLives {
    lives: HashMap<String, Life>,
    finished: HashSet<String>,
    finished_order: std::collections::VecDeque<String>,
}

impl RoomLives {
    /// A poll's rooms: lives begin and grow, and the rooms gone from it finish. Only the rooms
    /// `update` touched are looked at (all of them when it is full): an unchanged room has
    /// nothing new to tell, and at 10,000 rooms looking at each would cost every poll.
    pub fn observe_poll(&mut self, snapshot: &Snapshot, update: &RoomsUpdate) -> Vec<FinishedRoom> {
        let mut finished = Vec::new();
        let ended = |name: &str, life: &Life| {
            snapshot
                .rooms
                .get(name)
                .is_none_or(|room| room.sid != life.sid)
        };
        let gone: Vec<String> = if update.full {
            self.lives
                .iter()
                .filter(|(name, life)| ended(name, life))
                .map(|(name, _)| name.clone())
                .collect()
        } else {
            update
                .touched()
                .filter(|name| self.lives.get(*name).is_some_and(|life| ended(name, life)))
                .map(str::to_owned)
                .collect()
        };
        for name in gone {
            if let Some(life) = self.lives.remove(&name) {
                self.remember_finished(&life.sid);
                finished.push(life.finish(&name, snapshot.taken_at_ms, "poll"));
            }
        }
        let looked_at: Box<dyn Iterator<Item = &std::sync::Arc<crate::snapshot::RoomSummary>>> =
            if update.full {
                Box::new(snapshot.rooms.values())
            } else {
                Box::new(update.upserted.iter())
            };
        for room in looked_at {
            let name = &room.name;
            if self.finished.contains(&room.sid) {
                continue;
            }
            let life = self.lives.entry(name.clone()).or_insert_with(|| Life {
                sid: room.sid.clone(),
                started_at_ms: room.created_at.saturating_mul(1000),
                ..Life::default()
            });
            let Some(participants) = &room.participants else {
                life.peak = life.peak.max(room.num_participants);
                continue;
            };
            let now: HashSet<&str> = participants.iter().map(|p| p.identity.as_str()).collect();
            let left: Vec<String> = life
                .present
                .iter()
                .filter(|identity| !now.contains(identity.as_str()))
                .cloned()
                .collect();
            for identity in left {
                life.leave(&identity, REASON_NOT_TOLD);
            }
            for participant in participants {
                life.arrive(&participant.identity);
                life.tracks
                    .extend(participant.tracks.iter().map(|track| track.sid.clone()));
            }
        }
        finished.sort_by(|a, b| a.room.cmp(&b.room));
        finished
    }

    fn remember_finished(&mut self, sid: &str) {
        if sid.is_empty() || !self.finished.insert(sid.to_owned()) {
            return;
        }
        self.finished_order.push_back(sid.to_owned());
        if self.finished_order.len() > REMEMBERED_FINISHED
            && let Some(oldest) = self.finished_order.pop_front()
        {
            self.finished.remove(&oldest);
        }
    }

    /// A webhook: who came, who left and why, what was published; a `room_finished` ends the
    /// room's life at `at_ms`.
    pub fn observe_webhook(
        &mut self,
        event: &proto::WebhookEvent,
        at_ms: i64,
    ) -> Option<FinishedRoom> {
        let room = event.room.as_ref()?;
        if event.event == "room_finished" {
            let life = self.lives.get(&room.name)?;
            if !room.sid.is_empty() && life.sid != room.sid {
                return None;
            }
            let life = self.lives.remove(&room.name)?;
            self.remember_finished(&life.sid);
            return Some(life.finish(&room.name, at_ms, "webhook"));
        }
        if self.finished.contains(&room.sid) {
            return None;
        }
        let life = self.lives.entry(room.name.clone()).or_insert_with(|| Life {
            sid: room.sid.clone(),
            started_at_ms: if room.creation_time_ms > 0 {
                room.creation_time_ms
            } else {
                room.creation_time.saturating_mul(1000)
            },
            ..Life::default()
        });
        let identity = event
            .participant
            .as_ref()
            .map(|participant| participant.identity.as_str());
        match (event.event.as_str(), identity) {
            ("participant_joined", Some(identity)) => life.arrive(identity),
            ("participant_left", Some(identity)) => {
                let reason = event
                    .participant
                    .as_ref()
                    .and_then(|p| proto::DisconnectReason::try_from(p.disconnect_reason).ok())
                    .map_or("UNKNOWN_REASON", |reason| reason.as_str_name());
                life.leave(identity, reason);
            }
            ("participant_connection_aborted", Some(identity)) => {
                life.leave(identity, "CONNECTION_ABORTED");
            }
            ("track_published", _) => {
                if let Some(track) = &event.track {
                    life.tracks.insert(track.sid.clone());
                }
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::snapshot::RoomSummary;

    fn snapshot(at_ms: i64, rooms: &[(&str, &[&str])]) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: at_ms,
            rooms: rooms
                .iter()
                .map(|(name, people)| {
                    let room = proto::Room {
                        name: (*name).into(),
                        sid: format!("RM_{name}"),
                        creation_time: 10,
                        ..Default::default()
                    };
                    let people: Vec<proto::ParticipantInfo> = people
                        .iter()
                        .map(|identity| proto::ParticipantInfo {
                            identity: (*identity).into(),
                            ..Default::default()
                        })
                        .collect();
                    (
                        (*name).to_owned(),
                        Arc::new(RoomSummary::new(&room, Some(&people))),
                    )
                })
                .collect(),
            participants_read_at_ms: std::collections::BTreeMap::new(),
        }
    }

    /// Polls as the worker takes them: each with the update from the previous snapshot.
    #[derive(Default)]
    struct Polls {
        lives: RoomLives,
        previous: Snapshot,
    }

    impl Polls {
        fn observe(&mut self, now: &Snapshot) -> Vec<FinishedRoom> {
            let update = RoomsUpdate::between(&self.previous, now);
            self.previous = now.clone();
            self.lives.observe_poll(now, &update)
        }
    }

    #[test]
    fn a_room_gone_from_polls_is_summed_up_with_how_people_left() {
        let mut polls = Polls::default();
        assert!(
            polls
                .observe(&snapshot(20_000, &[("a", &["ann", "ben"])]))
                .is_empty()
        );
        let left = proto::WebhookEvent {
            event: "participant_left".into(),
            room: Some(proto::Room {
                name: "a".into(),
                sid: "RM_a".into(),
                ..Default::default()
            }),
            participant: Some(proto::ParticipantInfo {
                identity: "ann".into(),
                disconnect_reason: proto::DisconnectReason::ClientInitiated as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(polls.lives.observe_webhook(&left, 21_000), None);
        assert!(
            polls
                .observe(&snapshot(22_000, &[("a", &["cat"])]))
                .is_empty()
        );
        let finished = polls.observe(&snapshot(24_000, &[]));
        assert_eq!(finished.len(), 1);
        let a = &finished[0];
        assert_eq!(
            (a.started_at_ms, a.finished_at_ms, a.duration_ms),
            (10_000, 24_000, 14_000)
        );
        assert_eq!((a.peak_participants, a.participants_seen), (2, 3));
        assert_eq!(
            a.disconnect_reasons,
            BTreeMap::from([
                ("CLIENT_INITIATED".to_owned(), 1),
                (REASON_NOT_TOLD.to_owned(), 1),
                (REASON_IN_ROOM_AT_END.to_owned(), 1),
            ])
        );
        assert_eq!(a.told_by, "poll");
    }

    #[test]
    fn a_room_finished_webhook_ends_the_life_once() {
        let mut polls = Polls::default();
        polls.observe(&snapshot(20_000, &[("a", &[])]));
        let finished = proto::WebhookEvent {
            event: "room_finished".into(),
            room: Some(proto::Room {
                name: "a".into(),
                sid: "RM_a".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let room = polls
            .lives
            .observe_webhook(&finished, 30_000)
            .expect("finished");
        assert_eq!(room.told_by, "webhook");
        assert!(polls.lives.observe_webhook(&finished, 31_000).is_none());
        assert!(
            polls.observe(&snapshot(32_000, &[])).is_empty(),
            "not twice"
        );
    }
}
