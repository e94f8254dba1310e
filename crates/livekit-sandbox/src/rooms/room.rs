//! Rooms as a whole: CreateRoom, ListRooms, DeleteRoom, UpdateRoomMetadata and SendData, and
//! the server closing a room whose empty or departure timeout ran out.

use livekit_protocol as proto;

use super::{Closed, RoomEntry, RoomStore};
use crate::twirp_error::TwirpError;

impl RoomStore {
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
        self.notify("room_started", &view, None, None, now_ms);
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
        let entry = self
            .rooms
            .remove(name)
            .ok_or_else(TwirpError::room_not_found)?;
        let now_ms = self.latest_ms;
        self.notify_room_gone(entry, proto::DisconnectReason::RoomDeleted, now_ms);
        self.end_services_of_room(name, now_ms);
        Ok(())
    }

    /// The webhooks of a room that ended: everyone in it left, then the room finished.
    fn notify_room_gone(&mut self, entry: RoomEntry, reason: proto::DisconnectReason, now_ms: i64) {
        if self.webhooks.is_none() {
            return;
        }
        let room = entry.view();
        for mut participant in entry.participants {
            participant.state = proto::participant_info::State::Disconnected as i32;
            participant.disconnect_reason = reason as i32;
            self.notify_left(&room, &participant, now_ms);
        }
        self.notify("room_finished", &room, None, None, now_ms);
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

    /// Advances participant states, closes rooms whose timeout ran out, and moves egress,
    /// ingress and dispatches along.
    pub(crate) fn tick(&mut self, now_ms: i64) -> Vec<Closed> {
        let mut closed = Vec::new();
        for entry in self.rooms.values_mut() {
            entry.activate_participants(now_ms);
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
            if let Some(entry) = self.rooms.remove(name) {
                self.notify_room_gone(entry, proto::DisconnectReason::RoomClosed, now_ms);
                self.end_services_of_room(name, now_ms);
            }
        }
        self.latest_ms = self.latest_ms.max(now_ms);
        self.advance_services(now_ms);
        closed
    }
}
