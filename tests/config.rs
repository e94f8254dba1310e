//! Configuration loading, layering, validation messages and secret handling.

#[path = "support/says.rs"]
mod says;

use std::path::Path;
use std::time::Duration;

use lktop::config::{
    Config, ConfigDuration, ConfigError, ConfigSources, EnforcementMode, KeyPath, LifecycleLimit,
    LkCliConfig, LkProject, LoadedConfig, MASK, Origin, Override, ProjectChoice, TEMPLATE,
    env_overrides, load, load_text, load_text_checked, render_masked,
};
use lktop::tui::keys::key_section_problems;
use says::assert_says;
use secrecy::ExposeSecret;

const FILE: &str = "perf.yaml";
const SECRET: &str = "s3cr3t-never-printed-Zq9";

fn load_yaml(text: &str) -> Result<LoadedConfig, ConfigError> {
    load_text(Some(Path::new(FILE)), Some(text), &[])
}

fn load_with(text: &str, overrides: &[Override]) -> Result<LoadedConfig, ConfigError> {
    load_text(Some(Path::new(FILE)), Some(text), overrides)
}

fn errors_of(text: &str) -> ConfigError {
    load_yaml(text).expect_err("the configuration should be refused")
}

/// As the command line loads a configuration: the `keys:` section checked with the key map.
fn key_errors_of(text: &str) -> ConfigError {
    load_text_checked(Some(Path::new(FILE)), Some(text), &[], key_section_problems)
        .expect_err("the configuration should be refused")
}

/// The one issue about `key`, checked to point at `line` of the file.
fn issue_at(error: &ConfigError, key: &str, line: usize) -> String {
    let matching: Vec<_> = error
        .issues
        .iter()
        .filter(|issue| issue.key.as_ref().is_some_and(|k| k.to_string() == key))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "one issue about {key} expected in:\n{error}"
    );
    let text = matching[0].to_string();
    assert!(
        text.starts_with(&format!("{FILE}:{line}:")),
        "{key} should point at line {line}: {text}"
    );
    assert!(text.contains(key), "the message names the key: {text}");
    text
}

fn flag(key: &str, value: &str) -> Override {
    Override::yaml(
        key.parse().unwrap(),
        value,
        Origin::Flag(format!("--set {key}")),
    )
}

#[test]
fn the_template_is_the_defaults_and_documents_every_key() {
    let loaded = load_yaml(TEMPLATE).expect("the shipped template is valid");
    assert_eq!(
        serde_yaml::to_value(&loaded.config).unwrap(),
        serde_yaml::to_value(Config::default()).unwrap()
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    // Keys that only appear inside a server or an override are documented in commented examples.
    for key in [
        "name:",
        "url:",
        "api_key:",
        "api_secret:",
        "metrics_url:",
        "metrics_username:",
        "metrics_password:",
        "redis_url:",
        "max_participants:",
        "max_audio_tracks:",
        "max_video_tracks:",
        "solo_timeout:",
        "empty_timeout:",
        "max_duration:",
    ] {
        assert!(TEMPLATE.contains(key), "the template documents {key}");
    }
}

#[test]
fn defaults_match_the_documented_values() {
    let config = Config::default();
    let pool = config.connection_pool;
    assert_eq!((pool.pool_size, pool.max_pool_size), (5, 10));
    assert_eq!(pool.health_check_interval.get(), Duration::from_secs(30));
    assert_eq!(pool.connection_timeout.get(), Duration::from_secs(10));
    assert_eq!(pool.max_reconnect_attempts, 5);
    assert_eq!(pool.reconnect_base_delay.get(), Duration::from_secs(1));
    assert!(pool.reconnect_max_delay >= pool.reconnect_base_delay);

    let limits = &config.room_limits;
    assert_eq!(
        (
            limits.max_concurrent_rooms,
            limits.max_participants_per_room,
            limits.max_audio_tracks_per_room,
            limits.max_video_tracks_per_room
        ),
        (10, 50, 20, 10)
    );
    assert_eq!(limits.enforcement, EnforcementMode::Observe);

    let audio = config.audio_optimization;
    assert_eq!(
        (
            audio.target_latency_ms,
            audio.buffer_size_ms,
            audio.jitter_buffer_ms
        ),
        (50, 20, 100)
    );
    assert!(audio.echo_cancellation && audio.noise_suppression && audio.auto_gain_control);

    let quality = config.quality_monitoring;
    assert_eq!(quality.monitoring_interval.get(), Duration::from_secs(10));
    assert!((quality.min_success_rate - 0.95).abs() < f64::EPSILON);
    let thresholds = quality.thresholds;
    assert_eq!(
        (thresholds.excellent, thresholds.good, thresholds.fair),
        (0.9, 0.7, 0.5)
    );
    assert_eq!(config.metrics.listen, None);
    assert!(config.servers.is_empty());
}

#[test]
fn no_file_and_an_empty_file_both_give_the_defaults() {
    let none = load(&ConfigSources::default()).unwrap();
    assert!(none.file.is_none());
    let empty = load_yaml("").unwrap();
    let comments_only = load_yaml("# nothing here\n").unwrap();
    for loaded in [none, empty, comments_only] {
        assert_eq!(
            serde_yaml::to_value(&loaded.config).unwrap(),
            serde_yaml::to_value(Config::default()).unwrap()
        );
    }
}

#[test]
fn durations_accept_seconds_and_units() {
    let loaded = load_yaml(
        "connection_pool:\n  health_check_interval: 30\n  connection_timeout: 1500ms\n  \
         reconnect_base_delay: 1.5\n  reconnect_max_delay: 2m\n",
    )
    .unwrap();
    let pool = loaded.config.connection_pool;
    assert_eq!(pool.health_check_interval.get(), Duration::from_secs(30));
    assert_eq!(pool.connection_timeout.get(), Duration::from_millis(1500));
    assert_eq!(pool.reconnect_base_delay.get(), Duration::from_millis(1500));
    assert_eq!(pool.reconnect_max_delay.get(), Duration::from_secs(120));
}

#[test]
fn flags_beat_environment_beats_file_beats_default() {
    let file = "connection_pool:\n  pool_size: 3\n  max_pool_size: 20\n";
    let env = env_overrides([("LKTOP_CONNECTION_POOL__POOL_SIZE", "4")]);

    assert_eq!(load_yaml(file).unwrap().config.connection_pool.pool_size, 3);
    assert_eq!(
        load_with(file, &env)
            .unwrap()
            .config
            .connection_pool
            .pool_size,
        4
    );
    let mut env_then_flag = env.clone();
    env_then_flag.push(flag("connection_pool.pool_size", "6"));
    let loaded = load_with(file, &env_then_flag).unwrap();
    assert_eq!(loaded.config.connection_pool.pool_size, 6);
    // Keys nobody overrode keep the file's value, and untouched ones their default.
    assert_eq!(loaded.config.connection_pool.max_pool_size, 20);
    assert_eq!(loaded.config.connection_pool.max_reconnect_attempts, 5);
}

#[test]
fn environment_variables_reach_nested_keys_and_ignore_the_rest() {
    let env = env_overrides([
        ("LKTOP_QUALITY_MONITORING__THRESHOLDS__GOOD", "0.75"),
        ("LKTOP_ROOM_LIMITS__ENFORCEMENT", "enforce"),
        ("LKTOP_METRICS__LISTEN", "127.0.0.1:9464"),
        ("LKTOP_AUDIO_OPTIMIZATION__ECHO_CANCELLATION", "false"),
        ("LKTOP_CONFIG", "not-a-key.yaml"),
        ("PATH", "/usr/bin"),
    ]);
    assert_eq!(
        env.len(),
        4,
        "only LKTOP_<SECTION>__<KEY> names are overrides"
    );
    let config = load_with("", &env).unwrap().config;
    assert!((config.quality_monitoring.thresholds.good - 0.75).abs() < f64::EPSILON);
    assert_eq!(config.room_limits.enforcement, EnforcementMode::Enforce);
    assert_eq!(
        config.metrics.listen,
        Some("127.0.0.1:9464".parse().unwrap())
    );
    assert!(!config.audio_optimization.echo_cancellation);
}

fn livekit_env(url: &str) -> Vec<Override> {
    let first = || KeyPath::root().key("servers").index(0);
    vec![
        Override::text(first().key("url"), url, Origin::Env("LIVEKIT_URL".into())),
        Override::text(
            first().key("api_key"),
            "APIkey",
            Origin::Env("LIVEKIT_API_KEY".into()),
        ),
        Override::text(
            first().key("api_secret"),
            SECRET,
            Origin::Env("LIVEKIT_API_SECRET".into()),
        ),
    ]
}

#[test]
fn livekit_variables_create_the_first_server_when_the_file_has_none() {
    let loaded = load_with("", &livekit_env("wss://demo.livekit.cloud")).unwrap();
    let [server] = loaded.config.servers.as_slice() else {
        panic!("one server expected")
    };
    assert_eq!(server.url, "wss://demo.livekit.cloud");
    assert_eq!(server.api_key, "APIkey");
    assert_eq!(server.api_secret().unwrap().expose_secret(), SECRET);
    assert_eq!(server.name, "demo.livekit.cloud", "named after the host");
}

#[test]
fn livekit_variables_replace_the_first_servers_credentials() {
    let file = "servers:\n  - name: prod\n    url: ws://old:7880\n    api_key: old\n    \
                api_secret: old-secret\n  - name: staging\n    url: ws://staging:7880\n    \
                api_key: k2\n    api_secret: s2\n";
    let loaded = load_with(file, &livekit_env("ws://new:7880")).unwrap();
    let servers = &loaded.config.servers;
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].name, "prod");
    assert_eq!(servers[0].url, "ws://new:7880");
    assert_eq!(servers[0].api_key, "APIkey");
    assert_eq!(servers[0].api_secret().unwrap().expose_secret(), SECRET);
    assert_eq!(
        servers[1].url, "ws://staging:7880",
        "other servers untouched"
    );
}

