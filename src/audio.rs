//! Audio optimization profiles in room metadata.
//!
//! lktop writes a profile (target latency, buffer size, jitter buffer, echo cancellation, noise
//! suppression, auto gain) into a room's metadata under the `audio_optimization` key, for the
//! room's clients to apply. Room metadata belongs to whoever runs the rooms, so these functions
//! never lose what is already there:
//! - empty metadata becomes `{"audio_optimization":{…}}`;
//! - a JSON object keeps every other key, in its original order (nested objects too), and only
//!   `audio_optimization` is set or replaced;
//! - anything else (plain text, a JSON array, string, number…) is refused, not overwritten;
//! - a result over the server's metadata size limit is refused, naming both sizes.
//!
//! Key order is kept without `serde_json`'s `preserve_order` feature (not enabled in this crate):
//! the metadata is parsed into `OrderedJson`, a JSON value whose objects are lists of entries
//! in document order. Formatting is not kept: the result is compact JSON, and numbers are
//! re-printed the way `serde_json` prints them (`1e2` becomes `100.0`).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::config::{AudioProfile, BUFFER_SIZE_MS, JITTER_BUFFER_MS, TARGET_LATENCY_MS};

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

/// Why a profile's values are not acceptable; the same rules as the configuration's validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    #[error("{field} = {value} is out of range; allowed {}..={}", allowed.start(), allowed.end())]
    OutOfRange {
        field: &'static str,
        value: u32,
        allowed: RangeInclusive<u32>,
    },
    #[error(
        "buffer_size_ms ({buffer_size_ms} ms) is more than target_latency_ms \
         ({target_latency_ms} ms); one audio buffer cannot be longer than the latency it must meet"
    )]
    BufferLongerThanTarget {
        buffer_size_ms: u32,
        target_latency_ms: u32,
    },
}

/// Checks `profile` against the configuration's ranges (`TARGET_LATENCY_MS`, `BUFFER_SIZE_MS`,
/// `JITTER_BUFFER_MS`) and that the buffer fits in the target latency.
///
/// # Errors
/// The first problem found.
pub fn check_profile(profile: &AudioProfile) -> Result<(), ProfileProblem> {
    for (field, value, allowed) in [
        (
            "target_latency_ms",
            profile.target_latency_ms,
            TARGET_LATENCY_MS,
        ),
        ("buffer_size_ms", profile.buffer_size_ms, BUFFER_SIZE_MS),
        (
            "jitter_buffer_ms",
            profile.jitter_buffer_ms,
            JITTER_BUFFER_MS,
        ),
    ] {
        if !allowed.contains(&value) {
            return Err(ProfileProblem::OutOfRange {
                field,
                value,
                allowed,
            });
        }
    }
    if profile.buffer_size_ms > profile.target_latency_ms {
        return Err(ProfileProblem::BufferLongerThanTarget {
            buffer_size_ms: profile.buffer_size_ms,
            target_latency_ms: profile.target_latency_ms,
        });
    }
    Ok(())
}

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

/// The default profile plus per-room overrides: what the engine applies to each room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AudioProfiles {
    default: AudioProfile,
    rooms: BTreeMap<String, AudioProfile>,
}

impl AudioProfiles {
    /// # Errors
    /// [`AudioError::InvalidProfile`] when `default` is out of the configuration's ranges.
    pub(crate) fn new(default: AudioProfile) -> Result<Self, AudioError> {
        check_profile(&default).map_err(AudioError::InvalidProfile)?;
        Ok(Self {
            default,
            rooms: BTreeMap::new(),
        })
    }

    /// The profile for rooms without an override (new rooms included).
    #[must_use]
    pub(crate) fn default_profile(&self) -> AudioProfile {
        self.default
    }

    /// Replaces the default, e.g. after a configuration reload; overrides stay.
    ///
    /// # Errors
    /// [`AudioError::InvalidProfile`], leaving the current default in place.
    pub(crate) fn set_default(&mut self, profile: AudioProfile) -> Result<(), AudioError> {
        check_profile(&profile).map_err(AudioError::InvalidProfile)?;
        self.default = profile;
        Ok(())
    }

