//! The rules a profile's values follow: the configuration's ranges, and a buffer that fits in
//! the target latency.

use std::ops::RangeInclusive;

use crate::config::{AudioProfile, BUFFER_SIZE_MS, JITTER_BUFFER_MS, TARGET_LATENCY_MS};

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
