//! The sandbox: an embedded LiveKit-compatible RoomService server on loopback.
//!
//! It speaks the real wire protocol (Twirp over HTTP/1.1, protobuf and JSON, HS256 JWT grants),
//! keeps rooms with livekit-server's semantics, runs a scenario of participants and tracks, and
//! injects faults. `cargo run` monitors it when no server is configured, the tests use it, and
//! `lktop sandbox` runs it alone for any LiveKit SDK or `lk`.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod codec;
pub mod disruptions;
pub mod faults;
mod handle;
pub mod rooms;
pub mod scenario;
pub mod server;
pub mod service;
pub mod simulation;
pub mod twirp_error;

pub use handle::{Sandbox, SandboxControl, SandboxOptions};
