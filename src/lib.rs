//! lktop — `htop` for LiveKit.
//!
//! The library holds everything; `src/main.rs` only parses the command line and hands over.
//! The engine-side modules (`config`, `api`, the pool and the workers) never import the TUI. The
//! built-in LiveKit-compatible server the demo, `lktop sandbox` and the tests run is the
//! `livekit-sandbox` crate, and the YAML positions configuration errors name come from
//! `yaml-located`; neither knows lktop.

pub mod api;
pub mod audio;
pub mod cli;
pub mod color;
pub mod config;
pub mod engine;
pub mod events;
pub mod history;
mod http_server;
pub mod jobs;
pub mod lifecycle;
pub mod limits;
mod logging;
mod metrics;
pub mod nodes;
pub mod poller;
pub mod pool;
pub mod quality;
pub mod read_plan;
pub mod reconnect;
pub mod record;
pub mod room_alerts;
pub mod rooms_update;
pub(crate) mod serde_time;
mod session;
mod signals;
pub mod snapshot;
pub mod tui;
mod watch;
pub mod webhooks;
