//! Secrets are never shown. For random secrets (12 to 40 printable characters, quotes,
//! backslashes, `#`, `%`, `@`, `&` and letters beyond ASCII among them, so that escaping could
//! turn one into something else), no text lktop produces holds the secret, its first 8
//! characters, its base64, or its JSON-, Rust- or URL-escaped forms:
//!
//! - the loaded configuration's `Debug`, the printed configuration, every override's `Debug`
//!   and `Display`, the warnings; the secret set in lktop's file (`api_secret`,
//!   `metrics_password`, a `redis_url` password), in `lk`'s file, from a variable and a flag;
//! - the errors of configurations that go wrong next to it: a syntax error on its line, a
//!   misspelt or repeated key, a value of the wrong kind, and URLs that carry it (refused);
//! - panic messages of code that formats all of these (a panic hook records them);
//! - an engine polling the sandbox with it and verifying the sandbox's webhooks signed with it
//!   (its node sources refused or unreachable too): the logs of every crate at TRACE, every
//!   event's JSON and `Debug`, and the dashboard drawn from those events on every screen and in
//!   the limits editor;
//! - `lktop watch` with the secret in `LIVEKIT_API_SECRET`: its output, its stderr at
//!   `LKTOP_LOG=trace`, its recording; `lktop check-config` with it in a flag and in `--url`.
//!
//! Bounded: 64 cases of the configuration alone, 16 of each run against the sandbox (about a
//! second each); everything on loopback.

#[path = "support/headless_dashboard.rs"]
#[allow(dead_code, reason = "shared with tests that read the server table")]
mod headless_dashboard;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use headless_dashboard::HeadlessDashboard;
use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::config::{
    ConfigError, ConfigSources, KeyPath, LkCliConfig, LoadedConfig, Origin, Override,
    ProjectChoice, env_overrides, load, load_text, render_masked,
};
use lktop::engine::{Engine, EngineOptions};
use lktop::events::{EngineEvent, EventKind};
use lktop::tui::Action;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use secrecy::SecretString;

const KEY: &str = "devkey";
const CONFIG_CASES: u32 = 64;
const RUN_CASES: u32 = 16;
/// How long each run watches the sandbox: several polls at the test's 100 ms interval.
const RUN_FOR: Duration = Duration::from_millis(700);
/// How long an engine run may wait for its first poll and webhook.
const RUN_AT_MOST: Duration = Duration::from_secs(10);

/// A secret: 8 characters without spaces first (its first 8 are looked for on their own, so
/// they must not be blanks a screen is full of), then anything printable.
fn secret() -> impl Strategy<Value = String> {
    ("[!-~]{8}", "[ -~éü€ß\\\\\"'#%@&]{4,32}", "[!-~]")
        .prop_map(|(head, body, tail)| format!("{head}{body}{tail}"))
}

/// Every form in which a leak of `secret` would show.
fn leaked_forms(secret: &str) -> Vec<String> {
    let quoted = |text: String| text[1..text.len() - 1].to_owned();
    let mut forms = vec![
        secret.to_owned(),
        secret.chars().take(8).collect(),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        quoted(serde_json::to_string(secret).expect("a string serializes")),
        quoted(format!("{secret:?}")),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        percent_encoded(secret),
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// `secret` with everything but letters and digits percent-encoded: how a URL carries it.
fn percent_encoded(secret: &str) -> String {
    secret
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Fails the case when `text` (what `what` names) holds any form of `secret`.
fn assert_hidden(secret: &str, what: &str, text: &str) -> Result<(), TestCaseError> {
    for form in leaked_forms(secret) {
        prop_assert!(
            !text.contains(&form),
            "{what} shows the secret as {form:?}:\n{text}"
        );
    }
    Ok(())
}

/// `text` as a YAML scalar: a JSON string is a YAML double-quoted one.
fn yaml_text(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

// ------------------------------------------------------------------------------------------
// Panic messages

/// Every panic message of this process since it started; the hook is set once for all tests.
fn panic_messages() -> &'static Mutex<Vec<String>> {
    static MESSAGES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        // The default hook still prints, so a failing case's own panic is seen as usual.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            panic_messages()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(info.to_string());
            default(info);
        }));
        Mutex::new(Vec::new())
    })
}

