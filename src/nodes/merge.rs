//! The two sources of a server's nodes merged into one row per node id: the metrics'
//! figures first, the registry's where the metrics say nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use super::health::{NodeHealth, NodeSource};
use super::node_counters::NodeCounters;
use super::rates::MediaFigures;
use super::registry::RegisteredNode;
use crate::serde_time::now_ms;

/// A node as one metrics endpoint gave it: the endpoint, its counters, its figures.
pub(crate) type ScrapedNode = (Option<String>, NodeCounters, MediaFigures);

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
pub(crate) fn merge(
    scraped: BTreeMap<String, ScrapedNode>,
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