#[test]
fn credentials_without_any_server_are_ignored_with_a_warning() {
    let mut env = livekit_env("unused");
    env.remove(0);
    let loaded = load_with("", &env).unwrap();
    assert!(loaded.config.servers.is_empty());
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("LIVEKIT_API_KEY"));
    assert!(loaded.warnings.iter().all(|w| !w.contains(SECRET)));
}

#[test]
fn pool_size_zero_is_refused_with_its_range() {
    let error = errors_of("connection_pool:\n  pool_size: 0\n");
    let text = issue_at(&error, "connection_pool.pool_size", 2);
    assert!(
        text.contains("0 is out of range; allowed 1..=256"),
        "{text}"
    );
    assert!(
        text.starts_with("perf.yaml:2:14:"),
        "line and column: {text}"
    );
}

#[test]
fn max_pool_size_below_pool_size_is_refused() {
    let error = errors_of("connection_pool:\n  pool_size: 8\n  max_pool_size: 4\n");
    let text = issue_at(&error, "connection_pool.max_pool_size", 3);
    assert_says(&text, &["4 is smaller than pool_size (8)", "allowed 8..="]);
}

#[test]
fn thresholds_out_of_order_are_refused() {
    let error = errors_of(
        "quality_monitoring:\n  thresholds:\n    excellent: 0.6\n    good: 0.7\n    fair: 0.5\n",
    );
    let text = issue_at(&error, "quality_monitoring.thresholds", 3);
    assert_says(
        &text,
        &["out of order", "0 <= fair < good < excellent <= 1"],
    );
}

#[test]
fn thresholds_outside_zero_to_one_are_refused() {
    let error = errors_of(
        "quality_monitoring:\n  min_success_rate: 95\n  thresholds:\n    excellent: 1.2\n    \
         fair: -0.1\n",
    );
    assert_eq!(error.issues.len(), 3, "{error}");
    let rate = issue_at(&error, "quality_monitoring.min_success_rate", 2);
    assert!(
        rate.contains("95 is out of range; allowed 0.0..=1.0"),
        "{rate}"
    );
    let excellent = issue_at(&error, "quality_monitoring.thresholds.excellent", 4);
    assert!(excellent.contains("1.2 is out of range"), "{excellent}");
    issue_at(&error, "quality_monitoring.thresholds.fair", 5);
}

#[test]
fn zero_and_negative_intervals_are_refused() {
    let error = errors_of(
        "connection_pool:\n  health_check_interval: 0\n  connection_timeout: -5\n  \
         reconnect_base_delay: 0ms\nquality_monitoring:\n  monitoring_interval: -1s\n",
    );
    assert_eq!(error.issues.len(), 4, "{error}");
    assert!(issue_at(&error, "connection_pool.health_check_interval", 2).contains("zero"));
    assert!(issue_at(&error, "connection_pool.connection_timeout", 3).contains("negative"));
    assert!(issue_at(&error, "connection_pool.reconnect_base_delay", 4).contains("zero"));
    assert!(issue_at(&error, "quality_monitoring.monitoring_interval", 6).contains("negative"));
}

#[test]
fn urls_must_be_livekit_urls() {
    let server = |url: &str| {
        format!("servers:\n  - url: {url}\n    api_key: key\n    api_secret: \"{SECRET}\"\n")
    };
    for bad in [
        "ftp://example.com",
        "example.com:7880",
        "ws://",
        "wss://host/some/path",
    ] {
        let error = errors_of(&server(bad));
        let text = issue_at(&error, "servers[0].url", 2);
        assert!(
            text.contains("wss://my-project.livekit.cloud"),
            "a fix is shown: {text}"
        );
    }
    for good in [
        "ws://localhost:7880",
        "wss://x.livekit.cloud",
        "http://127.0.0.1:7880",
        "https://x.example.com/",
    ] {
        load_yaml(&server(good)).unwrap_or_else(|err| panic!("{good}: {err}"));
    }
}

#[test]
fn a_server_without_secret_or_key_is_refused_with_the_fix() {
    let error = errors_of("servers:\n  - name: prod\n    url: ws://localhost:7880\n");
    let secret = issue_at(&error, "servers[0].api_secret", 2);
    assert_says(&secret, &["is missing", "LIVEKIT_API_SECRET"]);
    let key = issue_at(&error, "servers[0].api_key", 2);
    assert!(key.contains("LIVEKIT_API_KEY"), "{key}");
}