/// Runs `panics`, which must panic, and returns what the hook recorded of it.
fn panic_message(panics: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let messages = panic_messages();
    let before = messages
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    let outcome = std::panic::catch_unwind(panics);
    assert!(outcome.is_err(), "the code meant to panic did not");
    let messages = messages.lock().unwrap_or_else(PoisonError::into_inner);
    messages[before..].join("\n")
}

// ------------------------------------------------------------------------------------------
// The configuration

/// lktop's file with `secret` as the API secret, the metrics password and the Redis password.
fn file_with(secret: &str) -> String {
    format!(
        "servers:\n  - name: a\n    url: http://127.0.0.1:7880\n    api_key: {KEY}\n    \
         api_secret: {}\n    metrics_url: http://127.0.0.1:6789/metrics\n    \
         metrics_username: prom\n    metrics_password: {}\n    redis_url: {}\n",
        yaml_text(secret),
        yaml_text(secret),
        yaml_text(&format!(
            "redis://:{}@127.0.0.1:6379/0",
            percent_encoded(secret)
        )),
    )
}

/// Configurations that go wrong next to `secret`, each with what should be said of it.
fn broken_files(secret: &str) -> Vec<(&'static str, String)> {
    let quoted = yaml_text(secret);
    let server = |rest: &str| {
        format!("servers:\n  - url: http://127.0.0.1:7880\n    api_key: {KEY}\n{rest}")
    };
    vec![
        (
            "a syntax error on its line",
            server(&format!("    api_secret: {quoted} trailing\n")),
        ),
        (
            "a misspelt key",
            server(&format!("    api_secrte: {quoted}\n")),
        ),
        (
            "its key written twice",
            server(&format!(
                "    api_secret: {quoted}\n    api_secret: {quoted}\n"
            )),
        ),
        (
            "a mapping for a secret",
            server(&format!("    api_secret: {{value: {quoted}}}\n")),
        ),
        (
            "a list for the metrics password",
            server(&format!(
                "    api_secret: s\n    metrics_url: http://127.0.0.1:6789/m\n    \
                 metrics_username: p\n    metrics_password: [{quoted}]\n"
            )),
        ),
        (
            "the secret in the URL's user-info",
            format!(
                "servers:\n  - url: http://{KEY}:{}@127.0.0.1:7880\n    api_key: {KEY}\n    \
                 api_secret: {quoted}\n",
                percent_encoded(secret)
            ),
        ),
        (
            "the secret in the URL's query",
            format!(
                "servers:\n  - url: \"https://lk.example.com/?api_secret={}\"\n    \
                 api_key: {KEY}\n    api_secret: {quoted}\n",
                percent_encoded(secret)
            ),
        ),
        (
            "the secret in the metrics URL",
            server(&format!(
                "    api_secret: s\n    metrics_url: \"http://127.0.0.1:6789/metrics?token={}\"\n",
                percent_encoded(secret)
            )),
        ),
        (
            "a Redis URL that is not one",
            server(&format!(
                "    api_secret: s\n    redis_url: {}\n",
                yaml_text(&format!("http://:{}@redis:6379", percent_encoded(secret)))
            )),
        ),
    ]
}

/// The overrides a secret comes in by besides the file: `LIVEKIT_API_SECRET` (as the command
/// line turns it into one), `LKTOP_SERVERS__0__METRICS_PASSWORD`, `--api-secret`.
fn overrides_with(secret: &str) -> Vec<Override> {
    let first_secret: KeyPath = "servers[0].api_secret".parse().expect("a key");
    let mut overrides = vec![Override::text(
        first_secret.clone(),
        secret,
        Origin::Env("LIVEKIT_API_SECRET".into()),
    )];
    overrides.extend(env_overrides([(
        "LKTOP_SERVERS__0__METRICS_PASSWORD",
        secret,
    )]));
    overrides.push(Override::text(
        first_secret,
        secret,
        Origin::Flag("--api-secret".into()),
    ));
    overrides
}

/// Everything a loaded configuration shows of itself.
fn shown_config(loaded: &LoadedConfig) -> String {
    let mut shown = format!(
        "{loaded:?}\n{:?}\n{}\n",
        loaded.config,
        render_masked(&loaded.config)
    );
    for entry in &loaded.applied {
        writeln!(shown, "{entry}\n{entry:?}").expect("writing to a string never fails");
    }
    shown.push_str(&loaded.warnings.join("\n"));
    shown.push_str(&loaded.notes.join("\n"));
    shown
}

