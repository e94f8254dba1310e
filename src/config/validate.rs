//! Refuses configurations that cannot work. Each check names the key, the bad value and what is
//! allowed; all checks run so every problem is reported at once.

use std::collections::HashMap;
use std::fmt;
use std::ops::RangeInclusive;

use super::lifecycle_limit::LifecycleLimit;
use super::schema::{
    Config, MediaLimitsConfig, PollingConfig, PoolConfig, QualityConfig, RoomLimitsConfig,
    ServerConfig,
};
use yaml_located::{KeyPath, Segment};

pub(crate) const POOL_SIZE: RangeInclusive<u32> = 1..=256;
pub(crate) const MAX_POOL_SIZE: RangeInclusive<u32> = 1..=1024;
pub(crate) const RECONNECT_ATTEMPTS: RangeInclusive<u32> = 1..=1000;
pub(crate) const RECONNECT_BUDGET: RangeInclusive<u32> = 1..=10_000;
pub(crate) const ROOM_LIMIT: RangeInclusive<u32> = 1..=1_000_000;
pub(crate) const REQUESTS_PER_SECOND: RangeInclusive<u32> = 0..=1_000_000;
pub(crate) const HISTORY_ROOMS: RangeInclusive<u32> = 1..=1_000_000;
pub(crate) const COLLAPSE_MIN: RangeInclusive<u32> = 1..=1_000_000;
/// Open connections of lktop's own listeners: at least one, and fewer than the file
/// descriptors a process is usually allowed.
pub(crate) const LISTENER_CONNECTIONS: RangeInclusive<u32> = 1..=100_000;
/// How long a request head may take: a second is time enough on loopback and a LAN; five
/// minutes is what a client on the slowest link could want.
const HEADER_READ_TIMEOUT: RangeInclusive<std::time::Duration> =
    std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(300);
/// The shortest lifecycle rule: rooms are judged, and violations reported, in whole seconds.
const LIFECYCLE_MIN: std::time::Duration = std::time::Duration::from_secs(1);
pub const TARGET_LATENCY_MS: RangeInclusive<u32> = 10..=1000;
pub const BUFFER_SIZE_MS: RangeInclusive<u32> = 1..=500;
pub const JITTER_BUFFER_MS: RangeInclusive<u32> = 0..=2000;
/// livekit-server's `limit.max_room_name_length`.
pub(crate) const MAX_ROOM_NAME_LENGTH: usize = 256;

/// What a numeric key accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Allowed {
    WholeNumber(RangeInclusive<u32>),
    /// 0.0..=1.0.
    Fraction,
}

impl Allowed {
    /// The range alone, as range messages quote it: `1..=256`, `0.0..=1.0`.
    #[must_use]
    pub(crate) fn range(&self) -> String {
        match self {
            Self::WholeNumber(range) => format!("{}..={}", range.start(), range.end()),
            Self::Fraction => "0.0..=1.0".to_owned(),
        }
    }
}

/// `a whole number in 1..=256`, `a number in 0.0..=1.0`.
impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WholeNumber(_) => write!(f, "a whole number in {}", self.range()),
            Self::Fraction => write!(f, "a number in {}", self.range()),
        }
    }
}

