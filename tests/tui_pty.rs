//! The real `lktop` binary in a pseudo-terminal, against its built-in sandbox: it starts in
//! demo mode, keys navigate, open a room, show help, edit a limit and quit, and the terminal
//! is given back (main screen, cursor shown, mouse and paste modes off) — also after a panic,
//! after SIGTERM and SIGHUP (with a finished recording), and after ctrl+z and `fg` in a shell
//! with job control, where the terminal's line settings (`stty -g`) must be as they were
//! before. Keys do nothing while the terminal is too small, and the demo's server restart
//! takes the server down and back while the screen keeps moving.
//! Screens are read through a VT100 emulator. Bounded: every wait has a deadline.

#[path = "support/terminal.rs"]
mod terminal;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lktop::events::EventKind;
use lktop::record::Replay;
use portable_pty::{Child, MasterPty};

const ROWS: u16 = 30;
const COLS: u16 = 110;
const WAIT: Duration = Duration::from_secs(30);
/// The prompt of the job-control shell, set through `PS1` so it cannot be mistaken for
/// anything lktop draws.
const PROMPT: &str = "jobsh$ ";
/// Runs lktop (`$LKTOP`, with the script's arguments) between two readings of the terminal's
/// line settings, through the same pseudo-terminal, and exits with lktop's status.
const STTY_AROUND: &str =
    "stty -g > stty.before; \"$LKTOP\" \"$@\"; s=$?; stty -g > stty.after; exit $s";

struct Session {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// The reader met the end of the terminal's output: every process holding it is gone.
    drained: Arc<AtomicBool>,
    /// lktop's pid when a shell started it; killed with the session, so a failed test leaves
    /// nothing behind.
    grandchild: Option<u32>,
    home: tempfile::TempDir,
}

impl Session {
    /// lktop itself in the pseudo-terminal.
    fn start(extra_env: &[(&str, &str)]) -> Self {
        Self::spawn(env!("CARGO_BIN_EXE_lktop"), &[], extra_env)
    }

    /// `sh -c STTY_AROUND sh ARGS...`: lktop with `args`, the terminal's settings read before
    /// and after (see [`Session::assert_stty_unchanged`]).
    fn start_in_sh(args: &[&str]) -> Self {
        let mut sh_args = vec!["-c", STTY_AROUND, "sh"];
        sh_args.extend_from_slice(args);
        Self::spawn("sh", &sh_args, &[])
    }

