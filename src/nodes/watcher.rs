//! The worker that watches one server's nodes: every `metrics_interval` it scrapes each
//! metrics endpoint and reads the node registry (side by side, each within
//! `connection_timeout`), merges them by node id and reports one `node_health` event, plus
//! an event for each thing that changed: a source going down or coming back, a node
//! appearing, leaving, changing state or going stale, media limits breached, the API's counts
//! and the nodes' drifting apart.
//!
//! A source that fails is read again sooner, by the pool's reconnect backoff (full jitter)
//! bounded by the interval: a server coming back is seen within seconds, and one that stays
//! down costs one attempt per interval. Unlike a pooled connection it never gives up: a
//! monitor has to notice the server's return.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::health::{
    CountDrift, MediaViolation, NodeChange, NodeHealth, NodeSource, SourceState, SourceStatus,
};
use super::media_limits::media_violations;
use super::node_counters::NodeCounters;
use super::node_scrape::NodeScrape;
use super::rates::{MediaFigures, media_figures};
use super::registry::{RegisteredNode, Registry};
use super::scrape::{BasicAuth, scrape};
use crate::config::{Config, ServerConfig};
use crate::events::{EventBus, EventKind, now_ms};
use crate::metrics::Metrics;
use crate::reconnect::Backoff;
use crate::snapshot::Snapshot;

/// The API side of the count cross-check: the server worker's latest snapshot.
pub(crate) type ApiCounts = Arc<std::sync::Mutex<Option<Arc<Snapshot>>>>;

pub(crate) struct NodeWatcher {
    pub(crate) server: String,
    metrics_urls: Vec<String>,
    auth: Option<BasicAuth>,
    registry: Option<Registry>,
    http: reqwest::Client,
    timeout: Duration,
    backoff: Backoff,
    settings: watch::Receiver<Arc<Config>>,
    api: ApiCounts,
    bus: EventBus,
    metrics: Option<Metrics>,
    shutdown: CancellationToken,
}

/// What the watcher remembers between readings.
#[derive(Default)]
struct Memory {
    /// Per endpoint: its nodes' counters at the previous good scrape, and when.
    previous: HashMap<String, (Instant, NodeScrape)>,
    /// Per source target: its state and since when (Unix ms).
    sources: HashMap<String, (SourceState, i64)>,
    /// Nodes of the previous reading: state and whether stale.
    nodes: BTreeMap<String, (Option<String>, bool)>,
    violations: BTreeSet<(String, String)>,
    /// When the API's and the nodes' counts began to disagree, and whether that was said.
    drift_since: Option<(i64, bool)>,
    failures_in_a_row: u32,
}

