//! A node's figures as the Nodes screen, the node detail and the overview print them, and
//! which of them are past a `media_limits` threshold. An unknown figure is `–`, never 0.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::config::MediaLimitsConfig;
use crate::nodes::{MediaViolation, NodeHealth};
use crate::tui::nodes_view::{CpuFrom, cpu};
use crate::tui::theme::Theme;

/// What an unknown figure looks like.
pub(crate) const UNKNOWN: &str = "–";

/// A figure a media limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    Loss,
    Rtt,
    Jitter,
    Quality,
    Cpu,
    JoinFailures,
}

/// Whether `node`'s `figure` is past its threshold in `limits` (never when either is unknown).
#[must_use]
pub(crate) fn past(limits: &MediaLimitsConfig, figure: Limited, node: &NodeHealth) -> bool {
    let key = match figure {
        Limited::Loss => "max_packet_loss_pct",
        Limited::Rtt => "max_rtt_p95_ms",
        Limited::Jitter => "max_jitter_p95_ms",
        Limited::JoinFailures => "max_join_failures_per_s",
        Limited::Quality => "min_quality_score_p50",
        // The CPU shown against its own limit: the process's and the registry's load
        // measure different things.
        Limited::Cpu => match cpu(node) {
            Some((_, CpuFrom::Process)) => "max_cpu_pct",
            Some((_, CpuFrom::Registry)) => "max_cpu_load",
            None => return false,
        },
    };
    crate::nodes::node_breaches(node, limits)
        .iter()
        .any(|breach| breach.limit == key)
}

/// `figure` as text in `style`, or `–` dimmed when unknown.
#[must_use]
pub(crate) fn or_unknown(figure: Option<String>, style: Style, theme: Theme) -> Span<'static> {
    match figure {
        Some(text) => Span::styled(text, style),
        None => Span::styled(UNKNOWN, theme.dim()),
    }
}

/// `value` with `places` decimals.
#[must_use]
pub(crate) fn decimal(value: Option<f64>, places: usize) -> Option<String> {
    value.map(|v| format!("{v:.places$}"))
}

/// A whole count.
#[must_use]
pub(crate) fn count(value: Option<u64>) -> Option<String> {
    value.map(|n| n.to_string())
}

/// `value` with an SI prefix, three significant digits at most: `850`, `12.3k`, `4.56M`.
#[must_use]
fn si(value: f64) -> (String, &'static str) {
    let mut scaled = value.max(0.0);
    let mut prefix = "";
    for next in ["k", "M", "G", "T"] {
        if scaled < 999.95 {
            break;
        }
        scaled /= 1000.0;
        prefix = next;
    }
    let number = if prefix.is_empty() || scaled >= 99.95 {
        format!("{scaled:.0}")
    } else if scaled >= 9.995 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    (number, prefix)
}

/// Bits per second from bytes per second, short for a table cell: `12.3M`.
#[must_use]
pub(crate) fn bitrate_short(bytes_per_s: Option<f64>) -> Option<String> {
    bytes_per_s.map(|bytes| {
        let (number, prefix) = si(bytes * 8.0);
        format!("{number}{prefix}")
    })
}

/// Bits per second from bits per second, with the unit: `12.3 Mbit/s`.
#[must_use]
pub(crate) fn bitrate(bits_per_s: f64) -> String {
    let (number, prefix) = si(bits_per_s);
    format!("{number} {prefix}bit/s")
}

/// A size in binary units: `512 MiB`, `15.6 GiB`.
#[must_use]
pub(crate) fn bytes(value: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size to three digits")]
    let mut scaled = value as f64;
    let mut unit = "B";
    for next in ["KiB", "MiB", "GiB", "TiB"] {
        if scaled < 1024.0 {
            break;
        }
        scaled /= 1024.0;
        unit = next;
    }
    if unit == "B" || scaled >= 100.0 {
        format!("{scaled:.0} {unit}")
    } else {
        format!("{scaled:.1} {unit}")
    }
}