/// Every numeric key with what it accepts, the one place these ranges are tied to keys:
/// [`validate`] checks values against it, and the loader quotes it when a value is not even a
/// number of the right kind. `*` stands for any one key (a room name).
const NUMERIC_KEYS: [(&str, Allowed); 25] = [
    ("connection_pool.pool_size", Allowed::WholeNumber(POOL_SIZE)),
    (
        "connection_pool.max_pool_size",
        Allowed::WholeNumber(MAX_POOL_SIZE),
    ),
    (
        "connection_pool.max_reconnect_attempts",
        Allowed::WholeNumber(RECONNECT_ATTEMPTS),
    ),
    (
        "connection_pool.reconnect_budget",
        Allowed::WholeNumber(RECONNECT_BUDGET),
    ),
    (
        "room_limits.max_concurrent_rooms",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.max_participants_per_room",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.max_audio_tracks_per_room",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.max_video_tracks_per_room",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.overrides.*.max_participants",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.overrides.*.max_audio_tracks",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.overrides.*.max_video_tracks",
        Allowed::WholeNumber(ROOM_LIMIT),
    ),
    (
        "room_limits.alerts.count_collapse_min",
        Allowed::WholeNumber(COLLAPSE_MIN),
    ),
    (
        "room_limits.alerts.count_collapse_fraction",
        Allowed::Fraction,
    ),
    (
        "audio_optimization.target_latency_ms",
        Allowed::WholeNumber(TARGET_LATENCY_MS),
    ),
    (
        "audio_optimization.buffer_size_ms",
        Allowed::WholeNumber(BUFFER_SIZE_MS),
    ),
    (
        "audio_optimization.jitter_buffer_ms",
        Allowed::WholeNumber(JITTER_BUFFER_MS),
    ),
    (
        "polling.max_requests_per_second",
        Allowed::WholeNumber(REQUESTS_PER_SECOND),
    ),
    ("history.max_rooms", Allowed::WholeNumber(HISTORY_ROOMS)),
    (
        "metrics.max_connections",
        Allowed::WholeNumber(LISTENER_CONNECTIONS),
    ),
    (
        "webhooks.max_connections",
        Allowed::WholeNumber(LISTENER_CONNECTIONS),
    ),
    ("quality_monitoring.min_success_rate", Allowed::Fraction),
    ("quality_monitoring.thresholds.excellent", Allowed::Fraction),
    ("quality_monitoring.thresholds.good", Allowed::Fraction),
    ("quality_monitoring.thresholds.fair", Allowed::Fraction),
    ("quality_monitoring.thresholds.poor", Allowed::Fraction),
];

/// What the numeric key `key` accepts; `None` for a key that is not a number.
#[must_use]
pub(crate) fn allowed(key: &KeyPath) -> Option<Allowed> {
    NUMERIC_KEYS.iter().find_map(|(pattern, allowed)| {
        let mut segments = key.segments().iter();
        let matches = pattern.split('.').all(|part| match segments.next() {
            Some(Segment::Key(name)) => part == "*" || part == name,
            _ => false,
        }) && segments.next().is_none();
        matches.then(|| allowed.clone())
    })
}

/// One failed check, before it is tied to a file position or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: KeyPath,
    pub problem: String,
    pub help: Option<String>,
    /// A value that would work, for a fix written the way the value was given (the file's
    /// line, the environment variable, the flag).
    pub suggested_value: Option<String>,
}

#[derive(Default)]
struct Checks(Vec<Violation>);

impl Checks {
    fn fail(&mut self, key: KeyPath, problem: String, help: Option<String>) {
        self.0.push(Violation {
            key,
            problem,
            help,
            suggested_value: None,
        });
    }

    /// Checks `value` against the range [`NUMERIC_KEYS`] gives `key`.
    fn in_range(&mut self, key: KeyPath, value: u32) {
        let Some(Allowed::WholeNumber(range)) = allowed(&key) else {
            debug_assert!(false, "{key} has no whole-number range in NUMERIC_KEYS");
            return;
        };
        if !range.contains(&value) {
            let allowed = Allowed::WholeNumber(range).range();
            self.fail(
                key,
                format!("{value} is out of range; allowed {allowed}"),
                None,
            );
        }
    }

    /// Whether `value` is within what [`NUMERIC_KEYS`] allows `key` (a fraction).
    fn is_fraction(key: &KeyPath, value: f64) -> bool {
        debug_assert_eq!(allowed(key), Some(Allowed::Fraction), "{key}");
        (0.0..=1.0).contains(&value)
    }
}

