//! Any room metadata and any audio profile through `merge_profile`, `read_profile` and
//! `remove_profile`, with their promises checked on every input:
//! - nothing panics;
//! - after a merge, reading gives the profile back, every other top-level key is there with its
//!   value, and merging again changes nothing;
//! - after a removal (of merged or of arbitrary metadata), reading finds no profile, and the
//!   other keys are still there;
//! - a refusal is the one that applies.
//!
//! An input is a 9-byte header (flags, three little-endian `u16` profile values, a size limit)
//! followed by the metadata text; `fuzz/corpus/metadata_merge/` holds examples.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lktop::audio::{
    AudioError, METADATA_KEY, check_profile, merge_profile, read_profile, remove_profile,
};
use lktop::config::{AudioProfile, BUFFER_SIZE_MS, JITTER_BUFFER_MS, TARGET_LATENCY_MS};
use serde_json::{Map, Value};

/// livekit-server's `limit.max_metadata_size`, the limit lktop merges against.
const SERVER_MAX_METADATA: usize = 512 * 1024;
const HEADER: usize = 9;

const ECHO_CANCELLATION: u8 = 1;
const NOISE_SUPPRESSION: u8 = 1 << 1;
const AUTO_GAIN_CONTROL: u8 = 1 << 2;
/// Fold the three numbers into their allowed ranges, so most merges get past the profile check.
const IN_RANGE: u8 = 1 << 3;
/// Use the header's size limit instead of the server's, to reach the size check.
const SMALL_LIMIT: u8 = 1 << 4;

struct Input {
    profile: AudioProfile,
    max_size: usize,
    metadata: String,
}

impl Input {
    fn read(data: &[u8]) -> Self {
        let mut header = [0_u8; HEADER];
        let split = data.len().min(HEADER);
        header[..split].copy_from_slice(&data[..split]);
        let flags = header[0];
        let number = |at: usize| u32::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let fold = |value: u32, range: std::ops::RangeInclusive<u32>| {
            if flags & IN_RANGE == 0 {
                value
            } else {
                range.start() + value % (range.end() - range.start() + 1)
            }
        };
        let profile = AudioProfile {
            target_latency_ms: fold(number(1), TARGET_LATENCY_MS),
            buffer_size_ms: fold(number(3), BUFFER_SIZE_MS),
            jitter_buffer_ms: fold(number(5), JITTER_BUFFER_MS),
            echo_cancellation: flags & ECHO_CANCELLATION != 0,
            noise_suppression: flags & NOISE_SUPPRESSION != 0,
            auto_gain_control: flags & AUTO_GAIN_CONTROL != 0,
        };
        let max_size = if flags & SMALL_LIMIT == 0 {
            SERVER_MAX_METADATA
        } else {
            usize::from(u16::from_le_bytes([header[7], header[8]]))
        };
        Self {
            profile,
            max_size,
            metadata: String::from_utf8_lossy(&data[split..]).into_owned(),
        }
    }
}

/// The top-level entries other than the profile's, as `serde_json` reads them (the last of
/// duplicated keys wins, as in most readers); `None` when the metadata is not a JSON object.
/// Empty metadata has no entries.
///
/// A merge re-prints numbers (`1e2` becomes `100.0`) but must keep their values, so entries are
/// compared as values, not as text.
fn other_entries(metadata: &str) -> Option<Map<String, Value>> {
    if metadata.trim().is_empty() {
        return Some(Map::new());
    }
    let Ok(Value::Object(mut entries)) = serde_json::from_str(metadata) else {
        return None;
    };
    entries.remove(METADATA_KEY);
    Some(entries)
}

fn check_merged(input: &Input, merged: &str) {
    assert!(
        merged.len() <= input.max_size,
        "the result is within the limit"
    );
    assert_eq!(
        read_profile(merged),
        Ok(Some(input.profile)),
        "reading gives the merged profile back"
    );
    assert_eq!(
        other_entries(merged),
        other_entries(&input.metadata),
        "every other key survives the merge with its value"
    );
    assert_eq!(
        merge_profile(merged, &input.profile, input.max_size).as_deref(),
        Ok(merged),
        "merging the same profile again changes nothing"
    );
    let removed = remove_profile(merged).expect("removing never refuses");
    assert_eq!(read_profile(&removed), Ok(None), "removed means gone");
    assert_eq!(
        other_entries(&removed),
        other_entries(merged),
        "every other key survives the removal with its value"
    );
}

fn check_refused(input: &Input, refusal: &AudioError) {
    match refusal {
        AudioError::InvalidProfile(_) => assert!(check_profile(&input.profile).is_err()),
        AudioError::MetadataNotAnObject { .. } => {
            assert_eq!(other_entries(&input.metadata), None);
        }
        AudioError::MetadataTooLarge { size, max_size } => {
            assert_eq!(*max_size, input.max_size);
            assert!(size > max_size);
        }
        AudioError::MalformedProfile { .. } => panic!("a merge replaces a malformed profile"),
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::read(data);
    match merge_profile(&input.metadata, &input.profile, input.max_size) {
        Ok(merged) => check_merged(&input, &merged),
        Err(refusal) => check_refused(&input, &refusal),
    }
    // Reading and removing take any metadata a room may hold.
    let _ = read_profile(&input.metadata);
    let removed = remove_profile(&input.metadata).expect("removing never refuses");
    assert_eq!(read_profile(&removed), Ok(None), "removed means gone");
    let before = other_entries(&input.metadata);
    if before.is_some() {
        assert_eq!(
            other_entries(&removed),
            other_entries(&input.metadata),
            "every other key survives the removal with its value"
        );
    } else {
        assert_eq!(
            removed, input.metadata,
            "metadata that is not an object is left alone"
        );
    }
});
