//! A webhook applied to a server's snapshot: the room, participant or track it is about added,
//! changed or removed at once, ahead of the next poll (which stays the source of truth).

use std::sync::Arc;

use livekit_protocol as proto;

use crate::snapshot::{ParticipantSummary, RoomSummary, Snapshot, TrackCounts};

/// What applying a webhook did to the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The room was added or changed.
    Upserted(String),
    Removed(String),
    /// Nothing to change: the snapshot already showed it, or the event is about something
    /// lktop keeps no state of (egress, ingress, agent jobs).
    Nothing,
}

/// Applies `event` to `snapshot`.
pub fn apply(snapshot: &mut Snapshot, event: &proto::WebhookEvent) -> Applied {
    let Some(room) = event.room.as_ref().filter(|room| !room.name.is_empty()) else {
        return Applied::Nothing;
    };
    match event.event.as_str() {
        "room_started" => room_started(snapshot, room),
        "room_finished" => room_finished(snapshot, room),
        "participant_joined" => match &event.participant {
            Some(participant) => change_room(snapshot, room, |list| {
                upsert_participant(list, participant);
            }),
            None => Applied::Nothing,
        },
        "participant_left" | "participant_connection_aborted" => match &event.participant {
            Some(participant) => change_room(snapshot, room, |list| {
                list.retain(|p| p.identity != participant.identity);
            }),
            None => Applied::Nothing,
        },
        "track_published" => match (&event.participant, &event.track) {
            (Some(participant), Some(track)) => change_room(snapshot, room, |list| {
                publish(list, participant, track);
            }),
            _ => Applied::Nothing,
        },
        "track_unpublished" => match (&event.participant, &event.track) {
            (Some(participant), Some(track)) => change_room(snapshot, room, |list| {
                if let Some(publisher) =
                    list.iter_mut().find(|p| p.identity == participant.identity)
                {
                    publisher.tracks.retain(|t| t.sid != track.sid);
                }
            }),
            _ => Applied::Nothing,
        },
        _ => Applied::Nothing,
    }
}

fn room_started(snapshot: &mut Snapshot, room: &proto::Room) -> Applied {
    if snapshot
        .rooms
        .get(&room.name)
        .is_some_and(|held| held.sid == room.sid)
    {
        return Applied::Nothing;
    }
    // A room that just started has nobody in it yet.
    let summary = RoomSummary::new(room, Some(&[]));
    snapshot.participants_read_at_ms.remove(&room.name);
    snapshot.rooms.insert(room.name.clone(), Arc::new(summary));
    Applied::Upserted(room.name.clone())
}

fn room_finished(snapshot: &mut Snapshot, room: &proto::Room) -> Applied {
    let held = snapshot.rooms.get(&room.name);
    if held.is_none_or(|held| !room.sid.is_empty() && held.sid != room.sid) {
        return Applied::Nothing;
    }
    snapshot.rooms.remove(&room.name);
    snapshot.participants_read_at_ms.remove(&room.name);
    Applied::Removed(room.name.clone())
}

/// Changes the participants of `room` with `edit`, then counts again. A room not held yet is
/// added from the event with its participants unknown (the next poll reads them first).
fn change_room(
    snapshot: &mut Snapshot,
    room: &proto::Room,
    edit: impl FnOnce(&mut Vec<ParticipantSummary>),
) -> Applied {
    let held = snapshot
        .rooms
        .get(&room.name)
        .filter(|held| room.sid.is_empty() || held.sid == room.sid);
    let Some(held) = held else {
        snapshot.participants_read_at_ms.remove(&room.name);
        snapshot
            .rooms
            .insert(room.name.clone(), Arc::new(RoomSummary::new(room, None)));
        return Applied::Upserted(room.name.clone());
    };
    let Some(participants) = &held.participants else {
        // Unknown participants stay unknown; the counts the event's room carries are newer.
        let mut changed = RoomSummary::clone(held);
        changed.num_participants = room.num_participants;
        changed.num_publishers = room.num_publishers;
        if changed == **held {
            return Applied::Nothing;
        }
        snapshot.rooms.insert(room.name.clone(), Arc::new(changed));
        return Applied::Upserted(room.name.clone());
    };
    let mut list = participants.clone();
    edit(&mut list);
    if Some(&list) == held.participants.as_ref() {
        return Applied::Nothing;
    }
    let mut changed = RoomSummary::clone(held);
    recount(&mut changed, list);
    snapshot.rooms.insert(room.name.clone(), Arc::new(changed));
    Applied::Upserted(room.name.clone())
}

