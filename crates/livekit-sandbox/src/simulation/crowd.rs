//! The crowd: the random part of the simulation, the participant model of a room brought to
//! life. Who joins (and under which name), what they publish, who leaves, who mutes.

use livekit_protocol as proto;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::StepTime;
use super::events::{SimEvent, TrackSource};
use super::odds::{chance, poisson};
use crate::rooms::{RoomStore, TrackSpec};
use crate::scenario::{ParticipantModel, PublishOdds};
use crate::twirp_error::TwirpCode;

/// First names for simulated participants; with a last initial, enough for believable rosters.
const FIRST_NAMES: [&str; 48] = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Aroha",
    "Ben",
    "Bianca",
    "Chen",
    "Chloe",
    "Dmitri",
    "Elena",
    "Emeka",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Kenji",
    "Lars",
    "Leila",
    "Lucia",
    "Malik",
    "Marta",
    "Mei",
    "Nadia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sami",
    "Sofia",
    "Tariq",
    "Thea",
    "Umar",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoltan",
];

pub(super) fn head_count(store: &RoomStore, room: &str) -> u32 {
    u32::try_from(store.participants(room).len()).unwrap_or(u32::MAX)
}

/// How a participant's departure is reported (`disconnect_reason`), by cumulative share:
/// 90% hang up, the others lose their connection in one way or another.
const DEPARTURES: [(proto::DisconnectReason, f64); 4] = [
    (proto::DisconnectReason::ConnectionTimeout, 0.04),
    (proto::DisconnectReason::SignalClose, 0.07),
    (proto::DisconnectReason::MediaFailure, 0.10),
    (proto::DisconnectReason::ClientInitiated, 1.0),
];

/// Video codecs browsers publish, by cumulative share: H264 15%, VP9 10%, VP8 the rest.
const VIDEO_CODECS: [(&str, f64); 3] = [
    ("video/H264", 0.15),
    ("video/VP9", 0.25),
    ("video/VP8", 1.0),
];

/// The share of participants whose tracks are end-to-end encrypted.
const ENCRYPTED: f64 = 0.1;

/// The random part of the simulation: who joins, what they publish, who leaves and mutes.
#[derive(Debug, Clone)]
pub(super) struct Crowd {
    pub(super) rng: ChaCha8Rng,
    /// The details (codecs, encryption, why someone left) from a stream of their own, so they
    /// never shift who joins and leaves when.
    details: ChaCha8Rng,
    /// The number of the next simulated participant: `user-0001`, `user-0002`, …
    next_user: u32,
}

