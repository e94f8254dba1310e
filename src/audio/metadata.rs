//! A profile in a room's metadata: set (every other key kept in order), read back, removed.

use serde::Deserialize;

use super::error::{AudioError, METADATA_KEY};
use super::ordered_json::OrderedJson;
use super::profile::check_profile;
use crate::config::AudioProfile;

/// `existing_metadata` with `profile` set under `audio_optimization`, every other key kept in
/// order. Empty (or all-whitespace) metadata counts as no metadata.
///
/// # Errors
/// - [`AudioError::InvalidProfile`] when `profile` is out of the configuration's ranges;
/// - [`AudioError::MetadataNotAnObject`] when the metadata is not JSON or not a JSON object;
/// - [`AudioError::MetadataTooLarge`] when the result exceeds `max_size` bytes (the server's
///   `limit.max_metadata_size`, 512 KiB by default).
pub fn merge_profile(
    existing_metadata: &str,
    profile: &AudioProfile,
    max_size: usize,
) -> Result<String, AudioError> {
    check_profile(profile).map_err(AudioError::InvalidProfile)?;
    let mut entries = parse_object(existing_metadata)?.unwrap_or_default();
    let profile = profile_json(profile);
    // Replace in place to keep the key's position; a duplicated key (legal JSON, but readers
    // disagree on which copy wins) collapses to this one entry.
    match entries.iter().position(|(key, _)| key == METADATA_KEY) {
        Some(first) => {
            entries[first].1 = profile;
            let mut index = 0;
            entries.retain(|(key, _)| {
                let keep = key != METADATA_KEY || index == first;
                index += 1;
                keep
            });
        }
        None => entries.push((METADATA_KEY.to_owned(), profile)),
    }
    let merged = OrderedJson::Object(entries).to_json_string();
    if merged.len() > max_size {
        return Err(AudioError::MetadataTooLarge {
            size: merged.len(),
            max_size,
        });
    }
    Ok(merged)
}

/// The profile a room's metadata currently carries: `None` when there is none (empty metadata,
/// metadata that is not a JSON object, or an object without `audio_optimization`).
///
/// When the key appears more than once the last copy is read, as JavaScript's `JSON.parse`
/// (and so most clients) would. Unknown fields inside the profile are ignored, so a newer
/// lktop's additions do not make it unreadable; missing fields are not filled with defaults.
///
/// # Errors
/// [`AudioError::MalformedProfile`] when the entry is present but is not a profile object,
/// lacks a field, has a field of the wrong type or a value out of the configuration's range.
pub fn read_profile(metadata: &str) -> Result<Option<AudioProfile>, AudioError> {
    let Ok(Some(entries)) = parse_object(metadata) else {
        return Ok(None);
    };
    let Some((_, value)) = entries
        .into_iter()
        .rev()
        .find(|(key, _)| key == METADATA_KEY)
    else {
        return Ok(None);
    };
    if !matches!(value, OrderedJson::Object(_)) {
        return Err(AudioError::MalformedProfile {
            problem: format!("it is {}, not an object", value.kind()),
        });
    }
    let stored: StoredProfile =
        serde_path_to_error::deserialize(value.into_value()).map_err(|error| {
            let path = error.path().to_string();
            let problem = if path == "." {
                error.inner().to_string()
            } else {
                format!("{path}: {}", error.inner())
            };
            AudioError::MalformedProfile { problem }
        })?;
    let profile = stored.into_profile();
    check_profile(&profile).map_err(|problem| AudioError::MalformedProfile {
        problem: problem.to_string(),
    })?;
    Ok(Some(profile))
}

/// `metadata` without its `audio_optimization` entry. Metadata without one (including metadata
/// that is not a JSON object) comes back unchanged, byte for byte; an object whose only key was
/// `audio_optimization` becomes empty metadata, as the room was before lktop wrote to it.
///
/// # Errors
/// None today: clearing never needs to refuse. The `Result` keeps the signature in line with
/// [`merge_profile`] so callers handle both alike.
pub fn remove_profile(metadata: &str) -> Result<String, AudioError> {
    let Ok(Some(mut entries)) = parse_object(metadata) else {
        return Ok(metadata.to_owned());
    };
    let before = entries.len();
    entries.retain(|(key, _)| key != METADATA_KEY);
    if entries.len() == before {
        return Ok(metadata.to_owned());
    }
    if entries.is_empty() {
        return Ok(String::new());
    }
    Ok(OrderedJson::Object(entries).to_json_string())
}

/// The profile as stored in metadata: every field required (the config's `AudioProfile` fills
/// missing ones with defaults, which would misreport what the room has).
#[derive(Deserialize)]
struct StoredProfile {
    target_latency_ms: u32,
    buffer_size_ms: u32,
    jitter_buffer_ms: u32,
    echo_cancellation: bool,
    noise_suppression: bool,
    auto_gain_control: bool,
}

impl StoredProfile {
    fn into_profile(self) -> AudioProfile {
        AudioProfile {
            target_latency_ms: self.target_latency_ms,
            buffer_size_ms: self.buffer_size_ms,
            jitter_buffer_ms: self.jitter_buffer_ms,
            echo_cancellation: self.echo_cancellation,
            noise_suppression: self.noise_suppression,
            auto_gain_control: self.auto_gain_control,
        }
    }
}

/// The profile as a JSON object, fields in `AudioProfile`'s declaration order.
fn profile_json(profile: &AudioProfile) -> OrderedJson {
    let text = serde_json::to_string(profile).expect("an AudioProfile always serializes");
    serde_json::from_str(&text).expect("serde_json reads back what it wrote")
}

/// The entries of `metadata` when it is a JSON object; `None` when it is empty.
fn parse_object(metadata: &str) -> Result<Option<Vec<(String, OrderedJson)>>, AudioError> {
    if metadata.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<OrderedJson>(metadata) {
        Ok(OrderedJson::Object(entries)) => Ok(Some(entries)),
        Ok(other) => Err(AudioError::MetadataNotAnObject {
            found: other.kind(),
        }),
        Err(_) => Err(AudioError::MetadataNotAnObject { found: "not JSON" }),
    }
}
