//! Participants: a simulated client joining, RemoveParticipant (and a simulated departure),
//! ListParticipants, GetParticipant, UpdateParticipant, and the state a participant reaches
//! once its peer connection would be up.

use livekit_protocol as proto;

use super::{RoomEntry, RoomStore};
use crate::twirp_error::{TwirpCode, TwirpError};

/// A participant becomes ACTIVE this long after joining, as a real client does once its
/// peer connection is up.
pub(super) const ACTIVE_AFTER_MS: i64 = 1_000;

impl RoomStore {
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
        reason: proto::DisconnectReason,
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
        gone.disconnect_reason = reason as i32;
        if entry.participants.is_empty() {
            entry.empty_since_ms = Some(now_ms);
        }
        let view = entry.view();
        self.notify_left(&view, &gone, now_ms);
        Ok(gone)
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
        self.check_participant_update(request)?;
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
        self.check_identity(identity)?;
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
        let view = entry.view();
        self.notify(
            "participant_joined",
            &view,
            Some(&participant),
            None,
            now_ms,
        );
        Ok(participant)
    }
}

impl RoomEntry {
    /// Joined participants become active once [`ACTIVE_AFTER_MS`] has passed.
    pub(super) fn activate_participants(&mut self, now_ms: i64) {
        let active = proto::participant_info::State::Active as i32;
        let joined = proto::participant_info::State::Joined as i32;
        for participant in &mut self.participants {
            if participant.state == joined && now_ms - participant.joined_at_ms >= ACTIVE_AFTER_MS {
                participant.state = active;
            }
        }
    }
}
