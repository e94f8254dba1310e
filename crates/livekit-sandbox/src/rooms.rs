//! The sandbox's rooms, participants and tracks, with livekit-server's rules: what the
//! RoomService sees and what the simulation changes.
//!
//! Times are milliseconds of the simulated clock (Unix epoch based), passed in by the caller, so
//! the store itself is deterministic and testable without waiting.

use std::collections::BTreeMap;

use livekit_protocol as proto;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::twirp_error::{TwirpCode, TwirpError};

/// livekit-server's `room` and `limit` defaults (pkg/config/config.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub empty_timeout_secs: u32,
    pub departure_timeout_secs: u32,
    pub max_metadata_size: usize,
    pub max_room_name_length: usize,
    pub max_participant_identity_length: usize,
    pub max_participant_name_length: usize,
    pub max_attributes_size: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            empty_timeout_secs: 300,
            departure_timeout_secs: 20,
            max_metadata_size: 512 * 1024,
            max_room_name_length: 256,
            max_participant_identity_length: 256,
            max_participant_name_length: 256,
            max_attributes_size: 64 * 1024,
        }
    }
}

/// A participant becomes ACTIVE this long after joining, as a real client does once its
/// peer connection is up.
const ACTIVE_AFTER_MS: i64 = 1_000;

/// What a simulated participant publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSpec {
    pub kind: proto::TrackType,
    pub source: proto::TrackSource,
    pub name: String,
    pub muted: bool,
}

impl TrackSpec {
    #[must_use]
    pub fn microphone() -> Self {
        Self {
            kind: proto::TrackType::Audio,
            source: proto::TrackSource::Microphone,
            name: "microphone".to_owned(),
            muted: false,
        }
    }

    #[must_use]
    pub fn camera() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::Camera,
            name: "camera".to_owned(),
            muted: false,
        }
    }

    #[must_use]
    pub(crate) fn screen_share() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::ScreenShare,
            name: "screen".to_owned(),
            muted: false,
        }
    }
}

#[derive(Debug, Clone)]
struct RoomEntry {
    room: proto::Room,
    /// Keyed by identity, in join order so "newest" is well defined.
    participants: Vec<proto::ParticipantInfo>,
    /// When the room last had nobody in it (creation time for a fresh room).
    empty_since_ms: Option<i64>,
    /// Whether anyone ever joined: decides between `empty_timeout` and `departure_timeout`.
    ever_joined: bool,
}

impl RoomEntry {
    fn participant(&self, identity: &str) -> Result<&proto::ParticipantInfo, TwirpError> {
        self.participants
            .iter()
            .find(|p| p.identity == identity)
            .ok_or_else(TwirpError::participant_not_found)
    }

    fn participant_mut(
        &mut self,
        identity: &str,
    ) -> Result<&mut proto::ParticipantInfo, TwirpError> {
        self.participants
            .iter_mut()
            .find(|p| p.identity == identity)
            .ok_or_else(TwirpError::participant_not_found)
    }

    /// The room as the API shows it, with counts derived from the participants.
    fn view(&self) -> proto::Room {
        let mut room = self.room.clone();
        room.num_participants = u32::try_from(self.participants.len()).unwrap_or(u32::MAX);
        room.num_publishers =
            u32::try_from(self.participants.iter().filter(|p| p.is_publisher).count())
                .unwrap_or(u32::MAX);
        room
    }
}

/// Why a room went away, for the simulation's log and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Closed {
    EmptyTimeout(String),
    DepartureTimeout(String),
}

/// Every room of the sandbox.
#[derive(Debug, Clone)]
pub struct RoomStore {
    limits: ServerLimits,
    rooms: BTreeMap<String, RoomEntry>,
    rng: ChaCha8Rng,
}

impl RoomStore {
    #[must_use]
    pub fn new(limits: ServerLimits, rng: ChaCha8Rng) -> Self {
        Self {
            limits,
            rooms: BTreeMap::new(),
            rng,
        }
    }