#[must_use]
pub fn validate(config: &Config) -> Vec<Violation> {
    let mut checks = Checks::default();
    validate_servers(&config.servers, &mut checks);
    validate_node_sources(&config.servers, &mut checks);
    validate_media_limits(&config.media_limits, &mut checks);
    validate_pool(&config.connection_pool, &mut checks);
    validate_room_limits(&config.room_limits, &mut checks);
    validate_lifecycle(&config.room_limits, &config.polling, &mut checks);
    validate_alerts(&config.room_limits, &mut checks);
    validate_audio(config, &mut checks);
    validate_quality(&config.quality_monitoring, &mut checks);
    validate_polling(&config.polling, &mut checks);
    validate_webhooks(config, &mut checks);
    checks.in_range(
        KeyPath::root().key("history").key("max_rooms"),
        config.history.max_rooms,
    );
    for (section, max_connections, header_read_timeout) in [
        (
            "metrics",
            config.metrics.max_connections,
            config.metrics.header_read_timeout,
        ),
        (
            "webhooks",
            config.webhooks.max_connections,
            config.webhooks.header_read_timeout,
        ),
    ] {
        let at = KeyPath::root().key(section);
        checks.in_range(at.clone().key("max_connections"), max_connections);
        if !HEADER_READ_TIMEOUT.contains(&header_read_timeout.get()) {
            checks.fail(
                at.key("header_read_timeout"),
                format!("{header_read_timeout} is out of range; allowed 1s..=5m"),
                Some("e.g. 10s: time for a slow client's headers, not for a slowloris".to_owned()),
            );
        }
    }
    if let Some(listen) = config.metrics.listen
        && listen.port() == 0
    {
        checks.fail(
            KeyPath::root().key("metrics").key("listen"),
            format!("{listen} has port 0, which Prometheus cannot scrape"),
            Some("pick a fixed port, e.g. 127.0.0.1:9464".to_owned()),
        );
    }
    checks.0
}

fn validate_webhooks(config: &Config, checks: &mut Checks) {
    let Some(listen) = config.webhooks.listen else {
        return;
    };
    let at = KeyPath::root().key("webhooks").key("listen");
    if listen.port() == 0 {
        checks.fail(
            at.clone(),
            format!("{listen} has port 0, which livekit-server cannot be told to send to"),
            Some("pick a fixed port, e.g. 127.0.0.1:8090".to_owned()),
        );
    }
    // A webhook is routed by the key that signed it: two servers with one key cannot be told
    // apart.
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    for (index, server) in config.servers.iter().enumerate() {
        if let Some(&first) = first_with_key.get(server.api_key.as_str()) {
            checks.fail(
                KeyPath::root().key("servers").index(index).key("api_key"),
                format!(
                    "{} and {} share api_key {:?}, so their webhooks cannot be told apart",
                    describe_server(&config.servers, first),
                    describe_server(&config.servers, index),
                    server.api_key
                ),
                Some(
                    "give each server its own key (livekit-server's `keys`), or unset \
                     webhooks.listen"
                        .to_owned(),
                ),
            );
        } else {
            first_with_key.insert(&server.api_key, index);
        }
    }
}

fn validate_polling(polling: &PollingConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("polling");
    checks.in_range(
        at.clone().key("max_requests_per_second"),
        polling.max_requests_per_second,
    );
    let interval = polling.interval.get();
    let rate = polling.max_requests_per_second;
    if rate > 0 && f64::from(rate) * interval.as_secs_f64() < 2.0 {
        let least = (2.0 / interval.as_secs_f64()).ceil();
        checks.fail(
            at.clone().key("max_requests_per_second"),
            format!(
                "{rate} per second allows fewer than 2 requests per polling.interval of {} \
                 (ListRooms and one ListParticipants)",
                polling.interval
            ),
            Some(format!(
                "allow at least {least} per second, lengthen polling.interval, or set 0 for no budget"
            )),
        );
    }
    if polling.jobs_interval.get() < interval {
        checks.fail(
            at.clone().key("jobs_interval"),
            format!(
                "{} is shorter than polling.interval ({}); ingress and dispatches are read \
                 less often than rooms",
                polling.jobs_interval, polling.interval
            ),
            Some(format!("set it to {} or more", polling.interval)),
        );
    }
    if polling.max_staleness.get() < interval {
        checks.fail(
            at.key("max_staleness"),
            format!(
                "{} is shorter than polling.interval ({}), so no room could meet it",
                polling.max_staleness, polling.interval
            ),
            Some(format!("set it to {} or more", polling.interval)),
        );
    }
}

