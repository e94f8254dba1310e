//! The typed configuration: one struct per section of `config/performance.yaml`, with the defaults
//! that apply when a key is left out.
//!
//! Every section is `#[serde(default)]` so a file only needs the keys it changes. Unknown keys are
//! not refused here (serde would stop at the first one); the loader collects them all, with a
//! did-you-mean, through `serde_ignored`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use yaml_located::{ConfigDuration, KeyPath};

use super::key_list::KeyList;
use super::lifecycle_limit::LifecycleLimit;
use super::node_urls::{MetricsUrls, RedisUrl};

pub use super::mask::MASK;

/// Whether `key` holds a secret (a server's `api_secret`), whose value is never printed, echoed
/// or read as YAML.
#[must_use]
pub fn is_secret_key(key: &KeyPath) -> bool {
    key.leaf().is_some_and(is_secret_leaf)
}

/// Whether the line that sets `key` may be quoted in an error: not for a secret, nor for
/// `redis_url`, which may hold a password.
#[must_use]
pub(crate) fn line_may_be_shown(key: &KeyPath) -> bool {
    !is_secret_key(key) && key.leaf() != Some("redis_url")
}

/// Whether a key named `leaf` (`api_secret`, `metrics_password`) holds a secret.
#[must_use]
pub(crate) fn is_secret_leaf(leaf: &str) -> bool {
    SECRET_KEYS.contains(&leaf)
}

/// The keys of a server entry whose values are secrets.
pub(crate) const SECRET_KEYS: [&str; 2] = ["api_secret", "metrics_password"];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// LiveKit servers to watch. Empty means "no server configured": the dashboard then starts
    /// the built-in sandbox.
    pub servers: Vec<ServerConfig>,
    pub connection_pool: PoolConfig,
    pub room_limits: RoomLimitsConfig,
    pub audio_optimization: AudioProfile,
    pub quality_monitoring: QualityConfig,
    pub polling: PollingConfig,
    pub metrics: MetricsConfig,
    pub webhooks: WebhooksConfig,
    pub history: HistoryConfig,
    /// Limits on the media plane each node must stay within (loss, RTT, jitter, quality, CPU,
    /// failed joins); checked and reported, never enforced.
    pub media_limits: MediaLimitsConfig,
    /// Dashboard key bindings by action name (`freeze: "ctrl+f"`); each entry replaces that
    /// action's default keys. Kept as written: the dashboard's key map parses and checks it.
    pub keys: BTreeMap<String, KeyList>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Label shown on screen and in metrics; derived from the URL's host when left empty.
    pub name: String,
    /// `ws://`, `wss://`, `http://` or `https://`, as `lk` and the SDKs accept it.
    pub url: String,
    pub api_key: String,
    #[serde(serialize_with = "serialize_masked")]
    pub api_secret: Option<SecretString>,
    /// livekit-server's Prometheus endpoint (its `prometheus: {port}`): one URL, or one per
    /// node of a cluster. Unset: no media-plane figures.
    pub metrics_url: MetricsUrls,
    /// Basic auth of that endpoint (livekit-server's `prometheus: {username, password}`).
    pub metrics_username: Option<String>,
    #[serde(serialize_with = "serialize_masked")]
    pub metrics_password: Option<SecretString>,
    /// The Redis a multi-node deployment shares, read (never written) for its node registry:
    /// each node's state, region and load. Unset: no registry.
    pub redis_url: Option<RedisUrl>,
}

impl ServerConfig {
    /// The secret, for the one place that needs it: signing request tokens.
    #[must_use]
    pub fn api_secret(&self) -> Option<&SecretString> {
        self.api_secret.as_ref()
    }

    /// The metrics endpoint's password, for the one place that sends it.
    #[must_use]
    pub fn metrics_password(&self) -> Option<&SecretString> {
        self.metrics_password.as_ref()
    }