    /// The room's override, else the default.
    #[must_use]
    pub(crate) fn profile_for(&self, room: &str) -> AudioProfile {
        self.room_override(room).unwrap_or(self.default)
    }

    #[must_use]
    pub(crate) fn room_override(&self, room: &str) -> Option<AudioProfile> {
        self.rooms.get(room).copied()
    }

    /// Gives `room` its own profile; returns the override it replaces.
    ///
    /// # Errors
    /// [`AudioError::InvalidProfile`], leaving the room's current profile in place.
    pub(crate) fn set_room(
        &mut self,
        room: impl Into<String>,
        profile: AudioProfile,
    ) -> Result<Option<AudioProfile>, AudioError> {
        check_profile(&profile).map_err(AudioError::InvalidProfile)?;
        Ok(self.rooms.insert(room.into(), profile))
    }

    /// Returns `room` to the default profile; returns the override it had.
    pub(crate) fn clear_room(&mut self, room: &str) -> Option<AudioProfile> {
        self.rooms.remove(room)
    }

    /// Every room with its own profile, by room name.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn overrides(&self) -> impl ExactSizeIterator<Item = (&str, AudioProfile)> {
        self.rooms
            .iter()
            .map(|(room, profile)| (room.as_str(), *profile))
    }
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

// --------------------------------------------------------------------------------------------
// OrderedJson

/// A JSON value whose objects keep their entries in document order, duplicates included.
///
/// `serde_json`'s own `Value` sorts object keys unless its `preserve_order` feature is on; this
/// keeps room metadata as its owner wrote it without changing `serde_json`'s behaviour for the
/// rest of the crate.
#[derive(Debug, Clone, PartialEq)]
enum OrderedJson {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<OrderedJson>),
    Object(Vec<(String, OrderedJson)>),
}

impl OrderedJson {
    /// What kind of value this is, for error messages.
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "JSON null",
            Self::Bool(_) => "a JSON boolean",
            Self::Number(_) => "a JSON number",
            Self::String(_) => "a JSON string",
            Self::Array(_) => "a JSON array",
            Self::Object(_) => "a JSON object",
        }
    }

    /// Compact JSON text.
    fn to_json_string(&self) -> String {
        serde_json::to_string(self).expect("JSON values always serialize")
    }

    /// `serde_json`'s `Value` (object keys sorted; the last of duplicated keys wins).
    fn into_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::Null => Value::Null,
            Self::Bool(value) => Value::Bool(value),
            Self::Number(value) => Value::Number(value),
            Self::String(value) => Value::String(value),
            Self::Array(items) => Value::Array(items.into_iter().map(Self::into_value).collect()),
            Self::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, value.into_value()))
                    .collect(),
            ),
        }
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(value) => serializer.serialize_bool(*value),
            Self::Number(value) => value.serialize(serializer),
            Self::String(value) => serializer.serialize_str(value),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedJsonVisitor)
    }
}

struct OrderedJsonVisitor;