fn shown_error(error: &ConfigError) -> String {
    format!("{error}\n{error:?}")
}

/// `lk`'s file in a home directory of its own, with `secret` as a project's secret and, for
/// a second project, in its URL.
fn lk_home(secret: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(home.path().join(".livekit")).expect("lk's directory");
    let text = format!(
        "default_project: good\nprojects:\n  - name: good\n    url: wss://good.example.com\n    \
         api_key: {KEY}\n    api_secret: {quoted}\n  - name: leaky\n    \
         url: \"https://{KEY}:{encoded}@leaky.example.com\"\n    api_key: {KEY}\n    \
         api_secret: {quoted}\n",
        quoted = yaml_text(secret),
        encoded = percent_encoded(secret),
    );
    std::fs::write(home.path().join(".livekit/cli-config.yaml"), text).expect("lk's file");
    home
}

fn project(home: &Path, name: &str) -> Vec<lktop::config::LkProject> {
    LkCliConfig::read_in_home(home)
        .expect("lk's file reads")
        .choose(&ProjectChoice::Named {
            name: name.to_owned(),
            origin: Origin::Flag("--project".into()),
        })
        .expect("the project exists")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CONFIG_CASES))]

    #[test]
    fn the_configuration_and_its_errors_never_show_the_secret(secret in secret()) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("performance.yaml");
        std::fs::write(&path, file_with(&secret)).expect("the file is written");
        let loaded = load(&ConfigSources {
            file: Some(path.clone()),
            overrides: overrides_with(&secret),
            lk_projects: Vec::new(),
        })
        .map_err(|err| TestCaseError::fail(format!("a valid configuration: {err}")))?;
        assert_hidden(&secret, "the loaded configuration", &shown_config(&loaded))?;
        let message = panic_message(|| panic!("{loaded:?}"));
        prop_assert!(message.contains("servers"), "{message}");
        assert_hidden(&secret, "a panic formatting the configuration", &message)?;

        for (story, text) in broken_files(&secret) {
            std::fs::write(&path, &text).expect("the file is written");
            let sources = ConfigSources {
                file: Some(path.clone()),
                overrides: Vec::new(),
                lk_projects: Vec::new(),
            };
            let Err(error) = load(&sources) else {
                return Err(TestCaseError::fail(format!("{story}: refused")));
            };
            assert_hidden(&secret, story, &shown_error(&error))?;
            let message = panic_message(|| {
                load(&sources).expect("a configuration that loads");
            });
            assert_hidden(&secret, story, &message)?;
        }

        let url: KeyPath = "servers[0].url".parse().expect("a key");
        for origin in [Origin::Flag("--url".into()), Origin::Env("LIVEKIT_URL".into())] {
            let leaky = format!("http://{KEY}:{}@127.0.0.1:7880", percent_encoded(&secret));
            let flag = Override::text(url.clone(), leaky, origin);
            assert_hidden(&secret, "a URL flag", &format!("{flag}\n{flag:?}"))?;
            let error = load_text(None, Some(&file_with(&secret)), &[flag])
                .map_err(|error| shown_error(&error));
            let Err(shown) = error else {
                return Err(TestCaseError::fail("a URL with the secret is refused"));
            };
            prop_assert!(shown.contains("carries"), "{shown}");
            assert_hidden(&secret, "a URL flag carrying the secret", &shown)?;
        }

        let home = lk_home(&secret);
        let lk = LkCliConfig::read_in_home(home.path())
            .map_err(|err| TestCaseError::fail(format!("lk's file reads: {err}")))?;
        assert_hidden(&secret, "lk's projects", &format!("{lk:?}"))?;
        assert_hidden(&secret, "check-config's list of lk's projects", &lk.listing(&["good"]))?;
        let from_project = load(&ConfigSources {
            file: None,
            overrides: Vec::new(),
            lk_projects: project(home.path(), "good"),
        })
        .map_err(|err| TestCaseError::fail(format!("the good project loads: {err}")))?;
        assert_hidden(&secret, "an lk project's server", &shown_config(&from_project))?;
        let Err(leaky) = load(&ConfigSources {
            file: None,
            overrides: Vec::new(),
            lk_projects: project(home.path(), "leaky"),
        }) else {
            return Err(TestCaseError::fail("the leaky project's URL is refused"));
        };
        assert_hidden(&secret, "an lk project's URL", &shown_error(&leaky))?;
    }
}