fn validate_servers(servers: &[ServerConfig], checks: &mut Checks) {
    let mut first_with_name: HashMap<&str, usize> = HashMap::new();
    let mut first_with_base: HashMap<String, usize> = HashMap::new();
    for (index, server) in servers.iter().enumerate() {
        let at = KeyPath::root().key("servers").index(index);
        if let Some(base) = validate_url(&server.url, at.clone().key("url"), checks) {
            match first_with_base.get(base.as_str()) {
                Some(&first) => checks.fail(
                    at.clone().key("url"),
                    format!(
                        "{} and {} both watch {}",
                        describe_server(servers, first),
                        describe_server(servers, index),
                        base.trim_end_matches('/')
                    ),
                    Some("list each server once: remove one entry, or correct its URL".to_owned()),
                ),
                None => {
                    first_with_base.insert(base, index);
                }
            }
        }
        if server.api_key.trim().is_empty() {
            checks.fail(
                at.clone().key("api_key"),
                "is missing".to_owned(),
                Some(
                    "set api_key for this server, or export LIVEKIT_API_KEY for the first server"
                        .to_owned(),
                ),
            );
        }
        if !server.has_secret() {
            checks.fail(
                at.clone().key("api_secret"),
                "is missing".to_owned(),
                Some(
                    "export LIVEKIT_API_SECRET (first server), or set api_secret in a file only \
                     you can read (chmod 600)"
                        .to_owned(),
                ),
            );
        }
        if !server.name.is_empty()
            && let Some(first) = first_with_name.insert(&server.name, index)
        {
            checks.fail(
                at.key("name"),
                format!("`{}` is already the name of servers[{first}]", server.name),
                Some("give every server its own name".to_owned()),
            );
        }
    }
}

/// `servers[1] (staging)`, or `servers[1]` while it has no name yet.
fn describe_server(servers: &[ServerConfig], index: usize) -> String {
    match servers.get(index).map(|server| server.name.trim()) {
        Some(name) if !name.is_empty() => format!("servers[{index}] ({name})"),
        _ => format!("servers[{index}]"),
    }
}

/// Checks a server URL with the API layer's own rules; returns the base URL every call would
/// go to, so that two spellings of one server (`ws://` and `http://`, a default port written
/// out) compare equal.
fn validate_url(text: &str, key: KeyPath, checks: &mut Checks) -> Option<String> {
    if text.trim().is_empty() {
        checks.fail(
            key,
            "is missing".to_owned(),
            Some(
                "set the server's URL, e.g. wss://my-project.livekit.cloud or ws://localhost:7880 \
                 (or export LIVEKIT_URL for the first server)"
                    .to_owned(),
            ),
        );
        return None;
    }
    if let Some(secret) = crate::api::secret_in_url(text) {
        checks.0.push(secret_in_url_violation(key, text, &secret));
        return None;
    }
    let err = match crate::api::server_base_url(text) {
        Ok(base) => return Some(base.to_string()),
        Err(err) => err,
    };
    if let Some(with_scheme) = with_scheme(text) {
        checks.0.push(Violation {
            key,
            problem: format!("`{}` has no scheme", text.trim()),
            help: Some(
                "a LiveKit URL starts with ws://, wss://, http:// or https://, e.g. \
                 wss://my-project.livekit.cloud"
                    .to_owned(),
            ),
            suggested_value: Some(with_scheme),
        });
        return None;
    }
    let problem = match err {
        crate::api::BuildError::InvalidUrl(reason) => reason,
        other => other.to_string(),
    };
    checks.fail(
        key,
        problem,
        Some("write it like wss://my-project.livekit.cloud or ws://localhost:7880".to_owned()),
    );
    None
}

/// A URL that carries a secret (`http://key:secret@host`, `?api_secret=…`): shown masked,
/// with the URL to write instead and where the secret goes.
fn secret_in_url_violation(key: KeyPath, text: &str, secret: &crate::api::UrlSecret) -> Violation {
    let where_it_goes = if key.leaf() == Some("metrics_url") {
        "credentials go in metrics_username and metrics_password"
    } else {
        "the API key and secret go in api_key and api_secret (or LIVEKIT_API_KEY and \
         LIVEKIT_API_SECRET), never in the URL"
    };
    Violation {
        key,
        problem: format!(
            "`{}` carries {secret}; a URL is shown in errors, logs, events and on screen, so \
             lktop takes no secret in one",
            crate::api::redacted_url(text)
        ),
        help: Some(where_it_goes.to_owned()),
        suggested_value: crate::api::without_secrets(text),
    }
}

