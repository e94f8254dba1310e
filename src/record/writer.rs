//! Writing a recording: one event per line, buffered, gzip-compressed when the path ends in
//! `.gz`, flushed often enough that a crash loses little.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::error::RecordError;
use super::gzip::is_gz_path;
use crate::events::EngineEvent;

/// The recorder flushes at least this often, in event time.
pub(crate) const FLUSH_EVERY_MS: i64 = 1000;
/// ... and at least every this many events.
pub(crate) const FLUSH_EVERY_EVENTS: u64 = 256;

/// Writes a recording: one event per line, buffered, gzip-compressed when the path ends in
/// `.gz`. Call [`Recorder::finish`] at the end; a recorder that is only dropped still flushes
/// and closes the gzip stream, but cannot report a failure doing so.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    sink: Sink,
    /// The line being written, kept to reuse its allocation.
    line: Vec<u8>,
    events: u64,
    unflushed: u64,
    last_flush_ms: Option<i64>,
}

#[derive(Debug)]
enum Sink {
    Plain(BufWriter<File>),
    Gzip(BufWriter<GzEncoder<File>>),
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Plain(writer) => writer,
            Self::Gzip(writer) => writer,
        }
    }
}

impl Recorder {
    /// Creates (or truncates, like shell redirection) the file at `path`. Its directory must
    /// exist.
    ///
    /// # Errors
    /// [`RecordError::Create`] naming the path and the system's reason.
    pub fn create(path: &Path) -> Result<Self, RecordError> {
        let file = File::create(path).map_err(|source| RecordError::Create {
            path: path.to_owned(),
            source,
        })?;
        let sink = if is_gz_path(path) {
            Sink::Gzip(BufWriter::new(GzEncoder::new(file, Compression::default())))
        } else {
            Sink::Plain(BufWriter::new(file))
        };
        Ok(Self {
            path: path.to_owned(),
            sink,
            line: Vec::with_capacity(4096),
            events: 0,
            unflushed: 0,
            last_flush_ms: None,
        })
    }

    /// Appends one event. Buffered: the file is flushed (never synced) after the first event,
    /// then whenever a second of event time has passed or [`FLUSH_EVERY_EVENTS`] are pending.
    ///
    /// # Errors
    /// The file cannot be written ([`RecordError::Write`]); stop recording then, the events
    /// flushed before stay readable.
    pub fn write(&mut self, event: &EngineEvent) -> Result<(), RecordError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, event).map_err(|source| RecordError::Encode {
            path: self.path.clone(),
            source,
        })?;
        self.line.push(b'\n');
        self.sink
            .writer()
            .write_all(&self.line)
            .map_err(|source| RecordError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.events += 1;
        self.unflushed += 1;
        let due = self
            .last_flush_ms
            .is_none_or(|last| event.at_ms.saturating_sub(last).saturating_abs() >= FLUSH_EVERY_MS)
            || self.unflushed >= FLUSH_EVERY_EVENTS;
        if due {
            self.flush()?;
            self.last_flush_ms = Some(event.at_ms);
        }
        Ok(())
    }

    /// Hands everything written so far to the operating system (a gzip recording gets a sync
    /// flush, so a reader can decompress up to here).
    ///
    /// # Errors
    /// [`RecordError::Write`].
    pub(crate) fn flush(&mut self) -> Result<(), RecordError> {
        self.sink
            .writer()
            .flush()
            .map_err(|source| RecordError::Write {
                path: self.path.clone(),
                source,
            })?;
        self.unflushed = 0;
        Ok(())
    }

    /// Flushes, ends the gzip stream and closes the file; returns the number of events written.
    ///
    /// # Errors
    /// [`RecordError::Write`].
    pub fn finish(self) -> Result<u64, RecordError> {
        let Self {
            path, sink, events, ..
        } = self;
        let write_error = |source| RecordError::Write {
            path: path.clone(),
            source,
        };
        match sink {
            Sink::Plain(writer) => {
                writer
                    .into_inner()
                    .map_err(|err| write_error(err.into_error()))?;
            }
            Sink::Gzip(writer) => {
                let encoder = writer
                    .into_inner()
                    .map_err(|err| write_error(err.into_error()))?;
                encoder.finish().map_err(write_error)?;
            }
        }
        Ok(events)
    }

    #[must_use]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Events written so far.
    #[must_use]
    pub(crate) fn events(&self) -> u64 {
        self.events
    }
}
