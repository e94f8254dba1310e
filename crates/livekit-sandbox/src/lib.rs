//! An embedded LiveKit-compatible server, for any Rust project's tests.
//!
//! [`Sandbox::start`] binds a real HTTP/1.1 server on loopback that speaks LiveKit's
//! RoomService, Egress, Ingress and AgentDispatchService wire protocol: Twirp with protobuf and JSON bodies, HS256 JWTs checked for the
//! same grants livekit-server checks, and Twirp errors with livekit-server's codes and words.
//! The official SDKs and `lk` work against it unchanged. On top of that it can simulate a live
//! deployment from a [`scenario`] (rooms opening and closing, participants joining and leaving,
//! tracks published and muted, recordings and streams, agents, SIP callers and ingress,
//! scheduled faults), inject [`faults`] into every request
//! (latency, errors, hangs, answers cut off mid-body), and run [`disruptions`] (the listener
//! going down, a restart that keeps or loses the rooms) whose beginning and end are announced
//! as [`disruptions::DisruptionNotice`]s. The same controls are served over HTTP under
//! `/sandbox/...` (see [`admin`]).
//!
//! ```
//! use livekit_api::services::room::{CreateRoomOptions, RoomClient};
//! use livekit_sandbox::faults::Faults;
//! use livekit_sandbox::twirp_error::TwirpCode;
//! use livekit_sandbox::{Sandbox, SandboxOptions};
//! use secrecy::SecretString;
//! # // A doctest is not built as a test, which leaves `#[tokio::test]` functions out; here
//! # // the attribute runs the function the way `#[tokio::main]` runs `main`.
//! # mod tokio {
//! #     pub use ::tokio::*;
//! #     pub use ::tokio::main as test;
//! # }
//!
//! #[tokio::test]
//! async fn rooms_survive_a_burst_of_errors() {
//!     let secret = SecretString::from("secret");
//!     let sandbox = Sandbox::start(SandboxOptions::new("devkey", &secret)).await.unwrap();
//!     // The code under test gets the sandbox's URL, key and secret like any LiveKit server's.
//!     let client = RoomClient::with_api_key(&sandbox.url(), "devkey", "secret");
//!     client.create_room("standup", CreateRoomOptions::default()).await.unwrap();
//!
//!     // Every request now fails with `unavailable` (HTTP 503), until the faults are cleared.
//!     let errors = Faults { error_rate: 1.0, error_code: TwirpCode::Unavailable, ..Faults::default() };
//!     sandbox.set_faults(errors).await.unwrap();
//!     assert!(client.list_rooms(Vec::new()).await.is_err());
//!     sandbox.clear_faults().await;
//!
//!     assert_eq!(client.list_rooms(Vec::new()).await.unwrap().len(), 1);
//!     sandbox.shutdown().await;
//! }
//! # fn main() {
//! #     rooms_survive_a_burst_of_errors();
//! # }
//! ```
//!
//! Room state is one [`rooms::RoomStore`] that takes the simulated time as an argument, and
//! the simulation is a pure step over it ([`simulation::Simulation`]), so both can also be
//! driven by hand without a server or a clock. Everything random comes from a seed: a scenario
//! replays the same way.

pub mod admin;
mod agents;
pub mod auth;
pub mod clock;
pub mod codec;
pub mod disruptions;
mod egress;
pub mod faults;
mod handle;
mod ingress;
mod media;
mod metrics;
pub mod node;
pub mod redis_server;
pub mod rooms;
pub mod scenario;
mod server;
pub mod service;
pub mod simulation;
pub mod twirp_error;
pub mod webhooks;

pub use guarded_listener::ListenerLimits;
pub use handle::{Sandbox, SandboxControl, SandboxOptions};
pub use metrics::MetricsOptions;
pub use node::NodeOptions;
