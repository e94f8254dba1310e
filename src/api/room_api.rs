//! The calls lktop makes to a server's `RoomService`, and the options they take.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::error::ApiError;
use livekit_protocol as proto;

/// Settings of a room to create. Zero means "the server's default" for every number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRoomOptions {
    /// Seconds an empty room is kept before the server closes it.
    pub empty_timeout: u32,
    /// Seconds a room is kept after its last participant left.
    pub departure_timeout: u32,
    /// 0 means no limit.
    pub max_participants: u32,
    pub metadata: String,
}

/// Changes to a participant. Empty strings leave the current value as it is (the server
/// ignores them); attributes are merged into the existing ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateParticipantOptions {
    pub(crate) metadata: String,
    pub(crate) attributes: HashMap<String, String>,
    /// `None` keeps the current permissions.
    pub(crate) permission: Option<proto::ParticipantPermission>,
    pub(crate) name: String,
}

/// The `RoomService` calls lktop makes.
///
/// Futures are `Send` so generic callers can spawn them on a multi-threaded runtime.
pub trait RoomApi: Send + Sync + 'static {
    /// Every room, or only those named in `names` when it is not empty.
    fn list_rooms(
        &self,
        names: Vec<String>,
    ) -> impl Future<Output = Result<Vec<proto::Room>, ApiError>> + Send;

    fn list_participants(
        &self,
        room: &str,
    ) -> impl Future<Output = Result<Vec<proto::ParticipantInfo>, ApiError>> + Send;

    /// Creating a room that exists returns the existing room.
    fn create_room(
        &self,
        name: &str,
        options: CreateRoomOptions,
    ) -> impl Future<Output = Result<proto::Room, ApiError>> + Send;

    fn delete_room(&self, room: &str) -> impl Future<Output = Result<(), ApiError>> + Send;

    fn update_room_metadata(
        &self,
        room: &str,
        metadata: &str,
    ) -> impl Future<Output = Result<proto::Room, ApiError>> + Send;

    fn remove_participant(
        &self,
        room: &str,
        identity: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    fn mute_published_track(
        &self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> impl Future<Output = Result<proto::TrackInfo, ApiError>> + Send;

    fn update_participant(
        &self,
        room: &str,
        identity: &str,
        options: UpdateParticipantOptions,
    ) -> impl Future<Output = Result<proto::ParticipantInfo, ApiError>> + Send;
}

/// Lets one API value be shared by tasks that each hold an `Arc` and still be passed where a
/// `RoomApi` is expected.
impl<T: RoomApi> RoomApi for Arc<T> {
    fn list_rooms(
        &self,
        names: Vec<String>,
    ) -> impl Future<Output = Result<Vec<proto::Room>, ApiError>> + Send {
        (**self).list_rooms(names)
    }

    fn list_participants(
        &self,
        room: &str,
    ) -> impl Future<Output = Result<Vec<proto::ParticipantInfo>, ApiError>> + Send {
        (**self).list_participants(room)
    }

    fn create_room(
        &self,
        name: &str,
        options: CreateRoomOptions,
    ) -> impl Future<Output = Result<proto::Room, ApiError>> + Send {
        (**self).create_room(name, options)
    }

    fn delete_room(&self, room: &str) -> impl Future<Output = Result<(), ApiError>> + Send {
        (**self).delete_room(room)
    }

    fn update_room_metadata(
        &self,
        room: &str,
        metadata: &str,
    ) -> impl Future<Output = Result<proto::Room, ApiError>> + Send {
        (**self).update_room_metadata(room, metadata)
    }

    fn remove_participant(
        &self,
        room: &str,
        identity: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        (**self).remove_participant(room, identity)
    }

    fn mute_published_track(
        &self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> impl Future<Output = Result<proto::TrackInfo, ApiError>> + Send {
        (**self).mute_published_track(room, identity, track_sid, muted)
    }

    fn update_participant(
        &self,
        room: &str,
        identity: &str,
        options: UpdateParticipantOptions,
    ) -> impl Future<Output = Result<proto::ParticipantInfo, ApiError>> + Send {
        (**self).update_participant(room, identity, options)
    }
}
