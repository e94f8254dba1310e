//! Key-to-frame latency: how long after a key is written to the terminal its effect is on the
//! screen, for the release dashboard in a 160x48 pseudo-terminal watching a separate
//! `lktop sandbox` that holds 10,000 rooms (2 participants each, so every 2 s poll is one
//! ListRooms and 10,000 ListParticipants on the same two cores).
//!
//! Measured for (a) screen switches (`1`..`4` in turn), (b) a rooms filter typed character by
//! character (`/`, then each character until it shows in the filter line), (c) opening a room
//! (`enter` on the rooms screen until the room's own screen shows), and (d) the screen switches
//! again with room polling paused (`p`), which shows what the polls cost. The clock runs from the
//! write to the pty until the reader thread, which feeds every byte into a VT100 emulator as it
//! arrives, sees the effect; so it includes the pty both ways and the emulator, like a person
//! at a terminal. Keys are spaced 50–150 ms apart at random, so they land at every phase of
//! the dashboard's frame pacing (one frame per 33 ms at most) and of its polls.
//!
//! The floor, in the same pseudo-terminal after lktop quits: `sh -c cat` (the terminal's own
//! echo of a character, cooked mode) and `stty raw -echo; cat` (a process reading the key and
//! writing it back).
//!
//! `cargo bench --bench keys` (builds `target/release/lktop`; `LKTOP_BIN` points at another
//! binary) runs it all in about two minutes; `cargo bench --bench keys -- screens floor` runs
//! some parts (`screens`, `open`, `filter`, `paused`, `floor`); `-- --samples 300` takes more
//! samples per kind (default 150). Target: p99 ≤ 50 ms for every kind of key. Loopback only;
//! every wait has a deadline.

#[path = "support/machine.rs"]
mod machine;
#[path = "support/sandbox_process.rs"]
mod sandbox_process;
#[path = "../tests/support/terminal.rs"]
mod terminal;

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use machine::machine_line;
use portable_pty::{CommandBuilder, MasterPty, SlavePty};
use rand::Rng;
use sandbox_process::{SandboxProcess, lktop_binary, server_environment};

const ROWS: u16 = 48;
const COLS: u16 = 160;
const ROOMS: u32 = 10_000;
const DEFAULT_SAMPLES: usize = 150;
/// Longest a single key may take to show before the run is abandoned.
const KEY_DEADLINE: Duration = Duration::from_secs(10);
/// Longest the sandbox and the dashboard's first poll of 10,000 rooms may take.
const START_DEADLINE: Duration = Duration::from_secs(90);
const TARGET_P99: Duration = Duration::from_millis(50);

/// 10,000 rooms that neither change nor end during the run: nothing moves but the polls.
const SCENARIO: &str = "\
seed: 1
tick: 1s
dynamic_rooms:
  - prefix: room-
    initial: 10000
    max_rooms: 10000
    create_rate: 0
    lifetime: { min: 24h, max: 24h }
    empty_timeout: 1h
    departure_timeout: 1h
    participants:
      initial: 2
      min: 2
      max: 2
      publish: { audio: 1.0, video: 0.5 }
";

