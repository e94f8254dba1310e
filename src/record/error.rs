//! Why a recording could not be written or read, each reason with what to do about it.

use std::io;
use std::path::PathBuf;

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
