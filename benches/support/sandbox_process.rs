//! `lktop sandbox` in a process of its own, as a user starts it next to lktop, and the
//! environment of an lktop started against it. Included by the benches with `#[path]`.

#![allow(
    dead_code,
    reason = "each bench that includes the sandbox process uses only a part of it"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// The credentials the sandbox accepts and lktop is given.
pub const KEY: &str = "bench";
pub const SECRET: &str = "bench-secret-0123456789abcdefghijklmn";
/// 10,000 rooms of 10 participants that never end. Each participant publishes audio and, at
/// 30 %, video: ~13 tracks a room, each muted or unmuted 0.023 times a minute, so about 0.3
/// changes a room per minute, 1 % of the rooms per 2 s poll.
pub const SCALE_SCENARIO: &str = "\
seed: 17
tick: 500ms
dynamic_rooms:
  - prefix: scale-
    initial: 10000
    max_rooms: 10000
    create_rate: 0
    lifetime: { min: 24h, max: 24h }
    empty_timeout: 1h
    departure_timeout: 1h
    participants:
      initial: 10
      min: 10
      max: 10
      publish: { audio: 1.0, video: 0.3 }
      mute_rate: 0.023
      unmute_rate: 0.023
";
/// How long a stopped process may take to end before it is killed.
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// Sends SIGTERM, as a service manager would, and kills the process if it has not ended in
/// [`STOP_DEADLINE`].
pub fn terminate(child: &mut Child) {
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
pub fn lines_of(reader: impl Read + Send + 'static) -> Receiver<String> {
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

/// The lktop binary a bench runs: `LKTOP_BIN`, else the release build cargo made for it.
pub fn lktop_binary() -> String {
    std::env::var("LKTOP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_lktop").to_owned())
}

/// `lktop sandbox` running a scenario in a process of its own.
pub struct SandboxProcess {
    child: Child,
    pub url: String,
}

impl SandboxProcess {
    /// Writes `scenario` (YAML) into `dir` and starts a sandbox that runs it.
    pub fn with_scenario(binary: &str, dir: &Path, scenario: &str, within: Duration) -> Self {
        Self::with_scenario_and_flags(binary, dir, scenario, &[], within)
    }

    /// Like `with_scenario`, with more flags for `lktop sandbox` (`--webhook-url …`).
    pub fn with_scenario_and_flags(
        binary: &str,
        dir: &Path,
        scenario: &str,
        flags: &[String],
        within: Duration,
    ) -> Self {
        let path = dir.join("scenario.yaml");
        std::fs::write(&path, scenario).expect("the scenario is written");
        Self::start_with(binary, &path, flags, within)
    }

    pub fn start(binary: &str, scenario: &Path, within: Duration) -> Self {
        Self::start_with(binary, scenario, &[], within)
    }

    fn start_with(binary: &str, scenario: &Path, flags: &[String], within: Duration) -> Self {
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
            .args(flags)
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

    /// Polling requests (ListRooms and ListParticipants) the sandbox has received so far, by
    /// its own count (`/sandbox/status`): what watching costs the server.
    pub fn polling_requests_received(&self) -> u64 {
        let token = livekit_api::access_token::AccessToken::with_api_key(KEY, SECRET)
            .to_jwt()
            .expect("a token for the admin endpoint");
        let status: serde_json::Value = serde_json::from_str(&get_text_with(
            &format!("{}/sandbox/status", self.url),
            Some(&token),
        ))
        .expect("the sandbox's status is JSON");
        assert!(
            status["requests"].is_object(),
            "the sandbox's status: {status}"
        );
        ["ListRooms", "ListParticipants"]
            .iter()
            .filter_map(|method| status["requests"]["by_method"][method].as_u64())
            .sum()
    }
}

/// The body of a GET to `url` (loopback), on a runtime of its own.
pub fn get_text(url: &str) -> String {
    get_text_with(url, None)
}

/// The body of a GET to `url` with a bearer `token`.
pub fn get_text_with(url: &str, token: Option<&str>) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for one request");
    runtime
        .block_on(async {
            let client = lktop::api::build_http_client().expect("an HTTP client");
            let mut request = client.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send().await?.text().await
        })
        .unwrap_or_else(|err| panic!("GET {url}: {err}"))
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

/// What tells an lktop started by a bench to watch the sandbox at `url`.
pub fn server_environment(url: &str) -> [(&'static str, String); 3] {
    [
        ("LIVEKIT_URL", url.to_owned()),
        ("LIVEKIT_API_KEY", KEY.to_owned()),
        ("LIVEKIT_API_SECRET", SECRET.to_owned()),
    ]
}
