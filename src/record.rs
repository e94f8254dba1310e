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

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::events::EngineEvent;

/// The fastest replay: a thousand seconds of recording per real second.
pub const MAX_SPEED: f64 = 1000.0;
/// Default of [`PlayOptions::with_max_gap`]: the longest real wait between two events.
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(5);
/// The recorder flushes at least this often, in event time.
pub const FLUSH_EVERY_MS: i64 = 1000;
/// ... and at least every this many events.
pub const FLUSH_EVERY_EVENTS: u64 = 256;
/// A longer line is reported as a problem and skipped instead of read into memory.
pub const MAX_LINE_BYTES: usize = 256 * 1024 * 1024;

/// Lines parsed ahead of the player by the reader thread.
const READ_AHEAD: usize = 64;
/// Items the player may have sent that the consumer has not taken yet.
const PLAYER_CAPACITY: usize = 64;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const READ_BUFFER: usize = 64 * 1024;
/// How close (in real milliseconds) an event's time must be to count as due: absorbs the
/// rounding of float arithmetic and of the timer.
const DUE_TOLERANCE_MS: f64 = 0.001;

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
pub fn validate_speed(speed: f64) -> Result<f64, RecordError> {
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Recording

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
    pub fn flush(&mut self) -> Result<(), RecordError> {
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
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events written so far.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.events
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A line of a recording that is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub path: PathBuf,
    /// 1-based, counting every line of the (decompressed) file, empty ones too.
    pub line: u64,
    pub message: String,
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

impl std::error::Error for LineProblem {}

/// A recording opened for reading. As an [`Iterator`] it yields each event, or the problem of
/// a line that is not one (and goes on with the next line); a read error (a truncated gzip
/// stream, a disk error) is the last item. [`Replay::spawn`] plays it in time instead.
pub struct Replay {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    compressed: bool,
    buf: Vec<u8>,
    line: u64,
    /// `line`, shared with the [`ReplayHandle`] once spawned.
    progress: Arc<AtomicU64>,
    done: bool,
    max_line_bytes: usize,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("path", &self.path)
            .field("compressed", &self.compressed)
            .field("line", &self.line)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// Opens a recording; gunzips it when the name ends in `.gz` or the content is gzip.
    /// Nothing is read beyond the first bytes until events are asked for.
    ///
    /// # Errors
    /// [`RecordError::Open`] (missing, unreadable) or [`RecordError::NotGzip`].
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let file = File::open(path).map_err(|source| RecordError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(path, file)
    }

    /// A recording read from anything, e.g. standard input or bytes in memory. `path` names it
    /// in problems (and, when it ends in `.gz`, the content must be gzip).
    ///
    /// # Errors
    /// As [`Replay::open`].
    pub fn from_reader(
        path: impl Into<PathBuf>,
        reader: impl Read + Send + 'static,
    ) -> Result<Self, RecordError> {
        let path = path.into();
        let mut input = BufReader::with_capacity(READ_BUFFER, reader);
        let head = match input.fill_buf() {
            Ok(head) => head,
            Err(source) => return Err(RecordError::Open { path, source }),
        };
        let compressed = head.starts_with(&GZIP_MAGIC);
        if !compressed && !head.is_empty() && is_gz_path(&path) {
            return Err(RecordError::NotGzip { path });
        }
        let reader: Box<dyn BufRead + Send> = if compressed {
            Box::new(BufReader::with_capacity(
                READ_BUFFER,
                MultiGzDecoder::new(input),
            ))
        } else {
            Box::new(input)
        };
        Ok(Self {
            path,
            reader,
            compressed,
            buf: Vec::new(),
            line: 0,
            progress: Arc::new(AtomicU64::new(0)),
            done: false,
            max_line_bytes: MAX_LINE_BYTES,
        })
    }

    /// Opens `path` and reads up to its first event, so that a file that is no recording at
    /// all (an image, a configuration file, an empty file) is refused before anything starts,
    /// with one sentence saying why; a bad line later in a real recording is only a problem of
    /// that line.
    ///
    /// # Errors
    /// As [`Replay::open`], and [`RecordError::Empty`] or [`RecordError::NotARecording`].
    pub fn check(path: &Path) -> Result<(), RecordError> {
        let mut replay = Self::open(path)?;
        match replay.next() {
            Some(Ok(_)) => Ok(()),
            None => Err(RecordError::Empty {
                path: path.to_owned(),
            }),
            Some(Err(problem)) => {
                // The line is still in the buffer: JSON that is not an event is worth the
                // parser's detail, anything else (binary, YAML) is simply not JSON.
                let reason = if replay.buf.trim_ascii().starts_with(b"{") {
                    format!(
                        "line {} is not an engine event ({})",
                        problem.line, problem.message
                    )
                } else if replay.buf.is_empty() {
                    format!("line {}: {}", problem.line, problem.message)
                } else {
                    format!("line {} is not JSON", problem.line)
                };
                Err(RecordError::NotARecording {
                    path: path.to_owned(),
                    reason,
                })
            }
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is gzip-compressed.
    #[must_use]
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Lines read so far.
    #[must_use]
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    fn problem(&self, line: u64, message: String) -> LineProblem {
        LineProblem {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn next_line(&mut self) -> io::Result<LineRead> {
        self.buf.clear();
        let read = read_line_limited(&mut self.reader, &mut self.buf, self.max_line_bytes)?;
        if read != LineRead::End {
            self.line += 1;
            self.progress.store(self.line, Ordering::Relaxed);
        }
        Ok(read)
    }
}

impl Iterator for Replay {
    type Item = Result<EngineEvent, LineProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_line() {
                Err(err) => {
                    self.done = true;
                    return Some(Err(self.problem(self.line + 1, read_error_message(&err))));
                }
                Ok(LineRead::End) => self.done = true,
                Ok(LineRead::TooLong) => {
                    let message = format!(
                        "longer than {} MiB, skipped",
                        self.max_line_bytes / (1024 * 1024)
                    );
                    return Some(Err(self.problem(self.line, message)));
                }
                Ok(LineRead::Line) => {
                    let text = self.buf.trim_ascii();
                    if text.is_empty() {
                        continue;
                    }
                    return Some(
                        serde_json::from_slice(text)
                            .map_err(|err| self.problem(self.line, json_message(&err, text))),
                    );
                }
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineRead {
    Line,
    TooLong,
    End,
}

/// Reads one line (with its `\n`, if any) into `buf`, unless it is longer than `limit`: then
/// the rest of it is skipped without keeping it and the line is [`LineRead::TooLong`].
fn read_line_limited<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let read = reader.take(cap).read_until(b'\n', buf)?;
    if read == 0 {
        return Ok(LineRead::End);
    }
    if buf.len() <= limit || buf.ends_with(b"\n") {
        return Ok(LineRead::Line);
    }
    buf.clear();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        if let Some(end) = available.iter().position(|&byte| byte == b'\n') {
            reader.consume(end + 1);
            break;
        }
        let used = available.len();
        reader.consume(used);
    }
    Ok(LineRead::TooLong)
}

fn read_error_message(err: &io::Error) -> String {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        "the compressed file ends in the middle of its gzip stream (the recording was not \
         finished, e.g. lktop was killed); the events before this line were read"
            .to_owned()
    } else {
        format!("cannot read further: {err}")
    }
}

/// serde's message without its "at line 1 column N" (a line is always line 1 to serde).
fn json_message(err: &serde_json::Error, text: &[u8]) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).trim();
    let mut message = if err.column() > 0 {
        format!("{message} at column {}", err.column())
    } else {
        message.to_owned()
    };
    if !text.starts_with(b"{") {
        message.push_str(
            " (a recording holds one JSON event per line, as `lktop watch` prints them without \
             --summary)",
        );
    }
    message
}

// ---------------------------------------------------------------------------------------------
// Playing

/// How a recording is played.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayOptions {
    speed: f64,
    max_gap: Duration,
    paused: bool,
}

impl Default for PlayOptions {
    fn default() -> Self {
        Self {
            speed: 1.0,
            max_gap: DEFAULT_MAX_GAP,
            paused: false,
        }
    }
}

impl PlayOptions {
    /// Recording seconds per real second (default 1).
    ///
    /// # Errors
    /// Out of range, see [`validate_speed`].
    pub fn with_speed(self, speed: f64) -> Result<Self, RecordError> {
        Ok(Self {
            speed: validate_speed(speed)?,
            ..self
        })
    }

    /// The longest real wait between two events (default [`DEFAULT_MAX_GAP`]): a longer idle
    /// stretch is shortened to this, so a quiet hour in a recording does not stall a demo.
    #[must_use]
    pub fn with_max_gap(self, max_gap: Duration) -> Self {
        Self { max_gap, ..self }
    }

    /// Starts paused: the first event still goes out (the dashboard shows where the recording
    /// begins), the next ones wait for [`ReplayHandle::resume`].
    #[must_use]
    pub fn paused(self, paused: bool) -> Self {
        Self { paused, ..self }
    }

    #[must_use]
    pub fn speed(&self) -> f64 {
        self.speed
    }

    #[must_use]
    pub fn max_gap(&self) -> Duration {
        self.max_gap
    }
}

/// What the player sends.
#[derive(Debug, Clone)]
pub enum ReplayItem {
    Event(Box<EngineEvent>),
    /// A line that is not an event (see [`LineProblem`]: show it as
    /// `{handle.path()}:{line}: {message}`); playing goes on with the next line. A read error
    /// is a problem too, the last one before `Finished`.
    Problem {
        line: u64,
        message: String,
    },
    /// The end of the recording; nothing follows.
    Finished {
        events: u64,
    },
}

/// Where the player is in the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayPosition {
    /// The recording's clock now (Unix milliseconds, like [`EngineEvent::at_ms`]); it runs at
    /// the replay speed between events, stops when paused and at the end. 0 before the first
    /// event.
    pub at_ms: i64,
    /// The first event's time; 0 before it.
    pub started_at_ms: i64,
    /// Events released so far.
    pub events: u64,
}

impl ReplayPosition {
    /// How far into the recording the player is, e.g. for a "03:12 / replay" header.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(
            u64::try_from(self.at_ms.saturating_sub(self.started_at_ms)).unwrap_or(0),
        )
    }
}