fn main() {
    let samples = samples_wanted();
    // `cargo bench --bench keys -- screens filter` runs those parts (and always the setup).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-') && arg.parse::<usize>().is_err())
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|arg| arg == part);
    let binary = lktop_binary();
    println!("{}", machine_line());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sandbox = SandboxProcess::with_scenario(&binary, dir.path(), SCENARIO, START_DEADLINE);

    let mut term = Term::open();
    let mut dashboard = term.spawn(dashboard_command(&binary, dir.path(), &sandbox.url));
    term.wait_for("the first poll of 10,000 rooms", START_DEADLINE, |screen| {
        screen.contents().contains("· 10000 rooms ·")
    });
    let poll_line = term
        .lines()
        .into_iter()
        .find(|line| line.contains("last poll"))
        .map(|line| {
            line.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_owned()
        })
        .unwrap_or_default();

    let mut rows = Vec::new();
    if wanted("screens") {
        rows.push(("screen switch (1..4)", screen_switches(&mut term, samples)));
    }
    if wanted("open") {
        rows.push(("open a room (enter)", open_rooms(&mut term, samples)));
    }
    if wanted("filter") {
        rows.push((
            "rooms filter, one character",
            filter_typing(&mut term, samples),
        ));
    }
    if wanted("paused") {
        rows.push((
            "screen switch, polling paused (p)",
            paused_switches(&mut term, samples),
        ));
    }
    term.write(b"q");
    wait_exit(&mut dashboard, "lktop after q");

    if wanted("floor") {
        let mut cat = term.spawn(shell("printf ready; exec cat"));
        term.wait_for("cat in cooked mode", KEY_DEADLINE, |screen| {
            screen.contents().contains("ready")
        });
        rows.push(("floor: terminal echo (sh -c cat)", echo(&mut term, samples)));
        kill(&mut cat);
        let mut raw_cat = term.spawn(shell("stty raw -echo; printf go; exec cat"));
        term.wait_for("cat in raw mode", KEY_DEADLINE, |screen| {
            screen.contents().contains("go")
        });
        rows.push(("floor: process echo (raw cat)", echo(&mut term, samples)));
        kill(&mut raw_cat);
    }
    sandbox.stop();

    println!();
    println!(
        "key-to-frame latency of {binary} in a {COLS}x{ROWS} pseudo-terminal, against `lktop \
         sandbox` holding {ROOMS} rooms on loopback ({poll_line}); {samples} samples per kind, \
         keys 50-150 ms apart"
    );
    println!(
        "{:<34} | {:>7} | {:>8} | {:>8} | {:>8} | {:>8} | {:>13}",
        "kind", "samples", "p50", "p90", "p99", "max", "p99 <= 50 ms"
    );
    for (kind, mut times) in rows {
        times.sort_unstable();
        let floor = kind.starts_with("floor");
        let p99 = percentile(&times, 99);
        let verdict = match (floor, p99 <= TARGET_P99) {
            (true, _) => "(floor)",
            (false, true) => "PASS",
            (false, false) => "MISS",
        };
        println!(
            "{kind:<34} | {:>7} | {:>8} | {:>8} | {:>8} | {:>8} | {verdict:>13}",
            times.len(),
            ms(percentile(&times, 50)),
            ms(percentile(&times, 90)),
            ms(p99),
            ms(times.last().copied().unwrap_or_default()),
        );
    }
    println!("{}", machine_line().replace("at start", "at end"));
}

fn samples_wanted() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|pair| pair[0] == "--samples")
        .map_or(DEFAULT_SAMPLES, |pair| {
            pair[1].parse().expect("--samples takes a number")
        })
}

fn dashboard_command(binary: &str, home: &std::path::Path, url: &str) -> CommandBuilder {
    let mut command = terminal::command(binary, home);
    for (name, value) in server_environment(url) {
        command.env(name, value);
    }
    command
}

