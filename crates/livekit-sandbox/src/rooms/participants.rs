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
        if entry.empty_since_ms.is_none() && entry.participants.iter().all(|p| is_dependent(p.kind))
        {
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
        self.join_as(room, Joining::standard(identity, name), now_ms)
    }

    /// A participant of any kind joining: a client, an agent, a SIP caller, an ingress.
    ///
    /// # Errors
    /// As [`RoomStore::join`]; agents and egress do not count towards `max_participants`
    /// (livekit-server's "dependent" participants).
    pub(crate) fn join_as(
        &mut self,
        room: &str,
        joining: Joining,
        now_ms: i64,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        self.check_identity(&joining.identity)?;
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
        if entry
            .participants
            .iter()
            .any(|p| p.identity == joining.identity)
        {
            return Err(TwirpError::new(
                TwirpCode::AlreadyExists,
                "participant with this identity is already in the room",
            ));
        }
        let dependent = is_dependent(joining.kind as i32);
        let max = entry.room.max_participants;
        let counted = entry
            .participants
            .iter()
            .filter(|p| !is_dependent(p.kind))
            .count();
        if !dependent && max > 0 && counted >= max as usize {
            return Err(TwirpError::new(
                TwirpCode::ResourceExhausted,
                "room is full",
            ));
        }
        let participant = joining.into_info(sid, now_ms);
        entry.participants.push(participant.clone());
        if !dependent {
            entry.empty_since_ms = None;
            entry.ever_joined = true;
        }
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

/// Agents and egress are there for the others: they do not count towards
/// `max_participants`, and a room with only them in it is empty.
pub(super) fn is_dependent(kind: i32) -> bool {
    kind == proto::participant_info::Kind::Agent as i32
        || kind == proto::participant_info::Kind::Egress as i32
}

/// Who joins: identity, name, kind and what livekit sets for that kind.
#[derive(Debug, Clone)]
pub(crate) struct Joining {
    pub identity: String,
    pub name: String,
    pub kind: proto::participant_info::Kind,
    pub metadata: String,
    pub attributes: std::collections::HashMap<String, String>,
}

impl Joining {
    /// A client joining through an SDK.
    pub(crate) fn standard(identity: &str, name: &str) -> Self {
        Self {
            identity: identity.to_owned(),
            name: name.to_owned(),
            kind: proto::participant_info::Kind::Standard,
            metadata: String::new(),
            attributes: std::collections::HashMap::new(),
        }
    }

    fn into_info(self, sid: String, now_ms: i64) -> proto::ParticipantInfo {
        use proto::participant_info::Kind;
        let permission = match self.kind {
            // An ingress only publishes its stream.
            Kind::Ingress => proto::ParticipantPermission {
                can_publish: true,
                ..proto::ParticipantPermission::default()
            },
            Kind::Agent => proto::ParticipantPermission {
                can_subscribe: true,
                can_publish: true,
                can_publish_data: true,
                can_update_metadata: true,
                ..proto::ParticipantPermission::default()
            },
            _ => proto::ParticipantPermission {
                can_subscribe: true,
                can_publish: true,
                can_publish_data: true,
                ..proto::ParticipantPermission::default()
            },
        };
        // Client SDKs and the agents framework speak the RPC-capable protocol (1); SIP and
        // ingress participants are server-side and announce none.
        let client_protocol = i32::from(matches!(self.kind, Kind::Standard | Kind::Agent));
        proto::ParticipantInfo {
            sid,
            identity: self.identity,
            name: self.name,
            state: proto::participant_info::State::Joined as i32,
            joined_at: now_ms / 1000,
            joined_at_ms: now_ms,
            version: 1,
            permission: Some(permission),
            region: "sandbox".to_owned(),
            kind: self.kind as i32,
            metadata: self.metadata,
            attributes: self.attributes,
            client_protocol,
            ..proto::ParticipantInfo::default()
        }
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
