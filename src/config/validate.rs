//! Refuses configurations that cannot work. Each check names the key, the bad value and what is
//! allowed; all checks run so every problem is reported at once.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use super::key_path::KeyPath;
use super::schema::{Config, PoolConfig, QualityConfig, RoomLimitsConfig, ServerConfig};
use crate::keymap::{KeyList, Keymap};

pub const POOL_SIZE: RangeInclusive<u32> = 1..=256;
pub const MAX_POOL_SIZE: RangeInclusive<u32> = 1..=1024;
pub const RECONNECT_ATTEMPTS: RangeInclusive<u32> = 1..=1000;
pub const ROOM_LIMIT: RangeInclusive<u32> = 1..=1_000_000;
pub const TARGET_LATENCY_MS: RangeInclusive<u32> = 10..=1000;
pub const BUFFER_SIZE_MS: RangeInclusive<u32> = 1..=500;
pub const JITTER_BUFFER_MS: RangeInclusive<u32> = 0..=2000;
/// livekit-server's `limit.max_room_name_length`.
pub const MAX_ROOM_NAME_LENGTH: usize = 256;

/// One failed check, before it is tied to a file position or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: KeyPath,
    pub problem: String,
    pub help: Option<String>,
}

#[derive(Default)]
struct Checks(Vec<Violation>);

impl Checks {
    fn fail(&mut self, key: KeyPath, problem: String, help: Option<String>) {
        self.0.push(Violation { key, problem, help });
    }

    fn in_range(&mut self, key: KeyPath, value: u32, range: &RangeInclusive<u32>) {
        if !range.contains(&value) {
            self.fail(
                key,
                format!(
                    "{value} is out of range; allowed {}..={}",
                    range.start(),
                    range.end()
                ),
                None,
            );
        }
    }
}

#[must_use]
pub fn validate(config: &Config) -> Vec<Violation> {
    let mut checks = Checks::default();
    validate_servers(&config.servers, &mut checks);
    validate_pool(&config.connection_pool, &mut checks);
    validate_room_limits(&config.room_limits, &mut checks);
    validate_audio(config, &mut checks);
    validate_quality(&config.quality_monitoring, &mut checks);
    validate_keys(&config.keys, &mut checks);
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

fn validate_servers(servers: &[ServerConfig], checks: &mut Checks) {
    let mut first_with_name: HashMap<&str, usize> = HashMap::new();
    for (index, server) in servers.iter().enumerate() {
        let at = KeyPath::root().key("servers").index(index);
        validate_url(&server.url, at.clone().key("url"), checks);
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

fn validate_url(text: &str, key: KeyPath, checks: &mut Checks) {
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
        return;
    }
    if let Err(err) = crate::api::server_base_url(text) {
        let problem = match err {
            crate::api::BuildError::InvalidUrl(reason) => reason,
            other => other.to_string(),
        };
        checks.fail(
            key,
            problem,
            Some("write it like wss://my-project.livekit.cloud or ws://localhost:7880".to_owned()),
        );
    }
}

fn validate_pool(pool: &PoolConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("connection_pool");
    checks.in_range(at.clone().key("pool_size"), pool.pool_size, &POOL_SIZE);
    checks.in_range(
        at.clone().key("max_pool_size"),
        pool.max_pool_size,
        &MAX_POOL_SIZE,
    );
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
        &RECONNECT_ATTEMPTS,
    );
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
        checks.in_range(at.clone().key(key), value, &ROOM_LIMIT);
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
                checks.in_range(room_at.clone().key(key), value, &ROOM_LIMIT);
            }
        }
    }
}

fn validate_audio(config: &Config, checks: &mut Checks) {
    let audio = &config.audio_optimization;
    let at = KeyPath::root().key("audio_optimization");
    checks.in_range(
        at.clone().key("target_latency_ms"),
        audio.target_latency_ms,
        &TARGET_LATENCY_MS,
    );
    checks.in_range(
        at.clone().key("buffer_size_ms"),
        audio.buffer_size_ms,
        &BUFFER_SIZE_MS,
    );
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
    checks.in_range(
        at.key("jitter_buffer_ms"),
        audio.jitter_buffer_ms,
        &JITTER_BUFFER_MS,
    );
}

fn validate_quality(quality: &QualityConfig, checks: &mut Checks) {
    let at = KeyPath::root().key("quality_monitoring");
    let unit = |value: f64| (0.0..=1.0).contains(&value);
    if !unit(quality.min_success_rate) {
        checks.fail(
            at.clone().key("min_success_rate"),
            format!(
                "{} is out of range; allowed 0.0..=1.0",
                quality.min_success_rate
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
    ] {
        if !unit(value) {
            all_in_unit = false;
            checks.fail(
                at.clone().key(key),
                format!("{value} is out of range; allowed 0.0..=1.0"),
                None,
            );
        }
    }
    if all_in_unit && !(thresholds.fair < thresholds.good && thresholds.good < thresholds.excellent)
    {
        checks.fail(
            at,
            format!(
                "thresholds are out of order: excellent {}, good {}, fair {}",
                thresholds.excellent, thresholds.good, thresholds.fair
            ),
            Some("they must satisfy 0 <= fair < good < excellent <= 1".to_owned()),
        );
    }
}

/// Unknown action names, unreadable keys and keys bound twice where both actions can be on
/// screen; each problem points at the entry (or the list element) it is about.
fn validate_keys(keys: &BTreeMap<String, KeyList>, checks: &mut Checks) {
    let Err(problems) = Keymap::with_overrides(keys) else {
        return;
    };
    for problem in problems {
        let mut key = KeyPath::root().key("keys").key(problem.action_key);
        if let Some(index) = problem.index {
            key = key.index(index);
        }
        checks.fail(key, problem.problem, problem.help);
    }
}