/// `127.0.0.1:7880` as the URL it most likely means, when that URL works: `http://` for a
/// server on this machine or a private network (a development server rarely has TLS),
/// `https://` for anything else.
fn with_scheme(text: &str) -> Option<String> {
    let text = text.trim();
    if text.contains("://") {
        return None;
    }
    let host = match text.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => text.split([':', '/']).next().unwrap_or_default(),
    };
    let local = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    let candidate = format!("{}://{text}", if local { "http" } else { "https" });
    crate::api::server_base_url(&candidate)
        .is_ok()
        .then_some(candidate)
}

/// Checks that need to see what was written rather than what it decoded to: a server's
/// `name: ""` decodes to the same empty name as a server without a `name`, which is then
/// named after its URL.
#[must_use]
pub(crate) fn validate_written(tree: &serde_yaml::Value) -> Vec<Violation> {
    let mut checks = Checks::default();
    let servers = tree.get("servers").and_then(serde_yaml::Value::as_sequence);
    for (index, server) in servers.into_iter().flatten().enumerate() {
        if let Some(name) = server.get("name").and_then(serde_yaml::Value::as_str)
            && name.trim().is_empty()
        {
            checks.fail(
                KeyPath::root().key("servers").index(index).key("name"),
                "is blank".to_owned(),
                Some(
                    "give the server a name, or leave `name` out to name it after its URL's host"
                        .to_owned(),
                ),
            );
        }
    }
    checks.0
}

fn validate_pool(pool: &PoolConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("connection_pool");
    checks.in_range(at.clone().key("pool_size"), pool.pool_size);
    checks.in_range(at.clone().key("max_pool_size"), pool.max_pool_size);
    if pool.max_pool_size < pool.pool_size {
        checks.fail(
            at.clone().key("max_pool_size"),
            format!(
                "{} is smaller than pool_size ({}); allowed {}..={}",
                pool.max_pool_size,
                pool.pool_size,
                pool.pool_size,
                MAX_POOL_SIZE.end()
            ),
            Some("raise max_pool_size or lower pool_size".to_owned()),
        );
    }
    checks.in_range(
        at.clone().key("max_reconnect_attempts"),
        pool.max_reconnect_attempts,
    );
    checks.in_range(at.clone().key("reconnect_budget"), pool.reconnect_budget);
    if pool.reconnect_max_delay < pool.reconnect_base_delay {
        checks.fail(
            at.key("reconnect_max_delay"),
            format!(
                "{} is shorter than reconnect_base_delay ({})",
                pool.reconnect_max_delay, pool.reconnect_base_delay
            ),
            Some("the cap must be at least the first delay".to_owned()),
        );
    }
}

fn validate_room_limits(limits: &RoomLimitsConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("room_limits");
    for (key, value) in [
        ("max_concurrent_rooms", limits.max_concurrent_rooms),
        (
            "max_participants_per_room",
            limits.max_participants_per_room,
        ),
        (
            "max_audio_tracks_per_room",
            limits.max_audio_tracks_per_room,
        ),
        (
            "max_video_tracks_per_room",
            limits.max_video_tracks_per_room,
        ),
    ] {
        checks.in_range(at.clone().key(key), value);
    }
    for (room, limit) in &limits.overrides {
        let room_at = at.clone().key("overrides").key(room.clone());
        if room.is_empty() || room.chars().count() > MAX_ROOM_NAME_LENGTH {
            checks.fail(
                room_at.clone(),
                format!("a room name must have 1..={MAX_ROOM_NAME_LENGTH} characters"),
                None,
            );
        }
        for (key, value) in [
            ("max_participants", limit.max_participants),
            ("max_audio_tracks", limit.max_audio_tracks),
            ("max_video_tracks", limit.max_video_tracks),
        ] {
            if let Some(value) = value {
                checks.in_range(room_at.clone().key(key), value);
            }
        }
    }
}

