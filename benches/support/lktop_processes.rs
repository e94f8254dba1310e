//! The release binary run as its users run it, for benchmarks that measure it from outside: a
//! `lktop sandbox` process, `lktop watch`, and the dashboard in a pseudo-terminal; and what
//! `/proc` says of a process's CPU time and memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 48;
pub const COLS: u16 = 160;
const KEY: &str = "bench";
const SECRET: &str = "cost-bench-secret-0123456789abcdefghij";
/// How long a stopped process may take to end before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// CPU time (user + system) `pid` has used, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name (field 2) may hold spaces; the fields after its `)` are plain.
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    #[expect(clippy::cast_precision_loss, reason = "clock ticks of one run")]
    let seconds = ticks as f64 / clock_ticks_per_second();
    seconds
}

fn clock_ticks_per_second() -> f64 {
    let output = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK is a number")
}

/// The most memory `pid` has held resident (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Sends SIGTERM, as a service manager would, and kills the process if it has not ended in
/// [`STOP_DEADLINE`].
fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + STOP_DEADLINE;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Each line `reader` gives, sent on as it comes; a thread, so waits on it can have deadlines.
fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// `lktop sandbox` running a scenario in a process of its own.
pub struct SandboxProcess {
    child: Child,
    pub url: String,
}

impl SandboxProcess {
    pub fn start(binary: &str, scenario: &Path, within: Duration) -> Self {
        let mut child = Command::new(binary)
            .args([
                "sandbox",
                "--port",
                "0",
                "--api-key",
                KEY,
                "--api-secret",
                SECRET,
            ])
            .arg("--scenario")
            .arg(scenario)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // It logs every simulated room's creation: nothing to read here.
            .stderr(Stdio::null())
            .spawn()
            .expect("lktop sandbox starts");
        // The first line of stdout is `LIVEKIT_URL=...`, written once it listens.
        let lines = lines_of(child.stdout.take().expect("the sandbox's stdout"));
        let Ok(line) = lines.recv_timeout(within) else {
            let _ = child.kill();
            panic!("the sandbox did not print its URL within {within:?}");
        };
        let url = line
            .trim()
            .strip_prefix("LIVEKIT_URL=")
            .unwrap_or_else(|| panic!("the sandbox's first line: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    pub fn stop(mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for SandboxProcess {
    /// A run that panics leaves no sandbox behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The environment of an lktop a user starts against `url`, in an empty home of its own.
fn user_environment(home: &Path, url: &str) -> Vec<(String, String)> {
    [
        ("HOME", home.to_string_lossy().into_owned()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        (
            "LKTOP_LOG_FILE",
            home.join("lktop.log").to_string_lossy().into_owned(),
        ),
        ("LIVEKIT_URL", url.to_owned()),
        ("LIVEKIT_API_KEY", KEY.to_owned()),
        ("LIVEKIT_API_SECRET", SECRET.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// `lktop watch --summary`, its lines read as they come.
pub struct WatchProcess {
    child: Child,
    lines: Receiver<String>,
}

impl WatchProcess {
    pub fn start(binary: &str, home: &Path, url: &str) -> Self {
        let mut child = Command::new(binary)
            .args(["watch", "--summary", "--every", "2s"])
            .current_dir(home)
            .env_clear()
            .envs(user_environment(home, url))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lktop watch starts");
        let lines = lines_of(child.stdout.take().expect("watch's stdout"));
        Self { child, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reads lines until one satisfies `done`.
    pub fn wait_for_line(&mut self, within: Duration, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if done(&line) => return,
                Ok(_) => {}
                Err(err) => panic!("lktop watch printed no awaited line within {within:?}: {err}"),
            }
        }
    }

    pub fn stop(mut self) {
        terminate(&mut self.child);
    }
}

/// The dashboard in a pseudo-terminal, its output fed into a VT100 emulator by a thread.
pub struct DashboardTerm {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn MasterPty + Send>,
}

impl DashboardTerm {
    pub fn open(binary: &str, home: &Path, url: &str) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(binary);
        command.cwd(home);
        command.env_clear();
        command.env("TERM", "xterm-256color");
        for (name, value) in user_environment(home, url) {
            command.env(name, value);
        }
        let child = pair
            .slave
            .spawn_command(command)
            .expect("the dashboard starts");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).expect("rows"),
            NonZeroU16::new(COLS).expect("cols"),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().expect("the pty's reader");
        let fed = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buffer = vec![0_u8; 65536];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                fed.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .process(&buffer[..read]);
            }
        });
        let writer = pair.master.take_writer().expect("the pty's writer");
        Self {
            child,
            writer,
            screen,
            _master: pair.master,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("the dashboard's pid")
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, within: Duration, text: &str) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let shown = self
                .screen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .screen()
                .contents();
            if shown.contains(text) {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("the dashboard did not show {text:?} within {within:?}");
    }

    /// `q`, and a kill if the dashboard has not ended in [`STOP_DEADLINE`].
    pub fn quit(mut self) {
        let _ = self.writer.write_all(b"q");
        let _ = self.writer.flush();
        let deadline = Instant::now() + STOP_DEADLINE;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
