//! The worker that watches one server's nodes: every `metrics_interval` a reading of its
//! node sources (`nodes::NodeReader`), reported as one `node_health` event plus an event for
//! each thing that changed: a source going down or coming back, a node appearing, leaving,
//! changing state or going stale, media limits breached, the API's counts and the nodes'
//! drifting apart.
//!
//! A reading in which every source failed is followed sooner, by the pool's reconnect
//! backoff (full jitter) bounded by the interval: a server coming back is seen within
//! seconds, and one that stays down costs one attempt per interval. Unlike a pooled
//! connection it never gives up: a monitor has to notice the server's return.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::server::LatestSnapshot;
use crate::config::Config;
use crate::events::{EventBus, EventKind, now_ms};
use crate::metrics::Metrics;
use crate::nodes::{
    CountDrift, MediaViolation, NodeChange, NodeHealth, NodeReader, SourceState, SourceStatus,
    media_violations,
};
use crate::reconnect::Backoff;

pub(crate) struct NodeWatcher {
    pub(crate) server: String,
    pub(crate) reader: NodeReader,
    pub(crate) backoff: Backoff,
    pub(crate) settings: watch::Receiver<Arc<Config>>,
    /// The API side of the count cross-check: the server worker's latest snapshot.
    pub(crate) api: LatestSnapshot,
    pub(crate) bus: EventBus,
    pub(crate) metrics: Option<Metrics>,
    pub(crate) shutdown: CancellationToken,
}

/// What the watcher remembers between readings.
#[derive(Default)]
struct Memory {
    /// Per source target: its state and since when (Unix ms).
    sources: HashMap<String, (SourceState, i64)>,
    /// Nodes of the previous reading: state and whether stale.
    nodes: BTreeMap<String, (Option<String>, bool)>,
    violations: BTreeSet<(String, String)>,
    /// When the API's and the nodes' counts began to disagree, and whether that was said.
    drift_since: Option<(i64, bool)>,
    failures_in_a_row: u32,
    /// Whether a reading has listed nodes yet: the nodes of the first are the cluster as
    /// found, not nodes that joined.
    nodes_listed: bool,
}

impl NodeWatcher {
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

    /// One reading, reported; true when every source failed.
    async fn read_once(&mut self, memory: &mut Memory) -> bool {
        let config = Arc::clone(&self.settings.borrow());
        let reading = self
            .reader
            .read(config.quality_monitoring.node_stale_after.get())
            .await;
        self.report_sources(&reading.sources, memory);
        self.report_node_changes(&reading.nodes, &reading.sources, memory);
        let violations = media_violations(&reading.nodes, &config.media_limits);
        self.report_violations(violations, memory);
        self.check_counts(&reading.nodes, &reading.sources, &config, memory);
        if let Some(metrics) = &self.metrics {
            metrics.set_nodes(&self.server, &reading.nodes);
        }
        let all_failed = reading.all_failed();
        self.bus.emit(EventKind::NodeHealth {
            server: self.server.clone(),
            nodes: reading.nodes,
            sources: reading.sources,
        });
        all_failed
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
        let first = !memory.nodes_listed;
        memory.nodes_listed |= !nodes.is_empty();
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