impl Crowd {
    /// A crowd whose every choice follows from `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            details: ChaCha8Rng::seed_from_u64(seed ^ 0x00de_7a11),
            next_user: 1,
        }
    }

    /// Creates the room if it does not exist; false if the store refused it.
    pub(super) fn ensure_room(
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        if store.has_room(&request.name) {
            return true;
        }
        match store.create_room(request, now_ms) {
            Ok(_) => {
                events.push(SimEvent::RoomCreated {
                    room: request.name.clone(),
                });
                true
            }
            Err(err) => {
                tracing::warn!(room = %request.name, %err, "the simulation could not create a room");
                false
            }
        }
    }

    /// Creates the room if it does not exist and joins its initial participants; false if the
    /// store refused the room.
    pub(super) fn open_with_initial(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        model: &ParticipantModel,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        if !Self::ensure_room(store, request, now_ms, events) {
            return false;
        }
        self.fill_to(
            store,
            request,
            &model.publish,
            model.initial,
            now_ms,
            events,
        );
        true
    }

    /// One participant joining (creating the room if needed) and publishing; false when the
    /// join was refused, so callers stop trying for this step.
    fn join(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        publish: &PublishOdds,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        if !Self::ensure_room(store, request, now_ms, events) {
            return false;
        }
        let room = &request.name;
        let (identity, name) = self.next_person();
        match store.join(room, &identity, &name, now_ms) {
            Ok(_) => {}
            Err(err) if err.code == TwirpCode::ResourceExhausted => {
                events.push(SimEvent::RefusedFull {
                    room: room.clone(),
                    identity,
                });
                return false;
            }
            Err(err) => {
                tracing::warn!(room, identity, %err, "a simulated join failed");
                return false;
            }
        }
        events.push(SimEvent::Joined {
            room: room.clone(),
            identity: identity.clone(),
            name,
        });
        self.publish_on_joining(store, room, &identity, publish, events);
        true
    }

    /// The next participant's identity (`user-0007`) and a believable name (`Ada K.`).
    fn next_person(&mut self) -> (String, String) {
        let identity = format!("user-{:04}", self.next_user);
        self.next_user += 1;
        let first = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
        let initial = char::from(b'A' + self.rng.random_range(0..26u8));
        (identity, format!("{first} {initial}."))
    }

    /// Each kind of track with its odds, muted or not with the odds of starting muted.
    fn publish_on_joining(
        &mut self,
        store: &mut RoomStore,
        room: &str,
        identity: &str,
        publish: &PublishOdds,
        events: &mut Vec<SimEvent>,
    ) {
        let encrypted = self.details.random::<f64>() < ENCRYPTED;
        let roll = self.details.random::<f64>();
        let video_codec = VIDEO_CODECS
            .iter()
            .find(|(_, share)| roll < *share)
            .map_or("video/VP8", |(codec, _)| *codec);
        for (odds, source, spec) in [
            (
                publish.audio,
                TrackSource::Microphone,
                TrackSpec::microphone(),
            ),
            (publish.video, TrackSource::Camera, TrackSpec::camera()),
            (
                publish.screen_share,
                TrackSource::ScreenShare,
                TrackSpec::screen_share(),
            ),
        ] {
            if self.rng.random::<f64>() >= odds {
                continue;
            }
            let muted = self.rng.random::<f64>() < publish.muted;
            let mime_type = if spec.kind == proto::TrackType::Video {
                video_codec.to_owned()
            } else {
                String::new()
            };
            let spec = TrackSpec {
                muted,
                mime_type,
                encrypted,
                ..spec
            };
            match store.publish(room, identity, &spec) {
                Ok(track) => events.push(SimEvent::Published {
                    room: room.to_owned(),
                    identity: identity.to_owned(),
                    track_sid: track.sid,
                    source,
                    muted,
                }),
                Err(err) => tracing::warn!(room, identity, %err, "a simulated publish failed"),
            }
        }
    }

    fn leave(
        store: &mut RoomStore,
        room: &str,
        identity: &str,
        reason: proto::DisconnectReason,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        if store
            .remove_participant(room, identity, reason, now_ms)
            .is_ok()
        {
            events.push(SimEvent::Left {
                room: room.to_owned(),
                identity: identity.to_owned(),
            });
        }
    }

    /// Joins until the room holds `target`, stopping at the first refusal.
    pub(super) fn fill_to(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        publish: &PublishOdds,
        target: u32,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        while head_count(store, &request.name) < target {
            if !self.join(store, request, publish, now_ms, events) {
                break;
            }
        }
    }

    /// The newest participants leave until the room holds `target`: after a surge the crowd
    /// that came for it goes, and the regulars stay.
    pub(super) fn trim_newest_to(
        store: &mut RoomStore,
        room: &str,
        target: u32,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        let mut identities =
            store.identities_of_kind(room, proto::participant_info::Kind::Standard);
        while u32::try_from(identities.len()).unwrap_or(u32::MAX) > target {
            let Some(leaver) = identities.pop() else {
                break;
            };
            let reason = proto::DisconnectReason::ClientInitiated;
            Self::leave(store, room, &leaver, reason, now_ms, events);
        }
    }

    /// Each participant leaves with the chance of `rate_per_minute` over the step, never
    /// taking the room below `floor`.
    pub(super) fn random_leaves(
        &mut self,
        store: &mut RoomStore,
        room: &str,
        rate_per_minute: f64,
        floor: u32,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let probability = chance(rate_per_minute, step.minutes);
        if probability <= 0.0 {
            return;
        }
        let identities = store.identities_of_kind(room, proto::participant_info::Kind::Standard);
        let mut remaining = u32::try_from(identities.len()).unwrap_or(u32::MAX);
        for identity in identities {
            if remaining <= floor {
                break;
            }
            if self.rng.random::<f64>() < probability {
                let roll = self.details.random::<f64>();
                let reason = DEPARTURES
                    .iter()
                    .find(|(_, share)| roll < *share)
                    .map_or(proto::DisconnectReason::ClientInitiated, |(reason, _)| {
                        *reason
                    });
                Self::leave(store, room, &identity, reason, step.now_ms, events);
                remaining -= 1;
            }
        }
    }

    /// Each track is muted or unmuted with the chance of its rate over the step.
    pub(super) fn toggle_mutes(
        &mut self,
        store: &mut RoomStore,
        room: &str,
        model: &ParticipantModel,
        minutes: f64,
        events: &mut Vec<SimEvent>,
    ) {
        let mute = chance(model.mute_rate, minutes);
        let unmute = chance(model.unmute_rate, minutes);
        if mute <= 0.0 && unmute <= 0.0 {
            return;
        }
        let mut toggles = Vec::new();
        for participant in store.participants(room) {
            for track in &participant.tracks {
                let probability = if track.muted { unmute } else { mute };
                if probability > 0.0 && self.rng.random::<f64>() < probability {
                    toggles.push((
                        participant.identity.clone(),
                        track.sid.clone(),
                        !track.muted,
                    ));
                }
            }
        }
        for (identity, track_sid, muted) in toggles {
            if store
                .mute_published_track(room, &identity, &track_sid, muted)
                .is_err()
            {
                continue;
            }
            let room = room.to_owned();
            events.push(if muted {
                SimEvent::Muted {
                    room,
                    identity,
                    track_sid,
                }
            } else {
                SimEvent::Unmuted {
                    room,
                    identity,
                    track_sid,
                }
            });
        }
    }

    /// A room's ordinary life over one step: random joins up to `max`, departures down to
    /// `min`, mutes and unmutes.
    pub(super) fn live(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        model: &ParticipantModel,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let room = &request.name;
        for _ in 0..poisson(&mut self.rng, model.join_rate * step.minutes) {
            if head_count(store, room) >= model.max
                || !self.join(store, request, &model.publish, step.now_ms, events)
            {
                break;
            }
        }
        self.random_leaves(store, room, model.leave_rate, model.min, step, events);
        self.toggle_mutes(store, room, model, step.minutes, events);
    }
}
