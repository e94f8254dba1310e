//! The release binary run as its users run it, for benchmarks that measure it from outside:
//! `lktop watch` and the dashboard in a pseudo-terminal, against a sandbox process; and what
//! `/proc` says of a process's CPU time and memory.

#![allow(
    dead_code,
    reason = "each bench that includes the processes uses only a part of them"
)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::MasterPty;

use crate::sandbox_process::{STOP_DEADLINE, get_text, lines_of, server_environment, terminate};
use crate::terminal;

pub const ROWS: u16 = 48;
pub const COLS: u16 = 160;

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

/// A free loopback port for an lktop's Prometheus endpoint (`metrics.listen`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The requests lktop has made so far (`lktop_requests_total`, every server and outcome), read
/// from its Prometheus endpoint on `port`.
pub fn requests_made(port: u16) -> f64 {
    get_text(&format!("http://127.0.0.1:{port}/metrics"))
        .lines()
        .filter(|line| line.starts_with("lktop_requests_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `lktop watch --summary`, its lines read as they come.
pub struct WatchProcess {
    child: Child,
    lines: Receiver<String>,
}

impl WatchProcess {
    /// `settings` are more `LKTOP_…` variables (a polling budget).
    pub fn start(
        binary: &str,
        home: &Path,
        url: &str,
        metrics_port: u16,
        settings: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(binary)
            .args(["watch", "--summary", "--every", "2s"])
            .current_dir(home)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LKTOP_LOG_FILE", home.join("lktop.log"))
            .envs(server_environment(url))
            .env("LKTOP_METRICS__LISTEN", format!("127.0.0.1:{metrics_port}"))
            .envs(settings.iter().copied())
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
    /// `settings` are more `LKTOP_…` variables (a polling budget).
    pub fn open(
        binary: &str,
        home: &Path,
        url: &str,
        metrics_port: u16,
        settings: &[(&str, &str)],
    ) -> Self {
        let pair = terminal::open(ROWS, COLS);
        let mut command = terminal::command(binary, home);
        for (name, value) in server_environment(url) {
            command.env(name, value);
        }
        for (name, value) in settings {
            command.env(name, value);
        }
        command.env("LKTOP_METRICS__LISTEN", format!("127.0.0.1:{metrics_port}"));
        let child = pair
            .slave
            .spawn_command(command)
            .expect("the dashboard starts");
        let screen = Arc::new(Mutex::new(terminal::emulator(ROWS, COLS)));
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