#[test]
fn unknown_keys_are_refused_with_a_did_you_mean() {
    let error = errors_of(
        "connection_pool:\n  pool_sise: 4\nroom_limit:\n  max_concurrent_rooms: 3\n\
         pool_size: 2\nservers:\n  - url: ws://h:1\n    api_key: k\n    api_secert: x\n",
    );
    let typo = issue_at(&error, "connection_pool.pool_sise", 2);
    assert_says(
        &typo,
        &["unknown key", "did you mean `connection_pool.pool_size`?"],
    );
    assert!(
        typo.starts_with("perf.yaml:2:3:"),
        "points at the key: {typo}"
    );
    let section = issue_at(&error, "room_limit", 3);
    assert!(section.contains("did you mean `room_limits`?"), "{section}");
    let misplaced = issue_at(&error, "pool_size", 5);
    assert!(
        misplaced.contains("did you mean `connection_pool.pool_size`?"),
        "{misplaced}"
    );
    let in_list = issue_at(&error, "servers[0].api_secert", 9);
    assert!(
        in_list.contains("did you mean `servers[0].api_secret`?"),
        "{in_list}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = errors_of(
        "connection_pool:\n  pool_size: 0\n  max_pool_size: many\n  connection_timeout: 0\n\
         room_limits:\n  enforcement: strict\n  max_participants_per_room: 0\n\
         quality_monitoring:\n  thresholds:\n    excellent: 0.1\nmetrix: {}\n",
    );
    let keys: Vec<String> = error
        .issues
        .iter()
        .map(|issue| {
            issue
                .key
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        keys,
        [
            "connection_pool.pool_size",
            "connection_pool.max_pool_size",
            "connection_pool.connection_timeout",
            "room_limits.enforcement",
            "room_limits.max_participants_per_room",
            "quality_monitoring.thresholds",
            "metrix",
        ],
        "sorted by line:\n{error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("the configuration has 7 problems:"),
        "{text}"
    );
    assert_says(
        &text,
        &["expected `observe` or `enforce`", "expected a whole number"],
    );
}

#[test]
fn problems_from_environment_and_flags_name_their_origin() {
    let overrides = [
        Override::yaml(
            "room_limits.max_video_tracks_per_room".parse().unwrap(),
            "lots",
            Origin::Env("LKTOP_ROOM_LIMITS__MAX_VIDEO_TRACKS_PER_ROOM".into()),
        ),
        flag("audio_optimization.buffer_size_ms", "80"),
        flag("connection_pool.pool_sizee", "3"),
    ];
    let error = load_with("", &overrides).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(
            "environment variable LKTOP_ROOM_LIMITS__MAX_VIDEO_TRACKS_PER_ROOM: \
             room_limits.max_video_tracks_per_room"
        ),
        "{text}"
    );
    assert_says(
        &text,
        &[
            "command-line flag --set audio_optimization.buffer_size_ms",
            "80 ms is more than target_latency_ms (50 ms)",
            "did you mean `connection_pool.pool_size`?",
        ],
    );
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    let error = errors_of("connection_pool:\n  pool_size: 5\n   max_pool_size: [\n");
    assert_eq!(error.issues.len(), 1);
    let text = error.to_string();
    assert_says(&text, &["not valid YAML", "perf.yaml:3:"]);
}

#[test]
fn a_file_that_is_not_a_mapping_is_refused() {
    let text = errors_of("- just\n- a list\n").to_string();
    assert!(text.contains("not a mapping of sections"), "{text}");
}

#[test]
fn a_missing_file_is_named() {
    let error = load(&ConfigSources {
        file: Some("/nonexistent/lktop.yaml".into()),
        overrides: Vec::new(),
        lk_projects: Vec::new(),
    })
    .unwrap_err();
    let text = error.to_string();
    assert_says(&text, &["/nonexistent/lktop.yaml", "cannot read the file"]);
}

#[test]
fn per_room_overrides_are_read_and_checked() {
    let loaded =
        load_yaml("room_limits:\n  overrides:\n    town-hall:\n      max_participants: 500\n")
            .unwrap();
    let town_hall = loaded.config.room_limits.overrides["town-hall"];
    assert_eq!(town_hall.max_participants, Some(500));
    assert_eq!(town_hall.max_audio_tracks, None);

    let error = errors_of(
        "room_limits:\n  overrides:\n    lobby:\n      max_participants: 0\n      \
         max_audio_trax: 1\n",
    );
    issue_at(&error, "room_limits.overrides.lobby.max_participants", 4);
    let typo = issue_at(&error, "room_limits.overrides.lobby.max_audio_trax", 5);
    assert!(
        typo.contains("did you mean `room_limits.overrides.lobby.max_audio_tracks`?"),
        "{typo}"
    );
}

#[test]
fn secrets_never_appear_in_debug_printed_config_or_errors() {
    let file = format!(
        "servers:\n  - url: ws://localhost:7880\n    api_key: key\n    api_secret: {SECRET}\n"
    );
    let loaded = load_yaml(&file).unwrap();
    assert!(!format!("{loaded:?}").contains(SECRET));
    assert!(!format!("{:?}", loaded.config.servers[0]).contains(SECRET));
    let printed = render_masked(&loaded.config);
    assert!(!printed.contains(SECRET), "{printed}");
    assert!(printed.contains(MASK), "{printed}");

    // A secret next to another problem, and a secret of the wrong type.
    let error = errors_of(&format!(
        "servers:\n  - url: ftp://x\n    api_key: key\n    api_secret: {SECRET}\n"
    ));
    assert!(!error.to_string().contains(SECRET));
    assert!(!format!("{error:?}").contains(SECRET));
    let error =
        errors_of("servers:\n  - url: ws://x:1\n    api_key: k\n    api_secret: [9182736455]\n");
    let text = error.to_string();
    assert!(!text.contains("9182736455"), "{text}");
    assert!(
        text.contains("servers[0].api_secret: must be text"),
        "{text}"
    );

    let from_env = livekit_env("ws://x:1");
    let loaded = load_with("", &from_env).unwrap();
    for entry in &loaded.applied {
        assert!(!entry.to_string().contains(SECRET), "{entry}");
    }
}

#[cfg(unix)]
#[test]
fn a_secret_in_a_file_others_can_read_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("performance.yaml");
    let with_secret = format!(
        "servers:\n  - url: ws://localhost:7880\n    api_key: key\n    api_secret: {SECRET}\n"
    );
    let check = |text: &str, mode: u32| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        load(&ConfigSources {
            file: Some(path.clone()),
            overrides: Vec::new(),
            lk_projects: Vec::new(),
        })
        .unwrap()
        .warnings
    };

    let warnings = check(&with_secret, 0o644);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("chmod 600"), "{}", warnings[0]);
    assert!(!warnings[0].contains(SECRET));
    assert!(check(&with_secret, 0o600).is_empty());
    assert!(check("connection_pool:\n  pool_size: 2\n", 0o644).is_empty());
}

