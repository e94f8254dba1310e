//! `media_limits` checked against each node's latest figures. Reported with the room-limit
//! violations; never enforced, since the API has no lever over a node's loss or load.

use super::health::{MediaViolation, NodeHealth};
use crate::config::MediaLimitsConfig;

/// Whether a limit is a ceiling (`max_…`) or a floor (`min_…`).
#[derive(Clone, Copy)]
enum Bound {
    Max,
    Min,
}

/// A figure of a node, `None` where unknown.
type Figure = fn(&NodeHealth) -> Option<f64>;

/// Every limit the nodes are past, node by node.
#[must_use]
pub(crate) fn media_violations(
    nodes: &[NodeHealth],
    limits: &MediaLimitsConfig,
) -> Vec<MediaViolation> {
    nodes
        .iter()
        .flat_map(|node| node_breaches(node, limits))
        .collect()
}

/// The limits (by `media_limits` key) `node` is past; a figure that is unknown breaks no
/// limit. What the engine reports and what the Nodes screen marks.
#[must_use]
pub fn node_breaches(node: &NodeHealth, limits: &MediaLimitsConfig) -> Vec<MediaViolation> {
    let checks: [(&str, Option<f64>, Bound, Figure); 7] = [
        (
            "max_packet_loss_pct",
            limits.max_packet_loss_pct,
            Bound::Max,
            |n| n.packet_loss_pct,
        ),
        ("max_rtt_p95_ms", limits.max_rtt_p95_ms, Bound::Max, |n| {
            n.rtt_p95_ms
        }),
        (
            "max_jitter_p95_ms",
            limits.max_jitter_p95_ms,
            Bound::Max,
            |n| n.jitter_p95_ms,
        ),
        (
            "min_quality_score_p50",
            limits.min_quality_score_p50,
            Bound::Min,
            |n| n.quality_score_p50,
        ),
        ("max_cpu_pct", limits.max_cpu_pct, Bound::Max, |n| n.cpu_pct),
        ("max_cpu_load", limits.max_cpu_load, Bound::Max, |n| {
            n.cpu_load
        }),
        (
            "max_join_failures_per_s",
            limits.max_join_failures_per_s,
            Bound::Max,
            |n| n.join_failures_per_s,
        ),
    ];
    let mut violations = Vec::new();
    for (limit, threshold, bound, figure) in checks {
        let (Some(threshold), Some(value)) = (threshold, figure(node)) else {
            continue;
        };
        let past = match bound {
            Bound::Max => value > threshold,
            Bound::Min => value < threshold,
        };
        if past {
            violations.push(MediaViolation {
                node_id: node.node_id.clone(),
                limit: limit.to_owned(),
                value,
                threshold,
            });
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_and_floors_are_checked_and_unknown_figures_pass() {
        let nodes = [
            NodeHealth {
                node_id: "ND_lossy".into(),
                packet_loss_pct: Some(8.0),
                quality_score_p50: Some(2.5),
                ..NodeHealth::default()
            },
            NodeHealth {
                node_id: "ND_quiet".into(),
                ..NodeHealth::default()
            },
        ];
        let found = media_violations(&nodes, &MediaLimitsConfig::default());
        let named: Vec<(&str, &str)> = found
            .iter()
            .map(|v| (v.node_id.as_str(), v.limit.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("ND_lossy", "max_packet_loss_pct"),
                ("ND_lossy", "min_quality_score_p50")
            ]
        );
        let unchecked = MediaLimitsConfig {
            max_packet_loss_pct: None,
            min_quality_score_p50: None,
            ..MediaLimitsConfig::default()
        };
        assert!(media_violations(&nodes, &unchecked).is_empty());
    }
}
