//! The Nodes screen: every node of every server, one row each, with its media-plane figures
//! and load; a server without node sources, waiting for its first reading, or with a source
//! down says so on a line of its own. Figures past a `media_limits` threshold are drawn in the
//! over style, a draining node's row in its own style, and a server's rows dimmed when its
//! latest reading is older than three metrics intervals.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::node_figures::{self as figures, Limited, or_unknown, past};
use super::{Column, block, filter_badge, fit, format, highlight, message, table, window};
use crate::nodes::{NodeHealth, SourceState};
use crate::tui::app::App;
use crate::tui::layout;
use crate::tui::nodes_table::{NodeRow, Notice};
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

const SERVER: usize = 0;
const NODE: usize = 1;
/// Dropped first when narrow: what says least about an incident now (region, tracks, load),
/// so the state, CPU, bitrates, loss, RTT and quality stay at 80 columns.
const COLUMNS: [Column; 18] = [
    Column::fixed("Server", 9, 0),
    Column::fill("Node", 10, 24, 0),
    Column::fixed("State", 8, 0),
    Column::fixed("Region", 10, 9),
    Column::fixed("CPU%", 5, 0),
    Column::fixed("Load", 5, 7),
    Column::fixed("Rooms", 5, 4),
    Column::fixed("People", 6, 1),
    Column::fixed("Pub/Sub", 9, 8),
    Column::fixed("In b/s", 6, 0),
    Column::fixed("Out b/s", 7, 0),
    Column::fixed("Loss%", 5, 0),
    Column::fixed("NACK/s", 6, 5),
    Column::fixed("PLI/s", 5, 6),
    Column::fixed("RTT95", 6, 0),
    Column::fixed("Jit95", 6, 3),
    Column::fixed("MOS", 4, 0),
    Column::fixed("JoinF/s", 7, 2),
];

/// What the short forms mean, under the table; the second when the first does not fit.
const LEGEND: [&str; 2] = [
    " CPU%: process, % of one core · r: registry load, % of all cores · b/s: bits per second · MOS: quality p50 ",
    " CPU% of one core · r: registry load, all cores · b/s: bits/s ",
];

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let servers = &app.data().servers;
    let rows = app.nodes.rows(servers);
    let legend = shortest_fitting(&LEGEND, usize::from(area.width.saturating_sub(4)));
    let outer = block(title(app, &rows, theme), area.width, theme)
        .title_bottom(Line::from(Span::styled(legend, theme.dim())));
    let body = layout::table_body(area);
    let fitted = fit(&COLUMNS, body.width);
    let (range, selected) = window(app.nodes.cursor, body.height, rows.len());
    let drawn: Vec<Row> = rows[range.clone()]
        .iter()
        .zip(range.clone())
        .map(|(row, index)| {
            let row_style = row_style(app, row, theme);
            let cells = match row {
                NodeRow::Node { server, node } => cells(app, server, node, theme),
                NodeRow::Notice { server, .. } => std::array::from_fn(|i| {
                    Cell::from(if i == SERVER {
                        server.name.clone()
                    } else {
                        String::new()
                    })
                }),
            };
            let row = Row::new(fitted.iter().map(|f| {
                if f.index == NODE
                    && let NodeRow::Node { node, .. } = row
                {
                    Cell::from(format::truncate(&node.node_id, usize::from(f.width)).into_owned())
                } else {
                    cells[f.index].clone()
                }
            }))
            .style(row_style);
            highlight(row, index == selected, theme)
        })
        .collect();
    frame.render_widget(table(drawn, &fitted, outer, theme), area);

    // A server's line runs across the figures' columns, which a table cell cannot.
    let after_server = fitted
        .first()
        .filter(|f| f.index == SERVER)
        .map_or(0, |f| f.width + 1);
    for (row, index) in rows[range.clone()].iter().zip(range.clone()) {
        let NodeRow::Notice { server, notice } = row else {
            continue;
        };
        let y = body.y + u16::try_from(index - range.start).unwrap_or(u16::MAX);
        let line = Rect {
            x: body.x + after_server,
            y,
            width: body.width.saturating_sub(after_server),
            height: 1,
        };
        let mut paragraph =
            Paragraph::new(notice_line(server, *notice, usize::from(line.width), theme));
        if index == selected {
            paragraph = paragraph.style(theme.selected());
        }
        frame.render_widget(paragraph, line);
    }

    if servers.is_empty() {
        message(frame, body, "no server yet", theme.dim());
    } else if rows.is_empty() {
        message(frame, body, "no node matches the filter", theme.dim());
    }
}

