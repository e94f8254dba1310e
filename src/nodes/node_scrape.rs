//! One exposition as read: its nodes' counters, and the health they give beside an earlier
//! reading. The watcher's unit of work, public so benchmarks and other tools can run the same
//! computation on expositions they hold.

use std::collections::BTreeMap;
use std::time::Duration;

use super::exposition::Exposition;
use super::health::NodeHealth;
use super::merge::merge;
use super::node_counters::{NodeCounters, node_counters};
use super::rates::media_figures;

/// The nodes one livekit-server Prometheus exposition describes, by node id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeScrape {
    pub(crate) nodes: BTreeMap<String, NodeCounters>,
}

impl NodeScrape {
    /// # Errors
    /// The text is not the exposition format (the line says where), or it holds no
    /// `livekit_` series with a `node_id`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let exposition =
            Exposition::parse(text).map_err(|err| format!("not Prometheus text format: {err}"))?;
        Ok(Self {
            nodes: node_counters(&exposition)?,
        })
    }

    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// Each node's health from this reading, with rates and percentiles over the `elapsed`
    /// since `before` (a node `before` lacks has its gauges only).
    #[must_use]
    pub fn health_since(&self, before: &NodeScrape, elapsed: Duration) -> Vec<NodeHealth> {
        let scraped = self
            .nodes
            .iter()
            .map(|(id, counters)| {
                let figures = before
                    .nodes
                    .get(id)
                    .map(|earlier| media_figures(earlier, counters, elapsed))
                    .unwrap_or_default();
                (id.clone(), (None, counters.clone(), figures))
            })
            .collect();
        merge(scraped, Vec::new(), Duration::MAX)
    }
}
