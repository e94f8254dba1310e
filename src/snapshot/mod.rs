//! What a server looks like at one moment — its rooms, their participants and tracks — and what
//! changed since the last look.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

mod participant;

pub use participant::{
    ParticipantKind, ParticipantSummary, PermissionSummary, TrackKind, TrackSummary,
    VideoLayerSummary, disconnect_reason_name,
};

/// Participants by kind (`42 standard, 3 agent, 2 sip`), kinds without any left out.
#[must_use]
pub fn kind_counts<'a>(
    participants: impl IntoIterator<Item = &'a ParticipantSummary>,
) -> BTreeMap<ParticipantKind, u64> {
    let mut counts = BTreeMap::new();
    for participant in participants {
        *counts.entry(participant.kind).or_default() += 1;
    }
    counts
}

/// Published tracks of a room by kind; `live` are the unmuted ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackCounts {
    pub audio: u32,
    pub audio_muted: u32,
    pub video: u32,
    pub video_muted: u32,
}

impl TrackCounts {
    /// Counts `tracks` by kind, muted ones apart; data tracks are not counted.
    #[must_use]
    pub fn of<'a>(tracks: impl IntoIterator<Item = &'a TrackSummary>) -> Self {
        let mut counts = Self::default();
        for track in tracks {
            match track.kind {
                TrackKind::Audio => {
                    counts.audio += 1;
                    counts.audio_muted += u32::from(track.muted);
                }
                TrackKind::Video => {
                    counts.video += 1;
                    counts.video_muted += u32::from(track.muted);
                }
                TrackKind::Data => {}
            }
        }
        counts
    }

    #[must_use]
    pub fn live_audio(&self) -> u32 {
        self.audio - self.audio_muted
    }

    #[must_use]
    pub fn live_video(&self) -> u32 {
        self.video - self.video_muted
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub name: String,
    pub sid: String,
    /// Unix seconds.
    pub created_at: i64,
    /// 0: no limit on the server.
    pub max_participants: u32,
    pub metadata: String,
    pub num_participants: u32,
    pub num_publishers: u32,
    pub tracks: TrackCounts,
    /// `None` when ListParticipants failed for this room in this snapshot: counts then come
    /// from ListRooms alone and tracks are unknown.
    pub participants: Option<Vec<ParticipantSummary>>,
}

impl RoomSummary {
    #[must_use]
    pub(crate) fn new(room: &proto::Room, participants: Option<&[proto::ParticipantInfo]>) -> Self {
        let participants: Option<Vec<ParticipantSummary>> =
            participants.map(|list| list.iter().map(ParticipantSummary::from_proto).collect());
        let tracks = TrackCounts::of(participants.iter().flatten().flat_map(|p| &p.tracks));
        let (num_participants, num_publishers) = match &participants {
            Some(list) => (
                u32::try_from(list.len()).unwrap_or(u32::MAX),
                u32::try_from(list.iter().filter(|p| !p.tracks.is_empty()).count())
                    .unwrap_or(u32::MAX),
            ),
            None => (room.num_participants, room.num_publishers),
        };
        Self {
            name: room.name.clone(),
            sid: room.sid.clone(),
            created_at: room.creation_time,
            max_participants: room.max_participants,
            metadata: room.metadata.clone(),
            num_participants,
            num_publishers,
            tracks,
            participants,
        }
    }
}

impl RoomSummary {
    /// A room listed again whose participants were not read this time: the listing's own
    /// fields, the participants and tracks last read. The counts are the listing's when they
    /// moved since the previous listing (fresher than the list held), else the list's own.
    #[must_use]
    pub(crate) fn carried(room: &proto::Room, held: &Self, counts_moved: bool) -> Self {
        let (num_participants, num_publishers) = if counts_moved {
            (room.num_participants, room.num_publishers)
        } else {
            (held.num_participants, held.num_publishers)
        };
        Self {
            num_participants,
            num_publishers,
            tracks: held.tracks,
            participants: held.participants.clone(),
            ..Self::new(room, None)
        }
    }
}

