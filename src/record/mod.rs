//! Recording the engine's event stream to a file, and playing a recording back.
//!
//! A recording is NDJSON: one [`EngineEvent`] per line, exactly what `lktop watch` prints, so
//! `lktop watch > session.ndjson` is a recording too. A path ending in `.gz` is gzip-compressed.
//!
//! - [`Recorder`] writes one, buffered: cheap enough to call for every event on the dashboard's
//!   thread, flushed every second of event time (or every [`FLUSH_EVERY_EVENTS`] events) so a
//!   crash loses little.
//! - [`Replay`] reads one line by line, never the whole file at once, gunzipping when the name
//!   ends in `.gz` or the content starts with gzip's magic bytes. It is an iterator of events
//!   (a malformed line is a [`LineProblem`], `path:LINE: problem`, and reading goes on after it)
//!   and a timed player: [`Replay::spawn`] releases the events at the pace they were recorded,
//!   scaled by a speed, with pause, resume, speed changes and skipping ahead through a
//!   [`ReplayHandle`].

mod error;
mod gzip;
mod player;
mod reader;
mod speed;
mod writer;

pub(crate) use error::MAX_SPEED;
pub use error::RecordError;
pub use player::{PlayOptions, ReplayHandle, ReplayItem, ReplayPosition};
pub use reader::{LineProblem, Replay};
pub use speed::parse_speed;
pub use writer::Recorder;
