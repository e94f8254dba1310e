//! The `RoomService` of a server, as lktop sees it.
//!
//! [`RoomApi`] is the seam between lktop and a server: the pool and the rooms poller are
//! generic over it, so tests can drive them with a fake, and [`LiveKitRoomApi`] talks to a real
//! server (the engine's `MeasuredRoomService` is a `RoomApi` over a pool of them). Every
//! failure is an [`ApiError`] whose [`ApiErrorKind`] says whether retrying can help.

mod direct;
mod error;
mod jobs_api;
mod livekit;
mod livekit_jobs;
mod room_api;
mod tokens;
mod twirp;
mod url_secrets;

pub use error::ApiError;
pub(crate) use error::describe_transport;
pub use error::{ApiErrorKind, BuildError, ClockSkew, SERVER_LEEWAY, ServerClock};
pub use jobs_api::{EgressQuery, JobsApi, NewDispatch};
pub use livekit::LiveKitRoomApi;
pub(crate) use livekit::server_base_url;
pub use livekit_protocol as proto;
pub use room_api::{CreateRoomOptions, RoomApi, UpdateParticipantOptions};
pub use tokens::TokenCache;
pub use twirp::build_http_client;
pub(crate) use url_secrets::{
    UrlSecret, redact_urls_in, redacted_url, secret_in_url, without_secrets,
};