/// A lifecycle rule shorter than a poll could not be seen to last: a room would be in
/// violation (or deleted) at the first poll that found it solo or empty.
fn validate_lifecycle(limits: &RoomLimitsConfig, polling: &PollingConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("room_limits");
    let lifecycle = &limits.lifecycle;
    let mut rules = vec![
        (
            at.clone().key("lifecycle").key("solo_timeout"),
            lifecycle.solo_timeout,
        ),
        (
            at.clone().key("lifecycle").key("empty_timeout"),
            lifecycle.empty_timeout,
        ),
        (
            at.clone().key("lifecycle").key("max_duration"),
            lifecycle.max_duration,
        ),
    ];
    for (room, limit) in &limits.overrides {
        let room_at = at.clone().key("overrides").key(room.clone());
        for (key, value) in [
            ("solo_timeout", limit.solo_timeout),
            ("empty_timeout", limit.empty_timeout),
            ("max_duration", limit.max_duration),
        ] {
            if let Some(value) = value {
                rules.push((room_at.clone().key(key), value));
            }
        }
    }
    let interval = polling.interval;
    for (key, rule) in rules {
        let LifecycleLimit::After(after) = rule else {
            continue;
        };
        if after.get() < LIFECYCLE_MIN {
            checks.fail(
                key,
                format!(
                    "{after} is shorter than a second; lifecycle rules count whole seconds, \
                     allowed 1s up to a year, or `off`"
                ),
                Some("write 1s or more, or `off`".to_owned()),
            );
        } else if after < interval {
            checks.fail(
                key,
                format!(
                    "{after} is shorter than polling.interval ({interval}), so no poll could see \
                     a room last that long; allowed {interval} up to a year, or `off`"
                ),
                Some(format!(
                    "set it to {interval} or more, shorten polling.interval, or write `off`"
                )),
            );
        }
    }
}

fn validate_alerts(limits: &RoomLimitsConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("room_limits").key("alerts");
    let alerts = &limits.alerts;
    checks.in_range(
        at.clone().key("count_collapse_min"),
        alerts.count_collapse_min,
    );
    let Some(fraction) = alerts.count_collapse_fraction else {
        return;
    };
    let key = at.key("count_collapse_fraction");
    let help = Some(
        "write the share of participants that must go between two polls: 0.5 means more than \
         half; leave it out (or `null`) to watch no collapse"
            .to_owned(),
    );
    if !Checks::is_fraction(&key, fraction) {
        checks.fail(
            key,
            format!(
                "{fraction} is out of range; allowed {}",
                Allowed::Fraction.range()
            ),
            help,
        );
    } else if fraction <= 0.0 || fraction >= 1.0 {
        checks.fail(
            key,
            format!(
                "{fraction} would report {}; allowed more than 0.0 and less than 1.0",
                if fraction <= 0.0 {
                    "every drop"
                } else {
                    "no drop at all"
                }
            ),
            help,
        );
    }
}

fn validate_audio(config: &Config, checks: &mut Checks) {
    let audio = &config.audio_optimization;
    let at = KeyPath::root().key("audio_optimization");
    checks.in_range(at.clone().key("target_latency_ms"), audio.target_latency_ms);
    checks.in_range(at.clone().key("buffer_size_ms"), audio.buffer_size_ms);
    if audio.buffer_size_ms > audio.target_latency_ms {
        checks.fail(
            at.clone().key("buffer_size_ms"),
            format!(
                "{} ms is more than target_latency_ms ({} ms)",
                audio.buffer_size_ms, audio.target_latency_ms
            ),
            Some("one audio buffer cannot be longer than the latency it must meet".to_owned()),
        );
    }
    checks.in_range(at.key("jitter_buffer_ms"), audio.jitter_buffer_ms);
}

