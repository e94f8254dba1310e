//! The room-metadata key lktop owns, and what can go wrong with the profile kept under it.

use super::profile::ProfileProblem;

/// The room-metadata key lktop owns.
pub const METADATA_KEY: &str = "audio_optimization";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("the room's metadata is not a JSON object ({found}); lktop will not overwrite it")]
    MetadataNotAnObject { found: &'static str },
    #[error(
        "the room's metadata would be {size} bytes with the audio profile, more than the \
         server's limit of {max_size} bytes"
    )]
    MetadataTooLarge { size: usize, max_size: usize },
    /// The room has an `audio_optimization` entry lktop cannot use.
    #[error("the room's `{METADATA_KEY}` entry is malformed: {problem}")]
    MalformedProfile { problem: String },
    /// A profile lktop was asked to write or keep is outside what the configuration allows.
    #[error("invalid audio profile: {0}")]
    InvalidProfile(ProfileProblem),
}
