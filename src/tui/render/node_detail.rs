//! One node in full: who it is (server, id, type, state, region, machine, registry, sources),
//! every figure with its unit, the media limits it is past, and sparklines of its bitrates,
//! loss, RTT and CPU over the readings kept.

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, RenderDirection, Sparkline};

use super::node_figures::{self as figures, Limited, UNKNOWN, past};
use super::nodes::as_of;
use super::{block, format, key_of, message, pieces, sparkline};
use crate::nodes::NodeHealth;
use crate::tui::app::App;
use crate::tui::keys::KeyAction;
use crate::tui::nodes_view::{CpuFrom, NodeHistory, cpu};
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

/// Width of the labels left of the facts and the sparklines.
const LABEL: usize = 10;

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let back = key_of(app, KeyAction::Back)
        .map(|key| format!("· {key} back "))
        .unwrap_or_default();
    let Some((server, node)) = app.detail_node() else {
        frame.render_widget(block(" node ", area.width, theme), area);
        message(frame, area, "no node open", theme.dim());
        return;
    };
    let node_id = app
        .nodes
        .detail
        .as_ref()
        .map_or("", |key| key.node_id.as_str());
    let mut title = vec![
        Span::raw(format!(" node {node_id} on {} ", server.name)),
        Span::styled(back, theme.dim()),
    ];
    if app.nodes_are_old(server) {
        title.push(Span::styled(
            format!("· {} ", as_of(app, server)),
            theme.warn(),
        ));
    }
    let outer = block(Line::from(title), area.width, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let Some(node) = node else {
        message(
            frame,
            inner,
            &format!(
                "node {node_id} is not in {}'s latest reading: it left",
                server.name
            ),
            theme.warn(),
        );
        return;
    };
    let width = usize::from(inner.width);
    let mut facts = identity(app, server, node, width, theme);
    facts.extend(figure_lines(app, node, width, theme));
    let violations = violation_lines(server, node, theme);
    let series = series(server, node);

    // Facts first, then the limits past, then the sparklines, one row each and taller with
    // the rows left over.
    let mut left = inner.height;
    let fact_rows = left.min(u16::try_from(facts.len()).unwrap_or(u16::MAX));
    left -= fact_rows;
    let violation_rows = left.min(u16::try_from(violations.len()).unwrap_or(u16::MAX));
    left -= violation_rows;
    let count = u16::try_from(series.len()).unwrap_or(1);
    let spark_height = (left / count).clamp(1, 3);
    let [facts_area, violations_area, sparks_area] = Layout::vertical([
        Constraint::Length(fact_rows),
        Constraint::Length(violation_rows),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(facts), facts_area);
    frame.render_widget(Paragraph::new(violations), violations_area);
    // As many as fit, in order: the bitrates first.
    let fitting = usize::from(sparks_area.height / spark_height).min(series.len());
    let rows = Layout::vertical(
        series[..fitting]
            .iter()
            .map(|_| Constraint::Length(spark_height)),
    )
    .split(sparks_area);
    for ((label, values, now), row) in series.iter().zip(rows.iter()) {
        spark(frame, *row, label, *values, now, theme);
    }
}

/// A label padded to the label column, always followed by a space.
fn label(text: &str, theme: Theme) -> Span<'static> {
    Span::styled(format!("{text:<LABEL$} "), theme.header_row())
}

/// A line of pieces under a label, as many pieces as fit.
fn line(name: &str, parts: Vec<Vec<Span<'static>>>, width: usize, theme: Theme) -> Line<'static> {
    let mut spans = vec![label(name, theme)];
    spans.extend(pieces(parts, width.saturating_sub(LABEL + 1)));
    Line::from(spans)
}

fn raw(text: String) -> Vec<Span<'static>> {
    vec![Span::raw(text)]
}

fn known<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| UNKNOWN.to_owned(), show)
}