#[test]
fn a_valid_rebinding_loads_and_prints_back() {
    use lktop::tui::keys::{KeyAction, Keymap};

    let loaded = load_yaml(
        "keys:\n  freeze: ctrl+f\n  pause_polling: []\n  quit: [\"q\", \"ctrl+q\"]\n  \
         show_overview: 1\n  create_room: x\n",
    )
    .unwrap();
    let keymap = Keymap::with_overrides(&loaded.config.keys).unwrap();
    let shown = |action| -> Vec<String> {
        keymap
            .keys(action)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(shown(KeyAction::Freeze), ["ctrl+f"]);
    assert!(shown(KeyAction::PausePolling).is_empty());
    assert_eq!(shown(KeyAction::Quit), ["q", "ctrl+q"]);
    assert_eq!(shown(KeyAction::ShowOverview), ["1"]);
    assert_eq!(shown(KeyAction::Help), ["?"], "others keep their defaults");

    let printed = render_masked(&loaded.config);
    assert!(printed.contains("freeze: ctrl+f"), "{printed}");
    let again = load_yaml(&printed).unwrap();
    assert_eq!(again.config.keys, loaded.config.keys);
    assert!(
        render_masked(&Config::default()).contains("keys: {}"),
        "no rebinding prints as an empty section"
    );

    let env = env_overrides([("LKTOP_KEYS__FREEZE", "ctrl+f")]);
    let from_env = load_with("", &env).unwrap();
    assert_eq!(
        from_env.config.keys["freeze"],
        lktop::config::KeyList::from("ctrl+f")
    );
}

#[test]
fn a_key_bound_to_two_actions_is_refused_naming_both() {
    let error = key_errors_of("polling:\n  interval: 2s\nkeys:\n  freeze: \"p\"\n");
    let text = issue_at(&error, "keys.freeze", 4);
    assert!(
        text.contains("\"p\" is also bound to pause_polling (both work on every screen)"),
        "{text}"
    );
    assert!(text.contains("rebind pause_polling too"), "{text}");
    assert!(
        text.contains("4 |   freeze: \"p\""),
        "the line is echoed: {text}"
    );

    // The flow form points at the same entry.
    let error = key_errors_of("keys: {freeze: \"p\"}\n");
    assert!(issue_at(&error, "keys.freeze", 1).contains("pause_polling"));
}

#[test]
fn an_unknown_action_suggests_the_nearest_one() {
    let error = key_errors_of("keys:\n  frezee: \"x\"\n");
    let text = issue_at(&error, "keys.frezee", 2);
    assert!(text.contains("unknown action `frezee`"), "{text}");
    assert!(text.contains("did you mean `freeze`?"), "{text}");
    assert!(
        text.contains("pause_polling"),
        "the actions are listed: {text}"
    );
}

#[test]
fn a_bad_key_in_a_list_is_named_by_its_position() {
    let error = key_errors_of("keys:\n  quit: [\"q\", \"ctrl+k+x\"]\n");
    assert_eq!(error.issues.len(), 1, "{error}");
    let text = issue_at(&error, "keys.quit[1]", 2);
    assert!(
        text.starts_with("perf.yaml:2:15: keys.quit[1]:"),
        "points at the element: {text}"
    );
    assert!(text.contains("\"k\" is not a modifier"), "{text}");
    assert!(text.contains("help: a key is one character"), "{text}");

    let error = key_errors_of("keys:\n  help: {key: x}\n");
    let text = issue_at(&error, "keys.help", 2);
    assert!(text.contains("a key such as \"ctrl+f\""), "{text}");
}

fn two_servers(first: (&str, &str), second: (&str, &str)) -> String {
    let entry = |(name, url): (&str, &str)| {
        format!(
            "  - name: {name}\n    url: {url}\n    api_key: key\n    api_secret: \"{SECRET}\"\n"
        )
    };
    format!("servers:\n{}{}", entry(first), entry(second))
}

#[test]
fn blank_server_names_are_refused_where_they_are_written() {
    let error = errors_of(&two_servers(
        ("\"\"", "ws://a:7880"),
        ("\"   \"", "ws://b:7880"),
    ));
    let empty = issue_at(&error, "servers[0].name", 2);
    assert!(empty.starts_with("perf.yaml:2:11:"), "{empty}");
    assert!(empty.contains("servers[0].name: is blank"), "{empty}");
    assert!(empty.contains("leave `name` out"), "the fix: {empty}");
    issue_at(&error, "servers[1].name", 6);
    assert!(!error.to_string().contains(SECRET));

    // Left out, a name is still derived from the URL.
    let unnamed =
        format!("servers:\n  - url: ws://a:7880\n    api_key: key\n    api_secret: \"{SECRET}\"\n");
    assert_eq!(
        load_yaml(&unnamed).unwrap().config.servers[0].name,
        "a:7880"
    );
}

#[test]
fn two_servers_with_the_same_url_are_refused_naming_both() {
    // Different spellings of one base URL: ws:// is http://, the host's case, a trailing slash.
    let error = errors_of(&two_servers(
        ("prod", "ws://lk.example.com:7880"),
        ("staging", "http://LK.example.com:7880/"),
    ));
    assert_eq!(error.issues.len(), 1, "{error}");
    let text = issue_at(&error, "servers[1].url", 7);
    assert!(text.starts_with("perf.yaml:7:10:"), "{text}");
    assert!(
        text.contains(
            "servers[0] (prod) and servers[1] (staging) both watch http://lk.example.com:7880"
        ),
        "{text}"
    );
    assert!(text.contains("list each server once"), "{text}");

    let same_default_port = two_servers(
        ("a", "wss://lk.example.com"),
        ("b", "https://lk.example.com:443"),
    );
    issue_at(&errors_of(&same_default_port), "servers[1].url", 7);
    let other_port = two_servers(("a", "ws://lk:7880"), ("b", "ws://lk:7881"));
    assert_eq!(load_yaml(&other_port).unwrap().config.servers.len(), 2);
}

#[test]
fn a_metrics_address_without_host_and_port_gets_the_form_to_use() {
    for value in ["9090", "\":9090\"", "localhost"] {
        let error = errors_of(&format!("metrics:\n  listen: {value}\n"));
        let text = issue_at(&error, "metrics.listen", 2);
        assert!(
            text.contains("use host:port, e.g. 127.0.0.1:9090"),
            "{text}"
        );
        assert!(
            text.contains(&format!("`{}` is not", value.trim_matches('"'))),
            "names the value: {text}"
        );
    }
    let env = env_overrides([("LKTOP_METRICS__LISTEN", "9090")]);
    let text = load_with("", &env).unwrap_err().to_string();
    assert_says(
        &text,
        &[
            "environment variable LKTOP_METRICS__LISTEN: metrics.listen",
            "use host:port, e.g. 127.0.0.1:9090",
        ],
    );
}

#[test]
fn a_url_without_scheme_gets_the_url_it_means_where_it_was_set() {
    let error = load_with("", &livekit_env("127.0.0.1:7880")).unwrap_err();
    assert_eq!(error.issues.len(), 1, "{error}");
    let text = error.to_string();
    assert!(
        text.contains(
            "environment variable LIVEKIT_URL: servers[0].url: `127.0.0.1:7880` has no scheme"
        ),
        "{text}"
    );
    assert!(
        text.contains("help: set LIVEKIT_URL=http://127.0.0.1:7880"),
        "{text}"
    );
    assert!(!text.contains(SECRET));

    let flag = Override::text(
        KeyPath::root().key("servers").index(0).key("url"),
        "localhost:7880",
        Origin::Flag("--url".into()),
    );
    let text = load_with("", &[flag]).unwrap_err().to_string();
    assert!(text.contains("use --url http://localhost:7880"), "{text}");

    let error = errors_of(&format!(
        "servers:\n  - url: lk.example.com\n    api_key: key\n    api_secret: \"{SECRET}\"\n"
    ));
    let text = issue_at(&error, "servers[0].url", 2);
    assert!(
        text.contains("write `url: https://lk.example.com`"),
        "{text}"
    );
}

#[test]
fn values_of_the_wrong_type_are_told_the_allowed_range() {
    let error = errors_of(
        "connection_pool:\n  pool_size: many\n  max_reconnect_attempts: -3\nroom_limits:\n  \
         max_participants_per_room: 1.5\n  overrides:\n    lobby:\n      max_audio_tracks: lots\n\
         audio_optimization:\n  jitter_buffer_ms: 99999999999\nquality_monitoring:\n  \
         min_success_rate: high\n",
    );
    let expect = |key: &str, line: usize, wanted: &str| {
        let text = issue_at(&error, key, line);
        assert!(text.contains(wanted), "{key} should say {wanted:?}: {text}");
    };
    expect(
        "connection_pool.pool_size",
        2,
        "invalid type: string \"many\", expected a whole number in 1..=256",
    );
    expect(
        "connection_pool.max_reconnect_attempts",
        3,
        "expected a whole number in 1..=1000",
    );
    expect(
        "room_limits.max_participants_per_room",
        5,
        "floating point `1.5`, expected a whole number in 1..=1000000",
    );
    expect(
        "room_limits.overrides.lobby.max_audio_tracks",
        8,
        "expected a whole number in 1..=1000000",
    );
    expect(
        "audio_optimization.jitter_buffer_ms",
        10,
        "expected a whole number in 0..=2000",
    );
    expect(
        "quality_monitoring.min_success_rate",
        12,
        "expected a number in 0.0..=1.0",
    );
}

#[test]
fn an_unknown_lktop_variable_suggests_the_variable_to_set() {
    let env = env_overrides([
        ("LKTOP_POLLING__INTERVALL", "5s"),
        ("LKTOP_CONNECTION_POOL__POOL_SIZ", "4"),
        ("LKTOP_QUALITY_MONITRING__THRESHOLDS__GOOD", "0.8"),
    ]);
    let text = load_with("", &env).unwrap_err().to_string();
    assert!(
        text.contains(
            "environment variable LKTOP_POLLING__INTERVALL: polling.intervall: unknown key"
        ),
        "{text}"
    );
    assert_says(
        &text,
        &[
            "did you mean LKTOP_POLLING__INTERVAL?",
            "did you mean LKTOP_CONNECTION_POOL__POOL_SIZE?",
        ],
    );
    // A misspelt section: the variable is named as the origin and its keys below are kept.
    assert!(
        text.contains(
            "environment variable LKTOP_QUALITY_MONITRING__THRESHOLDS__GOOD: \
             quality_monitring: unknown key"
        ),
        "{text}"
    );
    assert!(
        text.contains("did you mean LKTOP_QUALITY_MONITORING__THRESHOLDS__GOOD?"),
        "{text}"
    );
}

#[test]
fn a_duplicate_key_points_at_its_second_occurrence() {
    let error = errors_of(
        "polling:\n  interval: 2s\nconnection_pool:\n  pool_size: 3\n  max_pool_size: 20\n  \
         pool_size: 4\n",
    );
    assert_eq!(error.issues.len(), 1, "{error}");
    let text = issue_at(&error, "connection_pool.pool_size", 6);
    assert!(text.starts_with("perf.yaml:6:3:"), "{text}");
    assert!(
        text.contains("`pool_size` is written twice in `connection_pool` (first at line 4)"),
        "{text}"
    );
    assert!(
        text.contains("6 |   pool_size: 4"),
        "the line is echoed: {text}"
    );
    assert!(text.contains("delete this line"), "{text}");

    // At the top level, in a list item, and never echoing a secret.
    let top = errors_of("polling: {}\nmetrics: {}\npolling: {}\n");
    issue_at(&top, "polling", 3);
    let secret = errors_of(&format!(
        "servers:\n  - url: ws://a:7880\n    api_secret: x\n    api_key: k\n    \
         api_secret: {SECRET}\n"
    ));
    let text = issue_at(&secret, "servers[0].api_secret", 5);
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn node_sources_load_one_url_or_a_list_and_refuse_what_cannot_work() {
    let text = "servers:\n  - url: http://127.0.0.1:7880\n    api_key: k\n    api_secret: s\n    \
                metrics_url: [http://10.0.0.5:6789/metrics, http://10.0.0.6:6789/metrics]\n    \
                metrics_username: prom\n    metrics_password: pr0m-pass\n    \
                redis_url: rediss://:hunter2@redis.internal:6380/0\n";
    let loaded = load_yaml(text).expect("valid node sources");
    let server = &loaded.config.servers[0];
    assert_eq!(server.metrics_url.0.len(), 2);
    assert_eq!(
        server.redis_url.as_ref().unwrap().expose(),
        "rediss://:hunter2@redis.internal:6380/0"
    );
    let printed = render_masked(&loaded.config);
    for secret in ["hunter2", "pr0m-pass"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("redis.internal:6380"), "{printed}");

    let bad = "servers:\n  - url: http://127.0.0.1:7880\n    api_key: k\n    api_secret: s\n    \
               metrics_url: ftp://x/metrics\n    metrics_username: prom\n    \
               redis_url: http://:hunter2@redis:6379\n\
               media_limits:\n  max_packet_loss_pct: 120\n  min_quality_score_p50: 0.5\n";
    let error = load_yaml(bad).expect_err("four problems");
    let text = error.to_string();
    for expected in [
        "servers[0].metrics_url: `ftp://x/metrics` must start with http:// or https://",
        "servers[0].metrics_password: is missing while metrics_username is set",
        "servers[0].redis_url: must start with redis:// or rediss://, not http://",
        "media_limits.max_packet_loss_pct: 120 is out of range; allowed 0..=100",
        "media_limits.min_quality_score_p50: 0.5 is out of range; allowed 1.0..=4.5",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
}

/// A URL is shown in errors, logs, events and on screen: one that carries a secret is refused
/// where it was written (the file's line, the variable, the flag, `lk`'s file), quoted masked,
/// with the URL to write instead.
#[test]
fn a_url_carrying_a_secret_is_refused_where_it_was_written_and_shown_masked() {
    const URL_SECRET: &str = "hunter2-in-the-url";
    let server =
        |url: &str| format!("servers:\n  - url: {url}\n    api_key: k\n    api_secret: {SECRET}\n");

    let credentials = errors_of(&server(&format!(
        "http://devkey:{URL_SECRET}@127.0.0.1:7880"
    )));
    let text = issue_at(&credentials, "servers[0].url", 2);
    for expected in [
        "`http://********@127.0.0.1:7880/` carries a user name or password before the host",
        "2 |   - url: http://********@127.0.0.1:7880/",
        "help: write `url: http://127.0.0.1:7880`; the API key and secret go in api_key and \
         api_secret",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }

    let query = errors_of(&server(&format!(
        "wss://lk.example.com/?room=a&api_secret={URL_SECRET}"
    )));
    let text = issue_at(&query, "servers[0].url", 2);
    assert!(
        text.contains("carries the parameter `api_secret`, which holds a secret"),
        "{text}"
    );
    assert!(
        text.contains("write `url: wss://lk.example.com/?room=a`"),
        "{text}"
    );

    let metrics = errors_of(&format!(
        "{}    metrics_url: http://10.0.0.5:6789/metrics?token={URL_SECRET}\n",
        server("ws://127.0.0.1:7880")
    ));
    let text = issue_at(&metrics, "servers[0].metrics_url", 5);
    assert!(
        text.contains("metrics_username and metrics_password"),
        "{text}"
    );

    let url_key: KeyPath = "servers[0].url".parse().unwrap();
    let from_variable = load_with(
        &server("ws://127.0.0.1:7880"),
        &[Override::text(
            url_key.clone(),
            format!("https://{URL_SECRET}@lk.example.com"),
            Origin::Env("LIVEKIT_URL".into()),
        )],
    )
    .expect_err("refused");
    let text = from_variable.to_string();
    assert!(
        text.contains("environment variable LIVEKIT_URL: servers[0].url:"),
        "{text}"
    );
    assert!(
        text.contains("set LIVEKIT_URL=https://lk.example.com"),
        "{text}"
    );

    let from_flag = load_with(
        &server("ws://127.0.0.1:7880"),
        &[Override::text(
            url_key,
            format!("lk.example.com?access_token={URL_SECRET}"),
            Origin::Flag("--url".into()),
        )],
    )
    .expect_err("refused");
    let text = from_flag.to_string();
    assert!(
        text.contains("command-line flag --url: servers[0].url:"),
        "{text}"
    );
    assert!(text.contains("use --url lk.example.com"), "{text}");

    let home = lk_home(&format!(
        "projects:\n  - name: leaky\n    url: https://k:{URL_SECRET}@leaky.example.com\n    \
         api_key: k\n    api_secret: {SECRET}\n"
    ));
    let from_project =
        load_projects("", chosen(home.path(), &by_flag("leaky")), Vec::new()).expect_err("refused");
    let text = from_project.to_string();
    assert!(
        text.contains("~/.livekit/cli-config.yaml:3:10 (lk project leaky): servers[0].url:"),
        "{text}"
    );

    for error in [
        credentials,
        query,
        metrics,
        from_variable,
        from_flag,
        from_project,
    ] {
        let shown = format!("{error}\n{error:?}");
        assert!(!shown.contains(URL_SECRET), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

/// A line is quoted under a problem with it, unless it may hold a secret: a YAML syntax error
/// on `api_secret:`'s line, or a misspelt secret key, whose value is then no known secret.
#[test]
fn a_line_that_may_hold_a_secret_is_never_quoted() {
    let syntax = errors_of(&format!(
        "servers:\n  - url: ws://127.0.0.1:7880\n    api_key: k\n    \
         api_secret: \"{SECRET}\" trailing\n"
    ));
    let misspelt = errors_of(&format!(
        "servers:\n  - url: ws://127.0.0.1:7880\n    api_key: k\n    \
         api_secert: {SECRET}\n    api_secret: s\n"
    ));
    assert!(
        misspelt
            .to_string()
            .contains("did you mean `servers[0].api_secret`?"),
        "{misspelt}"
    );
    let home = lk_home(&format!(
        "projects:\n  - name: a\n    api_secret: \"{SECRET}\" trailing\n"
    ));
    let lk_syntax = LkCliConfig::read_in_home(home.path()).expect_err("not YAML");
    for error in [syntax, misspelt, lk_syntax] {
        let shown = format!("{error}\n{error:?}");
        assert!(error.issues[0].origin.position().is_some(), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[test]
fn the_metrics_interval_defaults_to_the_monitoring_interval() {
    let quality = Config::default().quality_monitoring;
    assert_eq!(quality.metrics_interval(), Duration::from_secs(10));
    let loaded = load_yaml("quality_monitoring:\n  metrics_interval: 3s\n").unwrap();
    assert_eq!(
        loaded.config.quality_monitoring.metrics_interval(),
        Duration::from_secs(3)
    );
}

// ---------------------------------------------------------------------------------------------
// `lk` projects (`~/.livekit/cli-config.yaml`) beneath lktop's own configuration

/// `lk`'s file as `lk project add` writes it: `staging` (the default) at lines 3-7, `prod` at
/// lines 8-11.
fn lk_file() -> String {
    format!(
        "default_project: staging\nprojects:\n  - name: staging\n    project_id: p_abc\n    \
         url: wss://staging.example.com\n    api_key: APIstaging\n    api_secret: {SECRET}\n  \
         - name: prod\n    url: https://prod.example.com\n    api_key: APIprod\n    \
         api_secret: {SECRET}\n"
    )
}

/// A home directory holding `text` as `lk`'s file.
fn lk_home(text: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".livekit")).unwrap();
    std::fs::write(home.path().join(".livekit/cli-config.yaml"), text).unwrap();
    home
}

fn by_flag(name: &str) -> ProjectChoice {
    ProjectChoice::Named {
        name: name.to_owned(),
        origin: Origin::Flag("--project".into()),
    }
}

fn chosen(home: &Path, choice: &ProjectChoice) -> Vec<LkProject> {
    LkCliConfig::read_in_home(home)
        .expect("lk's file reads")
        .choose(choice)
        .expect("the project exists")
}

/// lktop's file `text` (none when empty), `projects` beneath it, `overrides` above it.
fn load_projects(
    text: &str,
    projects: Vec<LkProject>,
    overrides: Vec<Override>,
) -> Result<LoadedConfig, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let file = (!text.is_empty()).then(|| {
        let path = dir.path().join(FILE);
        std::fs::write(&path, text).unwrap();
        path
    });
    load(&ConfigSources {
        file,
        overrides,
        lk_projects: projects,
    })
}

#[test]
fn a_chosen_project_is_watched_as_a_server_named_after_it() {
    let home = lk_home(&lk_file());
    let loaded = load_projects("", chosen(home.path(), &by_flag("prod")), Vec::new()).unwrap();
    let [server] = loaded.config.servers.as_slice() else {
        panic!("one server expected: {:?}", loaded.config.servers)
    };
    assert_eq!(server.name, "prod");
    assert_eq!(server.url, "https://prod.example.com");
    assert_eq!(server.api_key, "APIprod");
    assert_eq!(server.api_secret().unwrap().expose_secret(), SECRET);
}

#[test]
fn every_project_becomes_a_server_after_those_of_the_file() {
    let home = lk_home(&lk_file());
    let all = ProjectChoice::All {
        origin: Origin::Flag("--all-projects".into()),
    };
    let text = "servers:\n  - name: mine\n    url: ws://127.0.0.1:7880\n    api_key: k\n    \
                api_secret: s\n";
    let loaded = load_projects(text, chosen(home.path(), &all), Vec::new()).unwrap();
    let names: Vec<&str> = loaded
        .config
        .servers
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["mine", "staging", "prod"]);
}

#[test]
fn lktops_server_of_the_same_name_keeps_its_keys_and_the_project_fills_the_rest() {
    let home = lk_home(&lk_file());
    let text = "servers:\n  - name: staging\n    url: ws://127.0.0.1:7880\n";
    let loaded = load_projects(text, chosen(home.path(), &by_flag("staging")), Vec::new()).unwrap();
    let [server] = loaded.config.servers.as_slice() else {
        panic!("the project is the file's server, not a second one")
    };
    assert_eq!(server.url, "ws://127.0.0.1:7880", "lktop's file wins");
    assert_eq!(
        server.api_key, "APIstaging",
        "the project fills what it leaves out"
    );
    assert_eq!(server.api_secret().unwrap().expose_secret(), SECRET);
    let key_origin = loaded
        .applied
        .iter()
        .find(|entry| entry.to_string().starts_with("servers[0].api_key"))
        .expect("the project's key is an applied value")
        .to_string();
    assert!(
        key_origin.ends_with("(from ~/.livekit/cli-config.yaml:6:14 (lk project staging))"),
        "{key_origin}"
    );
}

#[test]
fn livekit_variables_win_over_a_project_and_say_so() {
    let home = lk_home(&lk_file());
    let loaded = load_projects(
        "",
        chosen(home.path(), &by_flag("staging")),
        livekit_env("ws://from-env:7880"),
    )
    .unwrap();
    let server = &loaded.config.servers[0];
    assert_eq!(server.name, "staging");
    assert_eq!(server.url, "ws://from-env:7880");
    assert_eq!(server.api_key, "APIkey");
    let warnings = loaded.warnings.join("\n");
    assert_says(
        &warnings,
        &[
            "environment variable LIVEKIT_URL replaces the servers[0].url that \
             ~/.livekit/cli-config.yaml:5:10 (lk project staging) gives",
            "environment variable LIVEKIT_API_SECRET replaces",
        ],
    );
    assert!(!warnings.contains(SECRET), "{warnings}");
}

#[test]
fn a_bad_value_from_a_project_is_placed_in_lks_file() {
    let home = lk_home(&lk_file().replace("https://prod.example.com", "ftp://prod.example.com"));
    let error = load_projects("", chosen(home.path(), &by_flag("prod")), Vec::new()).unwrap_err();
    assert_says(
        &error.to_string(),
        &["~/.livekit/cli-config.yaml:9:10 (lk project prod): servers[0].url"],
    );
}

#[test]
fn an_unknown_project_is_refused_with_the_known_names() {
    let home = lk_home(&lk_file());
    let file = LkCliConfig::read_in_home(home.path()).unwrap();
    let text = file.choose(&by_flag("Prod")).unwrap_err().to_string();
    assert_says(
        &text,
        &[
            "command-line flag --project: no `lk` project is named `Prod`",
            "did you mean `prod`?",
            "staging (default), prod",
        ],
    );
    let far = file.choose(&by_flag("qa")).unwrap_err().to_string();
    assert_says(&far, &["use one of: staging (default), prod"]);
}

#[test]
fn no_file_is_no_projects_and_asking_for_one_says_where_lk_keeps_them() {
    let home = tempfile::tempdir().unwrap();
    let file = LkCliConfig::read_in_home(home.path()).expect("a missing file is no error");
    assert!(file.projects().is_empty());
    let text = file.choose(&by_flag("staging")).unwrap_err().to_string();
    assert_says(
        &text,
        &[
            "~/.livekit/cli-config.yaml does not exist",
            "lk project add",
        ],
    );
}

#[test]
fn a_malformed_lk_file_names_the_file_the_line_the_key_and_the_fix() {
    let home = lk_home("projects:\n  - name: a\n    url: [not, text]\n  - url: ws://x\n");
    let error = LkCliConfig::read_in_home(home.path()).unwrap_err();
    let text = error.to_string();
    assert_says(
        &text,
        &[
            "~/.livekit/cli-config.yaml:3:10: projects[0].url: is not text",
            "~/.livekit/cli-config.yaml:4:5: projects[1]: has no `name:`",
            "help: give it `name: …`",
            "lk project list",
        ],
    );
    let syntax = lk_home("projects:\n  - name: a\n   url: : x\n");
    let text = LkCliConfig::read_in_home(syntax.path())
        .unwrap_err()
        .to_string();
    assert_says(&text, &["~/.livekit/cli-config.yaml:3:", "not valid YAML"]);
    let not_a_list = lk_home("projects: 3\n");
    let text = LkCliConfig::read_in_home(not_a_list.path())
        .unwrap_err()
        .to_string();
    assert_says(
        &text,
        &["~/.livekit/cli-config.yaml:1:11: projects: is not a list of projects"],
    );
}

#[test]
fn a_projects_secret_never_shows_in_debug_or_messages() {
    let home = lk_home(&lk_file());
    let file = LkCliConfig::read_in_home(home.path()).unwrap();
    let projects = chosen(home.path(), &by_flag("staging"));
    let sources = ConfigSources {
        file: None,
        overrides: livekit_env("ws://from-env:7880"),
        lk_projects: projects.clone(),
    };
    let loaded = load_projects("", projects, Vec::new()).unwrap();
    let shown = [
        format!("{file:?}"),
        format!("{sources:?}"),
        format!("{loaded:?}"),
        file.listing(&["staging"]),
        render_masked(&loaded.config),
    ];
    for text in &shown {
        assert!(!text.contains(SECRET), "{text}");
    }
    assert_says(
        &shown[3],
        &[
            "#   staging: url wss://staging.example.com, api_key APIstaging, api_secret ********, \
             project_id p_abc  [default, watched]",
            "#   prod: url https://prod.example.com, api_key APIprod, api_secret ********\n",
        ],
    );
}

#[test]
fn lifecycle_rules_and_alerts_are_off_by_default_and_read_with_per_room_overrides() {
    let defaults = Config::default().room_limits;
    assert_eq!(defaults.lifecycle.solo_timeout, LifecycleLimit::Off);
    assert_eq!(defaults.lifecycle.empty_timeout, LifecycleLimit::Off);
    assert_eq!(defaults.lifecycle.max_duration, LifecycleLimit::Off);
    assert_eq!(defaults.lifecycle.enforcement, EnforcementMode::Observe);
    assert!(defaults.alerts.room_recreated);
    assert_eq!(defaults.alerts.count_collapse_fraction, None);
    assert_eq!(defaults.alerts.count_collapse_min, 10);

    let loaded = load_yaml(
        "room_limits:\n  lifecycle:\n    solo_timeout: 5m\n    empty_timeout: 600\n    \
         max_duration: 4h\n    enforcement: enforce\n  alerts:\n    \
         count_collapse_fraction: 0.5\n  overrides:\n    town-hall:\n      solo_timeout: off\n      \
         max_duration: 8h\n",
    )
    .expect("valid lifecycle rules");
    let limits = loaded.config.room_limits;
    let after = |secs| LifecycleLimit::After(ConfigDuration::from_secs(secs));
    assert_eq!(limits.lifecycle.solo_timeout, after(300));
    assert_eq!(limits.lifecycle.empty_timeout, after(600));
    assert_eq!(limits.lifecycle.max_duration, after(4 * 3600));
    assert_eq!(limits.lifecycle.enforcement, EnforcementMode::Enforce);
    assert_eq!(limits.alerts.count_collapse_fraction, Some(0.5));
    let town_hall = limits.overrides["town-hall"];
    assert_eq!(town_hall.solo_timeout, Some(LifecycleLimit::Off));
    assert_eq!(town_hall.empty_timeout, None, "the global rule applies");
    assert_eq!(town_hall.max_duration, Some(after(8 * 3600)));
    let rules = lktop::lifecycle::rules_for(&limits, "town-hall");
    assert_eq!(rules.solo_timeout, None);
    assert_eq!(rules.empty_timeout, Some(Duration::from_secs(600)));
    assert_eq!(rules.max_duration, Some(Duration::from_secs(8 * 3600)));
}

#[test]
fn lifecycle_rules_and_alerts_that_cannot_work_are_refused_where_written_with_the_fix() {
    let error = errors_of(
        "polling:\n  interval: 5s\nroom_limits:\n  lifecycle:\n    solo_timeout: 500ms\n    \
         empty_timeout: 2s\n    max_duration: forever\n  alerts:\n    \
         count_collapse_fraction: 1.0\n    count_collapse_min: 0\n  overrides:\n    lobby:\n      \
         solo_timeout: 0s\n",
    );
    assert_eq!(error.issues.len(), 6, "{error}");
    let solo = issue_at(&error, "room_limits.lifecycle.solo_timeout", 5);
    assert_says(
        &solo,
        &[
            "500ms is shorter than a second",
            "allowed 1s up to a year, or `off`",
            "write 1s or more",
        ],
    );
    let empty = issue_at(&error, "room_limits.lifecycle.empty_timeout", 6);
    assert_says(
        &empty,
        &[
            "2s is shorter than polling.interval (5s)",
            "allowed 5s up to a year, or `off`",
            "set it to 5s or more",
        ],
    );
    let max = issue_at(&error, "room_limits.lifecycle.max_duration", 7);
    assert_says(
        &max,
        &["`forever` is not a duration", "or `off` for no rule"],
    );
    let fraction = issue_at(&error, "room_limits.alerts.count_collapse_fraction", 9);
    assert_says(
        &fraction,
        &[
            "1 would report no drop at all",
            "less than 1.0",
            "0.5 means more than half",
        ],
    );
    let min = issue_at(&error, "room_limits.alerts.count_collapse_min", 10);
    assert_says(&min, &["0 is out of range; allowed 1..=1000000"]);
    let lobby = issue_at(&error, "room_limits.overrides.lobby.solo_timeout", 13);
    assert_says(&lobby, &["zero", "or `off` for no rule"]);

    let out_of_range = errors_of("room_limits:\n  alerts:\n    count_collapse_fraction: 1.5\n");
    let text = issue_at(
        &out_of_range,
        "room_limits.alerts.count_collapse_fraction",
        3,
    );
    assert_says(&text, &["1.5 is out of range; allowed 0.0..=1.0"]);
}

/// The original Python optimizer's `config/performance.yaml`, exactly as its documentation
/// gives it: bare-number durations, `quality_thresholds` with `poor`, no servers.
const ORIGINAL_FILE: &str = include_str!("fixtures/original_performance.yaml");

#[test]
fn the_original_optimizers_file_loads_unchanged_value_by_value() {
    let loaded = load_yaml(ORIGINAL_FILE).expect("the original file loads");
    let config = &loaded.config;
    let pool = &config.connection_pool;
    assert_eq!(pool.pool_size, 5);
    assert_eq!(pool.max_pool_size, 10);
    assert_eq!(pool.health_check_interval.get(), Duration::from_secs(30));
    assert_eq!(pool.connection_timeout.get(), Duration::from_secs(10));
    assert_eq!(pool.max_reconnect_attempts, 5);
    assert_eq!(pool.reconnect_base_delay.get(), Duration::from_secs(1));
    let limits = &config.room_limits;
    assert_eq!(limits.max_concurrent_rooms, 10);
    assert_eq!(limits.max_participants_per_room, 50);
    assert_eq!(limits.max_audio_tracks_per_room, 20);
    assert_eq!(limits.max_video_tracks_per_room, 10);
    let audio = &config.audio_optimization;
    assert_eq!(audio.target_latency_ms, 50);
    assert_eq!(audio.buffer_size_ms, 20);
    assert_eq!(audio.jitter_buffer_ms, 100);
    assert!(audio.echo_cancellation && audio.noise_suppression && audio.auto_gain_control);
    let quality = &config.quality_monitoring;
    assert_eq!(quality.monitoring_interval.get(), Duration::from_secs(10));
    assert!((quality.min_success_rate - 0.95).abs() < f64::EPSILON);
    let thresholds = quality.thresholds;
    assert!((thresholds.excellent - 0.9).abs() < f64::EPSILON);
    assert!((thresholds.good - 0.7).abs() < f64::EPSILON);
    assert!((thresholds.fair - 0.5).abs() < f64::EPSILON);
    assert_eq!(thresholds.poor, Some(0.5));
    // No servers: the URL and keys come from the environment, or the demo runs.
    assert!(config.servers.is_empty());
    // Everything it does not write is lktop's default.
    let defaults = Config::default();
    assert_eq!(config.polling, defaults.polling);
    assert_eq!(
        pool.reconnect_max_delay.get(),
        defaults.connection_pool.reconnect_max_delay.get()
    );
    // The former name is a note at its line, never a warning or an error.
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.notes.len(), 1, "{:?}", loaded.notes);
    assert!(
        loaded.notes[0].starts_with(&format!(
            "{FILE}:30:3: quality_monitoring.quality_thresholds"
        )) && loaded.notes[0].contains("quality_monitoring.thresholds"),
        "{}",
        loaded.notes[0]
    );
}

#[test]
fn poor_is_checked_against_fair_and_placed_under_the_name_the_file_wrote() {
    let error = errors_of(&ORIGINAL_FILE.replace("poor: 0.5", "poor: 0.6"));
    let text = issue_at(&error, "quality_monitoring.quality_thresholds.poor", 34);
    assert!(text.contains("0.6 is above fair (0.5)"), "{text}");
    assert!(text.contains("write at most 0.5"), "{text}");
    let error = errors_of(&ORIGINAL_FILE.replace("poor: 0.5", "poor: 1.5"));
    issue_at(&error, "quality_monitoring.quality_thresholds.poor", 34);
    let both = format!("{ORIGINAL_FILE}  thresholds:\n    fair: 0.4\n");
    let error = errors_of(&both);
    let text = issue_at(&error, "quality_monitoring.quality_thresholds", 30);
    assert!(text.contains("keep only `thresholds`"), "{text}");
    // Today's name loads as before, with no note.
    let current = load_yaml("quality_monitoring:\n  thresholds:\n    fair: 0.4\n    poor: 0.3\n")
        .expect("today's name");
    assert!(current.notes.is_empty());
}