/// Controls a playing recording. Cheap to clone; dropping every handle lets the recording play
/// on. Playing stops when the receiver of the items is dropped.
#[derive(Debug, Clone)]
pub struct ReplayHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    clock: Mutex<Clock>,
    /// Bumped after every change of the clock by the handle; the player waits on it.
    control: watch::Sender<u64>,
    stopped: watch::Sender<bool>,
    lines_read: Arc<AtomicU64>,
}

impl Shared {
    fn change(&self, apply: impl FnOnce(&mut Clock, Instant)) {
        apply(&mut lock(&self.clock), Instant::now());
        self.control
            .send_modify(|version| *version = version.wrapping_add(1));
    }
}

impl ReplayHandle {
    /// Holds the events until [`ReplayHandle::resume`]; the recording's clock stops.
    pub fn pause(&self) {
        self.shared.change(|clock, now| {
            if !clock.paused {
                clock.rebase(now);
                clock.paused = true;
            }
        });
    }

    pub fn resume(&self) {
        self.shared.change(|clock, now| {
            if clock.paused {
                clock.anchor = now;
                clock.paused = false;
            }
        });
    }

    #[must_use]
    pub fn is_paused(&self) -> bool {
        lock(&self.shared.clock).paused
    }

    /// Changes the speed from now on (the wait for the next event is rescaled).
    ///
    /// # Errors
    /// Out of range, see [`validate_speed`]; the speed is then unchanged.
    pub fn set_speed(&self, speed: f64) -> Result<(), RecordError> {
        let speed = validate_speed(speed)?;
        self.shared.change(|clock, now| {
            clock.rebase(now);
            clock.speed = speed;
        });
        Ok(())
    }

