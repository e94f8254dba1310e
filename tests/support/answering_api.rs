//! `RoomApi` for test doubles that answer every method the same way: the type has an inherent
//! `fn answer<T: Default + Send + 'static>(&self, method: &'static str) -> impl Future<Output =
//! Result<T, ApiError>> + Send` and `room_api_by_answer!(Type)` forwards each method to it, so
//! a double states only how it answers, not the trait's eight signatures.

macro_rules! room_api_by_answer {
    ($double:ty) => {
        impl ::lktop::api::RoomApi for $double {
            fn list_rooms(
                &self,
                _names: Vec<String>,
            ) -> impl ::std::future::Future<
                Output = Result<Vec<::lktop::api::proto::Room>, ::lktop::api::ApiError>,
            > + Send {
                self.answer("ListRooms")
            }

            fn list_participants(
                &self,
                _room: &str,
            ) -> impl ::std::future::Future<
                Output = Result<Vec<::lktop::api::proto::ParticipantInfo>, ::lktop::api::ApiError>,
            > + Send {
                self.answer("ListParticipants")
            }

            fn create_room(
                &self,
                _name: &str,
                _options: ::lktop::api::CreateRoomOptions,
            ) -> impl ::std::future::Future<
                Output = Result<::lktop::api::proto::Room, ::lktop::api::ApiError>,
            > + Send {
                self.answer("CreateRoom")
            }

            fn delete_room(
                &self,
                _room: &str,
            ) -> impl ::std::future::Future<Output = Result<(), ::lktop::api::ApiError>> + Send
            {
                self.answer("DeleteRoom")
            }

            fn update_room_metadata(
                &self,
                _room: &str,
                _metadata: &str,
            ) -> impl ::std::future::Future<
                Output = Result<::lktop::api::proto::Room, ::lktop::api::ApiError>,
            > + Send {
                self.answer("UpdateRoomMetadata")
            }

            fn remove_participant(
                &self,
                _room: &str,
                _identity: &str,
            ) -> impl ::std::future::Future<Output = Result<(), ::lktop::api::ApiError>> + Send
            {
                self.answer("RemoveParticipant")
            }

            fn mute_published_track(
                &self,
                _room: &str,
                _identity: &str,
                _track_sid: &str,
                _muted: bool,
            ) -> impl ::std::future::Future<
                Output = Result<::lktop::api::proto::TrackInfo, ::lktop::api::ApiError>,
            > + Send {
                self.answer("MutePublishedTrack")
            }

            fn update_participant(
                &self,
                _room: &str,
                _identity: &str,
                _options: ::lktop::api::UpdateParticipantOptions,
            ) -> impl ::std::future::Future<
                Output = Result<::lktop::api::proto::ParticipantInfo, ::lktop::api::ApiError>,
            > + Send {
                self.answer("UpdateParticipant")
            }
        }
    };
}