/// `nodes: 4 on 2 servers · sort: server, node ▲`, the filter, and the servers whose
/// figures are old.
fn title(app: &App, rows: &[NodeRow<'_>], theme: Theme) -> Line<'static> {
    let view = &app.nodes;
    let shown = rows
        .iter()
        .filter(|row| matches!(row, NodeRow::Node { .. }))
        .count();
    let servers = &app.data().servers;
    let total: usize = servers.iter().map(|s| s.nodes.nodes.len()).sum();
    let arrow = if view.descending { "▼" } else { "▲" };
    let mut spans = vec![Span::raw(format!(
        " nodes: {shown}/{total} on {} · sort: {} {arrow} ",
        format::plural(u64::try_from(servers.len()).unwrap_or(0), "server"),
        view.sort.label()
    ))];
    spans.extend(filter_badge(&view.filter, theme));
    for server in servers.iter().filter(|s| app.nodes_are_old(s)) {
        spans.push(Span::styled(
            format!("· {} {} ", server.name, as_of(app, server)),
            theme.warn(),
        ));
    }
    Line::from(spans)
}

/// `as of 12:03:04, 1m12s ago`: when the server's latest node reading came.
pub(crate) fn as_of(app: &App, server: &ServerView) -> String {
    let at = server.nodes.read_at_ms;
    format!(
        "as of {}, {} ago",
        format::clock(at),
        format::age(app.view_clock_ms() - at)
    )
}

/// Old figures are dimmed, a draining node is in its own style.
fn row_style(app: &App, row: &NodeRow<'_>, theme: Theme) -> Style {
    match row {
        NodeRow::Node { server, node } => {
            let base = if node.is_draining() {
                theme.draining()
            } else {
                Style::default()
            };
            if app.nodes_are_old(server) {
                base.patch(theme.dim())
            } else {
                base
            }
        }
        NodeRow::Notice { .. } => Style::default(),
    }
}

/// The first of `texts` (longest first) that fits in `width`, else the last.
fn shortest_fitting<'a>(texts: &[&'a str], width: usize) -> &'a str {
    texts
        .iter()
        .find(|text| format::width(text) <= width)
        .or(texts.last())
        .copied()
        .unwrap_or_default()
}

/// What a server's line says, in the words that fit in `width`.
fn notice_line(server: &ServerView, notice: Notice, width: usize, theme: Theme) -> Line<'static> {
    match notice {
        Notice::NotConfigured => {
            let long = format!(
                "nodes: not configured — set metrics_url (Prometheus) or redis_url (node registry) for server {}",
                server.name
            );
            let text = shortest_fitting(
                &[
                    &long,
                    "nodes: not configured — set metrics_url or redis_url",
                ],
                width,
            );
            Line::from(Span::styled(text.to_owned(), theme.dim()))
        }
        Notice::Waiting => Line::from(Span::styled(
            format!(
                "nodes: waiting for the first reading of {}",
                server
                    .nodes
                    .configured
                    .iter()
                    .map(|source| source.key())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            theme.dim(),
        )),
        Notice::SourceDown(index) => {
            let Some(source) = server.nodes.sources.get(index) else {
                return Line::default();
            };
            let word = match source.state {
                SourceState::Unauthenticated => "refused the credentials",
                SourceState::Down | SourceState::Up => "down",
            };
            let cause = source
                .error
                .as_ref()
                .map(|error| format!(": {error}"))
                .unwrap_or_default();
            Line::from(Span::styled(
                format!(
                    "{} {} {word}{cause} — its figures are missing",
                    source.source.as_str(),
                    source.target
                ),
                theme.error(),
            ))
        }
    }
}

/// Every column's cell for one node, in column order (the node's id is cut to its column
/// where it is drawn).
fn cells(app: &App, server: &ServerView, node: &NodeHealth, theme: Theme) -> [Cell<'static>; 18] {
    let limits = &app.data().media_limits;
    let plain = |figure: Option<String>| Cell::from(or_unknown(figure, Style::default(), theme));
    let judged = |figure: Option<String>, limited: Limited| {
        let style = if past(limits, limited, node) {
            theme.over()
        } else {
            Style::default()
        };
        Cell::from(or_unknown(figure, style, theme))
    };
    let ms = |value: Option<f64>| value.map(|v| format!("{v:.0}ms"));
    let tracks = match (node.tracks_published, node.tracks_subscribed) {
        (None, None) => None,
        (published, subscribed) => Some(format!(
            "{}/{}",
            published.map_or_else(|| figures::UNKNOWN.to_owned(), |n| n.to_string()),
            subscribed.map_or_else(|| figures::UNKNOWN.to_owned(), |n| n.to_string())
        )),
    };
    [
        Cell::from(Span::styled(server.name.clone(), theme.dim())),
        Cell::from(node.node_id.clone()),
        Cell::from(or_unknown(
            figures::state(node).map(str::to_owned),
            figures::state_style(node, theme),
            theme,
        )),
        plain(node.region.clone()),
        judged(figures::cpu_short(node), Limited::Cpu),
        plain(figures::decimal(node.load_avg_1m, 2)),
        plain(figures::count(node.rooms)),
        plain(figures::count(node.participants)),
        plain(tracks),
        plain(figures::bitrate_short(node.bytes_in_per_s)),
        plain(figures::bitrate_short(node.bytes_out_per_s)),
        judged(figures::decimal(node.packet_loss_pct, 1), Limited::Loss),
        plain(figures::decimal(node.nack_per_s, 1)),
        plain(figures::decimal(node.pli_per_s, 1)),
        judged(ms(node.rtt_p95_ms), Limited::Rtt),
        judged(ms(node.jitter_p95_ms), Limited::Jitter),
        judged(
            figures::decimal(node.quality_score_p50, 2),
            Limited::Quality,
        ),
        judged(
            figures::decimal(node.join_failures_per_s, 2),
            Limited::JoinFailures,
        ),
    ]
}