    #[must_use]
    pub(crate) fn has_secret(&self) -> bool {
        self.api_secret
            .as_ref()
            .is_some_and(|secret| !secret.expose_secret().is_empty())
    }
}

// `Option<SecretString>` must still say whether a secret is set, or check-config could not
// show that one is missing.
#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with hands over &Option<T>"
)]
fn serialize_masked<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) if !secret.expose_secret().is_empty() => serializer.serialize_str(MASK),
        _ => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct PoolConfig {
    /// Connections opened at start and kept open.
    pub pool_size: u32,
    /// The pool grows up to this many connections while callers wait for one.
    pub max_pool_size: u32,
    /// How often each idle connection is checked with a cheap call.
    pub health_check_interval: ConfigDuration,
    /// Longest wait for a free connection, and the timeout of each API request.
    pub connection_timeout: ConfigDuration,
    /// Reconnect attempts before a connection is marked Failed.
    pub max_reconnect_attempts: u32,
    /// First reconnect delay; doubles with each attempt (full jitter).
    pub reconnect_base_delay: ConfigDuration,
    /// Ceiling of the reconnect delay.
    pub reconnect_max_delay: ConfigDuration,
    /// Connections above `pool_size` are closed after being idle this long.
    pub idle_timeout: ConfigDuration,
    /// Reconnection attempts per second across every server and connection (more while
    /// other requests get answers); attempts over it wait.
    pub reconnect_budget: u32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            pool_size: 5,
            max_pool_size: 10,
            health_check_interval: ConfigDuration::from_secs(30),
            connection_timeout: ConfigDuration::from_secs(10),
            max_reconnect_attempts: 5,
            reconnect_base_delay: ConfigDuration::from_secs(1),
            reconnect_max_delay: ConfigDuration::from_secs(30),
            idle_timeout: ConfigDuration::from_secs(60),
            reconnect_budget: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMode {
    /// Report violations as events and metrics; change nothing on the server.
    #[default]
    Observe,
    /// Refuse, mute and remove to bring rooms back within their limits.
    Enforce,
}

impl EnforcementMode {
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Enforce => "enforce",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RoomLimitsConfig {
    pub max_concurrent_rooms: u32,
    pub max_participants_per_room: u32,
    pub max_audio_tracks_per_room: u32,
    pub max_video_tracks_per_room: u32,
    pub enforcement: EnforcementMode,
    /// How long a room may stay solo or empty, and live at all; with its own enforcement.
    pub lifecycle: LifecycleConfig,
    /// What lktop reports about rooms and never acts on.
    pub alerts: RoomAlertsConfig,
    /// Per-room limits keyed by room name; each key left out falls back to the global value.
    pub overrides: BTreeMap<String, RoomLimitOverride>,
}

impl Default for RoomLimitsConfig {
    fn default() -> Self {
        Self {
            max_concurrent_rooms: 10,
            max_participants_per_room: 50,
            max_audio_tracks_per_room: 20,
            max_video_tracks_per_room: 10,
            enforcement: EnforcementMode::Observe,
            lifecycle: LifecycleConfig::default(),
            alerts: RoomAlertsConfig::default(),
            overrides: BTreeMap::new(),
        }
    }
}

/// Room lifecycle rules livekit-server has none of: every rule is `off` unless set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LifecycleConfig {
    /// A room with exactly one participant, or with agents and nobody else, for longer than
    /// this.
    pub solo_timeout: LifecycleLimit,
    /// A room with nobody in it for longer than this (livekit-server's own `empty_timeout`
    /// is the room's; this one is seen from outside, by polling).
    pub empty_timeout: LifecycleLimit,
    /// A room older than this, from its creation time.
    pub max_duration: LifecycleLimit,
    /// `observe` reports a room past a rule; `enforce` also deletes it. Apart from the
    /// participant and track limits' `enforcement`: deleting a room ends it for everyone.
    pub enforcement: EnforcementMode,
}

/// Alerts about rooms: said once when seen, never acted on.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RoomAlertsConfig {
    /// A room whose sid changed under the same name between two polls: it was recreated and
    /// the previous instance's state is gone (livekit/livekit#4316).
    pub room_recreated: bool,
    /// A room's (or the server's) participant count dropping by more than this share between
    /// two polls; unset: not watched.
    pub count_collapse_fraction: Option<f64>,
    /// Counts below this before the drop are not reported.
    pub count_collapse_min: u32,
}