    fn spawn(program: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let home = tempfile::tempdir().unwrap();
        let pty = terminal::open(ROWS, COLS);
        let mut command = terminal::command(program, home.path());
        command.args(args);
        command.env("LKTOP", env!("CARGO_BIN_EXE_lktop"));
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(terminal::emulator(ROWS, COLS)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let drained = Arc::new(AtomicBool::new(false));
        let (screen_in, raw_in, drained_in) =
            (Arc::clone(&screen), Arc::clone(&raw), Arc::clone(&drained));
        thread::spawn(move || {
            let mut buffer = [0_u8; 8192];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                screen_in.lock().unwrap().process(&buffer[..read]);
                raw_in.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
            drained_in.store(true, Ordering::SeqCst);
        });
        Self {
            master: pty.master,
            writer,
            child,
            screen,
            raw,
            drained,
            grandchild: None,
            home,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// The screen row by row (a full-width row is never glued to the next).
    fn lines(&self) -> Vec<String> {
        let parser = self.screen.lock().unwrap();
        let (_, cols) = parser.screen().size();
        parser.screen().rows(0, cols.get()).collect()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Waits until `done` holds for the screen; `what` names it in the failure.
    fn wait_until(&self, what: &str, done: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            {
                let parser = self.screen.lock().unwrap();
                if done(parser.screen()) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {what}; the screen shows:\n{}",
                self.contents()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen shows every one of `texts`; returns the screen.
    fn wait_for(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let contents = self.contents();
            if texts.iter().all(|text| contents.contains(text)) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {texts:?}; the screen shows:\n{contents}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the dashboard's first poll: the server is up and its figures are shown.
    fn wait_for_data(&self) -> String {
        self.wait_for(&["sandbox · up", "last poll"])
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key per frame, as a person types.
        thread::sleep(Duration::from_millis(150));
    }

    /// Resizes the terminal, as a window manager would: the kernel tells the foreground
    /// process group (SIGWINCH) and the emulator takes the new size.
    fn resize(&mut self, cols: u16, rows: u16) {
        let mut parser = self.screen.lock().unwrap();
        parser.set_size(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
        );
        self.master.resize(terminal::size(rows, cols)).unwrap();
    }

    /// The pid of the lktop the shell started, once it runs.
    fn lktop_pid(&mut self) -> u32 {
        let parent = self.child.process_id().expect("the shell's pid");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(pid) = child_named(parent, "lktop") {
                self.grandchild = Some(pid);
                return pid;
            }
            assert!(Instant::now() < deadline, "the shell never started lktop");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; returns its exit code.
    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader take what the process wrote last: a fixed pause was too short
                // on a loaded machine, and the output looked as if lktop never drew.
                let drain_deadline = Instant::now() + WAIT;
                while !self.drained.load(Ordering::SeqCst) && Instant::now() < drain_deadline {
                    thread::sleep(Duration::from_millis(20));
                }
                return status.exit_code();
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("lktop did not exit; the screen shows:\n{}", self.contents());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The terminal is as lktop found it: main screen, cursor visible, no mouse or paste mode.
    fn assert_restored(&self) {
        let parser = self.screen.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "cursor still hidden");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse capture still on"
        );
        assert!(!screen.bracketed_paste(), "bracketed paste still on");
        let raw = self.raw.lock().unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("\x1b[?1049h"),
            "never entered the alternate screen; lktop wrote: {:?}",
            text.chars().take(4_000).collect::<String>()
        );
        assert!(
            text.contains("\x1b[?1049l"),
            "never left the alternate screen"
        );
    }

    /// The line settings `stty -g` read in the files `before` and `after` are the same.
    fn assert_stty_unchanged(&self, before: &str, after: &str) {
        let read = |name: &str| {
            let text = std::fs::read_to_string(self.path(name))
                .unwrap_or_else(|err| panic!("stty's reading {name}: {err}"));
            assert!(!text.trim().is_empty(), "stty wrote nothing to {name}");
            text
        };
        assert_eq!(
            read(before),
            read(after),
            "the terminal's settings ({before} vs {after}) changed"
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Only while it is still the shell's lktop: the pid may have been reused since.
        if let Some(pid) = self.grandchild
            && stat(pid).is_some_and(|(_, _, name)| name == "lktop")
        {
            signal(pid, "KILL");
        }
        let _ = self.child.kill();
        let _ = &self.master;
    }
}

/// Sends `signal` (`TERM`, `HUP`, ...) with the `kill` command: no unsafe code, no extra crate.
fn signal(pid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}

/// `(ppid, state, name)` of a process, from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(u32, char, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in brackets and may hold spaces; what follows the last `)` is fixed.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_owned();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((parent, state, name))
}

/// A child of `parent` with this name.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| stat(pid).is_some_and(|(of, _, comm)| of == parent && comm == name))
}

/// Whether the process is stopped (job control), as `ps` shows `T`.
fn is_stopped(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, state, _)| state == 'T')
}

#[test]
fn a_new_user_navigates_the_demo_edits_a_limit_and_quits_cleanly() {
    let mut session = Session::start(&[]);
    session.wait_for(&[
        "demo: built-in sandbox at http://127.0.0.1:",
        "set LIVEKIT_URL",
    ]);
    // The demo's fixed rooms appear after the first poll.
    session.wait_for(&["sandbox", "Overview"]);

    session.send("3");
    session.wait_for(&["town-hall"]);
    // Filter down to the town hall and open it.
    session.send("/");
    session.send("town");
    session.send("\r");
    session.send("\r");
    let detail = session.wait_for(&["room town-hall", "Job / participant / track"]);
    assert!(
        detail.contains("Audio") || detail.contains("audio"),
        "{detail}"
    );

    session.send("?");
    session.wait_for(&["help", "quit", "freeze", "any other key closes"]);
    // Any key closes help (a lone ESC is avoided: the terminal may glue it to the next key
    // as alt+key); `3` goes back to the rooms list.
    session.send("?");
    session.send("3");
    session.wait_for(&["sort: name"]);

    // Global limits: concurrent rooms 10 → 11, typed (an arrow key's escape sequence can
    // reach a loaded machine's terminal split, its lone ESC closing the editor), applied by
    // the engine.
    session.send("L");
    session.wait_for(&["Concurrent rooms"]);
    session.send("11");
    session.wait_for(&["◀ 11█ ▶"]);
    session.send("\r");
    // On the events screen: the demo's webhooks can push a line out of the three-line pane
    // under the rooms before a loaded machine's test reads it.
    session.send("4");
    session.wait_for(&[
        "sent · #1 set limits: rooms 11",
        "done · #1 set limits: rooms 11",
    ]);

    session.send("q");
    assert_eq!(session.wait_exit(), 0);
    session.assert_restored();
}

#[test]
fn a_panic_gives_the_terminal_back_before_the_report() {
    let mut session = Session::start(&[("LKTOP_DEBUG_PANIC", "1")]);
    let code = session.wait_exit();
    assert_ne!(code, 0);
    session.assert_restored();
    let raw = session.raw.lock().unwrap();
    let text = String::from_utf8_lossy(&raw);
    let left = text.find("\x1b[?1049l").unwrap();
    let report = text
        .find("panicking on purpose")
        .expect("the panic report is shown");
    assert!(
        report > left,
        "the report must come after the terminal is restored"
    );
}

/// A stop signal sent to lktop's pid: the exit status says which, the terminal and its line
/// settings are given back, and the gzip recording is complete.
fn stopped_by_signal(name: &str, expected_code: u32) {
    let mut session = Session::start_in_sh(&["--record", "s.ndjson.gz"]);
    session.wait_for_data();
    let pid = session.lktop_pid();
    signal(pid, name);
    assert_eq!(
        session.wait_exit(),
        expected_code,
        "exit status after SIG{name}"
    );
    session.assert_restored();
    session.assert_stty_unchanged("stty.before", "stty.after");

    let path = session.path("s.ndjson.gz");
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(&[0x1f, 0x8b]),
        "the recording is not gzip"
    );
    // Every line an event, and no read error at the end (a gzip stream cut short is one).
    let mut started = false;
    let mut events = 0;
    for item in Replay::open(&path).unwrap() {
        let event = item.unwrap_or_else(|problem| panic!("{problem}"));
        started |= matches!(event.kind, EventKind::Started { .. });
        events += 1;
    }
    assert!(started, "no `started` among the {events} recorded events");
}

#[test]
fn sigterm_restores_the_terminal_finishes_the_recording_and_exits_143() {
    stopped_by_signal("TERM", 143);
}

#[test]
fn sighup_restores_the_terminal_finishes_the_recording_and_exits_129() {
    stopped_by_signal("HUP", 129);
}

/// The first room of the rooms screen (sorted by name), whatever marker precedes it.
fn first_room(lines: &[String]) -> String {
    let header = lines
        .iter()
        .position(|line| {
            line.contains("Room") && (line.contains("Participants") || line.contains("People"))
        })
        .expect("the rooms table's header");
    lines[header + 1]
        .trim_matches(|c: char| c == '│' || c.is_whitespace())
        .split_whitespace()
        .find(|word| *word != "!")
        .expect("a room in the first row")
        .to_owned()
}

#[test]
fn keys_under_a_too_small_terminal_change_nothing_on_the_server() {
    let mut session = Session::start_in_sh(&[]);
    session.wait_for_data();
    session.send("3");
    session.wait_for(&["sort: name"]);
    let first = first_room(&session.lines());
    session.send("1");
    session.wait_for(&["servers (1)"]);

    session.resize(50, 15);
    session.wait_for(&["terminal too small"]);
    // At full size: the rooms screen, the first room, delete it?, yes.
    for key in ["3", "g", "d", "y"] {
        session.send(key);
    }
    session.resize(COLS, ROWS);
    let screen = session.wait_for(&["servers (1)", "Overview"]);
    assert!(
        !screen.contains("sort: name") && !screen.contains("Delete room"),
        "a key acted while the terminal was too small:\n{screen}"
    );

    session.send("4");
    let log = session.wait_for(&["events ("]);
    assert!(
        !log.contains("delete room") && !log.contains("sent ·"),
        "a command went out while the terminal was too small:\n{log}"
    );
    session.send("3");
    session.wait_for(&["sort: name", &first]);
    assert_eq!(
        first_room(&session.lines()),
        first,
        "the first room changed"
    );

    session.send("q");
    assert_eq!(session.wait_exit(), 0);
    session.assert_restored();
    session.assert_stty_unchanged("stty.before", "stty.after");
}

#[test]
fn ctrl_z_stops_lktop_in_a_job_control_shell_and_fg_brings_it_back() {
    // dash (`sh -i`) leaves the terminal's settings alone when a job stops, unlike bash, which
    // would put back its own: what `stty` reads below is what lktop left.
    let mut session = Session::spawn("sh", &["-i"], &[("PS1", PROMPT)]);
    session.wait_for(&[PROMPT]);
    session.send("stty -g > stty.before; \"$LKTOP\"\r");
    session.wait_for(&["demo: built-in sandbox", "Overview"]);
    let pid = session.lktop_pid();

    session.send("\x1a");
    session.wait_until("lktop stopped and the shell's job message", |screen| {
        !screen.alternate_screen() && screen.contents().contains("Stopped")
    });
    assert!(is_stopped(pid), "lktop is not stopped");
    session.assert_restored();
    session.send("stty -g > stty.stopped; jobs\r");
    session.wait_until("`jobs` listing lktop as stopped", |screen| {
        screen.contents().matches("Stopped").count() >= 2
    });
    session.assert_stty_unchanged("stty.before", "stty.stopped");

    session.send("fg\r");
    // Entering the alternate screen again empties it: the header is a fresh frame.
    session.wait_until("the dashboard drawn again after fg", |screen| {
        screen.alternate_screen()
            && screen.contents().contains("demo: built-in sandbox")
            && screen.contents().contains("Overview")
    });
    assert!(!is_stopped(pid), "lktop still stopped after fg");
    session.send("3");
    session.wait_for(&["sort: name"]);

    session.send("q");
    session.wait_until("the shell's prompt after lktop quit", |screen| {
        !screen.alternate_screen() && screen.contents().contains(PROMPT)
    });
    session.send("echo \"lktop exited $?\"; stty -g > stty.after\r");
    session.wait_for(&["lktop exited 0"]);
    session.assert_restored();
    session.assert_stty_unchanged("stty.before", "stty.after");
    session.send("exit\r");
    assert_eq!(session.wait_exit(), 0);
}

/// The header's clock (`HH:MM:SS`, at the right of the first line).
fn header_clock(lines: &[String]) -> Option<String> {
    let clock = lines.first()?.split_whitespace().last()?.to_owned();
    let digits = clock.bytes().filter(u8::is_ascii_digit).count();
    (clock.len() == 8 && digits == 6).then_some(clock)
}

/// The sandbox's state in the overview's servers table (`up`, `down`, ...).
fn server_state(lines: &[String]) -> Option<String> {
    lines.iter().find_map(|line| {
        let mut words = line.trim_start_matches('│').split_whitespace();
        (words.next()? == "sandbox").then(|| words.next().map(str::to_owned))?
    })
}

/// `HH:MM:SS` as seconds of the day.
fn seconds(clock: &str) -> u32 {
    clock
        .split(':')
        .fold(0, |total, part| total * 60 + part.parse::<u32>().unwrap())
}

#[test]
fn demo_restart_takes_the_server_down_and_back_while_the_screen_keeps_moving() {
    let mut session = Session::start(&[]);
    session.wait_for_data();
    session.send("R");

    // Sampled on the overview: the state column and the header clock, until the server is up
    // again after having been down.
    let deadline = Instant::now() + WAIT;
    let mut clocks_while_down = BTreeSet::new();
    let mut states = Vec::<String>::new();
    loop {
        let lines = session.lines();
        let state = server_state(&lines).unwrap_or_default();
        if state == "down"
            && let Some(clock) = header_clock(&lines)
        {
            clocks_while_down.insert(clock);
        }
        if states.last() != Some(&state) {
            states.push(state.clone());
        }
        if state == "up" && states.iter().any(|seen| seen == "down") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not go down and come back up (states seen: {states:?}); the \
             screen shows:\n{}",
            session.contents()
        );
        thread::sleep(Duration::from_millis(100));
    }
    assert!(
        clocks_while_down.len() >= 3,
        "the header clock moved less than twice while the server was down: {clocks_while_down:?}"
    );

    // The demo faults alone in the event log: the restart began and ended once.
    session.send("4");
    session.send("/");
    session.send("demo fault");
    session.send("\r");
    let log = session.wait_for(&["began (demo key)", "ended: restarted, back after"]);
    let began = log
        .lines()
        .find(|line| line.contains("began (demo key)"))
        .unwrap();
    let id = began
        .split_whitespace()
        .find(|word| word.starts_with('#'))
        .unwrap();
    let ended: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(&format!("demo fault {id} ended: restarted, back after")))
        .collect();
    assert_eq!(ended.len(), 1, "one end for fault {id}:\n{log}");
    let time = |line: &str| {
        seconds(
            line.trim_start_matches('│')
                .split_whitespace()
                .next()
                .unwrap(),
        )
    };
    let took = (time(ended[0]) + 86_400 - time(began)) % 86_400;
    assert!(took <= 15, "fault {id} took {took} s to end:\n{log}");

    session.send("1");
    let overview = session.wait_for(&["servers (1)"]);
    assert_eq!(
        server_state(&session.lines()).as_deref(),
        Some("up"),
        "{overview}"
    );
    session.send("q");
    assert_eq!(session.wait_exit(), 0);
    session.assert_restored();
}