    #[must_use]
    pub fn speed(&self) -> f64 {
        lock(&self.shared.clock).speed
    }

    /// Jumps `span` ahead in recording time. The events in the skipped span are still
    /// delivered, at once and in order, so whoever folds them into a state ends up in the right
    /// one. Works while paused too (the player stays paused at the new position).
    pub fn skip(&self, span: Duration) {
        let span_ms = span.as_secs_f64() * 1000.0;
        self.shared.change(|clock, now| {
            clock.rebase(now);
            clock.offset_ms += span_ms;
        });
    }

    #[must_use]
    pub fn position(&self) -> ReplayPosition {
        let clock = lock(&self.shared.clock);
        let Some(origin) = clock.origin else {
            return ReplayPosition {
                at_ms: 0,
                started_at_ms: 0,
                events: clock.events,
            };
        };
        ReplayPosition {
            at_ms: origin.saturating_add(round_ms(clock.offset_at(Instant::now()))),
            started_at_ms: origin,
            events: clock.events,
        }
    }

    /// The recording being played.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Lines the reader has read so far (it reads a bounded distance ahead of the player).
    #[must_use]
    pub fn lines_read(&self) -> u64 {
        self.shared.lines_read.load(Ordering::Relaxed)
    }

    /// False once the player has stopped: finished, or its receiver dropped.
    #[must_use]
    pub fn is_running(&self) -> bool {
        !*self.shared.stopped.borrow()
    }