fn shell(script: &str) -> CommandBuilder {
    let mut command = CommandBuilder::new("sh");
    command.args(["-c", script]);
    command.env_clear();
    command.env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

// ---------------------------------------------------------------------------------------------
// The terminal: a pseudo-terminal whose output a reader thread feeds into a VT100 emulator,
// checking the probe of the key in flight after every read, so the time a key's effect shows
// is taken when its bytes arrive, not when someone next looks.

type Predicate = Box<dyn Fn(&vt100::Screen) -> bool + Send>;

#[derive(Default)]
struct Probe {
    predicate: Option<Predicate>,
    seen_at: Option<Instant>,
}

struct Shared {
    screen: Mutex<vt100::Parser>,
    probe: Mutex<Probe>,
    seen: Condvar,
}

struct Term {
    /// Held so the terminal stays open: dropping it hangs up on the program inside.
    _master: Box<dyn MasterPty + Send>,
    slave: Box<dyn SlavePty + Send>,
    writer: Box<dyn Write + Send>,
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Term {
    fn open() -> Self {
        let pty = terminal::open(ROWS, COLS);
        let shared = Arc::new(Shared {
            screen: Mutex::new(terminal::emulator(ROWS, COLS)),
            probe: Mutex::new(Probe::default()),
            seen: Condvar::new(),
        });
        let mut reader = pty.master.try_clone_reader().expect("a pty reader");
        let writer = pty.master.take_writer().expect("a pty writer");
        let feed = Arc::clone(&shared);
        thread::spawn(move || {
            let mut buffer = [0_u8; 16 * 1024];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let mut screen = lock(&feed.screen);
                screen.process(&buffer[..read]);
                let now = Instant::now();
                let mut probe = lock(&feed.probe);
                if probe.seen_at.is_none()
                    && probe
                        .predicate
                        .as_ref()
                        .is_some_and(|predicate| predicate(screen.screen()))
                {
                    probe.seen_at = Some(now);
                    feed.seen.notify_all();
                }
            }
        });
        Self {
            _master: pty.master,
            slave: pty.slave,
            writer,
            shared,
        }
    }

    /// Starts a program in this terminal (the slave stays open for the next one).
    fn spawn(&self, command: CommandBuilder) -> Box<dyn portable_pty::Child + Send + Sync> {
        self.slave
            .spawn_command(command)
            .expect("the program starts")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("the pty takes the key");
        self.writer.flush().expect("the pty takes the key");
    }

    fn lines(&self) -> Vec<String> {
        lock(&self.shared.screen).screen().rows(0, COLS).collect()
    }

    /// Writes `key` and returns how long until `shows` holds for the screen. `shows` must not
    /// hold before the key, or the key would have nothing to prove.
    fn time_key(
        &mut self,
        key: &[u8],
        what: &str,
        shows: impl Fn(&vt100::Screen) -> bool + Send + 'static,
    ) -> Duration {
        {
            let screen = lock(&self.shared.screen);
            assert!(
                !shows(screen.screen()),
                "{what} already shows before the key:\n{}",
                screen.screen().contents()
            );
            let mut probe = lock(&self.shared.probe);
            probe.predicate = Some(Box::new(shows));
            probe.seen_at = None;
        }
        let written = Instant::now();
        self.write(key);
        let probe = lock(&self.shared.probe);
        let (mut probe, _) = self
            .shared
            .seen
            .wait_timeout_while(probe, KEY_DEADLINE, |probe| probe.seen_at.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        let seen = probe.seen_at.take();
        probe.predicate = None;
        drop(probe);
        let Some(seen) = seen else {
            panic!(
                "{what} did not show within {KEY_DEADLINE:?}; the screen shows:\n{}",
                lock(&self.shared.screen).screen().contents()
            );
        };
        seen.saturating_duration_since(written)
    }

    /// Waits (polling) until `done` holds; for steps that are not measured.
    fn wait_for(&self, what: &str, within: Duration, done: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            {
                let screen = lock(&self.shared.screen);
                if done(screen.screen()) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "waited {within:?} for {what}; the screen shows:\n{}",
                    screen.screen().contents()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The third line, where every screen's block title is.
fn title_row(screen: &vt100::Screen) -> String {
    screen.rows(0, COLS).nth(2).unwrap_or_default()
}

/// What a person does between keys: 50-150 ms, at random so keys land at every phase of the
/// frame pacing and the polls.
fn pause() {
    thread::sleep(Duration::from_millis(rand::rng().random_range(50..150)));
}

fn wait_exit(child: &mut Box<dyn portable_pty::Child + Send + Sync>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("{what} did not exit");
}

fn kill(child: &mut Box<dyn portable_pty::Child + Send + Sync>) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// The three kinds of keys, and the floor

/// `1`..`4` in turn from the overview; each screen's title marks it.
fn screen_switches(term: &mut Term, samples: usize) -> Vec<Duration> {
    let screens: [(&[u8], &str); 4] = [
        (b"2", "· pool "),
        (b"3", "· rooms: "),
        (b"4", "┌ events ("),
        (b"1", "┌ servers ("),
    ];
    let mut times = Vec::with_capacity(samples);
    // One unmeasured round first: the first visit of a screen may fill caches.
    for round in 0.. {
        let (key, marker) = screens[round % screens.len()];
        let shown = move |screen: &vt100::Screen| title_row(screen).contains(marker);
        let took = term.time_key(key, marker, shown);
        if round >= screens.len() {
            times.push(took);
        }
        if times.len() == samples {
            break;
        }
        pause();
    }
    times
}

/// The screen switches again with room polling paused (`p`): no snapshot to fold in and no
/// ListParticipants storm, so what is left is the dashboard itself and the machine.
fn paused_switches(term: &mut Term, samples: usize) -> Vec<Duration> {
    term.write(b"p");
    term.wait_for("the polling paused badge", KEY_DEADLINE, |screen| {
        screen.contents().contains("POLLING PAUSED")
    });
    // A poll already under way finishes first.
    thread::sleep(Duration::from_secs(3));
    let times = screen_switches(term, samples);
    term.write(b"p");
    times
}

/// On the rooms screen: `j` (not measured) moves down a row, `enter` opens the room; `3` goes
/// back to the list.
fn open_rooms(term: &mut Term, samples: usize) -> Vec<Duration> {
    let in_list = |screen: &vt100::Screen| title_row(screen).contains("· rooms: ");
    term.write(b"3");
    term.wait_for("the rooms screen", KEY_DEADLINE, in_list);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        pause();
        term.write(b"j");
        pause();
        times.push(term.time_key(b"\r", "a room's screen", |screen| {
            title_row(screen).contains("┌ room ")
        }));
        pause();
        term.write(b"3");
        term.wait_for("the rooms screen again", KEY_DEADLINE, in_list);
    }
    times
}

/// On the rooms screen: `/`, then room names typed a character at a time; each character is
/// a sample, timed until the filter line shows the text so far. `ctrl+u` empties the line
/// between names, `enter` ends.
fn filter_typing(term: &mut Term, samples: usize) -> Vec<Duration> {
    let filter_line = |text: String| {
        move |screen: &vt100::Screen| screen.contents().contains(&format!(" / {text}█"))
    };
    term.write(b"3");
    term.wait_for("the rooms screen", KEY_DEADLINE, |screen| {
        title_row(screen).contains("· rooms: ")
    });
    term.write(b"/");
    term.wait_for("the filter line", KEY_DEADLINE, filter_line(String::new()));
    let mut times = Vec::with_capacity(samples);
    let mut word = 0_u32;
    while times.len() < samples {
        word += 1;
        // room-0001 ... room-10000: names that exist, typed down to one match.
        let name = format!("room-{:04}", (word * 677) % ROOMS + 1);
        let mut typed = String::new();
        for c in name.chars() {
            if times.len() == samples {
                break;
            }
            pause();
            typed.push(c);
            let mut bytes = [0_u8; 4];
            times.push(term.time_key(
                c.encode_utf8(&mut bytes).as_bytes(),
                "the filter text",
                filter_line(typed.clone()),
            ));
        }
        pause();
        term.write(b"\x15");
        term.wait_for(
            "the emptied filter line",
            KEY_DEADLINE,
            filter_line(String::new()),
        );
    }
    term.write(b"\r");
    times
}

/// A character at a time, each timed until the cursor has moved past it (the terminal's echo
/// or cat's); a new line every 40 characters.
fn echo(term: &mut Term, samples: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(samples);
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    for n in 0..samples {
        if n % 40 == 0 {
            term.write(b"\r");
            term.wait_for("the start of a line", KEY_DEADLINE, |screen| {
                screen.cursor_position().1 == 0
            });
            // Cooked cat writes the line back after the echo: let it.
            thread::sleep(Duration::from_millis(50));
        }
        pause();
        let column = lock(&term.shared.screen).screen().cursor_position().1;
        let key = [letters[n % letters.len()]];
        times.push(term.time_key(&key, "the echo", move |screen| {
            screen.cursor_position().1 > column
        }));
    }
    times
}

// ---------------------------------------------------------------------------------------------
// Figures

/// Nearest rank: the smallest sample with at least `percent` % of the samples at or below it.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
