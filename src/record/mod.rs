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

mod player;
mod reader;
mod writer;

use std::io;
use std::path::{Path, PathBuf};

pub use player::{PlayOptions, ReplayHandle, ReplayItem, ReplayPosition};
pub use reader::{LineProblem, Replay};
pub use writer::Recorder;

/// The fastest replay: a thousand seconds of recording per real second.
pub(crate) const MAX_SPEED: f64 = 1000.0;

/// Why a recording could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "cannot create the recording {}: {source}; check that its directory exists and is \
         writable",
        path.display()
    )]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot write the recording {}: {source}; the events before the last flush are kept, \
         free some space or record to another file",
        path.display()
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An event that serde cannot encode: a bug in lktop.
    #[error("cannot encode an event for the recording {}: {source}", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "cannot open the recording {}: {source}; check the path (`lktop watch --record FILE` \
         makes a recording)",
        path.display()
    )]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} ends in .gz but is not gzip-compressed; if it is plain NDJSON, rename it without .gz",
        path.display()
    )]
    NotGzip { path: PathBuf },
    #[error(
        "{} is empty, not a recording; replay a file written by `lktop --record FILE` or \
         `lktop watch`",
        path.display()
    )]
    Empty { path: PathBuf },
    #[error(
        "{} is not a recording: {reason}; replay a file written by `lktop --record FILE` or \
         `lktop watch`",
        path.display()
    )]
    NotARecording { path: PathBuf, reason: String },
    #[error(
        "replay speed {speed} is out of range: give a number above 0 and at most {MAX_SPEED}, \
         e.g. 0.5, 1 or 4"
    )]
    Speed { speed: f64 },
}

/// Checks a replay speed: above 0 and at most [`MAX_SPEED`].
///
/// # Errors
/// [`RecordError::Speed`] for 0, negatives, NaN, infinity and anything above [`MAX_SPEED`].
pub(crate) fn validate_speed(speed: f64) -> Result<f64, RecordError> {
    if speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED {
        Ok(speed)
    } else {
        Err(RecordError::Speed { speed })
    }
}

/// Parses a replay speed such as `4`, `0.5` or `4x`; made for clap's `value_parser`.
///
/// # Errors
/// Not a number, or out of range (see [`validate_speed`]).
pub fn parse_speed(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let number = trimmed
        .strip_suffix(['x', 'X'])
        .unwrap_or(trimmed)
        .trim_end();
    let speed: f64 = number.parse().map_err(|_| {
        format!(
            "`{text}` is not a number: give the replay speed as a number above 0 and at most \
             {MAX_SPEED}, e.g. 0.5, 1 or 4"
        )
    })?;
    validate_speed(speed).map_err(|err| err.to_string())
}

fn is_gz_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gz"))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse_with_or_without_an_x_and_must_be_in_range() {
        assert_eq!(parse_speed("4"), Ok(4.0));
        assert_eq!(parse_speed(" 0.5x "), Ok(0.5));
        assert_eq!(parse_speed("1000"), Ok(1000.0));
        for bad in ["0", "-1", "1000.5", "nan", "inf"] {
            let err = parse_speed(bad).unwrap_err();
            assert!(err.contains("above 0 and at most 1000"), "{bad}: {err}");
        }
        let err = parse_speed("fast").unwrap_err();
        assert!(err.contains("`fast` is not a number"), "{err}");
    }
}