    /// Resolves once the player has stopped.
    pub async fn stopped(&self) {
        let mut stopped = self.shared.stopped.subscribe();
        // The sender lives in `self.shared`, so this cannot fail while we wait.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }
}

/// The recording's clock: `offset_ms` (recording milliseconds after the first event) at the
/// real instant `anchor`, running at `speed` unless paused or ended.
#[derive(Debug)]
struct Clock {
    speed: f64,
    paused: bool,
    ended: bool,
    origin: Option<i64>,
    offset_ms: f64,
    anchor: Instant,
    events: u64,
    last_event_ms: i64,
}

enum Wait {
    Due,
    Paused,
    For(Duration),
}

impl Clock {
    fn offset_at(&self, now: Instant) -> f64 {
        if self.paused || self.ended || self.origin.is_none() {
            self.offset_ms
        } else {
            let real_ms = now.saturating_duration_since(self.anchor).as_secs_f64() * 1000.0;
            self.offset_ms + real_ms * self.speed
        }
    }

    fn rebase(&mut self, now: Instant) {
        self.offset_ms = self.offset_at(now);
        self.anchor = now;
    }

    /// Whether the event at `at_ms` is due, and if not how long to wait for it. Shortens an
    /// idle stretch longer than `max_gap` (real time) by moving the clock ahead.
    fn due_in(&mut self, at_ms: i64, now: Instant, max_gap: Duration) -> Wait {
        let Some(origin) = self.origin else {
            // The first event starts the clock; a skip asked for before it counts from here.
            self.origin = Some(at_ms);
            self.anchor = now;
            return Wait::Due;
        };
        let target = ms_to_f64(at_ms.saturating_sub(origin));
        let position = self.offset_at(now);
        if target - position <= DUE_TOLERANCE_MS * self.speed {
            return Wait::Due;
        }
        if self.paused {
            return Wait::Paused;
        }
        let cap_ms = max_gap.as_secs_f64() * 1000.0;
        let mut real_ms = (target - position) / self.speed;
        if real_ms > cap_ms {
            self.offset_ms = target - cap_ms * self.speed;
            self.anchor = now;
            real_ms = cap_ms;
        }
        // Whole microseconds: a float hair above a millisecond must not cost the timer
        // another millisecond.
        Wait::For(Duration::from_micros(round_micros(real_ms)))
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "millisecond offsets within a recording are far below 2^53"
)]
fn ms_to_f64(ms: i64) -> f64 {
    ms as f64
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "rounded and within i64 for any real recording; `as` saturates otherwise"
)]
fn round_ms(ms: f64) -> i64 {
    ms.round() as i64
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a positive wait; `as` saturates"
)]
fn round_micros(ms: f64) -> u64 {
    (ms * 1000.0).round().max(1.0) as u64
}

/// Tells the handles that the player stopped, however its task ends.
struct StoppedGuard(Arc<Shared>);

impl Drop for StoppedGuard {
    fn drop(&mut self) {
        self.0.stopped.send_replace(true);
    }
}

type Line = Result<EngineEvent, LineProblem>;

impl Replay {
    /// Plays the recording on the current Tokio runtime: a thread reads and parses a bounded
    /// distance ahead, a task releases each event when the recording's clock reaches it. The
    /// first event goes out at once; after the last one comes [`ReplayItem::Finished`]. Events
    /// are sent with backpressure: a slow consumer slows the replay, nothing is dropped. The
    /// task (and the reader thread after it) stops by itself when the receiver is dropped.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    #[must_use]
    pub fn spawn(self, options: PlayOptions) -> (ReplayHandle, mpsc::Receiver<ReplayItem>) {
        let (items, receiver) = mpsc::channel(PLAYER_CAPACITY);
        let (line_sender, lines) = mpsc::channel::<Line>(READ_AHEAD);
        let shared = Arc::new(Shared {
            path: self.path.clone(),
            clock: Mutex::new(Clock {
                speed: options.speed,
                paused: options.paused,
                ended: false,
                origin: None,
                offset_ms: 0.0,
                anchor: Instant::now(),
                events: 0,
                last_event_ms: 0,
            }),
            control: watch::Sender::new(0),
            stopped: watch::Sender::new(false),
            lines_read: Arc::clone(&self.progress),
        });
        let reader = std::thread::Builder::new()
            .name("lktop-replay-reader".to_owned())
            .spawn(move || {
                for line in self {
                    if line_sender.blocking_send(line).is_err() {
                        return;
                    }
                }
            });
        if let Err(err) = reader {
            // The channel is new and empty: this fits.
            let _ = items.try_send(ReplayItem::Problem {
                line: 0,
                message: format!("cannot start reading the recording: {err}"),
            });
        }
        let guard = StoppedGuard(Arc::clone(&shared));
        let player = Arc::clone(&shared);
        tokio::spawn(async move {
            let _guard = guard;
            tokio::select! {
                () = play(&player, lines, &items, options.max_gap) => {}
                () = items.closed() => {}
            }
        });
        (ReplayHandle { shared }, receiver)
    }
}