impl NodeWatcher {
    /// `None` when the server has neither `metrics_url` nor `redis_url`.
    ///
    /// # Errors
    /// The HTTP client or the Redis client cannot be built.
    pub(crate) fn new(
        server: &ServerConfig,
        config: &Config,
        settings: watch::Receiver<Arc<Config>>,
        api: ApiCounts,
        bus: EventBus,
        metrics: Option<Metrics>,
        shutdown: CancellationToken,
    ) -> Result<Option<Self>, String> {
        if server.metrics_url.is_empty() && server.redis_url.is_none() {
            return Ok(None);
        }
        let timeout = config.connection_pool.connection_timeout.get();
        let registry = server
            .redis_url
            .as_ref()
            .map(|url| Registry::new(url, timeout))
            .transpose()?;
        let auth = match (&server.metrics_username, server.metrics_password()) {
            (Some(username), Some(password)) => Some(BasicAuth {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        };
        Ok(Some(Self {
            server: server.name.clone(),
            metrics_urls: server.metrics_url.iter().map(str::to_owned).collect(),
            auth,
            registry,
            http: crate::api::build_http_client().map_err(|err| err.to_string())?,
            timeout,
            backoff: Backoff::from_config(&config.connection_pool),
            settings,
            api,
            bus,
            metrics,
            shutdown,
        }))
    }

    /// The sources this server has configured.
    #[must_use]
    pub(crate) fn configured(server: &ServerConfig) -> Vec<NodeSource> {
        let mut sources = Vec::new();
        if !server.metrics_url.is_empty() {
            sources.push(NodeSource::Metrics);
        }
        if server.redis_url.is_some() {
            sources.push(NodeSource::Redis);
        }
        sources
    }

    /// Per server, the sources configured; servers with none are left out.
    #[must_use]
    pub(crate) fn configured_by_server(config: &Config) -> BTreeMap<String, Vec<NodeSource>> {
        config
            .servers
            .iter()
            .map(|server| (server.name.clone(), Self::configured(server)))
            .filter(|(_, sources)| !sources.is_empty())
            .collect()
    }

    pub(crate) async fn run(mut self) {
        let mut memory = Memory::default();
        let mut rng = SmallRng::from_rng(&mut rand::rng());
        loop {
            let all_failed = self.read_once(&mut memory).await;
            memory.failures_in_a_row = if all_failed {
                memory.failures_in_a_row.saturating_add(1)
            } else {
                0
            };
            let interval = self.settings.borrow().quality_monitoring.metrics_interval();
            let delay = if memory.failures_in_a_row == 0 {
                interval
            } else {
                self.backoff
                    .delay(memory.failures_in_a_row, &mut rng)
                    .min(interval)
            };
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One reading of every source; true when every source failed.
    async fn read_once(&mut self, memory: &mut Memory) -> bool {
        let scrapes = join_all(self.metrics_urls.iter().map(|url| {
            let started = Instant::now();
            let reading = scrape(&self.http, url, self.auth.as_ref(), self.timeout);
            async move { (reading.await, started.elapsed(), Instant::now()) }
        }));
        let registry = async {
            match self.registry.as_mut() {
                Some(registry) => {
                    let started = Instant::now();
                    Some((registry.read().await, started.elapsed()))
                }
                None => None,
            }
        };
        let (scrapes, registry) = tokio::join!(scrapes, registry);

        let mut statuses = Vec::new();
        let mut by_node: BTreeMap<String, (Option<String>, NodeCounters, MediaFigures)> =
            BTreeMap::new();
        for (url, (reading, took, at)) in self.metrics_urls.iter().zip(scrapes) {
            match reading {
                Ok(reading) => {
                    let previous = memory.previous.remove(url);
                    for (node_id, counters) in &reading.nodes {
                        let figures = previous
                            .as_ref()
                            .and_then(|(then, before)| {
                                Some(media_figures(
                                    before.nodes.get(node_id)?,
                                    counters,
                                    at.duration_since(*then),
                                ))
                            })
                            .unwrap_or_default();
                        by_node
                            .entry(node_id.clone())
                            .or_insert_with(|| (Some(url.clone()), counters.clone(), figures));
                    }
                    memory.previous.insert(url.clone(), (at, reading));
                    statuses.push(status(NodeSource::Metrics, url, Ok(()), took));
                }
                Err(err) => {
                    // Rates after an outage would average over it; the next two good
                    // scrapes give a true one.
                    memory.previous.remove(url);
                    statuses.push(status(
                        NodeSource::Metrics,
                        url,
                        Err((err.state, err.message)),
                        took,
                    ));
                }
            }
        }
        let mut registered: Vec<RegisteredNode> = Vec::new();
        if let (Some((reading, took)), Some(target)) = (registry, self.registry_target()) {
            match reading {
                Ok(nodes) => {
                    registered = nodes;
                    statuses.push(status(NodeSource::Redis, &target, Ok(()), took));
                }
                Err(err) => statuses.push(status(
                    NodeSource::Redis,
                    &target,
                    Err((err.state, err.message)),
                    took,
                )),
            }
        }

        let config = Arc::clone(&self.settings.borrow());
        let stale_after = config.quality_monitoring.node_stale_after.get();
        let nodes = merge(by_node, registered, stale_after);
        self.report_sources(&statuses, memory);
        self.report_node_changes(&nodes, &statuses, memory);
        let violations = media_violations(&nodes, &config.media_limits);
        self.report_violations(violations, memory);
        self.check_counts(&nodes, &statuses, &config, memory);
        if let Some(metrics) = &self.metrics {
            metrics.set_nodes(&self.server, &nodes);
        }
        let all_failed = statuses.iter().all(|s| s.state != SourceState::Up);
        self.bus.emit(EventKind::NodeHealth {
            server: self.server.clone(),
            nodes,
            sources: statuses,
        });
        all_failed
    }

    fn registry_target(&self) -> Option<String> {
        self.registry.as_ref().map(Registry::target)
    }

    /// A `node_source` event for each target whose state changed (the first reading says
    /// only what is not up).
    fn report_sources(&self, statuses: &[SourceStatus], memory: &mut Memory) {
        let now = now_ms();
        for status in statuses {
            let previous = memory.sources.get(&status.target).copied();
            if previous.map(|(state, _)| state) == Some(status.state) {
                continue;
            }
            memory
                .sources
                .insert(status.target.clone(), (status.state, now));
            if previous.is_none() && status.state == SourceState::Up {
                continue;
            }
            let down_for_ms = match previous {
                Some((was, since)) if was != SourceState::Up && status.state == SourceState::Up => {
                    u64::try_from(now - since).ok()
                }
                _ => None,
            };
            self.bus.emit(EventKind::NodeSourceState {
                server: self.server.clone(),
                source: status.source,
                target: status.target.clone(),
                state: status.state,
                cause: status.error.clone(),
                down_for_ms,
            });
        }
    }

    /// Nodes that appeared, disappeared, changed state or went stale. A node missing while
    /// the source that listed it is down has not left: it is not reported gone.
    fn report_node_changes(
        &self,
        nodes: &[NodeHealth],
        statuses: &[SourceStatus],
        memory: &mut Memory,
    ) {
        let first = memory.nodes.is_empty() && memory.sources.len() <= statuses.len();
        let mut seen = BTreeMap::new();
        for node in nodes {
            seen.insert(node.node_id.clone(), (node.state.clone(), node.stale));
            let change = match memory.nodes.get(&node.node_id) {
                None => Some(NodeChange::Appeared {
                    state: node.state.clone(),
                }),
                Some((state, _)) if *state != node.state && node.state.is_some() => {
                    Some(NodeChange::State {
                        from: state.clone(),
                        to: node.state.clone(),
                    })
                }
                Some((_, was_stale)) if *was_stale != node.stale => Some(if node.stale {
                    NodeChange::Stale {
                        updated_ago_ms: node
                            .registry_updated_at_ms
                            .and_then(|at| u64::try_from(now_ms() - at).ok())
                            .unwrap_or(0),
                    }
                } else {
                    NodeChange::Fresh
                }),
                Some(_) => None,
            };
            let appeared_at_start = first && matches!(change, Some(NodeChange::Appeared { .. }));
            if let Some(change) = change.filter(|_| !appeared_at_start) {
                self.emit_change(&node.node_id, change);
            }
        }
        let every_source_up = statuses.iter().all(|s| s.state == SourceState::Up);
        for (gone, (state, stale)) in &memory.nodes {
            if seen.contains_key(gone) {
                continue;
            }
            if every_source_up {
                self.emit_change(gone, NodeChange::Disappeared);
            } else {
                // Unknown while its source is down: keep it until a full reading says.
                seen.insert(gone.clone(), (state.clone(), *stale));
            }
        }
        memory.nodes = seen;
    }

    fn emit_change(&self, node_id: &str, change: NodeChange) {
        self.bus.emit(EventKind::NodeChanged {
            server: self.server.clone(),
            node_id: node_id.to_owned(),
            change,
        });
    }

    fn report_violations(&self, violations: Vec<MediaViolation>, memory: &mut Memory) {
        let keys: BTreeSet<(String, String)> = violations
            .iter()
            .map(|v| (v.node_id.clone(), v.limit.clone()))
            .collect();
        if keys != memory.violations {
            memory.violations = keys;
            self.bus.emit(EventKind::MediaViolations {
                server: self.server.clone(),
                violations,
            });
        }
    }

    /// The API's room and participant counts against the sum of the nodes' own; said once
    /// when they have disagreed for `count_drift_after`, and once when they agree again.
    fn check_counts(
        &self,
        nodes: &[NodeHealth],
        statuses: &[SourceStatus],
        config: &Config,
        memory: &mut Memory,
    ) {
        // Only a reading of every node can be compared.
        if nodes.is_empty() || statuses.iter().any(|s| s.state != SourceState::Up) {
            return;
        }
        let node_rooms = nodes.iter().map(|n| n.rooms).sum::<Option<u64>>();
        let node_participants = nodes.iter().map(|n| n.participants).sum::<Option<u64>>();
        let (Some(node_rooms), Some(node_participants)) = (node_rooms, node_participants) else {
            return;
        };
        let Some(snapshot) = self.api.lock().ok().and_then(|latest| latest.clone()) else {
            return;
        };
        let api_rooms = snapshot.rooms.len() as u64;
        let api_participants: u64 = snapshot
            .rooms
            .values()
            .map(|room| u64::from(room.num_participants))
            .sum();
        let now = now_ms();
        let agree = api_rooms == node_rooms && api_participants == node_participants;
        match (agree, memory.drift_since) {
            (true, Some((_, said))) => {
                memory.drift_since = None;
                if said {
                    self.bus.emit(EventKind::NodeCountDrift {
                        server: self.server.clone(),
                        drift: None,
                    });
                }
            }
            (true, None) => {}
            (false, None) => memory.drift_since = Some((now, false)),
            (false, Some((since, said))) => {
                let lasting = config.quality_monitoring.count_drift_after.get();
                let for_ms = u64::try_from(now - since).unwrap_or(0);
                if !said && Duration::from_millis(for_ms) >= lasting {
                    memory.drift_since = Some((since, true));
                    self.bus.emit(EventKind::NodeCountDrift {
                        server: self.server.clone(),
                        drift: Some(CountDrift {
                            api_rooms,
                            node_rooms,
                            api_participants,
                            node_participants,
                            for_ms,
                        }),
                    });
                }
            }
        }
    }
}

fn status(
    source: NodeSource,
    target: &str,
    outcome: Result<(), (SourceState, String)>,
    took: Duration,
) -> SourceStatus {
    let (state, error) = match outcome {
        Ok(()) => (SourceState::Up, None),
        Err((state, message)) => (state, Some(message)),
    };
    SourceStatus {
        source,
        target: target.to_owned(),
        state,
        error,
        took_ms: u64::try_from(took.as_millis()).ok(),
    }
}

fn to_count(value: Option<f64>) -> Option<u64> {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a gauge of rooms or participants, rounded, clamped at 0"
    )]
    value
        .filter(|v| v.is_finite())
        .map(|v| v.max(0.0).round() as u64)
}

/// One row per node id from both sources; the metrics' figures first, the registry's where
/// the metrics say nothing.
pub(super) fn merge(
    scraped: BTreeMap<String, (Option<String>, NodeCounters, MediaFigures)>,
    registered: Vec<RegisteredNode>,
    stale_after: Duration,
) -> Vec<NodeHealth> {
    let mut nodes: BTreeMap<String, NodeHealth> = BTreeMap::new();
    for (node_id, (url, counters, figures)) in scraped {
        nodes.insert(
            node_id.clone(),
            NodeHealth {
                node_id,
                node_type: counters.node_type.clone(),
                rooms: to_count(counters.rooms),
                participants: to_count(counters.participants),
                tracks_published: to_count(counters.tracks_published),
                tracks_subscribed: to_count(counters.tracks_subscribed),
                bytes_in_per_s: figures.bytes_in_per_s,
                bytes_out_per_s: figures.bytes_out_per_s,
                packets_in_per_s: figures.packets_in_per_s,
                packets_out_per_s: figures.packets_out_per_s,
                packet_loss_pct: figures.packet_loss_pct,
                nack_per_s: figures.nack_per_s,
                pli_per_s: figures.pli_per_s,
                rtt_p50_ms: figures.rtt_p50_ms,
                rtt_p95_ms: figures.rtt_p95_ms,
                jitter_p95_ms: figures.jitter_p95_ms,
                quality_score_p50: figures.quality_score_p50,
                join_failures_per_s: figures.join_failures_per_s,
                twirp_errors_per_s: figures.twirp_errors_per_s,
                cpu_pct: figures.cpu_pct,
                rss_bytes: to_count(counters.rss_bytes),
                metrics_url: url,
                sources: vec![NodeSource::Metrics],
                ..NodeHealth::default()
            },
        );
    }
    let now = now_ms();
    for entry in registered {
        let node = nodes.entry(entry.id.clone()).or_insert_with(|| NodeHealth {
            node_id: entry.id.clone(),
            ..NodeHealth::default()
        });
        node.sources.push(NodeSource::Redis);
        node.state = entry.state;
        node.region = entry.region;
        node.node_type = node.node_type.take().or(entry.node_type);
        node.rooms = node.rooms.or(entry.rooms);
        node.participants = node.participants.or(entry.clients);
        node.tracks_published = node.tracks_published.or(entry.tracks_in);
        node.tracks_subscribed = node.tracks_subscribed.or(entry.tracks_out);
        node.bytes_in_per_s = node.bytes_in_per_s.or(entry.bytes_in_per_s);
        node.bytes_out_per_s = node.bytes_out_per_s.or(entry.bytes_out_per_s);
        node.packets_in_per_s = node.packets_in_per_s.or(entry.packets_in_per_s);
        node.packets_out_per_s = node.packets_out_per_s.or(entry.packets_out_per_s);
        node.nack_per_s = node.nack_per_s.or(entry.nack_per_s);
        node.cpu_load = entry.cpu_load;
        if let Some([one, five, fifteen]) = entry.load_avg {
            node.load_avg_1m = Some(one);
            node.load_avg_5m = Some(five);
            node.load_avg_15m = Some(fifteen);
        }
        node.num_cpus = entry.num_cpus;
        node.memory_used_bytes = entry.memory_used;
        node.memory_total_bytes = entry.memory_total;
        node.registry_updated_at_ms = entry.updated_at.map(|seconds| seconds * 1000);
        node.stale = node.registry_updated_at_ms.is_some_and(|at| {
            u64::try_from(now - at).is_ok_and(|ago| Duration::from_millis(ago) > stale_after)
        });
    }
    nodes.into_values().collect()
}