// ------------------------------------------------------------------------------------------
// Logs

/// Every log line of this process since the capture was set up, at TRACE for every crate.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .init();
        Mutex::new(Vec::new())
    })
}

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        captured_logs()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The sandbox with `secret` for the test key, simulating the demo's rooms ten times faster,
/// sending webhooks signed with `secret` to `webhooks` when given.
async fn sandbox_with(secret: &str, webhooks: Option<SocketAddr>) -> Sandbox {
    let secret = SecretString::from(secret);
    let mut options = SandboxOptions::new(KEY, &secret).with_scenario(Scenario::demo());
    if let Some(listen) = webhooks {
        options = options.with_webhooks(vec![format!("http://{listen}/")], KEY, &secret);
    }
    options.speed = Some(10.0);
    Sandbox::start(options)
        .await
        .expect("the sandbox starts on loopback")
}

/// A loopback port nothing listens on right now, for the engine's webhook listener.
fn free_loopback_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// lktop's file for the sandbox at `url`, polling every 100 ms and taking its webhooks on
/// `webhooks`, with `secret` as the API secret and in node sources that cannot be read (nothing
/// listens on port 9).
fn engine_file(url: &str, webhooks: SocketAddr, secret: &str) -> String {
    format!(
        "servers:\n  - name: sb\n    url: {url}\n    api_key: {KEY}\n    api_secret: {}\n    \
         metrics_url: http://127.0.0.1:9/metrics\n    metrics_username: prom\n    \
         metrics_password: {}\n    redis_url: {}\n\
         polling:\n  interval: 100ms\n  max_requests_per_second: 0\n  jobs_interval: 200ms\n\
         quality_monitoring:\n  monitoring_interval: 100ms\n  metrics_interval: 200ms\n\
         connection_pool:\n  pool_size: 2\n  health_check_interval: 200ms\n  \
         connection_timeout: 1s\n\
         webhooks:\n  listen: {webhooks}\n",
        yaml_text(secret),
        yaml_text(secret),
        yaml_text(&format!(
            "redis://:{}@127.0.0.1:9/0",
            percent_encoded(secret)
        )),
    )
}

/// Every key that changes what the dashboard shows: each screen, the limits editor, help.
fn keys_through_every_screen() -> Vec<KeyEvent> {
    "123456L"
        .chars()
        .map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
        .chain([
            KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE),
        ])
        .collect()
}

/// Runs the engine against a sandbox that takes `secret` for `RUN_FOR` (longer until it has
/// polled and taken a webhook, up to `RUN_AT_MOST`), with every event drawn on a dashboard;
/// what the events, the screens and the logs showed.
async fn engine_run(secret: &str) -> Result<(), TestCaseError> {
    let webhooks = free_loopback_port();
    let sandbox = sandbox_with(secret, Some(webhooks)).await;
    let loaded = load_text(
        None,
        Some(&engine_file(&sandbox.url(), webhooks, secret)),
        &[],
    )
    .map_err(|err| TestCaseError::fail(format!("a valid configuration: {err}")))?;
    let (engine, mut events) = Engine::start(EngineOptions {
        config: loaded.config,
        sources: None,
        watch_config: false,
        sandbox: None,
    })
    .await
    .map_err(TestCaseError::fail)?;
    let mut dashboard = HeadlessDashboard::new(160, 48);
    let (mut polled, mut took_webhook) = (false, false);
    let start = tokio::time::Instant::now();
    let mut seen: Vec<EngineEvent> = Vec::new();
    // At least `RUN_FOR`, and on a loaded machine until a poll and a webhook have been seen.
    while let Ok(Some(event)) = tokio::time::timeout_at(start + RUN_AT_MOST, events.recv()).await {
        polled |= matches!(event.kind, EventKind::Rooms { .. });
        took_webhook |= matches!(event.kind, EventKind::Webhook { .. });
        dashboard.show(&event);
        assert_hidden(secret, "the dashboard", &dashboard.screen().join("\n"))?;
        seen.push(event);
        if polled && took_webhook && start.elapsed() >= RUN_FOR {
            break;
        }
    }
    for key in keys_through_every_screen() {
        dashboard.act(Action::Key(key));
        assert_hidden(secret, "a dashboard screen", &dashboard.screen().join("\n"))?;
    }
    engine.shutdown(Duration::from_secs(2)).await;
    sandbox.shutdown().await;
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    prop_assert!(
        polled,
        "the engine read the sandbox's rooms with the secret"
    );
    prop_assert!(
        took_webhook,
        "the engine verified a webhook signed with the secret"
    );
    for event in &seen {
        let json = serde_json::to_string(event).expect("an event serializes");
        assert_hidden(secret, "an event", &format!("{json}\n{event:?}"))?;
    }
    let logs = captured_logs();
    let logs =
        String::from_utf8_lossy(&logs.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    prop_assert!(logs.contains("TRACE"), "the capture takes TRACE lines");
    assert_hidden(secret, "the logs", &logs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(RUN_CASES))]

    #[test]
    fn an_engine_run_never_shows_the_secret(secret in secret()) {
        captured_logs();
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), engine_run(&secret))
                .await
                .map_err(|_| TestCaseError::fail("the run ends within 30 s"))?
        })?;
    }
}