async fn play(
    shared: &Shared,
    mut lines: mpsc::Receiver<Line>,
    items: &mpsc::Sender<ReplayItem>,
    max_gap: Duration,
) {
    let mut control = shared.control.subscribe();
    let mut events = 0_u64;
    while let Some(line) = lines.recv().await {
        let item = match line {
            Ok(event) => {
                wait_until_due(shared, &mut control, event.at_ms, max_gap).await;
                let at_ms = event.at_ms;
                if items
                    .send(ReplayItem::Event(Box::new(event)))
                    .await
                    .is_err()
                {
                    return;
                }
                events += 1;
                let mut clock = lock(&shared.clock);
                clock.events = events;
                clock.last_event_ms = at_ms;
                continue;
            }
            Err(problem) => ReplayItem::Problem {
                line: problem.line,
                message: problem.message,
            },
        };
        if items.send(item).await.is_err() {
            return;
        }
    }
    {
        let mut clock = lock(&shared.clock);
        if let Some(origin) = clock.origin {
            clock.offset_ms = ms_to_f64(clock.last_event_ms.saturating_sub(origin));
        }
        clock.ended = true;
    }
    let _ = items.send(ReplayItem::Finished { events }).await;
}

async fn wait_until_due(
    shared: &Shared,
    control: &mut watch::Receiver<u64>,
    at_ms: i64,
    max_gap: Duration,
) {
    loop {
        // Marked seen before the clock is read: a change made after the read wakes us.
        control.borrow_and_update();
        let wait = lock(&shared.clock).due_in(at_ms, Instant::now(), max_gap);
        match wait {
            Wait::Due => return,
            Wait::Paused => {
                // The sender lives in `shared`, so this only fails if the player is dropped.
                let _ = control.changed().await;
            }
            Wait::For(span) => {
                tokio::select! {
                    () = tokio::time::sleep(span) => {}
                    _ = control.changed() => {}
                }
            }
        }
    }
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

    #[test]
    fn a_too_long_line_is_skipped_without_being_kept() {
        let text = b"short\nthis line is far too long\nafter\nlast";
        let mut reader = BufReader::with_capacity(4, &text[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        loop {
            buf.clear();
            let read = read_line_limited(&mut reader, &mut buf, 8).unwrap();
            if read == LineRead::End {
                break;
            }
            lines.push((read, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            lines,
            [
                (LineRead::Line, "short\n".to_owned()),
                (LineRead::TooLong, String::new()),
                (LineRead::Line, "after\n".to_owned()),
                (LineRead::Line, "last".to_owned()),
            ]
        );
    }

    #[test]
    fn json_messages_lose_serdes_line_but_keep_the_column() {
        let text = br#"{"at_ms": 1, "type": }"#;
        let err = serde_json::from_slice::<EngineEvent>(text).unwrap_err();
        let message = json_message(&err, text);
        assert!(!message.contains("line 1"), "{message}");
        assert!(message.contains("at column"), "{message}");

        let text = b"2026-11-25T12:36:54Z sandbox: up";
        let err = serde_json::from_slice::<EngineEvent>(text).unwrap_err();
        assert!(json_message(&err, text).contains("without --summary"));
    }

    #[test]
    fn the_clock_runs_at_its_speed_and_caps_gaps() {
        let start = Instant::now();
        let mut clock = Clock {
            speed: 2.0,
            paused: false,
            ended: false,
            origin: None,
            offset_ms: 0.0,
            anchor: start,
            events: 0,
            last_event_ms: 0,
        };
        let gap = Duration::from_secs(5);
        assert!(matches!(clock.due_in(10_000, start, gap), Wait::Due));
        assert!(
            matches!(clock.due_in(11_000, start, gap), Wait::For(d) if d == Duration::from_millis(500))
        );
        let later = start + Duration::from_millis(500);
        assert!(matches!(clock.due_in(11_000, later, gap), Wait::Due));
        // 60 s of recording is 30 s at 2x: cut to 5 s, the clock jumps to 10 s before it.
        assert!(
            matches!(clock.due_in(71_000, later, gap), Wait::For(d) if d == Duration::from_secs(5))
        );
        assert!((clock.offset_at(later) - 51_000.0).abs() < 1e-6);
    }
}
