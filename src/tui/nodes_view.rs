//! What the dashboard holds of one server's nodes: the latest `node_health` reading, when it
//! came, how each source fared, the media limits past, the API/node count drift, and a short
//! history per node for the detail's sparklines.

use std::collections::{BTreeMap, VecDeque};

use crate::nodes::{CountDrift, MediaViolation, NodeHealth, NodeSource, SourceStatus};

/// Readings kept per node for its sparklines (one per `metrics_interval`).
pub(crate) const NODE_HISTORY: usize = 120;

/// One node's figures over time, oldest first; `None` where a reading did not know them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NodeHistory {
    pub(crate) bitrate_in_bps: VecDeque<Option<f64>>,
    pub(crate) bitrate_out_bps: VecDeque<Option<f64>>,
    pub(crate) packet_loss_pct: VecDeque<Option<f64>>,
    pub(crate) rtt_p95_ms: VecDeque<Option<f64>>,
    pub(crate) cpu_pct: VecDeque<Option<f64>>,
}

/// Where a node's CPU figure came from: they measure different things, so the screens say
/// which one they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CpuFrom {
    /// The server process, percent of one core (`cpu_pct`, from metrics).
    Process,
    /// The registry's `cpu_load` × 100: percent of all the node's cores.
    Registry,
}

/// The CPU figure that exists, in percent: the process's from metrics, else the registry's
/// load.
#[must_use]
pub(crate) fn cpu(node: &NodeHealth) -> Option<(f64, CpuFrom)> {
    node.cpu_pct
        .map(|pct| (pct, CpuFrom::Process))
        .or_else(|| node.cpu_load.map(|load| (load * 100.0, CpuFrom::Registry)))
}

impl NodeHistory {
    fn push(&mut self, node: &NodeHealth) {
        let bits = |bytes: Option<f64>| bytes.map(|b| b * 8.0);
        let cpu = cpu(node).map(|(pct, _)| pct);
        for (series, value) in [
            (&mut self.bitrate_in_bps, bits(node.bytes_in_per_s)),
            (&mut self.bitrate_out_bps, bits(node.bytes_out_per_s)),
            (&mut self.packet_loss_pct, node.packet_loss_pct),
            (&mut self.rtt_p95_ms, node.rtt_p95_ms),
            (&mut self.cpu_pct, cpu),
        ] {
            if series.len() == NODE_HISTORY {
                series.pop_front();
            }
            series.push_back(value);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodesView {
    /// The sources the server has configured (from `started`); empty: neither `metrics_url`
    /// nor `redis_url` is set.
    pub(crate) configured: Vec<NodeSource>,
    pub(crate) nodes: Vec<NodeHealth>,
    pub(crate) sources: Vec<SourceStatus>,
    /// When the latest reading came (Unix ms); 0 before the first.
    pub(crate) read_at_ms: i64,
    pub(crate) history: BTreeMap<String, NodeHistory>,
    pub(crate) violations: Vec<MediaViolation>,
    pub(crate) drift: Option<CountDrift>,
}

impl NodesView {
    pub(crate) fn absorb_reading(
        &mut self,
        nodes: Vec<NodeHealth>,
        sources: Vec<SourceStatus>,
        at_ms: i64,
    ) {
        for node in &nodes {
            self.history
                .entry(node.node_id.clone())
                .or_default()
                .push(node);
        }
        // A node gone from the reading keeps no history: its id does not come back.
        self.history
            .retain(|id, _| nodes.iter().any(|node| node.node_id == *id));
        self.nodes = nodes;
        self.sources = sources;
        self.read_at_ms = at_ms;
    }

    /// Whether `source` is configured for this server.
    #[must_use]
    pub(crate) fn has(&self, source: NodeSource) -> bool {
        self.configured.contains(&source)
    }

    /// The nodes of the latest reading.
    #[must_use]
    pub fn nodes(&self) -> &[NodeHealth] {
        &self.nodes
    }

    #[must_use]
    pub(crate) fn node(&self, node_id: &str) -> Option<&NodeHealth> {
        self.nodes.iter().find(|node| node.node_id == node_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_forgets_nodes_that_left() {
        let mut view = NodesView::default();
        let node = |id: &str| NodeHealth {
            node_id: id.to_owned(),
            bytes_in_per_s: Some(1000.0),
            ..NodeHealth::default()
        };
        for at in 0..(i64::try_from(NODE_HISTORY).unwrap() + 5) {
            view.absorb_reading(vec![node("a"), node("b")], Vec::new(), at);
        }
        assert_eq!(view.history["a"].bitrate_in_bps.len(), NODE_HISTORY);
        assert_eq!(view.history["a"].bitrate_in_bps[0], Some(8000.0));
        view.absorb_reading(vec![node("a")], Vec::new(), 1000);
        assert!(!view.history.contains_key("b"));
        assert_eq!(view.read_at_ms, 1000);
    }
}
