//! The RoomService methods: decode the request, check the grant, act on the rooms, encode the
//! answer.

use std::sync::Mutex;

use bytes::Bytes;
use livekit_api::access_token::Claims;
use livekit_protocol as proto;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::{Grant, require};
use super::clock::SimClock;
use super::codec::Encoding;
use super::rooms::RoomStore;
use super::twirp_error::{TwirpCode, TwirpError};

/// Every method of `livekit.RoomService`, as named in the URL path.
pub const METHODS: [&str; 14] = [
    "CreateRoom",
    "ListRooms",
    "DeleteRoom",
    "ListParticipants",
    "GetParticipant",
    "RemoveParticipant",
    "MutePublishedTrack",
    "UpdateParticipant",
    "UpdateSubscriptions",
    "SendData",
    "UpdateRoomMetadata",
    "ForwardParticipant",
    "MoveParticipant",
    "PerformRpc",
];

/// One decoded call: the encoding to answer in and the caller's verified claims.
pub struct Call<'a> {
    pub encoding: Encoding,
    pub claims: &'a Claims,
    pub body: &'a [u8],
    pub store: &'a Mutex<RoomStore>,
    pub clock: &'a SimClock,
}

impl Call<'_> {
    pub(crate) fn decode<T: Message + Default + DeserializeOwned>(&self) -> Result<T, TwirpError> {
        self.encoding.decode(self.body)
    }

    pub(crate) fn answer<T: Message + Serialize>(&self, message: &T) -> Bytes {
        self.encoding.encode(message)
    }

    /// Runs `action` with the rooms locked; the lock is never held across an await.
    pub(crate) fn with_store<T>(
        &self,
        action: impl FnOnce(&mut RoomStore, i64) -> Result<T, TwirpError>,
    ) -> Result<T, TwirpError> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| TwirpError::new(TwirpCode::Internal, "room state is unavailable"))?;
        action(&mut store, self.clock.now_ms())
    }
}

/// Runs the RoomService `method`.
///
/// # Errors
/// The Twirp error to answer with: `bad_route` for an unknown method, `malformed` for a body
/// that does not decode, `unauthenticated` for a missing grant, and what the rooms refuse.
pub fn handle(method: &str, call: &Call<'_>) -> Result<Bytes, TwirpError> {
    match method {
        "ListRooms" => {
            let request: proto::ListRoomsRequest = call.decode()?;
            require(call.claims, &Grant::RoomList)?;
            let rooms = call.with_store(|store, _| Ok(store.list_rooms(&request.names)))?;
            Ok(call.answer(&proto::ListRoomsResponse { rooms }))
        }
        "CreateRoom" => {
            let request: proto::CreateRoomRequest = call.decode()?;
            require(call.claims, &Grant::RoomCreate)?;
            let room = call.with_store(|store, now| store.create_room(&request, now))?;
            Ok(call.answer(&room))
        }
        "DeleteRoom" => {
            let request: proto::DeleteRoomRequest = call.decode()?;
            require(call.claims, &Grant::RoomCreate)?;
            call.with_store(|store, _| store.delete_room(&request.room))?;
            Ok(call.answer(&proto::DeleteRoomResponse::default()))
        }
        "UpdateRoomMetadata" => {
            let request: proto::UpdateRoomMetadataRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let room = call.with_store(|store, _| {
                store.update_room_metadata(&request.room, &request.metadata)
            })?;
            Ok(call.answer(&room))
        }
        "ListParticipants" => {
            let request: proto::ListParticipantsRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let participants =
                call.with_store(|store, _| store.list_participants(&request.room))?;
            Ok(call.answer(&proto::ListParticipantsResponse { participants }))
        }
        "GetParticipant" => {
            let request: proto::RoomParticipantIdentity = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let participant = call
                .with_store(|store, _| store.get_participant(&request.room, &request.identity))?;
            Ok(call.answer(&participant))
        }
        "RemoveParticipant" => {
            let request: proto::RoomParticipantIdentity = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let removed = proto::DisconnectReason::ParticipantRemoved;
            call.with_store(|store, now| {
                store.remove_participant(&request.room, &request.identity, removed, now)
            })?;
            Ok(call.answer(&proto::RemoveParticipantResponse::default()))
        }
        "MutePublishedTrack" => {
            let request: proto::MuteRoomTrackRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let track = call.with_store(|store, _| {
                store.mute_published_track(
                    &request.room,
                    &request.identity,
                    &request.track_sid,
                    request.muted,
                )
            })?;
            Ok(call.answer(&proto::MuteRoomTrackResponse { track: Some(track) }))
        }
        "UpdateParticipant" => {
            let request: proto::UpdateParticipantRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let participant = call.with_store(|store, _| store.update_participant(&request))?;
            Ok(call.answer(&participant))
        }
        "UpdateSubscriptions" => {
            let request: proto::UpdateSubscriptionsRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            call.with_store(|store, _| store.update_subscriptions(&request))?;
            Ok(call.answer(&proto::UpdateSubscriptionsResponse::default()))
        }
        "SendData" => {
            let request: proto::SendDataRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            call.with_store(|store, _| store.send_data(&request))?;
            Ok(call.answer(&proto::SendDataResponse::default()))
        }
        "ForwardParticipant" | "MoveParticipant" => Err(TwirpError::new(
            TwirpCode::Unimplemented,
            format!(
                "{method} moves a participant between rooms on a multi-node deployment; \
                 the sandbox simulates a single node"
            ),
        )),
        "PerformRpc" => Err(TwirpError::new(
            TwirpCode::Unimplemented,
            "PerformRpc needs a connected client to answer the call; the sandbox's \
             participants are simulated",
        )),
        _ => Err(TwirpError::new(
            TwirpCode::BadRoute,
            format!("no handler for path \"/twirp/livekit.RoomService/{method}\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use livekit_api::access_token::VideoGrants;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::rooms::ServerLimits;

    fn admin(room: &str) -> Claims {
        Claims {
            video: VideoGrants {
                room_admin: true,
                room: room.into(),
                room_create: true,
                room_list: true,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn call<T: Message + Serialize>(
        method: &str,
        claims: &Claims,
        store: &Mutex<RoomStore>,
        encoding: Encoding,
        request: &T,
    ) -> Result<Bytes, TwirpError> {
        let body = encoding.encode(request);
        let clock = SimClock::new(1.0);
        handle(
            method,
            &Call {
                encoding,
                claims,
                body: &body,
                store,
                clock: &clock,
            },
        )
    }

    #[test]
    fn grants_are_checked_per_method() {
        let store = Mutex::new(RoomStore::new(
            ServerLimits::default(),
            ChaCha8Rng::seed_from_u64(1),
        ));
        let nothing = Claims::default();
        let create = proto::CreateRoomRequest {
            name: "r".into(),
            ..Default::default()
        };
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let err = call("CreateRoom", &nothing, &store, encoding, &create).unwrap_err();
            assert_eq!(err.msg, "permissions denied");
        }
        call(
            "CreateRoom",
            &admin(""),
            &store,
            Encoding::Protobuf,
            &create,
        )
        .unwrap();
        let list = proto::ListParticipantsRequest { room: "r".into() };
        assert!(
            call(
                "ListParticipants",
                &admin("other"),
                &store,
                Encoding::Json,
                &list
            )
            .is_err()
        );
        call(
            "ListParticipants",
            &admin("r"),
            &store,
            Encoding::Json,
            &list,
        )
        .unwrap();
    }
}