/// Who the node is: its id, type, state and region; its machine; its registry entry; where
/// its figures come from and when they were read.
fn identity(
    app: &App,
    server: &ServerView,
    node: &NodeHealth,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let state = figures::state(node).unwrap_or(UNKNOWN);
    let raw_state = match (&node.state, figures::state(node)) {
        (Some(raw), Some(shown)) if raw != shown => format!(" ({raw})"),
        _ => String::new(),
    };
    let mut who = vec![
        raw(format!(
            "{} · {}",
            node.node_id,
            node.node_type.as_deref().unwrap_or(UNKNOWN)
        )),
        vec![Span::styled(
            format!("{state}{raw_state}"),
            figures::state_style(node, theme),
        )],
        raw(format!(
            "region {}",
            node.region.as_deref().unwrap_or(UNKNOWN)
        )),
    ];
    if node.is_draining() {
        who.push(vec![Span::styled("takes no new rooms", theme.draining())]);
    }
    let memory = match (node.memory_used_bytes, node.memory_total_bytes) {
        (None, None) => format!("memory {UNKNOWN}"),
        (used, total) => format!(
            "memory {} of {}",
            known(used, figures::bytes),
            known(total, figures::bytes)
        ),
    };
    let machine = vec![
        raw(format!("{} CPUs", known(node.num_cpus, |n| n.to_string()))),
        raw(memory),
        raw(format!("RSS {}", known(node.rss_bytes, figures::bytes))),
        raw(format!(
            "load avg {} {} {} (1/5/15 min)",
            known(node.load_avg_1m, |v| format!("{v:.2}")),
            known(node.load_avg_5m, |v| format!("{v:.2}")),
            known(node.load_avg_15m, |v| format!("{v:.2}")),
        )),
    ];
    let mut registry = vec![raw(match node.registry_updated_at_ms {
        Some(at) => format!(
            "updated {} ago ({})",
            format::age(app.view_clock_ms() - at),
            format::clock(at)
        ),
        None => format!("updated {UNKNOWN}"),
    })];
    if node.stale {
        registry.push(vec![Span::styled(
            "STALE: the entry stopped advancing (hung, or gone without cleaning up)",
            theme.error(),
        )]);
    }
    let sources: Vec<&str> = node.sources.iter().map(|s| s.as_str()).collect();
    let mut read = vec![raw(format!(
        "from {}",
        if sources.is_empty() {
            UNKNOWN.to_owned()
        } else {
            sources.join(" + ")
        }
    ))];
    let at = server.nodes.read_at_ms;
    read.push(vec![Span::styled(
        format!(
            "read {}, {} ago",
            format::clock(at),
            format::age(app.view_clock_ms() - at)
        ),
        if app.nodes_are_old(server) {
            theme.warn()
        } else {
            Style::default()
        },
    )]);
    if let Some(url) = &node.metrics_url {
        read.push(raw(format!("metrics {url}")));
    }
    vec![
        line("node", who, width, theme),
        line("machine", machine, width, theme),
        line("registry", registry, width, theme),
        line("sources", read, width, theme),
    ]
}

/// `text` in the over style when `node`'s `limited` figure is past its media limit.
fn judged(
    app: &App,
    node: &NodeHealth,
    text: String,
    limited: Limited,
    theme: Theme,
) -> Vec<Span<'static>> {
    let style = if past(&app.data().media_limits, limited, node) {
        theme.over()
    } else {
        Style::default()
    };
    vec![Span::styled(text, style)]
}

fn per_s(value: Option<f64>, places: usize) -> String {
    known(value, |v| format!("{v:.places$}/s"))
}

fn ms(value: Option<f64>) -> String {
    known(value, |v| format!("{v:.0}ms"))
}

/// Every figure with its unit; those past a media limit in the over style.
fn figure_lines(app: &App, node: &NodeHealth, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = load_lines(app, node, width, theme);
    lines.extend(media_lines(app, node, width, theme));
    lines
}

/// What the node carries: rooms, participants, tracks, CPU, traffic.
fn load_lines(app: &App, node: &NodeHealth, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let count = |value: Option<u64>| known(value, |n| n.to_string());
    let bitrate = |bytes: Option<f64>, packets: Option<f64>| {
        format!(
            "{}, {} packets/s",
            known(bytes, |b| figures::bitrate(b * 8.0)),
            known(packets, |p| format!("{p:.0}"))
        )
    };
    let cpu_text = match cpu(node) {
        Some((pct, CpuFrom::Process)) => format!("{pct:.0}% of one core (process)"),
        Some((pct, CpuFrom::Registry)) => format!("{pct:.0}% of all cores (registry load)"),
        None => UNKNOWN.to_owned(),
    };
    let mut cpu_parts = vec![judged(
        app,
        node,
        format!("CPU {cpu_text}"),
        Limited::Cpu,
        theme,
    )];
    if node.cpu_pct.is_some()
        && let Some(load) = node.cpu_load
    {
        cpu_parts.push(raw(format!("registry load {:.0}%", load * 100.0)));
    }
    vec![
        line(
            "load",
            vec![
                raw(format!("{} rooms", count(node.rooms))),
                raw(format!("{} participants", count(node.participants))),
                raw(format!(
                    "tracks {} published, {} subscribed",
                    count(node.tracks_published),
                    count(node.tracks_subscribed)
                )),
            ],
            width,
            theme,
        ),
        line("cpu", cpu_parts, width, theme),
        line(
            "traffic",
            vec![
                raw(format!(
                    "in {}",
                    bitrate(node.bytes_in_per_s, node.packets_in_per_s)
                )),
                raw(format!(
                    "out {}",
                    bitrate(node.bytes_out_per_s, node.packets_out_per_s)
                )),
            ],
            width,
            theme,
        ),
    ]
}

