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
//!
//! `error` holds the key lktop owns and its errors; `profile` checks a profile's values, `metadata`
//! merges, reads and removes it, `ordered_json` is the JSON value that keeps key order, and
//! `profiles` the default and per-room profiles the engine applies.

mod error;
mod metadata;
mod ordered_json;
mod profile;
mod profiles;

pub use error::{AudioError, METADATA_KEY};
pub use metadata::{merge_profile, read_profile, remove_profile};
pub use profile::{ProfileProblem, check_profile};
pub(crate) use profiles::AudioProfiles;

#[cfg(test)]
mod tests;