/// Every room of one server at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub server: String,
    /// Unix milliseconds.
    pub taken_at_ms: i64,
    /// Shared: a room that did not change is the same allocation in the poller's snapshot, in
    /// the updates and in every consumer's copy, so 100,000 participants are held once.
    pub rooms: BTreeMap<String, Arc<RoomSummary>>,
    /// When each room's participants were last read (Unix ms of the poll that read them). A
    /// room whose participants are unknown has no entry. Apart from the rooms so that reading
    /// a room again, which changes nothing in it, does not make it a changed room.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub participants_read_at_ms: BTreeMap<String, i64>,
}

impl Snapshot {
    /// When the participants of `room` were last read; `None` when they never were (or the
    /// room is not in this snapshot).
    #[must_use]
    pub fn participants_read_at(&self, room: &str) -> Option<i64> {
        self.participants_read_at_ms.get(room).copied()
    }

    /// Whether this snapshot's poll read the participants of `room` itself: only such rooms
    /// are current enough to act on.
    #[must_use]
    pub fn read_in_this_poll(&self, room: &str) -> bool {
        self.participants_read_at(room) == Some(self.taken_at_ms)
    }

    /// Whether this snapshot's poll read the participants of every room it holds.
    #[must_use]
    pub fn read_every_room_in_this_poll(&self) -> bool {
        self.participants_read_at_ms.len() == self.rooms.len()
            && self
                .participants_read_at_ms
                .values()
                .all(|at| *at == self.taken_at_ms)
    }

    /// The oldest participant list among the rooms, as a time (Unix ms); a room whose
    /// participants were never read counts as read at `never_read_ms`.
    #[must_use]
    pub fn oldest_read_at(&self, never_read_ms: i64) -> Option<i64> {
        self.rooms
            .keys()
            .map(|room| self.participants_read_at(room).unwrap_or(never_read_ms))
            .min()
    }

    /// A snapshot from before reads were recorded (a recording's `snapshot` event): every poll
    /// then read every room whose participants it has.
    #[must_use]
    pub fn with_every_room_read(mut self) -> Self {
        self.participants_read_at_ms = self
            .rooms
            .values()
            .filter(|room| room.participants.is_some())
            .map(|room| (room.name.clone(), self.taken_at_ms))
            .collect();
        self
    }

    #[must_use]
    pub fn participant_count(&self) -> u64 {
        self.rooms
            .values()
            .map(|r| u64::from(r.num_participants))
            .sum()
    }