impl Default for RoomAlertsConfig {
    fn default() -> Self {
        Self {
            room_recreated: true,
            count_collapse_fraction: None,
            count_collapse_min: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RoomLimitOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_audio_tracks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_video_tracks: Option<u32>,
    /// The lifecycle rules of this room: a duration, or `off`; left out, the global rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solo_timeout: Option<LifecycleLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_timeout: Option<LifecycleLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<LifecycleLimit>,
}

/// Audio settings lktop writes into a room's metadata for the clients of that room to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct AudioProfile {
    pub target_latency_ms: u32,
    pub buffer_size_ms: u32,
    pub jitter_buffer_ms: u32,
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub auto_gain_control: bool,
}

impl Default for AudioProfile {
    fn default() -> Self {
        Self {
            target_latency_ms: 50,
            buffer_size_ms: 20,
            jitter_buffer_ms: 100,
            echo_cancellation: true,
            noise_suppression: true,
            auto_gain_control: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct QualityConfig {
    pub monitoring_interval: ConfigDuration,
    /// Below this success rate a connection is never graded better than fair.
    pub min_success_rate: f64,
    pub thresholds: QualityThresholds,
    /// How often the servers' Prometheus endpoints and node registry are read; unset means
    /// `monitoring_interval`.
    pub metrics_interval: Option<ConfigDuration>,
    /// A node whose registry entry has not been updated for this long is reported stale
    /// (livekit-server's own `stats_max_delay` is 30 s).
    pub node_stale_after: ConfigDuration,
    /// How long the API's room and participant counts and the nodes' own may disagree before
    /// lktop reports it.
    pub count_drift_after: ConfigDuration,
}

impl QualityConfig {
    /// `metrics_interval`, or `monitoring_interval`.
    #[must_use]
    pub fn metrics_interval(&self) -> std::time::Duration {
        self.metrics_interval
            .unwrap_or(self.monitoring_interval)
            .get()
    }
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self {
            monitoring_interval: ConfigDuration::from_secs(10),
            min_success_rate: 0.95,
            thresholds: QualityThresholds::default(),
            metrics_interval: None,
            node_stale_after: ConfigDuration::from_secs(30),
            count_drift_after: ConfigDuration::from_secs(30),
        }
    }
}

/// Per-node media limits; `null` leaves a figure unchecked. Breaches are reported with the
/// room-limit violations; nothing is enforced (the API has no lever over them).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct MediaLimitsConfig {
    /// Incoming packet loss, percent.
    pub max_packet_loss_pct: Option<f64>,
    pub max_rtt_p95_ms: Option<f64>,
    pub max_jitter_p95_ms: Option<f64>,
    /// The median of livekit's quality score (MOS, 1.0–4.5).
    pub min_quality_score_p50: Option<f64>,
    /// The server process's CPU, percent of one core.
    pub max_cpu_pct: Option<f64>,
    /// The registry's `cpu_load` (0–1, all cores).
    pub max_cpu_load: Option<f64>,
    pub max_join_failures_per_s: Option<f64>,
}

impl Default for MediaLimitsConfig {
    fn default() -> Self {
        Self {
            max_packet_loss_pct: Some(5.0),
            max_rtt_p95_ms: Some(400.0),
            max_jitter_p95_ms: Some(50.0),
            min_quality_score_p50: Some(3.0),
            max_cpu_pct: None,
            max_cpu_load: Some(0.9),
            max_join_failures_per_s: Some(1.0),
        }
    }
}

/// Lowest quality score (0..1) of each grade; anything below `fair` is poor.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct QualityThresholds {
    pub excellent: f64,
    pub good: f64,
    pub fair: f64,
    /// The original optimizer's own bound of `poor`. Every score below `fair` is poor, so it
    /// is read, checked (at most `fair`) and changes nothing; its files keep loading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poor: Option<f64>,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        Self {
            excellent: 0.9,
            good: 0.7,
            fair: 0.5,
            poor: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct PollingConfig {
    /// How often rooms and their participants are read (one ListRooms, then ListParticipants
    /// per room through the pool).
    pub interval: ConfigDuration,
    /// Requests polling may send one server per second, ListRooms included; `0` reads every
    /// room's participants every interval whatever that costs.
    pub max_requests_per_second: u32,
    /// The age no room's participant list may pass while the budget allows it; when the
    /// budget cannot cover every room within it, lktop says so with the figure that would.
    pub max_staleness: ConfigDuration,
    /// How often the ingress list and agent dispatches are read (active egress is read every
    /// `interval`, with one call per server whatever the number of rooms).
    pub jobs_interval: ConfigDuration,
}

impl PollingConfig {
    /// ListParticipants calls one poll may make: `None` for no budget (every room).
    #[must_use]
    pub fn reads_per_interval(&self) -> Option<usize> {
        if self.max_requests_per_second == 0 {
            return None;
        }
        let requests = f64::from(self.max_requests_per_second) * self.interval.get().as_secs_f64();
        // Validation keeps this at 2 or more: ListRooms and one room.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a positive figure far below usize::MAX, floored on purpose"
        )]
        let requests = requests.floor() as usize;
        Some(requests.saturating_sub(1).max(1))
    }
}