/// `metrics_url`, its credentials and `redis_url` of every server.
fn validate_node_sources(servers: &[ServerConfig], checks: &mut Checks) {
    for (index, server) in servers.iter().enumerate() {
        let at = KeyPath::root().key("servers").index(index);
        let many = server.metrics_url.0.len() > 1;
        let mut seen = std::collections::HashSet::new();
        for (position, text) in server.metrics_url.iter().enumerate() {
            let key = if many {
                at.clone().key("metrics_url").index(position)
            } else {
                at.clone().key("metrics_url")
            };
            if let Some(secret) = crate::api::secret_in_url(text) {
                checks.0.push(secret_in_url_violation(key, text, &secret));
            } else if let Some(problem) = metrics_url_problem(text) {
                checks.fail(
                    key,
                    problem,
                    Some(
                        "write livekit-server's Prometheus endpoint, e.g. http://10.0.0.5:6789/metrics; \
                         credentials go in metrics_username and metrics_password"
                            .to_owned(),
                    ),
                );
            } else if !seen.insert(text.trim_end_matches('/')) {
                checks.fail(
                    key,
                    format!("`{text}` is listed twice"),
                    Some("list each node's endpoint once".to_owned()),
                );
            }
        }
        let has_password = server
            .metrics_password
            .as_ref()
            .is_some_and(|secret| !secrecy::ExposeSecret::expose_secret(secret).is_empty());
        let has_username = server
            .metrics_username
            .as_deref()
            .is_some_and(|name| !name.is_empty());
        if has_password != has_username {
            let (missing, present) = if has_password {
                ("metrics_username", "metrics_password")
            } else {
                ("metrics_password", "metrics_username")
            };
            checks.fail(
                at.clone().key(missing),
                format!("is missing while {present} is set"),
                Some(
                    "basic auth needs both (livekit-server's prometheus.username and \
                     prometheus.password), or neither"
                        .to_owned(),
                ),
            );
        }
        if (has_password || has_username) && server.metrics_url.is_empty() {
            checks.fail(
                at.clone().key("metrics_url"),
                "is missing while metrics credentials are set".to_owned(),
                Some("set metrics_url, or remove metrics_username and metrics_password".to_owned()),
            );
        }
        if let Some(redis) = &server.redis_url
            && let Some(problem) = redis_url_problem(redis.expose())
        {
            checks.fail(
                at.key("redis_url"),
                problem,
                Some(
                    "write the Redis livekit-server's `redis:` section names, e.g. \
                     redis://10.0.0.7:6379 or rediss://:password@redis.internal:6380/0"
                        .to_owned(),
                ),
            );
        }
    }
}