    #[must_use]
    pub(crate) fn track_counts(&self) -> TrackCounts {
        self.rooms
            .values()
            .fold(TrackCounts::default(), |total, room| TrackCounts {
                audio: total.audio + room.tracks.audio,
                audio_muted: total.audio_muted + room.tracks.audio_muted,
                video: total.video + room.tracks.video,
                video_muted: total.video_muted + room.tracks.video_muted,
            })
    }
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RoomChange {
    RoomStarted {
        room: String,
    },
    RoomFinished {
        room: String,
    },
    ParticipantJoined {
        room: String,
        identity: String,
    },
    ParticipantLeft {
        room: String,
        identity: String,
    },
    TrackPublished {
        room: String,
        identity: String,
        track_sid: String,
        kind: TrackKind,
    },
    TrackUnpublished {
        room: String,
        identity: String,
        track_sid: String,
        kind: TrackKind,
    },
    TrackMuted {
        room: String,
        identity: String,
        track_sid: String,
    },
    TrackUnmuted {
        room: String,
        identity: String,
        track_sid: String,
    },
}

/// What changed from `old` to `new`. A room with the same name but another sid was closed and
/// opened again. Rooms whose participants are unknown in either snapshot only report their own
/// start and finish.
#[must_use]
pub(crate) fn diff(old: &Snapshot, new: &Snapshot) -> Vec<RoomChange> {
    let mut changes = Vec::new();
    for (name, room) in &old.rooms {
        let replaced = new.rooms.get(name).is_some_and(|now| now.sid != room.sid);
        if !new.rooms.contains_key(name) || replaced {
            changes.push(RoomChange::RoomFinished { room: name.clone() });
        }
    }
    for (name, room) in &new.rooms {
        let before = old.rooms.get(name).filter(|then| then.sid == room.sid);
        let Some(before) = before else {
            changes.push(RoomChange::RoomStarted { room: name.clone() });
            continue;
        };
        // Most rooms do not change from one poll to the next: nothing to compare inside.
        if Arc::ptr_eq(before, room) || before == room {
            continue;
        }
        if let (Some(then), Some(now)) = (&before.participants, &room.participants) {
            diff_participants(name, then, now, &mut changes);
        }
    }
    changes
}

fn diff_participants(
    room: &str,
    then: &[ParticipantSummary],
    now: &[ParticipantSummary],
    changes: &mut Vec<RoomChange>,
) {
    fn by_identity(list: &[ParticipantSummary]) -> HashMap<&str, &ParticipantSummary> {
        list.iter().map(|p| (p.identity.as_str(), p)).collect()
    }
    let (then, now) = (by_identity(then), by_identity(now));
    let mut left: Vec<&str> = then
        .keys()
        .copied()
        .filter(|id| !now.contains_key(id))
        .collect();
    left.sort_unstable();
    for identity in left {
        changes.push(RoomChange::ParticipantLeft {
            room: room.to_owned(),
            identity: identity.to_owned(),
        });
    }
    let mut present: Vec<&ParticipantSummary> = now.values().copied().collect();
    present.sort_by(|a, b| (a.joined_at_ms, &a.identity).cmp(&(b.joined_at_ms, &b.identity)));
    for participant in present {
        let identity = &participant.identity;
        let before = then.get(identity.as_str()).copied();
        if before.is_none() {
            changes.push(RoomChange::ParticipantJoined {
                room: room.to_owned(),
                identity: identity.clone(),
            });
        }
        let old_tracks: HashMap<&str, &TrackSummary> = before
            .map(|p| p.tracks.iter().map(|t| (t.sid.as_str(), t)).collect())
            .unwrap_or_default();
        for track in &participant.tracks {
            let change = match old_tracks.get(track.sid.as_str()) {
                None => Some(RoomChange::TrackPublished {
                    room: room.to_owned(),
                    identity: identity.clone(),
                    track_sid: track.sid.clone(),
                    kind: track.kind,
                }),
                Some(old) if old.muted != track.muted => Some(if track.muted {
                    RoomChange::TrackMuted {
                        room: room.to_owned(),
                        identity: identity.clone(),
                        track_sid: track.sid.clone(),
                    }
                } else {
                    RoomChange::TrackUnmuted {
                        room: room.to_owned(),
                        identity: identity.clone(),
                        track_sid: track.sid.clone(),
                    }
                }),
                Some(_) => None,
            };
            changes.extend(change);
        }
        let current: Vec<&str> = participant.tracks.iter().map(|t| t.sid.as_str()).collect();
        for track in before.iter().flat_map(|p| &p.tracks) {
            if !current.contains(&track.sid.as_str()) {
                changes.push(RoomChange::TrackUnpublished {
                    room: room.to_owned(),
                    identity: identity.clone(),
                    track_sid: track.sid.clone(),
                    kind: track.kind,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(sid: &str, kind: proto::TrackType, muted: bool) -> proto::TrackInfo {
        proto::TrackInfo {
            sid: sid.into(),
            r#type: kind as i32,
            muted,
            source: proto::TrackSource::Microphone as i32,
            ..Default::default()
        }
    }

    fn participant(
        identity: &str,
        joined: i64,
        tracks: Vec<proto::TrackInfo>,
    ) -> proto::ParticipantInfo {
        proto::ParticipantInfo {
            identity: identity.into(),
            joined_at_ms: joined,
            tracks,
            ..Default::default()
        }
    }

    fn room(name: &str, sid: &str) -> proto::Room {
        proto::Room {
            name: name.into(),
            sid: sid.into(),
            ..Default::default()
        }
    }

    fn snapshot(rooms: Vec<RoomSummary>) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: 0,
            rooms: rooms
                .into_iter()
                .map(|r| (r.name.clone(), Arc::new(r)))
                .collect(),
            participants_read_at_ms: BTreeMap::new(),
        }
    }

    #[test]
    fn counts_tracks_by_kind_with_muted_apart() {
        let people = [
            participant(
                "a",
                1,
                vec![
                    track("TR_1", proto::TrackType::Audio, false),
                    track("TR_2", proto::TrackType::Video, true),
                ],
            ),
            participant("b", 2, vec![track("TR_3", proto::TrackType::Audio, true)]),
            participant("c", 3, vec![]),
        ];
        let summary = RoomSummary::new(&room("r", "RM_1"), Some(&people));
        assert_eq!((summary.num_participants, summary.num_publishers), (3, 2));
        assert_eq!(
            summary.tracks,
            TrackCounts {
                audio: 2,
                audio_muted: 1,
                video: 1,
                video_muted: 1
            }
        );
        assert_eq!(
            (summary.tracks.live_audio(), summary.tracks.live_video()),
            (1, 0)
        );
    }

    #[test]
    fn without_participants_counts_come_from_list_rooms() {
        let mut listed = room("r", "RM_1");
        listed.num_participants = 7;
        listed.num_publishers = 3;
        let summary = RoomSummary::new(&listed, None);
        assert_eq!((summary.num_participants, summary.num_publishers), (7, 3));
        assert!(summary.participants.is_none());
    }

    #[test]
    fn diff_reports_rooms_people_and_tracks() {
        let before = snapshot(vec![
            RoomSummary::new(
                &room("stay", "RM_1"),
                Some(&[
                    participant("a", 1, vec![track("TR_1", proto::TrackType::Audio, false)]),
                    participant("b", 2, vec![track("TR_2", proto::TrackType::Video, false)]),
                ]),
            ),
            RoomSummary::new(&room("gone", "RM_2"), Some(&[])),
            RoomSummary::new(&room("reborn", "RM_3"), Some(&[])),
        ]);
        let after = snapshot(vec![
            RoomSummary::new(
                &room("stay", "RM_1"),
                Some(&[
                    participant("a", 1, vec![track("TR_1", proto::TrackType::Audio, true)]),
                    participant("c", 3, vec![track("TR_4", proto::TrackType::Audio, false)]),
                ]),
            ),
            RoomSummary::new(&room("new", "RM_4"), Some(&[])),
            RoomSummary::new(&room("reborn", "RM_5"), Some(&[])),
        ]);
        let changes = diff(&before, &after);
        let expect =
            |change: RoomChange| assert!(changes.contains(&change), "{change:?} in {changes:#?}");
        expect(RoomChange::RoomFinished {
            room: "gone".into(),
        });
        expect(RoomChange::RoomStarted { room: "new".into() });
        expect(RoomChange::RoomFinished {
            room: "reborn".into(),
        });
        expect(RoomChange::RoomStarted {
            room: "reborn".into(),
        });
        expect(RoomChange::ParticipantLeft {
            room: "stay".into(),
            identity: "b".into(),
        });
        expect(RoomChange::ParticipantJoined {
            room: "stay".into(),
            identity: "c".into(),
        });
        expect(RoomChange::TrackMuted {
            room: "stay".into(),
            identity: "a".into(),
            track_sid: "TR_1".into(),
        });
        expect(RoomChange::TrackPublished {
            room: "stay".into(),
            identity: "c".into(),
            track_sid: "TR_4".into(),
            kind: TrackKind::Audio,
        });
        assert_eq!(changes.len(), 8, "{changes:#?}");
        assert!(diff(&after, &after).is_empty());
    }
}