impl Default for PollingConfig {
    fn default() -> Self {
        Self {
            interval: ConfigDuration::from_secs(2),
            max_requests_per_second: 50,
            max_staleness: ConfigDuration::from_secs(30),
            jobs_interval: ConfigDuration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct HistoryConfig {
    /// Finished rooms the dashboard keeps (the oldest go first).
    pub max_rooms: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self { max_rooms: 1000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// Where lktop takes LiveKit webhooks (the URL in livekit-server's `webhook.urls`);
    /// unset means none are taken and only polling is used.
    pub listen: Option<SocketAddr>,
    /// How long webhooks and polling may disagree before lktop reports drift; unset means
    /// two polling intervals.
    pub drift_after: Option<ConfigDuration>,
    /// Connections the listener holds open at once; one more is closed as soon as it is
    /// accepted.
    pub max_connections: u32,
    /// How long a request's headers may take to arrive (and a kept-alive connection may sit
    /// idle) before the listener closes the connection.
    pub header_read_timeout: ConfigDuration,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            listen: None,
            drift_after: None,
            // livekit-server sends each webhook on its own request, a few at a time per node.
            max_connections: 1024,
            header_read_timeout: ConfigDuration::from_secs(10),
        }
    }
}

impl WebhooksConfig {
    /// `drift_after`, or two polling intervals.
    #[must_use]
    pub fn drift_after(&self, polling: &PollingConfig) -> std::time::Duration {
        self.drift_after
            .map_or_else(|| polling.interval.get() * 2, ConfigDuration::get)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Where `/metrics` is served in Prometheus text format; unset means no metrics endpoint.
    pub listen: Option<SocketAddr>,
    /// Connections the endpoint holds open at once; one more is closed as soon as it is
    /// accepted.
    pub max_connections: u32,
    /// How long a request's headers may take to arrive (and a kept-alive connection may sit
    /// idle) before the endpoint closes the connection.
    pub header_read_timeout: ConfigDuration,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: None,
            // A scraper or two, each on one kept-alive connection.
            max_connections: 256,
            header_read_timeout: ConfigDuration::from_secs(10),
        }
    }
}
