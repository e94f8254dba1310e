//! Prometheus metrics: pool, connection states, latency, success rate, quality, rooms,
//! participants, tracks and limit violations, labelled by server, served as text exposition at
//! `/metrics` when `metrics.listen` is set.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use guarded_listener::{GuardedBody, ListenerLimits};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

/// Content type of the Prometheus text format served by prometheus-client.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ServerLabel {
    pub(crate) server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StateLabel {
    pub(crate) server: String,
    pub(crate) state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CauseLabel {
    pub(crate) cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct KindLabel {
    pub(crate) server: String,
    pub(crate) kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TrackLabel {
    pub(crate) server: String,
    pub(crate) kind: String,
    pub(crate) muted: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct NodeLabel {
    pub(crate) server: String,
    pub(crate) node: String,
}

/// The per-node figures lktop exports, as `lktop_node_<name>`: the same figures as the
/// `node_health` event, so a dashboard on lktop's metrics reads what its screen shows.
/// A figure of a node, `None` where unknown.
type NodeFigure = fn(&crate::nodes::NodeHealth) -> Option<f64>;

const NODE_FIGURES: [(&str, &str, NodeFigure); 17] = [
    ("rooms", "Rooms on the node", |n| n.rooms.map(count)),
    ("participants", "Participants on the node", |n| {
        n.participants.map(count)
    }),
    ("tracks_published", "Tracks published to the node", |n| {
        n.tracks_published.map(count)
    }),
    (
        "tracks_subscribed",
        "Tracks the node forwards to subscribers",
        |n| n.tracks_subscribed.map(count),
    ),
    (
        "bytes_in_per_second",
        "Media bytes received per second",
        |n| n.bytes_in_per_s,
    ),
    ("bytes_out_per_second", "Media bytes sent per second", |n| {
        n.bytes_out_per_s
    }),
    (
        "packet_loss_percent",
        "Incoming packet loss over the latest interval",
        |n| n.packet_loss_pct,
    ),
    ("nacks_per_second", "NACKs per second", |n| n.nack_per_s),
    ("plis_per_second", "PLIs per second", |n| n.pli_per_s),
    (
        "rtt_p95_ms",
        "95th percentile of RTT over the latest interval",
        |n| n.rtt_p95_ms,
    ),
    (
        "jitter_p95_ms",
        "95th percentile of jitter over the latest interval",
        |n| n.jitter_p95_ms,
    ),
    (
        "quality_score_p50",
        "Median of livekit's quality score (MOS 1-4.5)",
        |n| n.quality_score_p50,
    ),
    (
        "join_failures_per_second",
        "Participant joins that failed, per second",
        |n| n.join_failures_per_s,
    ),
    (
        "twirp_errors_per_second",
        "Server API calls answered with an error, per second",
        |n| n.twirp_errors_per_s,
    ),
    (
        "cpu_percent",
        "The server process's CPU, percent of one core",
        |n| n.cpu_pct,
    ),
    (
        "cpu_load",
        "The node registry's cpu_load (0-1, all cores)",
        |n| n.cpu_load,
    ),
    ("draining", "1 while the node is SHUTTING_DOWN", |n| {
        n.state
            .as_ref()
            .map(|_| if n.is_draining() { 1.0 } else { 0.0 })
    }),
];

#[expect(
    clippy::cast_precision_loss,
    reason = "counts of rooms and tracks are far below 2^52"
)]
fn count(value: u64) -> f64 {
    value as f64
}

/// Gauges of one pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PoolFigures {
    pub(crate) total: u64,
    pub(crate) in_use: u64,
    pub(crate) healthy: u64,
    pub(crate) failed: u64,
    pub(crate) waiters: u64,
    pub(crate) max: u64,
}

/// Every lktop metric. Cheap to clone; all clones update the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pool_connections: Family<StateLabel, Gauge>,
    pool_waiters: Family<ServerLabel, Gauge>,
    pool_max: Family<ServerLabel, Gauge>,
    connection_states: Family<StateLabel, Gauge>,
    /// Reconnection attempts the process-wide budget deferred, and the budget's own count as
    /// last exported (every server's worker reports it; the highest seen is what counts).
    reconnect_deferred: Counter,
    reconnect_deferred_seen: Arc<AtomicU64>,
    request_latency: Family<ServerLabel, Histogram>,
    requests: Family<KindLabel, Counter>,
    success_rate: Family<ServerLabel, Gauge<f64, AtomicU64>>,
    quality_score: Family<ServerLabel, Gauge<f64, AtomicU64>>,
    rooms: Family<ServerLabel, Gauge>,
    participants: Family<ServerLabel, Gauge>,
    tracks: Family<TrackLabel, Gauge>,
    participants_read_age: Family<ServerLabel, Gauge<f64, AtomicU64>>,
    webhooks: Family<KindLabel, Counter>,
    webhooks_refused: Family<CauseLabel, Counter>,
    violations: Family<KindLabel, Counter>,
    active_violations: Family<KindLabel, Gauge>,
    enforcement_actions: Family<KindLabel, Counter>,
    /// Egress, ingress and dispatches by state, as the jobs watcher last read them.
    room_jobs: Family<KindLabel, Gauge>,
    /// Egress jobs seen ending failed, aborted or at their limit.
    egress_failures: Family<ServerLabel, Counter>,
    /// One family per entry of [`NODE_FIGURES`], in that order.
    node_figures: Vec<Family<NodeLabel, Gauge<f64, AtomicU64>>>,
    /// The nodes each server's families hold, so a node that left is removed.
    node_labels: Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<NodeLabel>>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[must_use]
    pub(crate) fn new() -> Self {
        let mut metrics = Self {
            registry: Arc::default(),
            pool_connections: Family::default(),
            pool_waiters: Family::default(),
            pool_max: Family::default(),
            connection_states: Family::default(),
            reconnect_deferred: Counter::default(),
            reconnect_deferred_seen: Arc::default(),
            // 1 ms .. ~33 s: loopback calls up to calls through a struggling proxy.
            request_latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 16))
            }),
            requests: Family::default(),
            success_rate: Family::default(),
            quality_score: Family::default(),
            rooms: Family::default(),
            participants: Family::default(),
            tracks: Family::default(),
            participants_read_age: Family::default(),
            webhooks: Family::default(),
            webhooks_refused: Family::default(),
            violations: Family::default(),
            active_violations: Family::default(),
            enforcement_actions: Family::default(),
            room_jobs: Family::default(),
            egress_failures: Family::default(),
            node_figures: NODE_FIGURES.iter().map(|_| Family::default()).collect(),
            node_labels: Arc::default(),
        };
        // The exposition lists metrics in the order they are registered: the pool's, the
        // requests', then the rooms'.
        let mut registry = Registry::with_prefix("lktop");
        metrics.register_pool(&mut registry);
        metrics.register_requests(&mut registry);
        metrics.register_rooms(&mut registry);
        for ((name, help, _), family) in NODE_FIGURES.iter().zip(&metrics.node_figures) {
            registry.register(format!("node_{name}"), *help, family.clone());
        }
        metrics.registry = Arc::new(registry);
        metrics
    }

    fn register_pool(&self, registry: &mut Registry) {
        registry.register(
            "pool_connections",
            "Pooled connections by use (in_use, idle) and health (healthy, failed)",
            self.pool_connections.clone(),
        );
        registry.register(
            "pool_waiters",
            "Callers waiting for a pooled connection",
            self.pool_waiters.clone(),
        );
        registry.register(
            "pool_max_connections",
            "Largest size the pool may grow to",
            self.pool_max.clone(),
        );
        registry.register(
            "connection_state",
            "Pooled connections in each reconnection state",
            self.connection_states.clone(),
        );
        registry.register(
            "reconnect_attempts_deferred",
            "Reconnection attempts held back by the reconnect budget (all servers)",
            self.reconnect_deferred.clone(),
        );
    }

    fn register_requests(&self, registry: &mut Registry) {
        registry.register(
            "request_latency_seconds",
            "RoomService request latency",
            self.request_latency.clone(),
        );
        registry.register(
            "requests",
            "RoomService requests by outcome (ok or the error kind)",
            self.requests.clone(),
        );
        registry.register(
            "success_rate",
            "Share of successful requests in the quality window (0..1)",
            self.success_rate.clone(),
        );
        registry.register(
            "quality_score",
            "Connection quality score (0..1)",
            self.quality_score.clone(),
        );
    }

    fn register_rooms(&self, registry: &mut Registry) {
        registry.register("rooms", "Open rooms", self.rooms.clone());
        registry.register(
            "participants",
            "Participants in all rooms",
            self.participants.clone(),
        );
        registry.register(
            "tracks",
            "Published tracks by kind and mute state",
            self.tracks.clone(),
        );
        registry.register(
            "participants_read_age_seconds",
            "Age of the oldest participant list held (the polling budget reads rooms in turn)",
            self.participants_read_age.clone(),
        );
        registry.register(
            "webhooks",
            "Webhooks by what became of them (taken, duplicate, out_of_order) and drift found",
            self.webhooks.clone(),
        );
        registry.register(
            "webhooks_refused",
            "Webhooks the listener refused, by cause (bad_signature, expired, too_large, ...)",
            self.webhooks_refused.clone(),
        );
        registry.register(
            "limit_violations",
            "Limit violations seen, counted once per poll in which they hold",
            self.violations.clone(),
        );
        registry.register(
            "active_limit_violations",
            "Limit violations in the latest snapshot",
            self.active_violations.clone(),
        );
        registry.register(
            "enforcement_actions",
            "Mutes, removals and room deletions lktop made to enforce limits",
            self.enforcement_actions.clone(),
        );
        registry.register(
            "room_jobs",
            "Egress, ingress and agent dispatches by kind and state (egress_recording, \
             egress_streaming, egress_failed, ingress, ingress_publishing, dispatches_pending)",
            self.room_jobs.clone(),
        );
        registry.register(
            "egress_failures",
            "Egress jobs seen ending failed, aborted or at their limit",
            self.egress_failures.clone(),
        );
    }

    fn server(server: &str) -> ServerLabel {
        ServerLabel {
            server: server.to_owned(),
        }
    }

    fn labelled(server: &str, name: &str) -> KindLabel {
        KindLabel {
            server: server.to_owned(),
            kind: name.to_owned(),
        }
    }

    pub(crate) fn set_pool(&self, server: &str, pool: PoolFigures) {
        let gauge = |state: &str, value: u64| {
            self.pool_connections
                .get_or_create(&StateLabel {
                    server: server.to_owned(),
                    state: state.to_owned(),
                })
                .set(to_i64(value));
        };
        gauge("in_use", pool.in_use);
        gauge("idle", pool.total.saturating_sub(pool.in_use));
        gauge("healthy", pool.healthy);
        gauge("failed", pool.failed);
        self.pool_waiters
            .get_or_create(&Self::server(server))
            .set(to_i64(pool.waiters));
        self.pool_max
            .get_or_create(&Self::server(server))
            .set(to_i64(pool.max));
    }

    /// Connections per reconnection state; states not given are set to zero.
    pub(crate) fn set_connection_states(&self, server: &str, counts: &[(&str, u64)]) {
        for state in [
            "disconnected",
            "connecting",
            "connected",
            "reconnecting",
            "failed",
        ] {
            let count = counts
                .iter()
                .find(|(name, _)| *name == state)
                .map_or(0, |(_, count)| *count);
            self.connection_states
                .get_or_create(&StateLabel {
                    server: server.to_owned(),
                    state: state.to_owned(),
                })
                .set(to_i64(count));
        }
    }

    /// One request's outcome: `ok`, or the error kind (`timeout`, `unauthenticated`, ...).
    pub(crate) fn observe_request(&self, server: &str, latency_seconds: f64, outcome: &str) {
        self.request_latency
            .get_or_create(&Self::server(server))
            .observe(latency_seconds);
        self.requests
            .get_or_create(&Self::labelled(server, outcome))
            .inc();
    }

    pub(crate) fn set_quality(&self, server: &str, success_rate: Option<f64>, score: Option<f64>) {
        if let Some(rate) = success_rate {
            self.success_rate
                .get_or_create(&Self::server(server))
                .set(rate);
        }
        if let Some(score) = score {
            self.quality_score
                .get_or_create(&Self::server(server))
                .set(score);
        }
    }

    pub(crate) fn set_rooms(&self, server: &str, snapshot: &crate::snapshot::Snapshot) {
        self.rooms
            .get_or_create(&Self::server(server))
            .set(to_i64(snapshot.rooms.len() as u64));
        self.participants
            .get_or_create(&Self::server(server))
            .set(to_i64(snapshot.participant_count()));
        let counts = snapshot.track_counts();
        for (kind, muted, value) in [
            ("audio", "false", counts.live_audio()),
            ("audio", "true", counts.audio_muted),
            ("video", "false", counts.live_video()),
            ("video", "true", counts.video_muted),
        ] {
            self.tracks
                .get_or_create(&TrackLabel {
                    server: server.to_owned(),
                    kind: kind.to_owned(),
                    muted: muted.to_owned(),
                })
                .set(i64::from(value));
        }
        // A room never read counts as read now: it has just appeared.
        let oldest = snapshot
            .oldest_read_at(snapshot.taken_at_ms)
            .unwrap_or(snapshot.taken_at_ms);
        #[expect(
            clippy::cast_precision_loss,
            reason = "milliseconds within a year are exact in an f64"
        )]
        let age = (snapshot.taken_at_ms - oldest).max(0) as f64 / 1000.0;
        self.participants_read_age
            .get_or_create(&Self::server(server))
            .set(age);
    }

    /// The latest reading of a server's nodes; a figure that is unknown is left out rather
    /// than exported as 0, and a node that left is removed.
    pub(crate) fn set_nodes(&self, server: &str, nodes: &[crate::nodes::NodeHealth]) {
        let labels: Vec<NodeLabel> = nodes
            .iter()
            .map(|node| NodeLabel {
                server: server.to_owned(),
                node: node.node_id.clone(),
            })
            .collect();
        let previous = self
            .node_labels
            .lock()
            .map(|mut held| held.insert(server.to_owned(), labels.clone()))
            .unwrap_or_default()
            .unwrap_or_default();
        for gone in previous.iter().filter(|label| !labels.contains(label)) {
            for family in &self.node_figures {
                family.remove(gone);
            }
        }
        for (node, label) in nodes.iter().zip(&labels) {
            for ((_, _, figure), family) in NODE_FIGURES.iter().zip(&self.node_figures) {
                match figure(node) {
                    Some(value) if value.is_finite() => {
                        family.get_or_create(label).set(value);
                    }
                    _ => {
                        family.remove(label);
                    }
                }
            }
        }
    }

    /// A server's jobs by kind and state, as just read.
    pub(crate) fn set_room_jobs(&self, server: &str, counts: &[(&str, u32)]) {
        for (kind, count) in counts {
            self.room_jobs
                .get_or_create(&Self::labelled(server, kind))
                .set(i64::from(*count));
        }
    }

    /// The reconnect budget's count of deferred attempts so far. Each server's worker reports
    /// the same process-wide count; only what it grew by since the highest report is added.
    pub(crate) fn track_reconnect_deferrals(&self, deferred_so_far: u64) {
        let before = self
            .reconnect_deferred_seen
            .fetch_max(deferred_so_far, std::sync::atomic::Ordering::Relaxed);
        if deferred_so_far > before {
            self.reconnect_deferred.inc_by(deferred_so_far - before);
        }
    }

    pub(crate) fn count_egress_failure(&self, server: &str) {
        self.egress_failures
            .get_or_create(&Self::server(server))
            .inc();
    }

    /// One webhook taken, dropped as a duplicate or out of order, or one drift found.
    pub(crate) fn count_webhook(&self, server: &str, kind: &str) {
        self.webhooks
            .get_or_create(&Self::labelled(server, kind))
            .inc();
    }

    /// One webhook refused by the listener.
    pub(crate) fn count_webhook_refused(&self, cause: &str) {
        self.webhooks_refused
            .get_or_create(&CauseLabel {
                cause: cause.to_owned(),
            })
            .inc();
    }

    /// The violations of the latest snapshot: counted, and the current number per kind.
    pub(crate) fn set_violations(&self, server: &str, violations: &[crate::limits::Violation]) {
        use crate::limits::LimitKind;
        for kind in LimitKind::ALL {
            let name = kind.as_str();
            let count = violations.iter().filter(|v| v.kind == kind).count() as u64;
            self.active_violations
                .get_or_create(&Self::labelled(server, name))
                .set(to_i64(count));
            if count > 0 {
                self.violations
                    .get_or_create(&Self::labelled(server, name))
                    .inc_by(count);
            }
        }
    }

    /// `action` is `mute_track`, `remove_participant` or `delete_room`.
    pub(crate) fn count_enforcement(&self, server: &str, action: &str) {
        self.enforcement_actions
            .get_or_create(&Self::labelled(server, action))
            .inc();
    }

    /// The text exposition of every metric.
    #[must_use]
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Serves `GET /metrics` on `listen`, within `limits`, until `shutdown`; returns the bound
    /// address.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub(crate) async fn serve(
        &self,
        listen: SocketAddr,
        limits: ListenerLimits,
        shutdown: CancellationToken,
    ) -> std::io::Result<SocketAddr> {
        let metrics = self.clone();
        let limits = ListenerLimits {
            max_body_bytes: MAX_SCRAPE_BODY,
            ..limits
        };
        crate::http_server::serve(listen, "metrics", limits, shutdown, move |request| {
            let answer = metrics.answer(&request);
            async move { answer }
        })
        .await
    }

    fn answer(&self, request: &Request<GuardedBody>) -> Response<Full<Bytes>> {
        let (status, content_type, body) = if request.body().declared_over_limit() {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain; charset=utf-8",
                "a scrape carries no body\n".to_owned(),
            )
        } else if request.method() == Method::GET && request.uri().path() == "/metrics" {
            (StatusCode::OK, CONTENT_TYPE, self.render())
        } else {
            (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "lktop serves Prometheus metrics at GET /metrics\n".to_owned(),
            )
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(content_type),
        );
        response
    }
}

