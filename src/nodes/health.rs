//! What lktop knows of one node of a server at one reading: the media plane from its
//! Prometheus endpoint, state and load from the node registry, merged by node id. These are
//! the `node_health` event's nodes, the Nodes screen's rows and the per-node Prometheus
//! figures lktop exports.

use serde::{Deserialize, Serialize};

/// Where a node's figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeSource {
    /// livekit-server's Prometheus endpoint (`metrics_url`).
    Metrics,
    /// The node registry in Redis (`redis_url`).
    Redis,
}

impl NodeSource {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metrics => "metrics",
            Self::Redis => "redis",
        }
    }

    /// The configuration key that enables it.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Metrics => "metrics_url",
            Self::Redis => "redis_url",
        }
    }
}

/// One node. Every figure is `None` (JSON `null`) where no source knows it; rates and
/// percentiles cover the interval since the previous scrape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeHealth {
    pub node_id: String,
    /// `SERVER` for livekit-server (the metrics' `node_type` label or the registry's type).
    pub node_type: Option<String>,
    /// The registry's state: `STARTING_UP`, `SERVING`, `SHUTTING_DOWN` (draining), `SUSPENDED`.
    pub state: Option<String>,
    pub region: Option<String>,
    pub rooms: Option<u64>,
    pub participants: Option<u64>,
    pub tracks_published: Option<u64>,
    pub tracks_subscribed: Option<u64>,
    pub bytes_in_per_s: Option<f64>,
    pub bytes_out_per_s: Option<f64>,
    pub packets_in_per_s: Option<f64>,
    pub packets_out_per_s: Option<f64>,
    /// 100 × lost ÷ (received first time + lost), incoming, over the interval.
    pub packet_loss_pct: Option<f64>,
    pub nack_per_s: Option<f64>,
    pub pli_per_s: Option<f64>,
    pub rtt_p50_ms: Option<f64>,
    pub rtt_p95_ms: Option<f64>,
    pub jitter_p95_ms: Option<f64>,
    /// Median of livekit's quality score (MOS, 1.0–4.5) over the interval.
    pub quality_score_p50: Option<f64>,
    pub join_failures_per_s: Option<f64>,
    pub twirp_errors_per_s: Option<f64>,
    /// The server process's CPU, percent of one core.
    pub cpu_pct: Option<f64>,
    pub rss_bytes: Option<u64>,
    /// The registry's `cpu_load`: share of all the node's cores, 0–1.
    pub cpu_load: Option<f64>,
    pub load_avg_1m: Option<f64>,
    pub load_avg_5m: Option<f64>,
    pub load_avg_15m: Option<f64>,
    pub num_cpus: Option<u32>,
    pub memory_used_bytes: Option<u64>,
    pub memory_total_bytes: Option<u64>,
    /// When the node last wrote its registry entry (Unix ms).
    pub registry_updated_at_ms: Option<i64>,
    /// The registry entry stopped advancing for `quality_monitoring.node_stale_after`: the
    /// node may be hung or gone without cleaning up.
    pub stale: bool,
    /// The endpoint the media figures were scraped from.
    pub metrics_url: Option<String>,
    /// Which sources filled this node.
    pub sources: Vec<NodeSource>,
}

impl NodeHealth {
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.state.as_deref() == Some("SHUTTING_DOWN")
    }
}

/// Whether a source of a server can be read, by the same rules as a server's API state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Up,
    /// No answer, or an answer that is not what the source should give (an HTML page, a
    /// 5xx, bad protobuf).
    Down,
    /// Refused for the credentials (401/403, Redis `NOAUTH`/`WRONGPASS`).
    Unauthenticated,
}

impl SourceState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}

/// One configured endpoint of a source (a metrics URL, the Redis) at the latest reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub source: NodeSource,
    /// The URL, any password masked.
    pub target: String,
    pub state: SourceState,
    /// Why it is not up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the reading took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_ms: Option<u64>,
}

/// How a node changed between two readings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum NodeChange {
    Appeared {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<String>,
    },
    Disappeared,
    State {
        from: Option<String>,
        to: Option<String>,
    },
    /// Its registry entry stopped advancing.
    Stale {
        updated_ago_ms: u64,
    },
    /// Its registry entry advances again.
    Fresh,
}

/// A per-node media limit exceeded in the latest reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaViolation {
    pub node_id: String,
    /// The `media_limits` key, e.g. `max_packet_loss_pct`.
    pub limit: String,
    pub value: f64,
    pub threshold: f64,
}

// A violation's figures are never NaN (a NaN breaks no limit), so equality is total.
impl Eq for MediaViolation {}

/// The API's and the nodes' counts of one server, when they disagree for longer than
/// `quality_monitoring.count_drift_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountDrift {
    pub api_rooms: u64,
    pub node_rooms: u64,
    pub api_participants: u64,
    pub node_participants: u64,
    /// How long they have disagreed.
    pub for_ms: u64,
}
