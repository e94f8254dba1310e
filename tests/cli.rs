//! The `lktop` binary as a user runs it: exit codes, what goes to stdout and stderr, and the
//! standard LiveKit environment variables.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/says.rs"]
mod says;

use std::path::Path;
use std::process::{Command, Output};

use says::assert_says;

const SECRET: &str = "cli-secret-must-stay-hidden-7Hq";

/// `lktop` in an empty working directory and home, with none of the developer's LiveKit or
/// lktop variables, nor their colour and backtrace wishes, leaking in.
fn lktop_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    const LEAKS: [&str; 5] = [
        "XDG_CONFIG_HOME",
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_lktop"));
    command.args(args).current_dir(dir).env("HOME", dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("LIVEKIT_") || name.starts_with("LKTOP_") || LEAKS.contains(&&*name) {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command
}

fn lktop(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    lktop_command(dir, args, env).output().expect("lktop runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn print_config_template_prints_the_shipped_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(dir.path(), &["print-config-template"], &[]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), lktop::config::TEMPLATE);
}

#[test]
fn check_config_of_a_good_file_prints_it_masked_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ok.yaml");
    std::fs::write(
        &file,
        format!(
            "servers:\n  - name: prod\n    url: wss://prod.example.com\n    api_key: APIprod\n    \
             api_secret: {SECRET}\nconnection_pool:\n  pool_size: 7\n"
        ),
    )
    .unwrap();
    let out = lktop(dir.path(), &["check-config", file.to_str().unwrap()], &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_says(
        &stdout,
        &["pool_size: 7", "api_secret: '********'", "api_key: APIprod"],
    );
    assert!(stderr.contains("configuration OK"), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    // The printed configuration is itself a valid configuration file.
    let printed = dir.path().join("printed.yaml");
    std::fs::write(&printed, stdout.replace("'********'", "from-env")).unwrap();
    let again = lktop(
        dir.path(),
        &["check-config", printed.to_str().unwrap()],
        &[],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
}

#[test]
fn check_config_of_a_bad_file_names_every_problem_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "connection_pool:\n  pool_size: 0\n  pool_sise: 3\nquality_monitoring:\n  \
         thresholds:\n    fair: 2\n",
    )
    .unwrap();
    let out = lktop(dir.path(), &["check-config", file.to_str().unwrap()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_says(
        &stderr,
        &[
            "the configuration has 3 problems",
            "bad.yaml:2:14: connection_pool.pool_size",
            "did you mean `connection_pool.pool_size`?",
            "bad.yaml:6:11: quality_monitoring.thresholds.fair",
        ],
    );
}

#[test]
fn livekit_environment_variables_fill_the_first_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["check-config"],
        &[
            ("LIVEKIT_URL", "ws://127.0.0.1:7880"),
            ("LIVEKIT_API_KEY", "devkey"),
            ("LIVEKIT_API_SECRET", SECRET),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_says(
        &stdout,
        &[
            "url: ws://127.0.0.1:7880",
            "api_key: devkey",
            "name: 127.0.0.1:7880",
            "# override: servers[0].url = ws://127.0.0.1:7880  (from environment variable LIVEKIT_URL)",
            "servers[0].api_secret = ********",
        ],
    );
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
}

#[test]
fn flags_win_over_environment_and_environment_over_file() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir(&config_dir).unwrap();
    // Found without --config: ./config/performance.yaml.
    std::fs::write(
        config_dir.join("performance.yaml"),
        "connection_pool:\n  pool_size: 2\n  max_pool_size: 50\nroom_limits:\n  \
         max_concurrent_rooms: 3\n",
    )
    .unwrap();
    let env = [
        ("LIVEKIT_URL", "ws://from-env:7880"),
        ("LIVEKIT_API_KEY", "k"),
        ("LIVEKIT_API_SECRET", SECRET),
        ("LKTOP_CONNECTION_POOL__POOL_SIZE", "4"),
        ("LKTOP_ROOM_LIMITS__MAX_CONCURRENT_ROOMS", "30"),
    ];
    let out = lktop(
        dir.path(),
        &[
            "check-config",
            "--url",
            "ws://from-flag:7880",
            "--set",
            "connection_pool.pool_size=9",
        ],
        &env,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("# file: "), "{stdout}");
    assert!(stdout.contains("pool_size: 9"), "flag beats env: {stdout}");
    assert!(
        stdout.contains("max_concurrent_rooms: 30"),
        "env beats file: {stdout}"
    );
    assert!(
        stdout.contains("max_pool_size: 50"),
        "file beats default: {stdout}"
    );
    assert_says(
        &stdout,
        &["url: ws://from-flag:7880", "(from command-line flag --url)"],
    );
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["check-config"],
        &[("LKTOP_CONNECTION_POOL__MAX_POOL_SIZE", "-1")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("environment variable LKTOP_CONNECTION_POOL__MAX_POOL_SIZE: connection_pool.max_pool_size"),
        "{stderr}"
    );
}

#[test]
fn the_dashboard_refuses_a_stdout_that_is_not_a_terminal_and_points_to_watch() {
    let dir = tempfile::tempdir().unwrap();
    let recording = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo-recording.ndjson.gz"
    );
    for args in [&[][..], &["replay", recording][..]] {
        let out = lktop(dir.path(), args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_says(&stderr, &["not a terminal", "lktop watch"]);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_two_and_help_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(dir.path(), &["--no-such-flag"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let help = lktop(dir.path(), &["--help"], &[("LIVEKIT_API_SECRET", SECRET)]);
    assert!(help.status.success());
    let help_text = text(&help.stdout);
    assert!(help_text.contains("check-config"), "{help_text}");
    assert!(!help_text.contains(SECRET), "help hides the secret's value");
}

/// One line on stderr, `error: ` and a sentence: no color-eyre report, no escape codes.
fn assert_one_plain_sentence(out: &Output, names: &str, says: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(names), "names the file: {stderr}");
    assert!(stderr.contains(says), "says {says:?}: {stderr}");
    for report_part in [
        "Location:",
        "Backtrace",
        "Caused by",
        "RUST_BACKTRACE",
        "\x1b",
    ] {
        assert!(
            !stderr.contains(report_part),
            "{report_part:?} in {stderr:?}"
        );
    }
}

#[test]
fn replaying_a_missing_file_or_one_that_is_no_recording_says_so_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("screenshot.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0").unwrap();
    let yaml = dir.path().join("performance.yaml");
    std::fs::write(&yaml, lktop::config::TEMPLATE).unwrap();
    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, b"").unwrap();

    let out = lktop(dir.path(), &["replay", "missing.ndjson"], &[]);
    assert_one_plain_sentence(&out, "missing.ndjson", "No such file or directory");
    for (file, says) in [
        (&png, "is not a recording: line 1 is not JSON"),
        (&yaml, "is not a recording: line 1 is not JSON"),
        (&empty, "is empty, not a recording"),
    ] {
        let out = lktop(dir.path(), &["replay", file.to_str().unwrap()], &[]);
        assert_one_plain_sentence(&out, &file.display().to_string(), says);
    }
}

#[test]
fn sandbox_help_offers_no_livekit_variables_and_refuses_a_url() {
    let dir = tempfile::tempdir().unwrap();
    let help = lktop(dir.path(), &["sandbox", "--help"], &[]);
    let help_text = text(&help.stdout);
    assert!(help.status.success());
    assert!(!help_text.contains("[env: LIVEKIT"), "{help_text}");
    assert!(!help_text.contains("--url"), "{help_text}");
    assert!(!help_text.contains("--set"), "{help_text}");
    assert_says(
        &help_text,
        &[
            "--api-key <KEY>",
            "--api-secret <SECRET>",
            "[default: devkey]",
        ],
    );

    let out = lktop(
        dir.path(),
        &["sandbox", "--url", "ws://elsewhere:7880"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("lktop sandbox does not take --url"),
        "{stderr}"
    );
}

#[test]
fn watch_help_lists_its_own_options_under_their_own_heading() {
    let dir = tempfile::tempdir().unwrap();
    let help = lktop(dir.path(), &["watch", "--help"], &[]);
    let help_text = text(&help.stdout);
    assert!(help.status.success());
    let (before, own) = help_text
        .split_once("Watch options:")
        .unwrap_or_else(|| panic!("a heading of its own: {help_text}"));
    let (_, global) = before
        .split_once("\nOptions:")
        .unwrap_or_else(|| panic!("the global options first: {help_text}"));
    for flag in ["--summary", "--every", "--duration", "--record"] {
        assert!(
            own.contains(flag),
            "{flag} under Watch options: {help_text}"
        );
        assert!(
            !global.contains(flag),
            "{flag} not among the global ones: {help_text}"
        );
    }
    for flag in ["--url", "--api-key", "--set", "--config"] {
        assert!(
            global.contains(flag),
            "{flag} among the global ones: {help_text}"
        );
        assert!(!own.contains(flag), "{help_text}");
    }
}

#[test]
fn print_config_template_takes_no_server_options() {
    let dir = tempfile::tempdir().unwrap();
    let help = lktop(dir.path(), &["print-config-template", "--help"], &[]);
    let help_text = text(&help.stdout);
    for flag in ["--url", "--api-key", "--api-secret", "--set"] {
        assert!(!help_text.contains(flag), "{flag}: {help_text}");
    }
    for (args, flag) in [
        (
            &["print-config-template", "--url", "ws://x:7880"][..],
            "--url",
        ),
        (
            &["--api-key", "k", "print-config-template"][..],
            "--api-key",
        ),
        (
            &["print-config-template", "--set", "polling.interval=5s"][..],
            "--set",
        ),
    ] {
        let out = lktop(dir.path(), args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains(&format!(
                "print-config-template takes no server options ({flag} given)"
            )),
            "{stderr}"
        );
    }
    // The standard variables in the environment are no reason to refuse.
    let out = lktop(
        dir.path(),
        &["print-config-template"],
        &[
            ("LIVEKIT_URL", "ws://x:7880"),
            ("LIVEKIT_API_SECRET", SECRET),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), lktop::config::TEMPLATE);
}

// ---------------------------------------------------------------------------------------------
// `lk` projects: --project, LIVEKIT_PROJECT, --all-projects

/// Writes `lk`'s `cli-config.yaml` under `home` with `mode`: `staging` (the default) and `prod`.
fn write_lk_projects(home: &Path, staging_url: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let dir = home.join(".livekit");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cli-config.yaml");
    std::fs::write(
        &path,
        format!(
            "default_project: staging\nprojects:\n  - name: staging\n    url: {staging_url}\n    \
             api_key: {}\n    api_secret: {}\n  - name: prod\n    url: https://prod.example.com\n    \
             api_key: APIprod\n    api_secret: {SECRET}\n",
            configs::KEY,
            configs::SECRET,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn check_config_with_a_project_watches_it_and_lists_every_project_masked() {
    let dir = tempfile::tempdir().unwrap();
    write_lk_projects(dir.path(), "wss://staging.example.com", 0o600);
    let out = lktop(dir.path(), &["check-config", "--project", "prod"], &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_says(
        &stdout,
        &[
            "- name: prod\n  url: https://prod.example.com\n  api_key: APIprod\n  api_secret: '********'",
            "# override: servers[0].url = https://prod.example.com  (from \
             ~/.livekit/cli-config.yaml:8:10 (lk project prod))",
            "# lk projects in ~/.livekit/cli-config.yaml:",
            "#   staging: url wss://staging.example.com, api_key devkey, api_secret ********  [default]",
            "#   prod: url https://prod.example.com, api_key APIprod, api_secret ********  [watched]",
        ],
    );
    assert!(
        !stdout.contains("name: staging"),
        "only the project asked for: {stdout}"
    );
    assert!(
        !stderr.contains("warning"),
        "a file only its owner reads: {stderr}"
    );
    for secret in [SECRET, configs::SECRET] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn the_project_flag_wins_over_livekit_project_and_all_projects_watches_each() {
    let dir = tempfile::tempdir().unwrap();
    write_lk_projects(dir.path(), "wss://staging.example.com", 0o600);
    let servers = |args: &[&str], env: &[(&str, &str)]| {
        let out = lktop(dir.path(), args, env);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter_map(|line| line.strip_prefix("- name: ").map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let from_env = [("LIVEKIT_PROJECT", "prod")];
    assert_eq!(servers(&["check-config"], &from_env), ["prod"]);
    assert_eq!(
        servers(&["check-config", "--project", "staging"], &from_env),
        ["staging"]
    );
    assert_eq!(
        servers(&["check-config", "--all-projects"], &from_env),
        ["staging", "prod"]
    );
    // Nothing asks for a project: the default project is listed, not watched.
    assert!(servers(&["check-config"], &[]).is_empty());
}

#[test]
fn an_unknown_project_exits_one_listing_the_known_names() {
    let dir = tempfile::tempdir().unwrap();
    write_lk_projects(dir.path(), "wss://staging.example.com", 0o600);
    let out = lktop(
        dir.path(),
        &["watch", "--project", "qa", "--duration", "1s"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_says(
        &text(&out.stderr),
        &[
            "command-line flag --project: no `lk` project is named `qa` in ~/.livekit/cli-config.yaml",
            "use one of: staging (default), prod",
        ],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_malformed_lk_file_is_an_error_when_a_project_is_asked_for_and_a_warning_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".livekit")).unwrap();
    std::fs::write(
        dir.path().join(".livekit/cli-config.yaml"),
        "projects:\n  - name: a\n    api_key: [x]\n",
    )
    .unwrap();
    let asked = lktop(dir.path(), &["check-config", "--project", "a"], &[]);
    assert_eq!(asked.status.code(), Some(1));
    assert_says(
        &text(&asked.stderr),
        &["~/.livekit/cli-config.yaml:3:14: projects[0].api_key: is not text"],
    );
    let not_asked = lktop(dir.path(), &["check-config"], &[]);
    assert!(not_asked.status.success());
    assert_says(
        &text(&not_asked.stderr),
        &["warning: ~/.livekit/cli-config.yaml:3:14: projects[0].api_key: is not text"],
    );
}

#[test]
fn an_lk_file_others_can_read_is_warned_about_like_lktops_own() {
    let dir = tempfile::tempdir().unwrap();
    write_lk_projects(dir.path(), "wss://staging.example.com", 0o644);
    let out = lktop(dir.path(), &["check-config"], &[]);
    assert!(out.status.success());
    let path = dir.path().join(".livekit/cli-config.yaml");
    assert_says(
        &text(&out.stderr),
        &[&format!(
            "warning: {} holds a secret and can be read by other users (mode 644); run `chmod \
             600 {}`",
            path.display(),
            path.display()
        )],
    );
}

#[test]
fn sandbox_refuses_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(dir.path(), &["sandbox", "--project", "staging"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_says(
        &text(&out.stderr),
        &["lktop sandbox does not take --project"],
    );
}

#[test]
fn watch_with_a_project_reaches_its_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime.block_on(configs::sandbox());
    let dir = tempfile::tempdir().unwrap();
    // As `lk` stores a local server: a WebSocket URL, which lktop calls over HTTP.
    write_lk_projects(dir.path(), &format!("ws://{}", sandbox.addr()), 0o600);
    let out = lktop(
        dir.path(),
        &["watch", "--project", "staging", "--duration", "3s"],
        &[],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("an NDJSON event"))
        .collect();
    let started = &events[0];
    assert_eq!(started["type"], "started", "{stdout}");
    assert_eq!(
        started["servers"],
        serde_json::json!(["staging"]),
        "{stdout}"
    );
    assert!(
        started["sandbox"].is_null(),
        "no demo when a project is watched: {stdout}"
    );
    assert!(
        events.iter().any(|event| event["type"] == "server_state"
            && event["server"] == "staging"
            && event["state"] == "up"),
        "the project's server is up: {stdout}"
    );
    assert!(!stdout.contains(configs::SECRET) && !stderr.contains(configs::SECRET));
    drop(sandbox);
}

/// A user of the original Python optimizer runs lktop on the `config/performance.yaml` they
/// have: `check-config` passes it with one note, and with no server in it the same file
/// drives the built-in demo.
#[test]
fn the_original_optimizers_file_passes_check_config_and_drives_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("performance.yaml");
    std::fs::write(&file, include_str!("fixtures/original_performance.yaml")).unwrap();
    let path = file.to_str().unwrap();

    let out = lktop(dir.path(), &["check-config", path], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_says(
        &stderr,
        &[
            &format!(
                "note: {path}:30:3: quality_monitoring.quality_thresholds is read as quality_monitoring.thresholds"
            ),
            "configuration OK",
        ],
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(text(&out.stdout).contains("health_check_interval: 30s"));

    let out = lktop(
        dir.path(),
        &["--config", path, "watch", "--duration", "3s"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events = text(&out.stdout);
    assert!(
        events.lines().next().is_some_and(
            |first| first.contains(r#""type":"started""#) && first.contains(r#""sandbox":"#)
        ),
        "the demo sandbox is watched: {events}"
    );
    assert!(events.contains(r#""type":"rooms""#), "{events}");
}

/// What no error message may hold without `RUST_BACKTRACE`: the parts of a color-eyre report.
const REPORT_PARTS: [&str; 6] = [
    "Backtrace",
    "Location:",
    "SpanTrace",
    "Caused by",
    "RUST_BACKTRACE",
    "\x1b",
];

/// Every exit code of the README's table that a run without a terminal can give, with what is
/// said on stderr: plain, short, no report. The others are covered where a terminal or a
/// running engine is: 101 (a panic) and the dashboard's 129 and 143 in `tests/tui_pty.rs`, and
/// `watch`'s 130 and 143 in [`watch_stopped_by_a_signal_exits_128_plus_its_number`].
#[test]
fn exit_codes_are_the_readmes_and_errors_are_plain_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "connection_pool:\n  pool_size: 3\n").unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "connection_pool:\n  pool_size: 0\n").unwrap();
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let cases: [(&[&str], i32, &str); 13] = [
        (&["--version"], 0, ""),
        (&["check-config", good], 0, "configuration OK"),
        (
            &["--color", "never", "check-config", good],
            0,
            "configuration OK",
        ),
        (&["check-config", "missing.yaml"], 1, "missing.yaml"),
        (&["--config", "missing.yaml", "watch"], 1, "missing.yaml"),
        (&["check-config", bad], 1, "connection_pool.pool_size"),
        (&["replay", "missing.ndjson"], 1, "missing.ndjson"),
        (
            &["sandbox", "--scenario", "missing.yaml"],
            1,
            "missing.yaml",
        ),
        (&["--no-such-flag"], 2, "--no-such-flag"),
        (&["--color", "blue", "check-config"], 2, "blue"),
        (&["print-config-template", "--url", "ws://x"], 2, "--url"),
        (&["sandbox", "--speed", "0"], 2, "--speed"),
        (&[], 2, "lktop watch"),
    ];
    for (args, code, says) in cases {
        let out = lktop(dir.path(), args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} says {says:?}: {stderr}");
        if code != 0 {
            assert!(
                stderr.starts_with("error: ") || stderr.starts_with("lktop: "),
                "{args:?}: {stderr}"
            );
            // A sentence, its help and, for a configuration, one line per problem.
            assert!(stderr.lines().count() <= 6, "{args:?}: {stderr}");
        }
        for part in REPORT_PARTS {
            assert!(!stderr.contains(part), "{args:?}: {part:?} in {stderr}");
        }
    }
}

/// A failure that reaches `main` as an error (here stdout cannot be written) is one line too;
/// `RUST_BACKTRACE` brings color-eyre's full report back.
#[cfg(target_os = "linux")]
#[test]
fn an_unexpected_failure_is_one_line_unless_rust_backtrace_asks_for_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let out = lktop_command(dir.path(), &["print-config-template"], env)
            .stdout(full)
            .output()
            .expect("lktop runs");
        (out.status.code(), text(&out.stderr))
    };
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_says(&stderr, &["error: ", "No space left on device"]);
    for part in REPORT_PARTS {
        assert!(!stderr.contains(part), "{part:?} in {stderr}");
    }
    let (code, report) = run(&[("RUST_BACKTRACE", "1")]);
    assert_eq!(code, Some(1), "{report}");
    assert_says(&report, &["No space left on device", "Location:"]);
}

#[test]
fn color_never_and_always_win_over_the_terminal_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "connection_pool:\n  pool_size: 0\n").unwrap();
    let bad = bad.to_str().unwrap();
    let escapes = |args: &[&str], env: &[(&str, &str)]| {
        let out = lktop(dir.path(), args, env);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        text(&out.stderr).contains('\x1b')
    };
    // Usage errors are clap's, in colour where colour is wanted.
    assert!(escapes(&["--color", "always", "--no-such-flag"], &[]));
    assert!(escapes(
        &["--no-such-flag", "--color=always"],
        &[("NO_COLOR", "1")]
    ));
    assert!(!escapes(&["--no-such-flag"], &[]), "auto: stderr is a pipe");
    assert!(!escapes(&["--color", "never", "--no-such-flag"], &[]));
    assert!(!escapes(
        &["--color", "auto", "--no-such-flag"],
        &[("NO_COLOR", "1")]
    ));
    // lktop's own errors are plain whatever the choice.
    for choice in ["never", "always"] {
        assert!(!escapes(&["--color", choice, "check-config", bad], &[]));
        assert!(!escapes(
            &["--color", choice, "replay", "missing.ndjson"],
            &[]
        ));
    }
    // Results on stdout are never coloured.
    let out = lktop(
        dir.path(),
        &["--color", "always", "print-config-template"],
        &[],
    );
    assert_eq!(text(&out.stdout), lktop::config::TEMPLATE);
}

/// `lktop watch` (here on the built-in demo) answers SIGINT and SIGTERM like `--duration`
/// running out, then exits with 128 + the signal's number.
#[cfg(unix)]
#[test]
fn watch_stopped_by_a_signal_exits_128_plus_its_number() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        // --duration: should the signal be lost, the run still ends, with 0, and fails here.
        let mut child = lktop_command(dir.path(), &["watch", "--duration", "60s"], &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lktop runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The first event: the engine runs, so the signal handlers are in place.
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains("\"started\""), "{first}");
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
    }
}

/// The subcommands every completion script must offer.
const SUBCOMMANDS: [&str; 7] = [
    "check-config",
    "print-config-template",
    "sandbox",
    "watch",
    "replay",
    "completions",
    "man",
];

/// Whether `shell` is installed here; a check that needs it and cannot run says so.
fn installed(shell: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        println!("note: {shell} is not installed; its script is not parsed");
    }
    found
}

/// `lktop completions SHELL`, written to a file in `dir`, and its text.
fn completion_script(dir: &Path, shell: &str) -> (std::path::PathBuf, String) {
    let out = lktop(dir, &["completions", shell], &[]);
    assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{shell}: {}", text(&out.stderr));
    let script = text(&out.stdout);
    assert_says(&script, &SUBCOMMANDS);
    let file = dir.join(format!("lktop.{shell}"));
    std::fs::write(&file, &script).unwrap();
    (file, script)
}

#[track_caller]
fn assert_parses(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn the_bash_completion_parses_and_offers_commands_values_and_the_keys_of_set() {
    let dir = tempfile::tempdir().unwrap();
    let (file, script) = completion_script(dir.path(), "bash");
    assert_parses("bash", &["-n", file.to_str().unwrap()]);
    // The shells of `completions` and the configuration keys of `--set`, each with its `=`.
    assert_says(
        &script,
        &[
            "--config",
            "--set",
            "--record",
            "--speed",
            "bash elvish fish powershell zsh",
            "connection_pool.pool_size=",
            "servers.0.api_key=",
            "quality_monitoring.thresholds.good=",
            "keys.quit=",
        ],
    );
    // What bash offers on Tab, from the script itself.
    let complete = |words: &str| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _lktop lktop \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        complete("lktop --set connection_pool.pool_s"),
        "connection_pool.pool_size=\n"
    );
    assert_eq!(complete("lktop watch --set keys.qu"), "keys.quit=\n");
    assert_eq!(complete("lktop completions f"), "fish\n");
    assert_eq!(complete("lktop check-c"), "check-config\n");
}

#[test]
fn set_still_takes_any_key_and_help_does_not_list_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(
        dir.path(),
        &["check-config", "--set", "connection_pool.pool_size=9"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_says(&text(&out.stdout), &["pool_size: 9"]);
    // An unknown key is the configuration's problem (exit 1, with a suggestion), not clap's.
    let out = lktop(
        dir.path(),
        &["check-config", "--set", "connection_pool.pool_sise=9"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_says(&text(&out.stderr), &["connection_pool.pool_size"]);
    let help = text(&lktop(dir.path(), &["--help"], &[]).stdout);
    assert!(!help.contains("servers.0.api_key="), "{help}");
    assert!(!help.contains("possible values"), "{help}");
}

#[test]
fn zsh_and_fish_completions_name_the_commands_and_parse_where_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (zsh, script) = completion_script(dir.path(), "zsh");
    assert!(script.starts_with("#compdef lktop"), "{script}");
    assert_says(
        &script,
        &["--config=", "--set=", "connection_pool.pool_size="],
    );
    if installed("zsh") {
        assert_parses("zsh", &["-n", zsh.to_str().unwrap()]);
    }
    let (fish, script) = completion_script(dir.path(), "fish");
    assert_says(
        &script,
        &[
            "complete -c lktop",
            "-l config",
            "-l set",
            "connection_pool.pool_size=",
        ],
    );
    if installed("fish") {
        assert_parses("fish", &["--no-execute", fish.to_str().unwrap()]);
    }
    for shell in ["powershell", "elvish"] {
        completion_script(dir.path(), shell);
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(dir.path(), &["completions", "tcsh"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_says(
        &stderr,
        &[
            "invalid value 'tcsh' for '<SHELL>'",
            "[possible values: bash, elvish, fish, powershell, zsh]",
        ],
    );
}

/// The page with roff's apostrophe preamble skipped: `.TH` is its first request.
#[track_caller]
fn assert_man_page(page: &str, title: &str) {
    let first_request = page
        .lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .unwrap_or_default();
    assert!(
        first_request.starts_with(&format!(".TH {title} 1 ")),
        "{first_request:?} in:\n{page}"
    );
}

/// groff's rendering of `page`, which must come with no warning.
fn rendered(page: &str) -> Option<String> {
    if !installed("groff") {
        return None;
    }
    let mut groff = Command::new("groff")
        // Plain text: no bold or underline by overstriking.
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut groff.stdin.take().unwrap(), page.as_bytes()).unwrap();
    let out = groff.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    Some(text(&out.stdout))
}

#[test]
fn man_prints_lktops_page_with_its_commands_environment_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = lktop(dir.path(), &["man"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert_man_page(&page, "lktop");
    assert_says(
        &page,
        &[
            ".SH SUBCOMMANDS",
            "lktop\\-watch(1)",
            ".SH ENVIRONMENT",
            "LIVEKIT_API_SECRET",
            "LKTOP_LOG_FILE",
            "NO_COLOR",
            ".SH FILES",
            ".SH \"EXIT STATUS\"",
        ],
    );
    if let Some(shown) = rendered(&page) {
        // groff hyphenates and may use Unicode hyphens; words of one piece are safe to look for.
        assert_says(
            &shown,
            &["SYNOPSIS", "ENVIRONMENT", "LIVEKIT_PROJECT", "EXIT STATUS"],
        );
    }

    let out = lktop(dir.path(), &["man", "watch"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = text(&out.stdout);
    assert_man_page(&page, "lktop-watch");
    assert_says(&page, &["\\-\\-summary", "\\-\\-config"]);
    rendered(&page);

    let out = lktop(dir.path(), &["man", "nope"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_says(
        &text(&out.stderr),
        &["invalid value 'nope'", "check-config"],
    );
}