/// A scrape is a GET: a body is never read, and one this large is not a scraper's.
const MAX_SCRAPE_BODY: usize = 64 * 1024;

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_reconnections_are_counted_once_whichever_server_reports_them() {
        let metrics = Metrics::new();
        // Two servers' workers read the one budget at different moments.
        for seen in [5, 3, 8, 8, 7] {
            metrics.track_reconnect_deferrals(seen);
        }
        let text = metrics.render();
        assert!(
            text.contains("lktop_reconnect_attempts_deferred_total 8"),
            "{text}"
        );
    }

    #[test]
    fn room_jobs_by_kind_and_egress_failures_are_exported() {
        let metrics = Metrics::new();
        metrics.set_room_jobs(
            "prod",
            &[("egress_recording", 2), ("dispatches_pending", 1)],
        );
        metrics.count_egress_failure("prod");
        let text = metrics.render();
        for expected in [
            r#"lktop_room_jobs{server="prod",kind="egress_recording"} 2"#,
            r#"lktop_room_jobs{server="prod",kind="dispatches_pending"} 1"#,
            r#"lktop_egress_failures_total{server="prod"} 1"#,
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
    }

    #[test]
    fn renders_labelled_families() {
        let metrics = Metrics::new();
        metrics.set_pool(
            "prod",
            PoolFigures {
                total: 5,
                in_use: 2,
                healthy: 4,
                failed: 1,
                waiters: 0,
                max: 10,
            },
        );
        metrics.set_connection_states("prod", &[("connected", 4), ("failed", 1)]);
        metrics.observe_request("prod", 0.012, "ok");
        metrics.observe_request("prod", 10.0, "timeout");
        metrics.set_quality("prod", Some(0.5), Some(0.42));
        let text = metrics.render();
        for expected in [
            r#"lktop_pool_connections{server="prod",state="in_use"} 2"#,
            r#"lktop_pool_connections{server="prod",state="idle"} 3"#,
            r#"lktop_connection_state{server="prod",state="failed"} 1"#,
            r#"lktop_connection_state{server="prod",state="reconnecting"} 0"#,
            r#"lktop_requests_total{server="prod",kind="timeout"} 1"#,
            r#"lktop_request_latency_seconds_count{server="prod"} 2"#,
            r#"lktop_quality_score{server="prod"} 0.42"#,
            "# EOF",
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
    }

    #[tokio::test]
    async fn serves_metrics_over_http() {
        let metrics = Metrics::new();
        metrics.observe_request("s", 0.001, "ok");
        let shutdown = CancellationToken::new();
        let addr = metrics
            .serve(
                "127.0.0.1:0".parse().unwrap(),
                ListenerLimits::new(0, 16),
                shutdown.clone(),
            )
            .await
            .unwrap();
        let http = crate::api::build_http_client().unwrap();
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            http.get(format!("http://{addr}/metrics")).send(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(answer.status(), 200);
        let body = answer.text().await.unwrap();
        assert!(
            body.contains(r#"lktop_requests_total{server="s",kind="ok"} 1"#),
            "{body}"
        );
        shutdown.cancel();
    }
}