// ------------------------------------------------------------------------------------------
// `lktop watch` and `lktop check-config`

/// `lktop` in `dir` (its working directory and home), with only the variables given.
fn lktop(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lktop"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("LIVEKIT_") || name.starts_with("LKTOP_") {
            command.env_remove(name);
        }
    }
    command.envs(vars.iter().copied());
    command.output().expect("lktop runs")
}

fn text_of(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn watch_run(secret: &str) -> Result<(), TestCaseError> {
    let sandbox = sandbox_with(secret, None).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = sandbox.url();
    let secret_owned = secret.to_owned();
    let dir_path = dir.path().to_path_buf();
    let watched = tokio::task::spawn_blocking(move || {
        lktop(
            &dir_path,
            &[
                "watch",
                "--duration",
                "1200ms",
                "--record",
                "session.ndjson",
            ],
            &[
                ("LIVEKIT_URL", url.as_str()),
                ("LIVEKIT_API_KEY", KEY),
                ("LIVEKIT_API_SECRET", secret_owned.as_str()),
                ("LKTOP_POLLING__INTERVAL", "100ms"),
                ("LKTOP_LOG", "trace"),
            ],
        )
    })
    .await
    .expect("lktop watch ran");
    sandbox.shutdown().await;
    let shown = text_of(&watched);
    prop_assert!(watched.status.success(), "{shown}");
    prop_assert!(
        String::from_utf8_lossy(&watched.stdout).contains("\"type\":\"rooms\""),
        "lktop watch read the sandbox's rooms with the secret:\n{shown}"
    );
    prop_assert!(shown.contains("TRACE"), "logs at TRACE: {shown}");
    assert_hidden(secret, "lktop watch's output and logs", &shown)?;
    let recording =
        std::fs::read_to_string(dir.path().join("session.ndjson")).expect("the recording");
    prop_assert!(!recording.is_empty());
    assert_hidden(secret, "the recording", &recording)?;

    std::fs::write(dir.path().join("perf.yaml"), file_with(secret)).expect("the file");
    let checked = lktop(
        dir.path(),
        &[
            "check-config",
            "perf.yaml",
            &format!("--api-secret={secret}"),
        ],
        &[],
    );
    let shown = text_of(&checked);
    prop_assert!(checked.status.success(), "{shown}");
    assert_hidden(secret, "lktop check-config", &shown)?;
    let leaky_url = format!("http://{KEY}:{}@127.0.0.1:7880", percent_encoded(secret));
    let refused = lktop(
        dir.path(),
        &["check-config", "perf.yaml", &format!("--url={leaky_url}")],
        &[],
    );
    let shown = text_of(&refused);
    prop_assert!(!refused.status.success(), "{shown}");
    prop_assert!(shown.contains("--url"), "{shown}");
    assert_hidden(secret, "lktop check-config --url", &shown)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(RUN_CASES))]

    #[test]
    fn lktop_watch_never_shows_the_secret(secret in secret()) {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), watch_run(&secret))
                .await
                .map_err(|_| TestCaseError::fail("the run ends within 30 s"))?
        })?;
    }
}

/// The hook is shared by every test of this file: this one checks that it records what a
/// panic says, so the tests above look at real messages.
#[test]
fn the_panic_hook_records_each_message() {
    let message = panic_message(|| panic!("recorded-by-the-hook"));
    assert!(message.contains("recorded-by-the-hook"), "{message}");
}