impl<'de> Visitor<'de> for OrderedJsonVisitor {
    type Value = OrderedJson;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<OrderedJson, E> {
        serde_json::Number::from_f64(value)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom("JSON numbers are finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(value))
    }

    fn visit_unit<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_none<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<OrderedJson, D::Error> {
        OrderedJson::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(OrderedJson::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LIMIT: usize = 512 * 1024;

    fn profile() -> AudioProfile {
        AudioProfile {
            target_latency_ms: 40,
            buffer_size_ms: 10,
            jitter_buffer_ms: 60,
            echo_cancellation: true,
            noise_suppression: false,
            auto_gain_control: true,
        }
    }

    const PROFILE_JSON: &str = r#"{"target_latency_ms":40,"buffer_size_ms":10,"jitter_buffer_ms":60,"echo_cancellation":true,"noise_suppression":false,"auto_gain_control":true}"#;

    #[test]
    fn merge_into_empty_metadata() {
        let merged = merge_profile("", &profile(), LIMIT).expect("merges");
        assert_eq!(
            merged,
            format!(r#"{{"audio_optimization":{PROFILE_JSON}}}"#)
        );
        assert_eq!(
            merge_profile("  \n", &profile(), LIMIT).expect("merges"),
            merged
        );
    }

    #[test]
    fn merge_keeps_other_keys_in_their_order() {
        let existing =
            r#"{"zeta":1, "alpha":{"y":[1,2,{"b":null,"a":"x"}],"x":true}, "mid":"text"}"#;
        let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
        assert_eq!(
            merged,
            format!(
                r#"{{"zeta":1,"alpha":{{"y":[1,2,{{"b":null,"a":"x"}}],"x":true}},"mid":"text","audio_optimization":{PROFILE_JSON}}}"#
            )
        );
    }

    #[test]
    fn merge_replaces_an_existing_profile_in_place() {
        let existing = r#"{"a":1,"audio_optimization":{"target_latency_ms":999},"b":2,"audio_optimization":3}"#;
        let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
        assert_eq!(
            merged,
            format!(r#"{{"a":1,"audio_optimization":{PROFILE_JSON},"b":2}}"#)
        );
        assert_eq!(read_profile(&merged), Ok(Some(profile())));
    }

    #[test]
    fn merge_keeps_the_value_of_every_number() {
        // Found by the `metadata_merge` fuzz target: serde_json's default float parsing is not
        // exact, so a long number came back as a neighbouring f64 and every merge moved a value
        // that belongs to someone else. The `float_roundtrip` feature makes parsing exact.
        let existing = r#"{"big":108446744073709551616,"pi":3.14159265358979323846,"tiny":5e-324}"#;
        let merged = merge_profile(existing, &profile(), LIMIT).expect("merges");
        let numbers: serde_json::Value = serde_json::from_str(&merged).expect("JSON");
        for (key, text) in [
            ("big", "108446744073709551616"),
            ("pi", "3.14159265358979323846"),
            ("tiny", "5e-324"),
        ] {
            let exact: f64 = text.parse().expect("a number");
            assert_eq!(numbers[key].as_f64(), Some(exact), "{key}");
        }
        assert_eq!(
            merge_profile(&merged, &profile(), LIMIT).expect("merges"),
            merged,
            "merging again changes nothing"
        );
    }

    #[test]
    fn merge_refuses_metadata_that_is_not_json() {
        let existing = "room for the weekly sync";
        let error = merge_profile(existing, &profile(), LIMIT).expect_err("refused");
        assert_eq!(error, AudioError::MetadataNotAnObject { found: "not JSON" });
        assert!(error.to_string().contains(
            "the room's metadata is not a JSON object (not JSON); lktop will not overwrite it"
        ));
        // Nothing to read or to clear either, and the text is left as it was.
        assert_eq!(read_profile(existing), Ok(None));
        assert_eq!(remove_profile(existing).as_deref(), Ok(existing));
    }

    #[test]
    fn merge_refuses_json_that_is_not_an_object() {
        for (existing, found) in [
            (r#"[{"audio_optimization":1}]"#, "a JSON array"),
            (r#""text""#, "a JSON string"),
            ("42", "a JSON number"),
            ("null", "JSON null"),
            ("true", "a JSON boolean"),
        ] {
            assert_eq!(
                merge_profile(existing, &profile(), LIMIT),
                Err(AudioError::MetadataNotAnObject { found }),
                "{existing}"
            );
        }
    }

    #[test]
    fn merge_refuses_a_result_over_the_size_limit() {
        let existing = format!(r#"{{"notes":"{}"}}"#, "x".repeat(400));
        let size = merge_profile(&existing, &profile(), LIMIT)
            .expect("fits")
            .len();
        assert!(merge_profile(&existing, &profile(), size).is_ok());
        let error = merge_profile(&existing, &profile(), size - 1).expect_err("too large");
        assert_eq!(
            error,
            AudioError::MetadataTooLarge {
                size,
                max_size: size - 1
            }
        );
        let message = error.to_string();
        assert!(message.contains(&size.to_string()) && message.contains(&(size - 1).to_string()));
    }

    #[test]
    fn merge_refuses_a_profile_out_of_range() {
        let too_slow = AudioProfile {
            target_latency_ms: 5_000,
            ..profile()
        };
        assert_eq!(
            merge_profile("", &too_slow, LIMIT),
            Err(AudioError::InvalidProfile(ProfileProblem::OutOfRange {
                field: "target_latency_ms",
                value: 5_000,
                allowed: TARGET_LATENCY_MS,
            }))
        );
        let buffer_too_long = AudioProfile {
            target_latency_ms: 20,
            buffer_size_ms: 30,
            ..profile()
        };
        assert!(matches!(
            merge_profile("", &buffer_too_long, LIMIT),
            Err(AudioError::InvalidProfile(
                ProfileProblem::BufferLongerThanTarget { .. }
            ))
        ));
    }

    #[test]
    fn read_back_round_trip() {
        let merged = merge_profile(r#"{"owner":"ops"}"#, &profile(), LIMIT).expect("merges");
        assert_eq!(read_profile(&merged), Ok(Some(profile())));
        assert_eq!(
            read_profile(&merge_profile("", &AudioProfile::default(), LIMIT).expect("merges")),
            Ok(Some(AudioProfile::default()))
        );
    }

    #[test]
    fn read_finds_nothing_where_there_is_no_profile() {
        for metadata in ["", r#"{"owner":"ops"}"#, "plain text", "[1,2]"] {
            assert_eq!(read_profile(metadata), Ok(None), "{metadata}");
        }
    }

    #[test]
    fn read_names_the_problem_with_a_malformed_profile() {
        let problem = |metadata: &str| match read_profile(metadata) {
            Err(AudioError::MalformedProfile { problem }) => problem,
            other => panic!("expected a malformed profile, got {other:?}"),
        };
        let out_of_range =
            PROFILE_JSON.replace(r#""jitter_buffer_ms":60"#, r#""jitter_buffer_ms":5000"#);
        assert_eq!(
            problem(&format!(r#"{{"audio_optimization":{out_of_range}}}"#)),
            "jitter_buffer_ms = 5000 is out of range; allowed 0..=2000"
        );
        let missing = r#"{"audio_optimization":{"target_latency_ms":40}}"#;
        assert!(problem(missing).contains("missing field `buffer_size_ms`"));
        let wrong_type = PROFILE_JSON.replace(
            r#""echo_cancellation":true"#,
            r#""echo_cancellation":"yes""#,
        );
        assert!(
            problem(&format!(r#"{{"audio_optimization":{wrong_type}}}"#))
                .starts_with("echo_cancellation: invalid type")
        );
        assert_eq!(
            problem(r#"{"audio_optimization":"on"}"#),
            "it is a JSON string, not an object"
        );
        let message = read_profile(missing).expect_err("malformed").to_string();
        assert!(message.starts_with("the room's `audio_optimization` entry is malformed: "));
    }

    #[test]
    fn read_ignores_unknown_profile_fields() {
        let extended = PROFILE_JSON.replace('}', r#","opus_dtx":true}"#);
        assert_eq!(
            read_profile(&format!(r#"{{"audio_optimization":{extended}}}"#)),
            Ok(Some(profile()))
        );
    }

    #[test]
    fn remove_clears_only_the_profile() {
        let merged = merge_profile(r#"{"a":1,"b":[2]}"#, &profile(), LIMIT).expect("merges");
        assert_eq!(remove_profile(&merged).as_deref(), Ok(r#"{"a":1,"b":[2]}"#));
        let only_profile = merge_profile("", &profile(), LIMIT).expect("merges");
        assert_eq!(remove_profile(&only_profile).as_deref(), Ok(""));
        let untouched = r#"{ "a" : 1 }"#;
        assert_eq!(remove_profile(untouched).as_deref(), Ok(untouched));
        assert_eq!(remove_profile("").as_deref(), Ok(""));
    }

    #[test]
    fn profiles_fall_back_to_the_default() {
        let mut profiles = AudioProfiles::new(AudioProfile::default()).expect("valid default");
        assert_eq!(profiles.profile_for("standup"), AudioProfile::default());
        assert_eq!(profiles.set_room("standup", profile()), Ok(None));
        assert_eq!(profiles.profile_for("standup"), profile());
        assert_eq!(profiles.profile_for("other"), AudioProfile::default());
        assert_eq!(
            profiles.overrides().collect::<Vec<_>>(),
            [("standup", profile())]
        );
        assert_eq!(profiles.clear_room("standup"), Some(profile()));
        assert_eq!(profiles.profile_for("standup"), AudioProfile::default());
        assert_eq!(profiles.clear_room("standup"), None);
    }

    #[test]
    fn profiles_refuse_invalid_profiles_and_keep_the_old_one() {
        let invalid = AudioProfile {
            buffer_size_ms: 0,
            ..profile()
        };
        assert!(AudioProfiles::new(invalid).is_err());
        let mut profiles = AudioProfiles::default();
        assert!(profiles.set_default(invalid).is_err());
        assert_eq!(profiles.default_profile(), AudioProfile::default());
        profiles.set_room("r", profile()).expect("valid");
        assert!(profiles.set_room("r", invalid).is_err());
        assert_eq!(profiles.profile_for("r"), profile());
        profiles.set_default(profile()).expect("valid");
        assert_eq!(profiles.profile_for("elsewhere"), profile());
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn valid_profile() -> impl Strategy<Value = AudioProfile> {
        (
            TARGET_LATENCY_MS,
            any::<u32>(),
            JITTER_BUFFER_MS,
            any::<[bool; 3]>(),
        )
            .prop_map(|(target, buffer, jitter, [echo, noise, gain])| {
                let buffer_range = *BUFFER_SIZE_MS.start()..=target.min(*BUFFER_SIZE_MS.end());
                let span = buffer_range.end() - buffer_range.start() + 1;
                AudioProfile {
                    target_latency_ms: target,
                    buffer_size_ms: buffer_range.start() + buffer % span,
                    jitter_buffer_ms: jitter,
                    echo_cancellation: echo,
                    noise_suppression: noise,
                    auto_gain_control: gain,
                }
            })
    }

    proptest! {
        #[test]
        fn merge_keeps_every_other_key_and_reads_back(
            entries in proptest::collection::vec(("[^\"]{0,10}", json_value()), 0..8),
            profile in valid_profile(),
        ) {
            // Distinct keys other than ours, in generation order (not sorted).
            let mut seen = std::collections::HashSet::new();
            let entries: Vec<_> = entries
                .into_iter()
                .filter(|(key, _)| key != METADATA_KEY && seen.insert(key.clone()))
                .collect();
            let members: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    format!("{}:{}", serde_json::to_string(key).unwrap(), serde_json::to_string(value).unwrap())
                })
                .collect();
            let existing = format!("{{{}}}", members.join(","));

            let merged = merge_profile(&existing, &profile, LIMIT).expect("merges");

            let ours = format!(
                "{}:{}",
                serde_json::to_string(METADATA_KEY).unwrap(),
                serde_json::to_string(&profile).unwrap()
            );
            let expected: Vec<String> = members.iter().cloned().chain([ours]).collect();
            prop_assert_eq!(&merged, &format!("{{{}}}", expected.join(",")));
            let parsed: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&merged).expect("merged metadata is JSON");
            for (key, value) in &entries {
                prop_assert_eq!(parsed.get(key), Some(value));
            }
            prop_assert_eq!(read_profile(&merged), Ok(Some(profile)));
            prop_assert_eq!(remove_profile(&merged).expect("clears"), if members.is_empty() {
                String::new()
            } else {
                existing.clone()
            });
        }
    }
}