fn upsert_participant(list: &mut Vec<ParticipantSummary>, participant: &proto::ParticipantInfo) {
    let summary = ParticipantSummary::from_proto(participant);
    match list.iter_mut().find(|p| p.identity == summary.identity) {
        Some(held) => *held = summary,
        None => list.push(summary),
    }
}

fn publish(
    list: &mut Vec<ParticipantSummary>,
    participant: &proto::ParticipantInfo,
    track: &proto::TrackInfo,
) {
    let with_track = proto::ParticipantInfo {
        tracks: vec![track.clone()],
        ..proto::ParticipantInfo::default()
    };
    let Some(track) = ParticipantSummary::from_proto(&with_track).tracks.pop() else {
        return;
    };
    if let Some(publisher) = list.iter_mut().find(|p| p.identity == participant.identity) {
        if !publisher.tracks.iter().any(|t| t.sid == track.sid) {
            publisher.tracks.push(track);
        }
    } else {
        let mut publisher = ParticipantSummary::from_proto(participant);
        if !publisher.tracks.iter().any(|t| t.sid == track.sid) {
            publisher.tracks.push(track);
        }
        list.push(publisher);
    }
}

/// The room's counts from its participants, as a read of them gives.
fn recount(room: &mut RoomSummary, participants: Vec<ParticipantSummary>) {
    room.tracks = TrackCounts::of(participants.iter().flat_map(|p| &p.tracks));
    room.num_participants = u32::try_from(participants.len()).unwrap_or(u32::MAX);
    room.num_publishers =
        u32::try_from(participants.iter().filter(|p| !p.tracks.is_empty()).count())
            .unwrap_or(u32::MAX);
    room.participants = Some(participants);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn room() -> proto::Room {
        proto::Room {
            name: "standup".into(),
            sid: "RM_1".into(),
            ..Default::default()
        }
    }

    fn webhook(kind: &str, identity: Option<&str>, track: Option<&str>) -> proto::WebhookEvent {
        proto::WebhookEvent {
            event: kind.into(),
            room: Some(room()),
            participant: identity.map(|identity| proto::ParticipantInfo {
                sid: format!("PA_{identity}"),
                identity: identity.into(),
                ..Default::default()
            }),
            track: track.map(|sid| proto::TrackInfo {
                sid: sid.into(),
                r#type: proto::TrackType::Video as i32,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn every_room_participant_and_track_event_changes_the_snapshot_at_once() {
        let mut snapshot = Snapshot {
            server: "s".into(),
            taken_at_ms: 0,
            rooms: BTreeMap::new(),
            participants_read_at_ms: BTreeMap::new(),
        };
        let upserted = Applied::Upserted("standup".into());
        assert_eq!(
            apply(&mut snapshot, &webhook("room_started", None, None)),
            upserted
        );
        assert_eq!(
            apply(&mut snapshot, &webhook("room_started", None, None)),
            Applied::Nothing,
            "already held"
        );
        assert_eq!(
            apply(
                &mut snapshot,
                &webhook("participant_joined", Some("ann"), None)
            ),
            upserted
        );
        assert_eq!(
            apply(
                &mut snapshot,
                &webhook("track_published", Some("ann"), Some("TR_v"))
            ),
            upserted
        );
        let standup = &snapshot.rooms["standup"];
        assert_eq!((standup.num_participants, standup.num_publishers), (1, 1));
        assert_eq!(standup.tracks.video, 1);
        assert_eq!(
            apply(
                &mut snapshot,
                &webhook("track_unpublished", Some("ann"), Some("TR_v"))
            ),
            upserted
        );
        assert_eq!(snapshot.rooms["standup"].tracks.video, 0);
        assert_eq!(
            apply(
                &mut snapshot,
                &webhook("participant_connection_aborted", Some("ann"), None)
            ),
            upserted
        );
        assert_eq!(snapshot.rooms["standup"].num_participants, 0);
        assert_eq!(
            apply(&mut snapshot, &webhook("egress_started", None, None)),
            Applied::Nothing
        );
        assert_eq!(
            apply(&mut snapshot, &webhook("room_finished", None, None)),
            Applied::Removed("standup".into())
        );
        assert!(snapshot.rooms.is_empty());
    }
}
