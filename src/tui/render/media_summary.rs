//! A server's media plane in one line for the overview, kept apart from the API's grade: how
//! many nodes (and draining), the traffic, and the worst loss, RTT, jitter and quality of any
//! node; or why there are no such figures. And the media limits past and the count drift,
//! listed with the room limits.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::format;
use super::node_figures::{self as figures, Limited, past};
use super::nodes::as_of;
use crate::nodes::{NodeHealth, NodeSource, SourceState};
use crate::tui::app::App;
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

/// The pieces of the overview's `media` line, most important first.
pub(crate) fn pieces(app: &App, server: &ServerView, theme: Theme) -> Vec<Vec<Span<'static>>> {
    let view = &server.nodes;
    if view.configured.is_empty() {
        return vec![vec![Span::styled(
            "not configured — set metrics_url / redis_url",
            theme.dim(),
        )]];
    }
    // A source down first: the figures after it are missing what it would have said.
    let mut parts = down_pieces(server, theme);
    if view.read_at_ms == 0 {
        parts.push(vec![Span::styled(
            "waiting for the first reading",
            theme.dim(),
        )]);
        return parts;
    }
    let nodes = &view.nodes;
    let draining = nodes.iter().filter(|n| n.is_draining()).count();
    let mut count = format::plural(u64::try_from(nodes.len()).unwrap_or(0), "node");
    if draining > 0 {
        count = format!("{count}, {draining} draining");
    }
    parts.push(vec![Span::raw(count)]);
    if app.nodes_are_old(server) {
        parts.push(vec![Span::styled(as_of(app, server), theme.warn())]);
    }
    let total = |pick: fn(&NodeHealth) -> Option<f64>| -> Option<f64> {
        nodes.iter().filter_map(pick).reduce(|a, b| a + b)
    };
    let traffic = |bytes: Option<f64>| {
        bytes.map_or_else(
            || figures::UNKNOWN.to_owned(),
            |b| figures::bitrate(b * 8.0),
        )
    };
    if !view.has(NodeSource::Metrics) {
        parts.push(vec![Span::styled(
            "registry only: set metrics_url for loss, RTT and quality",
            theme.dim(),
        )]);
    }
    parts.extend(worst_pieces(app, nodes, theme));
    let limits = &app.data().media_limits;
    if let Some(failures) = total(|n| n.join_failures_per_s) {
        let style = if nodes.iter().any(|n| past(limits, Limited::JoinFailures, n)) {
            theme.over()
        } else {
            Style::default()
        };
        parts.push(vec![Span::styled(
            format!("join failures {failures:.2}/s"),
            style,
        )]);
    }
    // The traffic last: it says how busy, not how well.
    parts.push(vec![Span::raw(format!(
        "in {} · out {}",
        traffic(total(|n| n.bytes_in_per_s)),
        traffic(total(|n| n.bytes_out_per_s))
    ))]);
    parts
}

/// The worst loss, RTT and jitter and the lowest quality of any node, each in the over style
/// when that node is past its limit.
fn worst_pieces(app: &App, nodes: &[NodeHealth], theme: Theme) -> Vec<Vec<Span<'static>>> {
    let limits = &app.data().media_limits;
    let mut parts = Vec::new();
    let mut extreme = |name: &str,
                       limited: Limited,
                       pick: fn(&NodeHealth) -> Option<f64>,
                       lowest: bool,
                       show: &dyn Fn(f64) -> String| {
        let worst = nodes
            .iter()
            .filter_map(|node| pick(node).map(|value| (value, node)))
            .reduce(|a, b| {
                let b_worse = if lowest { b.0 < a.0 } else { b.0 > a.0 };
                if b_worse { b } else { a }
            });
        if let Some((value, node)) = worst {
            let style = if past(limits, limited, node) {
                theme.over()
            } else {
                Style::default()
            };
            parts.push(vec![Span::styled(format!("{name} {}", show(value)), style)]);
        }
    };
    extreme(
        "worst loss",
        Limited::Loss,
        |n| n.packet_loss_pct,
        false,
        &|v| format!("{v:.1}%"),
    );
    extreme(
        "worst RTT p95",
        Limited::Rtt,
        |n| n.rtt_p95_ms,
        false,
        &|v| format!("{v:.0}ms"),
    );
    extreme(
        "worst jitter p95",
        Limited::Jitter,
        |n| n.jitter_p95_ms,
        false,
        &|v| format!("{v:.0}ms"),
    );
    extreme(
        "lowest MOS",
        Limited::Quality,
        |n| n.quality_score_p50,
        true,
        &|v| format!("{v:.2}"),
    );
    parts
}

/// Each configured source that is not up, with why.
fn down_pieces(server: &ServerView, theme: Theme) -> Vec<Vec<Span<'static>>> {
    server
        .nodes
        .sources
        .iter()
        .filter(|s| s.state != SourceState::Up)
        .map(|source| {
            let word = if source.state == SourceState::Unauthenticated {
                "refused the credentials"
            } else {
                "down"
            };
            let cause = source
                .error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            vec![Span::styled(
                format!("{} {word}{cause}", source.source.as_str()),
                theme.error(),
            )]
        })
        .collect()
}

/// How many problems the media plane adds to the server's violations: the media limits past
/// and the count drift.
#[must_use]
pub(crate) fn problem_count(server: &ServerView) -> usize {
    server.nodes.violations.len() + usize::from(server.nodes.drift.is_some())
}

/// The media limits past and the count drift, one line each, as the overview lists room
/// limits.
pub(crate) fn violation_lines(server: &ServerView, theme: Theme) -> Vec<Line<'static>> {
    let mark = || Span::styled("  ! ", theme.error());
    let mut lines: Vec<Line<'static>> = server
        .nodes
        .violations
        .iter()
        .map(|violation| {
            Line::from(vec![
                mark(),
                Span::raw(format!(
                    "node {}: {}",
                    violation.node_id,
                    figures::violation(violation)
                )),
            ])
        })
        .collect();
    if let Some(drift) = &server.nodes.drift {
        lines.push(Line::from(vec![
            mark(),
            Span::raw(format!(
                "API and nodes disagree for {}: {} rooms / {} participants per the API, {} / {} per the nodes",
                format::age(i64::try_from(drift.for_ms).unwrap_or(i64::MAX)),
                drift.api_rooms,
                drift.api_participants,
                drift.node_rooms,
                drift.node_participants
            )),
        ]));
    }
    lines
}