/// How well the node carries it: loss, retransmissions, latency, quality, failures.
fn media_lines(app: &App, node: &NodeHealth, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let loss = known(node.packet_loss_pct, |v| format!("{v:.1}%"));
    let quality = known(node.quality_score_p50, |v| format!("{v:.2}"));
    vec![
        line(
            "media",
            vec![
                judged(app, node, format!("loss {loss}"), Limited::Loss, theme),
                raw(format!("NACK {}", per_s(node.nack_per_s, 1))),
                raw(format!("PLI {}", per_s(node.pli_per_s, 1))),
                judged(
                    app,
                    node,
                    format!("jitter p95 {}", ms(node.jitter_p95_ms)),
                    Limited::Jitter,
                    theme,
                ),
            ],
            width,
            theme,
        ),
        line(
            "latency",
            vec![
                raw(format!("RTT p50 {}", ms(node.rtt_p50_ms))),
                judged(
                    app,
                    node,
                    format!("RTT p95 {}", ms(node.rtt_p95_ms)),
                    Limited::Rtt,
                    theme,
                ),
                judged(
                    app,
                    node,
                    format!("quality (MOS) p50 {quality}"),
                    Limited::Quality,
                    theme,
                ),
            ],
            width,
            theme,
        ),
        line(
            "failures",
            vec![
                judged(
                    app,
                    node,
                    format!("joins {}", per_s(node.join_failures_per_s, 2)),
                    Limited::JoinFailures,
                    theme,
                ),
                raw(format!(
                    "Twirp errors {}",
                    per_s(node.twirp_errors_per_s, 2)
                )),
            ],
            width,
            theme,
        ),
    ]
}

/// The media limits the node is past in the engine's latest check, under a heading.
fn violation_lines(server: &ServerView, node: &NodeHealth, theme: Theme) -> Vec<Line<'static>> {
    let own: Vec<_> = server
        .nodes
        .violations
        .iter()
        .filter(|v| v.node_id == node.node_id)
        .collect();
    if own.is_empty() {
        return vec![Line::from(vec![
            label("limits", theme),
            Span::styled("within every media limit", theme.ok()),
        ])];
    }
    let mut lines = vec![Line::from(vec![
        label("limits", theme),
        Span::styled(
            format!(
                "{} exceeded",
                format::plural(u64::try_from(own.len()).unwrap_or(0), "media limit")
            ),
            theme.over(),
        ),
    ])];
    lines.extend(own.into_iter().map(|violation| {
        Line::from(vec![
            Span::styled("  ! ", theme.error()),
            Span::raw(figures::violation(violation)),
        ])
    }));
    lines
}

/// A node's figure over the readings kept, oldest first; `None` before any.
type Series<'a> = Option<&'a VecDeque<Option<f64>>>;

/// The sparklines: a label, the series, and the latest figure as text.
fn series<'a>(
    server: &'a ServerView,
    node: &NodeHealth,
) -> Vec<(&'static str, Series<'a>, String)> {
    let history: Option<&NodeHistory> = server.nodes.history.get(&node.node_id);
    let latest = |pick: fn(&NodeHistory) -> &VecDeque<Option<f64>>| {
        history.and_then(|h| pick(h).back().copied().flatten())
    };
    vec![
        (
            "bits in",
            history.map(|h| &h.bitrate_in_bps),
            known(latest(|h| &h.bitrate_in_bps), figures::bitrate),
        ),
        (
            "bits out",
            history.map(|h| &h.bitrate_out_bps),
            known(latest(|h| &h.bitrate_out_bps), figures::bitrate),
        ),
        (
            "loss",
            history.map(|h| &h.packet_loss_pct),
            known(latest(|h| &h.packet_loss_pct), |v| format!("{v:.1}%")),
        ),
        (
            "RTT p95",
            history.map(|h| &h.rtt_p95_ms),
            known(latest(|h| &h.rtt_p95_ms), |v| format!("{v:.0}ms")),
        ),
        (
            "CPU",
            history.map(|h| &h.cpu_pct),
            known(latest(|h| &h.cpu_pct), |v| format!("{v:.0}%")),
        ),
    ]
}

/// One sparkline row: the label, the bars (newest at the right, unknown readings as gaps),
/// and the latest figure.
fn spark(frame: &mut Frame, area: Rect, name: &str, values: Series<'_>, now: &str, theme: Theme) {
    if area.height == 0 {
        return;
    }
    let now_width = u16::try_from(format::width(now) + 1).unwrap_or(u16::MAX);
    let [label_area, bars_area, now_area] = Layout::horizontal([
        Constraint::Length(u16::try_from(LABEL + 1).unwrap_or(u16::MAX)),
        Constraint::Fill(1),
        Constraint::Length(now_width.max(12)),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(label(name, theme)), label_area);
    frame.render_widget(
        Paragraph::new(Span::raw(now.to_owned())).right_aligned(),
        now_area,
    );
    let Some(values) = values.filter(|v| !v.is_empty()) else {
        frame.render_widget(
            Paragraph::new(Span::styled("no readings yet", theme.dim())),
            bars_area,
        );
        return;
    };
    let widget = Sparkline::default()
        .data(sparkline::linear_bars(values, usize::from(bars_area.width)))
        .max(sparkline::LINEAR_TOP)
        .direction(RenderDirection::RightToLeft)
        .style(theme.title().remove_modifier(Modifier::BOLD))
        .absent_value_symbol(sparkline::GAP)
        .absent_value_style(theme.lost());
    frame.render_widget(widget, bars_area);
}