/// A URL that carries a secret is refused before this (`secret_in_url_violation`); the text
/// is still quoted masked, since text that is not a URL at all may hold one.
fn metrics_url_problem(text: &str) -> Option<String> {
    let shown = crate::api::redacted_url(text);
    let url = match url::Url::parse(text.trim()) {
        Ok(url) => url,
        Err(err) => return Some(format!("`{shown}` is not a URL ({err})")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!(
            "`{shown}` must start with http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some(format!("`{shown}` has no host"));
    }
    None
}

/// The URL is never quoted: it may hold a password.
fn redis_url_problem(text: &str) -> Option<String> {
    let Ok(url) = url::Url::parse(text.trim()) else {
        return Some("is not a URL".to_owned());
    };
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Some(format!(
            "must start with redis:// or rediss://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some("has no host".to_owned());
    }
    let database = url.path().trim_start_matches('/');
    if !database.is_empty() && database.parse::<u32>().is_err() {
        return Some(format!(
            "names database `{database}`; Redis databases are numbers (/0, /1, …)"
        ));
    }
    None
}

fn validate_media_limits(limits: &MediaLimitsConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("media_limits");
    let ranges: [(&str, Option<f64>, RangeInclusive<f64>, &str); 7] = [
        (
            "max_packet_loss_pct",
            limits.max_packet_loss_pct,
            0.0..=100.0,
            "0..=100 (percent)",
        ),
        (
            "max_rtt_p95_ms",
            limits.max_rtt_p95_ms,
            1.0..=60_000.0,
            "1..=60000 (ms)",
        ),
        (
            "max_jitter_p95_ms",
            limits.max_jitter_p95_ms,
            1.0..=60_000.0,
            "1..=60000 (ms)",
        ),
        (
            "min_quality_score_p50",
            limits.min_quality_score_p50,
            1.0..=4.5,
            "1.0..=4.5 (livekit's MOS scale)",
        ),
        (
            "max_cpu_pct",
            limits.max_cpu_pct,
            1.0..=100_000.0,
            "1..=100000 (percent of one core)",
        ),
        (
            "max_cpu_load",
            limits.max_cpu_load,
            0.01..=1.0,
            "0.01..=1.0 (share of all cores)",
        ),
        (
            "max_join_failures_per_s",
            limits.max_join_failures_per_s,
            0.0..=1_000_000.0,
            "0..=1000000 (per second)",
        ),
    ];
    for (key, value, range, allowed) in ranges {
        if let Some(value) = value
            && !(value.is_finite() && range.contains(&value))
        {
            checks.fail(
                at.clone().key(key),
                format!("{value} is out of range; allowed {allowed}"),
                Some("or `null` to leave it unchecked".to_owned()),
            );
        }
    }
}

fn validate_quality(quality: &QualityConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("quality_monitoring");
    let rate_at = at.clone().key("min_success_rate");
    if !Checks::is_fraction(&rate_at, quality.min_success_rate) {
        checks.fail(
            rate_at,
            format!(
                "{} is out of range; allowed {}",
                quality.min_success_rate,
                Allowed::Fraction.range()
            ),
            Some("write a fraction: 0.95 means 95 %".to_owned()),
        );
    }
    let thresholds = quality.thresholds;
    let at = at.key("thresholds");
    let mut all_in_unit = true;
    for (key, value) in [
        ("excellent", thresholds.excellent),
        ("good", thresholds.good),
        ("fair", thresholds.fair),
    ]
    .into_iter()
    .chain(thresholds.poor.map(|poor| ("poor", poor)))
    {
        let key = at.clone().key(key);
        if !Checks::is_fraction(&key, value) {
            all_in_unit = false;
            checks.fail(
                key,
                format!(
                    "{value} is out of range; allowed {}",
                    Allowed::Fraction.range()
                ),
                None,
            );
        }
    }
    if all_in_unit && !(thresholds.fair < thresholds.good && thresholds.good < thresholds.excellent)
    {
        checks.fail(
            at.clone(),
            format!(
                "thresholds are out of order: excellent {}, good {}, fair {}",
                thresholds.excellent, thresholds.good, thresholds.fair
            ),
            Some("they must satisfy 0 <= fair < good < excellent <= 1".to_owned()),
        );
    }
    if let Some(poor) = thresholds.poor
        && all_in_unit
        && poor > thresholds.fair
    {
        checks.fail(
            at.key("poor"),
            format!(
                "{poor} is above fair ({}); every score below fair is poor",
                thresholds.fair
            ),
            Some(format!(
                "write at most {}, or leave `poor` out: it changes no grade",
                thresholds.fair
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Origin, Override, load_text};

    #[test]
    fn every_numeric_key_is_checked_against_its_range_and_the_rest_have_none() {
        for (pattern, allowed) in NUMERIC_KEYS {
            let key: KeyPath = pattern.replace('*', "town-hall").parse().unwrap();
            assert_eq!(super::allowed(&key), Some(allowed.clone()), "{key}");
            let too_large = match &allowed {
                Allowed::WholeNumber(range) => (u64::from(*range.end()) + 1).to_string(),
                Allowed::Fraction => "1.5".to_owned(),
            };
            let flag = Override::yaml(key.clone(), &too_large, Origin::Flag("--set".into()));
            let error = load_text(None, None, &[flag]).expect_err(pattern);
            let issue = error
                .issues
                .iter()
                .find(|issue| issue.key.as_ref() == Some(&key))
                .unwrap_or_else(|| panic!("{key} is checked: {error}"));
            assert!(
                issue
                    .problem
                    .contains(&format!("out of range; allowed {}", allowed.range())),
                "{issue}"
            );
        }
        for other in [
            "polling.interval",
            "polling.max_staleness",
            "polling.jobs_interval",
            "room_limits.overrides",
            "metrics.listen",
        ] {
            assert_eq!(super::allowed(&other.parse().unwrap()), None, "{other}");
        }
    }

    #[test]
    fn a_budget_too_small_for_one_room_and_a_staleness_below_the_interval_are_refused() {
        let text =
            "polling:\n  interval: 1s\n  max_requests_per_second: 1\n  max_staleness: 500ms\n";
        let error = load_text(None, Some(text), &[]).expect_err("two problems");
        let problems: Vec<String> = error
            .issues
            .iter()
            .map(yaml_located::LocatedIssue::one_line)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains(
                "polling.max_requests_per_second: 1 per second allows fewer than 2 requests"
            ) && problems[0].contains("allow at least 2 per second"),
            "{problems:#?}"
        );
        assert!(
            problems[1]
                .contains("polling.max_staleness: 500ms is shorter than polling.interval (1s)"),
            "{problems:#?}"
        );
        let unlimited = "polling:\n  interval: 100ms\n  max_requests_per_second: 0\n";
        assert!(load_text(None, Some(unlimited), &[]).is_ok());
    }
}
