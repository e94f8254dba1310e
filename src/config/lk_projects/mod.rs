//! `lk`'s projects. The official LiveKit CLI keeps named servers (URL, API key and secret) in
//! `~/.livekit/cli-config.yaml`; lktop reads that file (never writes it) so that
//! `--project NAME` or `--all-projects` watches them without copying credentials around.
//!
//! The parts: `project` is one project with where each of its values is written, `read` finds
//! and reads the file, `choice` is which projects the command line asks for, and `listing` is
//! what `check-config` prints about them. Writing the chosen projects into the configuration,
//! beneath lktop's own values, is a step of loading (`load/lk_project_layer.rs`).

mod choice;
mod listing;
mod project;
mod read;

pub use choice::ProjectChoice;
pub use project::{LkCliConfig, LkProject};
