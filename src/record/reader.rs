//! Reading a recording line by line, never the whole file at once, gunzipping when the name
//! ends in `.gz` or the content starts with gzip's magic bytes. A line that is not an event is
//! a [`LineProblem`] (`path:LINE: problem`), and reading goes on after it.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

use super::error::RecordError;
use super::gzip::is_gz_path;
use crate::events::EngineEvent;

/// A longer line is reported as a problem and skipped instead of read into memory.
pub(crate) const MAX_LINE_BYTES: usize = 256 * 1024 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const READ_BUFFER: usize = 64 * 1024;

/// A line of a recording that is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub(crate) path: PathBuf,
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
    pub(super) path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    compressed: bool,
    buf: Vec<u8>,
    line: u64,
    /// `line`, shared with the [`ReplayHandle`](super::ReplayHandle) once spawned.
    pub(super) progress: Arc<AtomicU64>,
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
    pub(crate) fn from_reader(
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
    pub(crate) fn check(path: &Path) -> Result<(), RecordError> {
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

    /// Whether the file is gzip-compressed.
    #[must_use]
    pub fn is_compressed(&self) -> bool {
        self.compressed
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
