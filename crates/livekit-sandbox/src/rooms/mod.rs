//! The sandbox's rooms, participants and tracks, with livekit-server's rules: what the
//! RoomService sees and what the simulation changes.
//!
//! Times are milliseconds of the simulated clock (Unix epoch based), passed in by the caller, so
//! the store itself is deterministic and testable without waiting.
//!
//! Here the store itself and what it keeps per room; the operations are in `room` (rooms:
//! created, listed, updated, deleted, closed by their timeouts), `participants` (joining,
//! leaving, updates), `tracks` (publishing, muting, subscriptions) and `limits` (the server's
//! limits and the checks against them).

mod limits;
mod participants;
mod room;
mod tracks;

use std::collections::BTreeMap;

use livekit_protocol as proto;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::twirp_error::TwirpError;
use super::webhooks::WebhookQueue;
pub use limits::ServerLimits;
pub(crate) use participants::Joining;
pub use tracks::TrackSpec;

/// One room as the store keeps it: the room and its participants, with what its timeouts
/// count from.
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
    /// Where every change goes as a webhook, when the sandbox sends them.
    webhooks: Option<WebhookQueue>,
    /// The latest time an operation was given, for the webhooks of those that take none.
    latest_ms: i64,
    /// Recordings and streams of the rooms (EgressService).
    pub(crate) egress: crate::egress::Egresses,
    /// Streams sent into the rooms (IngressService).
    pub(crate) ingress: crate::ingress::Ingresses,
    /// Agents dispatched to the rooms (AgentDispatchService).
    pub(crate) dispatches: crate::agents::Dispatches,
}

impl RoomStore {
    #[must_use]
    pub fn new(limits: ServerLimits, rng: ChaCha8Rng) -> Self {
        Self {
            limits,
            rooms: BTreeMap::new(),
            rng,
            webhooks: None,
            latest_ms: 0,
            egress: crate::egress::Egresses::default(),
            ingress: crate::ingress::Ingresses::default(),
            dispatches: crate::agents::Dispatches::default(),
        }
    }

    /// Sends every change from now on as a webhook through `queue`.
    pub(crate) fn send_webhooks(&mut self, queue: WebhookQueue) {
        self.webhooks = Some(queue);
    }

    /// Queues a webhook event made at `now_ms` as it is (egress and ingress events carry
    /// their info rather than a participant or track).
    pub(crate) fn notify_event(&mut self, mut event: proto::WebhookEvent, now_ms: i64) {
        self.latest_ms = self.latest_ms.max(now_ms);
        if let Some(queue) = &self.webhooks {
            event.created_at = now_ms / 1000;
            queue.post(event);
        }
    }

    /// Queues webhook `event` about `room` (and a participant and track), made at `now_ms`.
    fn notify(
        &mut self,
        event: &str,
        room: &proto::Room,
        participant: Option<&proto::ParticipantInfo>,
        track: Option<&proto::TrackInfo>,
        now_ms: i64,
    ) {
        self.latest_ms = self.latest_ms.max(now_ms);
        if let Some(queue) = &self.webhooks {
            queue.post(proto::WebhookEvent {
                event: event.to_owned(),
                room: Some(room.clone()),
                participant: participant.cloned(),
                track: track.cloned(),
                created_at: now_ms / 1000,
                ..proto::WebhookEvent::default()
            });
        }
    }

    /// The webhooks of a participant leaving `room`: each track unpublished, then the
    /// participant gone (`gone` carries the disconnect reason).
    fn notify_left(&mut self, room: &proto::Room, gone: &proto::ParticipantInfo, now_ms: i64) {
        if self.webhooks.is_none() {
            return;
        }
        for track in &gone.tracks {
            self.notify("track_unpublished", room, Some(gone), Some(track), now_ms);
        }
        self.notify("participant_left", room, Some(gone), None, now_ms);
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
    #[cfg(test)]
    #[must_use]
    pub(crate) fn identities(&self, room: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|r| r.participants.iter().map(|p| p.identity.clone()).collect())
            .unwrap_or_default()
    }

    /// Identities of the participants of one kind in a room, oldest first: the crowd only
    /// sends its own (STANDARD) participants home, never an agent, a caller or an ingress.
    #[must_use]
    pub(crate) fn identities_of_kind(
        &self,
        room: &str,
        kind: proto::participant_info::Kind,
    ) -> Vec<String> {
        self.participants(room)
            .iter()
            .filter(|p| p.kind == kind as i32)
            .map(|p| p.identity.clone())
            .collect()
    }

    /// The room as the API shows it.
    ///
    /// # Errors
    /// `not_found` when the room does not exist.
    pub(crate) fn room_view(&self, name: &str) -> Result<proto::Room, TwirpError> {
        self.room(name).map(RoomEntry::view)
    }

    /// Marks whether a room is being recorded (`Room.active_recording`).
    pub(crate) fn set_recording(&mut self, name: &str, recording: bool) {
        if let Some(entry) = self.rooms.get_mut(name) {
            entry.room.active_recording = recording;
        }
    }

    /// `{prefix}_` and 12 letters or digits, as livekit's ids look (`RM_…`, `EG_…`).
    pub(crate) fn sid(&mut self, prefix: &str) -> String {
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

    /// Participants of a room with their tracks, for the simulation's choices.
    #[must_use]
    pub fn participants(&self, room: &str) -> &[proto::ParticipantInfo] {
        self.rooms
            .get(room)
            .map_or(&[], |entry| entry.participants.as_slice())
    }

    /// Drops every room: a restart that loses state. What ran in the rooms ends with them.
    pub fn clear(&mut self) {
        let names = self.room_names();
        self.rooms.clear();
        let now_ms = self.latest_ms;
        for name in names {
            self.end_services_of_room(&name, now_ms);
        }
    }

    /// A room went away: its egress ends, its ingress stops publishing, its dispatches go.
    fn end_services_of_room(&mut self, room: &str, now_ms: i64) {
        self.end_egress_of_room(room, now_ms);
        self.stop_ingress_of_room(room, now_ms);
        self.dispatches.forget_room(room);
    }

    /// Advances what runs in the rooms, by simulated time: egress through its states,
    /// ingress from buffering to publishing, dispatched agents joining.
    fn advance_services(&mut self, now_ms: i64) {
        self.advance_egress(now_ms);
        self.advance_ingress(now_ms);
        self.advance_dispatches(now_ms);
    }
}

#[cfg(test)]
mod tests;