/// The node's CPU figure for a table cell: `123` for the process (percent of one core),
/// `45r` for the registry's load × 100 (percent of all cores).
#[must_use]
pub(crate) fn cpu_short(node: &NodeHealth) -> Option<String> {
    cpu(node).map(|(pct, from)| match from {
        CpuFrom::Process => format!("{pct:.0}"),
        CpuFrom::Registry => format!("{pct:.0}r"),
    })
}

/// The node's state as shown: `DRAINING` for `SHUTTING_DOWN`, `STARTING` for
/// `STARTING_UP`, `stale` when the registry entry stopped advancing.
#[must_use]
pub(crate) fn state(node: &NodeHealth) -> Option<&'static str> {
    if node.stale {
        return Some("stale");
    }
    Some(match node.state.as_deref()? {
        "SERVING" => "SERVING",
        "SHUTTING_DOWN" => "DRAINING",
        "STARTING_UP" => "STARTING",
        "SUSPENDED" => "SUSPENDED",
        _ => "other",
    })
}

/// The style of a node's state.
#[must_use]
pub(crate) fn state_style(node: &NodeHealth, theme: Theme) -> Style {
    if node.stale {
        theme.error()
    } else if node.is_draining() {
        theme.warn()
    } else if node.state.as_deref() == Some("SERVING") {
        theme.ok()
    } else {
        theme.dim()
    }
}

/// A media limit exceeded, in words: `packet loss 8.0% (limit 5%)`, `quality p50 2.60 (at
/// least 3)`. A limit lktop does not know yet is shown by its key.
#[must_use]
pub(crate) fn violation(violation: &MediaViolation) -> String {
    let (what, unit, places) = match violation.limit.as_str() {
        "max_packet_loss_pct" => ("packet loss", "%", 1),
        "max_rtt_p95_ms" => ("RTT p95", "ms", 0),
        "max_jitter_p95_ms" => ("jitter p95", "ms", 0),
        "min_quality_score_p50" => ("quality p50", "", 2),
        "max_cpu_pct" => ("CPU", "% of one core", 0),
        "max_cpu_load" => ("registry CPU load", "", 2),
        "max_join_failures_per_s" => ("join failures", "/s", 2),
        other => (other, "", 2),
    };
    let bound = if violation.limit.starts_with("min_") {
        "at least"
    } else {
        "limit"
    };
    format!(
        "{what} {value:.places$}{unit} ({bound} {threshold}{unit})",
        value = violation.value,
        threshold = violation.threshold,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_short_and_unknown_is_never_zero() {
        assert_eq!(bitrate_short(Some(106.25)), Some("850".to_owned()));
        assert_eq!(bitrate_short(Some(1_537_500.0)), Some("12.3M".to_owned()));
        assert_eq!(bitrate_short(Some(125_000_000.0)), Some("1.00G".to_owned()));
        assert_eq!(bitrate_short(None), None);
        assert_eq!(bitrate(999_960.0), "1.00 Mbit/s");
        assert_eq!(bytes(16 * 1024 * 1024 * 1024), "16.0 GiB");
        assert_eq!(bytes(512), "512 B");
        let node = NodeHealth {
            cpu_load: Some(0.95),
            packet_loss_pct: Some(5.0),
            quality_score_p50: Some(2.9),
            ..NodeHealth::default()
        };
        assert_eq!(cpu_short(&node).as_deref(), Some("95r"));
        let limits = MediaLimitsConfig::default();
        assert!(
            past(&limits, Limited::Cpu, &node),
            "0.95 > max_cpu_load 0.9"
        );
        assert!(!past(&limits, Limited::Loss, &node), "5 is not past 5");
        assert!(past(&limits, Limited::Quality, &node), "2.9 < 3");
        assert!(!past(&limits, Limited::Rtt, &node), "unknown is never past");
        let lossy = MediaViolation {
            node_id: "ND_a".to_owned(),
            limit: "max_packet_loss_pct".to_owned(),
            value: 8.04,
            threshold: 5.0,
        };
        assert_eq!(violation(&lossy), "packet loss 8.0% (limit 5%)");
    }
}