    #[must_use]
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    #[must_use]
    pub(crate) fn participant_count(&self) -> usize {
        self.rooms.values().map(|r| r.participants.len()).sum()
    }

    /// Whether a room exists, without copying it (the simulation asks every tick).
    #[must_use]
    pub fn has_room(&self, name: &str) -> bool {
        self.rooms.contains_key(name)
    }

    #[must_use]
    pub fn room_names(&self) -> Vec<String> {
        self.rooms.keys().cloned().collect()
    }

    /// Identities in a room, oldest first.
    #[must_use]
    pub(crate) fn identities(&self, room: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|r| r.participants.iter().map(|p| p.identity.clone()).collect())
            .unwrap_or_default()
    }

    fn sid(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let suffix: String = (0..12)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("{prefix}_{suffix}")
    }

    fn room_mut(&mut self, name: &str) -> Result<&mut RoomEntry, TwirpError> {
        self.rooms
            .get_mut(name)
            .ok_or_else(TwirpError::room_not_found)
    }

    fn room(&self, name: &str) -> Result<&RoomEntry, TwirpError> {
        self.rooms.get(name).ok_or_else(TwirpError::room_not_found)
    }

    fn check_room_name(&self, name: &str) -> Result<(), TwirpError> {
        if name.is_empty() {
            return Err(TwirpError::invalid("room name must not be empty"));
        }
        if name.chars().count() > self.limits.max_room_name_length {
            return Err(TwirpError::invalid(format!(
                "room name length exceeds limits ({})",
                self.limits.max_room_name_length
            )));
        }
        Ok(())
    }

    fn check_metadata(&self, metadata: &str) -> Result<(), TwirpError> {
        if metadata.len() > self.limits.max_metadata_size {
            return Err(TwirpError::invalid(format!(
                "metadata size exceeds limits ({} bytes)",
                self.limits.max_metadata_size
            )));
        }
        Ok(())
    }

    /// CreateRoom: an existing room is returned as it is.
    ///
    /// # Errors
    /// `invalid_argument` for an empty or too long name or too large metadata.
    pub fn create_room(
        &mut self,
        request: &proto::CreateRoomRequest,
        now_ms: i64,
    ) -> Result<proto::Room, TwirpError> {
        self.check_room_name(&request.name)?;
        self.check_metadata(&request.metadata)?;
        if let Some(existing) = self.rooms.get(&request.name) {
            return Ok(existing.view());
        }
        let or_default = |value: u32, default: u32| if value == 0 { default } else { value };
        let room = proto::Room {
            sid: self.sid("RM"),
            name: request.name.clone(),
            empty_timeout: or_default(request.empty_timeout, self.limits.empty_timeout_secs),
            departure_timeout: or_default(
                request.departure_timeout,
                self.limits.departure_timeout_secs,
            ),
            max_participants: request.max_participants,
            creation_time: now_ms / 1000,
            creation_time_ms: now_ms,
            metadata: request.metadata.clone(),
            ..proto::Room::default()
        };
        let entry = RoomEntry {
            room,
            participants: Vec::new(),
            empty_since_ms: Some(now_ms),
            ever_joined: false,
        };
        let view = entry.view();
        self.rooms.insert(request.name.clone(), entry);
        Ok(view)
    }

    /// ListRooms: every room, or those named (unknown names are skipped, as the server does).
    #[must_use]
    pub fn list_rooms(&self, names: &[String]) -> Vec<proto::Room> {
        if names.is_empty() {
            return self.rooms.values().map(RoomEntry::view).collect();
        }
        names
            .iter()
            .filter_map(|name| self.rooms.get(name))
            .map(RoomEntry::view)
            .collect()
    }

    /// # Errors
    /// `not_found` when the room does not exist.
    pub fn delete_room(&mut self, name: &str) -> Result<(), TwirpError> {
        self.rooms
            .remove(name)
            .map(|_| ())
            .ok_or_else(TwirpError::room_not_found)
    }

    /// # Errors
    /// `not_found`, or `invalid_argument` for metadata over the server's limit.
    pub fn update_room_metadata(
        &mut self,
        name: &str,
        metadata: &str,
    ) -> Result<proto::Room, TwirpError> {
        self.check_metadata(metadata)?;
        let entry = self.room_mut(name)?;
        metadata.clone_into(&mut entry.room.metadata);
        Ok(entry.view())
    }

    /// # Errors
    /// `not_found` when the room does not exist.
    pub(crate) fn list_participants(
        &self,
        room: &str,
    ) -> Result<Vec<proto::ParticipantInfo>, TwirpError> {
        Ok(self.room(room)?.participants.clone())
    }

    /// # Errors
    /// `not_found` for a missing room or participant.
    pub(crate) fn get_participant(
        &self,
        room: &str,
        identity: &str,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        self.room(room)?.participant(identity).cloned()
    }

    /// RemoveParticipant, and a simulated participant leaving.
    ///
    /// # Errors
    /// `not_found` for a missing room or participant.
    pub(crate) fn remove_participant(
        &mut self,
        room: &str,
        identity: &str,
        now_ms: i64,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        let entry = self.room_mut(room)?;
        let index = entry
            .participants
            .iter()
            .position(|p| p.identity == identity)
            .ok_or_else(TwirpError::participant_not_found)?;
        let mut gone = entry.participants.remove(index);
        gone.state = proto::participant_info::State::Disconnected as i32;
        if entry.participants.is_empty() {
            entry.empty_since_ms = Some(now_ms);
        }
        Ok(gone)
    }

    /// # Errors
    /// `not_found` for a missing room, participant or track.
    pub(crate) fn mute_published_track(
        &mut self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> Result<proto::TrackInfo, TwirpError> {
        let participant = self.room_mut(room)?.participant_mut(identity)?;
        let track = participant
            .tracks
            .iter_mut()
            .find(|t| t.sid == track_sid)
            .ok_or_else(|| TwirpError::new(TwirpCode::NotFound, "track is not found"))?;
        track.muted = muted;
        let track = track.clone();
        participant.version += 1;
        Ok(track)
    }

    /// UpdateParticipant: empty metadata and name leave the current values; attributes merge,
    /// an empty value deleting its key, as livekit-server does.
    ///
    /// # Errors
    /// `not_found`, or `invalid_argument` for values over the server's limits.
    pub(crate) fn update_participant(
        &mut self,
        request: &proto::UpdateParticipantRequest,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        self.check_metadata(&request.metadata)?;
        let limits = self.limits;
        if request.name.chars().count() > limits.max_participant_name_length {
            return Err(TwirpError::invalid(format!(
                "name length exceeds limits ({})",
                limits.max_participant_name_length
            )));
        }
        let attributes_size: usize = request
            .attributes
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum();
        if attributes_size > limits.max_attributes_size {
            return Err(TwirpError::invalid(format!(
                "attributes size exceeds limits ({} bytes)",
                limits.max_attributes_size
            )));
        }
        let participant = self
            .room_mut(&request.room)?
            .participant_mut(&request.identity)?;
        if !request.metadata.is_empty() {
            participant.metadata.clone_from(&request.metadata);
        }
        if !request.name.is_empty() {
            participant.name.clone_from(&request.name);
        }
        for (key, value) in &request.attributes {
            if value.is_empty() {
                participant.attributes.remove(key);
            } else {
                participant.attributes.insert(key.clone(), value.clone());
            }
        }
        if let Some(permission) = &request.permission {
            participant.permission = Some(permission.clone());
        }
        participant.version += 1;
        Ok(participant.clone())
    }

    /// UpdateSubscriptions: checks that the participant and the tracks exist.
    ///
    /// # Errors
    /// `not_found` for a missing room, participant or track.
    pub(crate) fn update_subscriptions(
        &self,
        request: &proto::UpdateSubscriptionsRequest,
    ) -> Result<(), TwirpError> {
        let entry = self.room(&request.room)?;
        entry.participant(&request.identity)?;
        let published: Vec<&str> = entry
            .participants
            .iter()
            .flat_map(|p| p.tracks.iter().map(|t| t.sid.as_str()))
            .collect();
        let wanted = request.track_sids.iter().chain(
            request
                .participant_tracks
                .iter()
                .flat_map(|pt| pt.track_sids.iter()),
        );
        for sid in wanted {
            if !published.contains(&sid.as_str()) {
                return Err(TwirpError::new(
                    TwirpCode::NotFound,
                    format!("track {sid} is not found"),
                ));
            }
        }
        Ok(())
    }

    /// SendData: the room must exist and the nonce, when given, must be 16 bytes.
    ///
    /// # Errors
    /// `invalid_argument` for a bad nonce, `not_found` for a missing room.
    pub(crate) fn send_data(&self, request: &proto::SendDataRequest) -> Result<(), TwirpError> {
        if !request.nonce.is_empty() && request.nonce.len() != 16 {
            return Err(TwirpError::invalid(
                "nonce should be 16-bytes or not present",
            ));
        }
        self.room(&request.room).map(|_| ())
    }

    /// A simulated client joining; the room is created if needed (livekit-server's
    /// `auto_create`).
    ///
    /// # Errors
    /// `resource_exhausted` when the room is at `max_participants`, `already_exists` for an
    /// identity already in the room, `invalid_argument` for an empty or too long identity.
    pub fn join(
        &mut self,
        room: &str,
        identity: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        if identity.is_empty()
            || identity.chars().count() > self.limits.max_participant_identity_length
        {
            return Err(TwirpError::invalid(format!(
                "identity must have 1..={} characters",
                self.limits.max_participant_identity_length
            )));
        }
        if !self.rooms.contains_key(room) {
            self.create_room(
                &proto::CreateRoomRequest {
                    name: room.to_owned(),
                    ..proto::CreateRoomRequest::default()
                },
                now_ms,
            )?;
        }
        let sid = self.sid("PA");
        let entry = self.room_mut(room)?;
        if entry.participants.iter().any(|p| p.identity == identity) {
            return Err(TwirpError::new(
                TwirpCode::AlreadyExists,
                "participant with this identity is already in the room",
            ));
        }
        let max = entry.room.max_participants;
        if max > 0 && entry.participants.len() >= max as usize {
            return Err(TwirpError::new(
                TwirpCode::ResourceExhausted,
                "room is full",
            ));
        }
        let participant = proto::ParticipantInfo {
            sid,
            identity: identity.to_owned(),
            name: name.to_owned(),
            state: proto::participant_info::State::Joined as i32,
            joined_at: now_ms / 1000,
            joined_at_ms: now_ms,
            version: 1,
            permission: Some(proto::ParticipantPermission {
                can_subscribe: true,
                can_publish: true,
                can_publish_data: true,
                ..proto::ParticipantPermission::default()
            }),
            region: "sandbox".to_owned(),
            kind: proto::participant_info::Kind::Standard as i32,
            ..proto::ParticipantInfo::default()
        };
        entry.participants.push(participant.clone());
        entry.empty_since_ms = None;
        entry.ever_joined = true;
        Ok(participant)
    }

    /// A simulated participant publishing a track.
    ///
    /// # Errors
    /// `not_found` for a missing room or participant.
    pub fn publish(
        &mut self,
        room: &str,
        identity: &str,
        spec: &TrackSpec,
    ) -> Result<proto::TrackInfo, TwirpError> {
        let sid = self.sid("TR");
        let participant = self.room_mut(room)?.participant_mut(identity)?;
        let (width, height) = match spec.source {
            proto::TrackSource::Camera => (1280, 720),
            proto::TrackSource::ScreenShare => (1920, 1080),
            _ => (0, 0),
        };
        let mime_type = match spec.kind {
            proto::TrackType::Audio => "audio/opus",
            proto::TrackType::Video => "video/VP8",
            proto::TrackType::Data => "",
        };
        let track = proto::TrackInfo {
            sid,
            r#type: spec.kind as i32,
            name: spec.name.clone(),
            muted: spec.muted,
            width,
            height,
            source: spec.source as i32,
            mime_type: mime_type.to_owned(),
            ..proto::TrackInfo::default()
        };
        participant.tracks.push(track.clone());
        participant.is_publisher = true;
        participant.version += 1;
        Ok(track)
    }

    /// Advances participant states and closes rooms whose timeout ran out.
    pub(crate) fn tick(&mut self, now_ms: i64) -> Vec<Closed> {
        let active = proto::participant_info::State::Active as i32;
        let joined = proto::participant_info::State::Joined as i32;
        let mut closed = Vec::new();
        for entry in self.rooms.values_mut() {
            for participant in &mut entry.participants {
                if participant.state == joined
                    && now_ms - participant.joined_at_ms >= ACTIVE_AFTER_MS
                {
                    participant.state = active;
                }
            }
            let Some(empty_since) = entry.empty_since_ms else {
                continue;
            };
            let (timeout_secs, reason): (u32, fn(String) -> Closed) = if entry.ever_joined {
                (entry.room.departure_timeout, Closed::DepartureTimeout)
            } else {
                (entry.room.empty_timeout, Closed::EmptyTimeout)
            };
            if now_ms - empty_since >= i64::from(timeout_secs) * 1000 {
                closed.push(reason(entry.room.name.clone()));
            }
        }
        for room in &closed {
            let (Closed::EmptyTimeout(name) | Closed::DepartureTimeout(name)) = room;
            self.rooms.remove(name);
        }
        closed
    }

    /// Participants of a room with their tracks, for the simulation's choices.
    #[must_use]
    pub fn participants(&self, room: &str) -> &[proto::ParticipantInfo] {
        self.rooms
            .get(room)
            .map_or(&[], |entry| entry.participants.as_slice())
    }

    /// Drops every room: a restart that loses state.
    pub fn clear(&mut self) {
        self.rooms.clear();
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn store() -> RoomStore {
        RoomStore::new(ServerLimits::default(), ChaCha8Rng::seed_from_u64(7))
    }

    fn create(store: &mut RoomStore, name: &str, request: proto::CreateRoomRequest) -> proto::Room {
        store
            .create_room(
                &proto::CreateRoomRequest {
                    name: name.to_owned(),
                    ..request
                },
                T0,
            )
            .unwrap()
    }

    #[test]
    fn create_applies_server_defaults_and_returns_an_existing_room() {
        let mut store = store();
        let room = create(&mut store, "r1", proto::CreateRoomRequest::default());
        assert!(room.sid.starts_with("RM_"));
        assert_eq!((room.empty_timeout, room.departure_timeout), (300, 20));
        assert_eq!(room.creation_time, T0 / 1000);
        let again = create(
            &mut store,
            "r1",
            proto::CreateRoomRequest {
                max_participants: 9,
                ..Default::default()
            },
        );
        assert_eq!(again, room, "the existing room, unchanged");
    }

    #[test]
    fn names_and_metadata_respect_server_limits() {
        let mut store = store();
        let long = "x".repeat(257);
        let err = store
            .create_room(
                &proto::CreateRoomRequest {
                    name: long,
                    ..Default::default()
                },
                T0,
            )
            .unwrap_err();
        assert_eq!(err.code, TwirpCode::InvalidArgument);
        create(&mut store, "r", proto::CreateRoomRequest::default());
        let big = "m".repeat(512 * 1024 + 1);
        assert_eq!(
            store.update_room_metadata("r", &big).unwrap_err().code,
            TwirpCode::InvalidArgument
        );
        assert_eq!(
            store.update_room_metadata("nope", "x").unwrap_err(),
            TwirpError::room_not_found()
        );
    }

    #[test]
    fn max_participants_refuses_a_join_beyond_the_limit() {
        let mut store = store();
        create(
            &mut store,
            "small",
            proto::CreateRoomRequest {
                max_participants: 2,
                ..Default::default()
            },
        );
        store.join("small", "a", "A", T0).unwrap();
        store.join("small", "b", "B", T0).unwrap();
        let err = store.join("small", "c", "C", T0).unwrap_err();
        assert_eq!(err.code, TwirpCode::ResourceExhausted);
        assert_eq!(store.list_rooms(&[])[0].num_participants, 2);
    }

    #[test]
    fn counts_publishers_and_tracks_and_mutes_per_track() {
        let mut store = store();
        store.join("r", "alice", "Alice", T0).unwrap();
        store.join("r", "bob", "Bob", T0).unwrap();
        let mic = store
            .publish("r", "alice", &TrackSpec::microphone())
            .unwrap();
        store.publish("r", "alice", &TrackSpec::camera()).unwrap();
        let room = &store.list_rooms(&["r".to_owned()])[0];
        assert_eq!((room.num_participants, room.num_publishers), (2, 1));
        let muted = store
            .mute_published_track("r", "alice", &mic.sid, true)
            .unwrap();
        assert!(muted.muted);
        let alice = store.get_participant("r", "alice").unwrap();
        assert!(alice.tracks[0].muted && !alice.tracks[1].muted);
        assert_eq!(
            store
                .mute_published_track("r", "alice", "TR_nope", true)
                .unwrap_err()
                .code,
            TwirpCode::NotFound
        );
    }

    #[test]
    fn empty_and_departure_timeouts_close_rooms() {
        let mut store = store();
        create(
            &mut store,
            "never-used",
            proto::CreateRoomRequest {
                empty_timeout: 10,
                ..Default::default()
            },
        );
        store.join("used", "a", "A", T0).unwrap();
        store.remove_participant("used", "a", T0 + 1_000).unwrap();
        assert!(store.tick(T0 + 9_999).is_empty());
        assert_eq!(
            store.tick(T0 + 10_000),
            vec![Closed::EmptyTimeout("never-used".into())]
        );
        // departure_timeout (20 s by default) counts from the last departure.
        assert!(store.tick(T0 + 20_999).is_empty());
        assert_eq!(
            store.tick(T0 + 21_000),
            vec![Closed::DepartureTimeout("used".into())]
        );
        assert_eq!(store.room_count(), 0);
    }

    #[test]
    fn participants_become_active_and_attributes_merge() {
        let mut store = store();
        store.join("r", "a", "A", T0).unwrap();
        store.tick(T0 + ACTIVE_AFTER_MS);
        assert_eq!(
            store.get_participant("r", "a").unwrap().state,
            proto::participant_info::State::Active as i32
        );
        let update = |attributes: &[(&str, &str)]| proto::UpdateParticipantRequest {
            room: "r".into(),
            identity: "a".into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Default::default()
        };
        store
            .update_participant(&update(&[("x", "1"), ("y", "2")]))
            .unwrap();
        store.update_participant(&update(&[("x", "")])).unwrap();
        let attributes = store.get_participant("r", "a").unwrap().attributes;
        assert_eq!(attributes.len(), 1);
        assert_eq!(attributes["y"], "2");
    }

    #[test]
    fn send_data_checks_the_nonce() {
        let mut store = store();
        store.join("r", "a", "A", T0).unwrap();
        let request = |nonce: Vec<u8>| proto::SendDataRequest {
            room: "r".into(),
            nonce,
            ..Default::default()
        };
        store.send_data(&request(vec![0; 16])).unwrap();
        store.send_data(&request(Vec::new())).unwrap();
        assert_eq!(
            store.send_data(&request(vec![0; 8])).unwrap_err().code,
            TwirpCode::InvalidArgument
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_sids() {
        let sids = || {
            let mut store = store();
            store.join("r", "a", "A", T0).unwrap().sid
        };
        assert_eq!(sids(), sids());
    }
}
