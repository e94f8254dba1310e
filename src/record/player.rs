//! Playing a recording in time: a thread reads and parses a bounded distance ahead, a task
//! releases each event when the recording's clock reaches it, scaled by a speed, with pause,
//! resume, speed changes and skipping ahead through a [`ReplayHandle`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::error::RecordError;
use super::reader::{LineProblem, Replay};
use super::speed::validate_speed;
use crate::events::EngineEvent;

/// Default of [`PlayOptions::with_max_gap`]: the longest real wait between two events.
pub(crate) const DEFAULT_MAX_GAP: Duration = Duration::from_secs(5);

/// Lines parsed ahead of the player by the reader thread.
const READ_AHEAD: usize = 64;
/// Items the player may have sent that the consumer has not taken yet.
const PLAYER_CAPACITY: usize = 64;
/// How close (in real milliseconds) an event's time must be to count as due: absorbs the
/// rounding of float arithmetic and of the timer.
const DUE_TOLERANCE_MS: f64 = 0.001;

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
}

/// What the player sends.
#[derive(Debug, Clone)]
pub enum ReplayItem {
    Event(Box<EngineEvent>),
    /// A line that is not an event (see [`LineProblem`]: show it as
    /// `{path}:{line}: {message}`); playing goes on with the next line. A read error
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
    shared: Arc<PlaybackState>,
}

/// What the handles and the player task share: the recording's clock and the signals between
/// them.
#[derive(Debug)]
struct PlaybackState {
    clock: Mutex<Clock>,
    /// Bumped after every change of the clock by the handle; the player waits on it.
    control: watch::Sender<u64>,
    stopped: watch::Sender<bool>,
    lines_read: Arc<AtomicU64>,
}

impl PlaybackState {
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
struct StoppedGuard(Arc<PlaybackState>);

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
        let shared = Arc::new(PlaybackState {
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
    shared: &PlaybackState,
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
    shared: &PlaybackState,
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

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
