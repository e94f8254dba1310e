//! The overview: every server in one table, and the selected server's latency, pool, the
//! API's quality, the media plane's figures (from its nodes), last poll and violations below.

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::RenderDirection;
use ratatui::widgets::{Cell, LineGauge, Paragraph, Row, Sparkline};

use super::{
    Column, block, fit, format, highlight, media_summary, message, pieces, sparkline, staleness,
    table, window,
};
use crate::pool::PoolStatus;
use crate::quality::QualityReport;
use crate::tui::app::App;
use crate::tui::layout;
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

/// Cells of the pool column's bar.
const POOL_BAR: usize = 5;
/// Width of the labels left of the latency sparkline and the pool gauge.
const LABEL: u16 = 12;

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let (table, detail) = layout::overview(area, app.data().servers.len());
    servers(frame, table, app, theme);
    details(frame, detail, app, theme);
}

fn servers(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let data = app.data();
    let title = format!(" servers ({}) ", data.servers.len());
    let outer = block(title, area.width, theme);
    let body = layout::table_body(area);
    let name_width = data
        .servers
        .iter()
        .map(|s| format::width(&s.name))
        .max()
        .unwrap_or(0)
        .clamp(6, 24);
    let state_width = data
        .servers
        .iter()
        .map(|s| format::width(&staleness::state_label(app, s)))
        .max()
        .unwrap_or(0)
        .max(5);
    // Dropped first when narrow: the least urgent during an incident (tracks, the pool, p50),
    // so p95 and the success rate stay beside the state and the grade.
    let columns = [
        Column::fixed("Server", u16::try_from(name_width).unwrap_or(24), 0),
        Column::fixed("State", u16::try_from(state_width).unwrap_or(24), 0),
        Column::fixed("Pool", 14, 6),
        Column::fixed("API quality", 14, 0),
        Column::fixed("p50", 7, 5),
        Column::fixed("p95", 7, 1),
        Column::fixed("Success", 7, 2),
        Column::fixed("Rooms", 5, 3),
        Column::fixed("Participants", 12, 4).or_short("People", 7),
        Column::fixed("Tracks", 26, 7),
        Column::fixed("Violations", 10, 1).or_short("Viol.", 5),
    ];
    let fitted = fit(&columns, body.width);
    let (rows, selected) = window(app.overview, body.height, data.servers.len());
    let rows: Vec<Row> = data.servers[rows.clone()]
        .iter()
        .zip(rows)
        .map(|(server, index)| {
            let cells = server_cells(app, server, theme);
            let row = Row::new(fitted.iter().map(|f| cells[f.index].clone()));
            highlight(row, index == selected, theme)
        })
        .collect();
    frame.render_widget(table(rows, &fitted, outer, theme), area);
    if data.servers.is_empty() {
        message(frame, body, "waiting for the engine to start…", theme.dim());
    }
}

/// Every column's cell for one server, in column order. A stale server's figures are
/// dimmed: they are as of its last good poll, not current.
fn server_cells(app: &App, server: &ServerView, theme: Theme) -> [Cell<'static>; 11] {
    let health = server.health();
    let quality = server.quality.as_ref();
    let figure = staleness::figure_style(server, theme);
    let dash = || Cell::from(Span::styled("—", theme.dim()));
    let duration = |d: Option<std::time::Duration>| match d {
        Some(d) => Cell::from(Span::styled(format::duration(d), figure)),
        None => dash(),
    };
    let snapshot = server.snapshot.as_deref();
    let grade = server.grade();
    let quality_cell = match quality.and_then(|q| q.score) {
        Some(score) => Cell::from(Span::styled(
            format!(
                "{} {}",
                grade.map_or("—", |g| g.as_str()),
                format::score(score.value())
            ),
            theme.grade(grade).patch(figure),
        )),
        None => dash(),
    };
    let violations = server.violations.len() + media_summary::problem_count(server);
    let count = |n: String| Cell::from(Span::styled(n, figure));
    [
        Cell::from(server.name.clone()),
        Cell::from(Span::styled(
            staleness::state_label(app, server),
            theme.health(health),
        )),
        server
            .status
            .as_ref()
            .map_or_else(dash, |s| pool_cell(s, theme)),
        quality_cell,
        duration(quality.and_then(|q| q.p50)),
        duration(quality.and_then(|q| q.p95)),
        quality
            .and_then(|q| q.success_rate)
            .map_or_else(dash, |rate| {
                Cell::from(Span::styled(format::percent(rate), figure))
            }),
        snapshot.map_or_else(dash, |s| count(s.rooms.len().to_string())),
        snapshot.map_or_else(dash, |s| count(s.participant_count().to_string())),
        snapshot.map_or_else(dash, |s| {
            let tracks = s.track_counts();
            let muted = tracks.audio_muted + tracks.video_muted;
            let mut spans = vec![Span::styled(
                format!("{}a {}v", tracks.live_audio(), tracks.live_video()),
                figure,
            )];
            if muted > 0 {
                spans.push(Span::styled(format!(" (+{muted} muted)"), theme.muted()));
            }
            Cell::from(Line::from(spans))
        }),
        if violations > 0 {
            Cell::from(Span::styled(
                violations.to_string(),
                theme.over().patch(figure),
            ))
        } else {
            Cell::from(Span::styled("0", theme.dim()))
        },
    ]
}

/// `in use/open/max` and a small bar of in use against max.
fn pool_cell(status: &PoolStatus, theme: Theme) -> Cell<'static> {
    let text = format!("{}/{}/{}", status.in_use, status.total, status.max);
    let filled = (status.in_use * POOL_BAR + status.max / 2)
        .checked_div(status.max)
        .map_or(0, |filled| filled.min(POOL_BAR));
    Cell::from(Line::from(vec![
        Span::raw(format!("{text:<8} ")),
        Span::styled("█".repeat(filled), theme.ok()),
        Span::styled("░".repeat(POOL_BAR - filled), theme.dim()),
    ]))
}

fn details(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    if area.height == 0 {
        return;
    }
    let Some(server) = app.server() else {
        let outer = block(" server ", area.width, theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        message(frame, inner, "no server yet", theme.dim());
        return;
    };
    let health = server.health();
    let mut title = vec![
        Span::raw(format!(" {} · ", server.name)),
        Span::styled(
            format!("{} ", staleness::state_label(app, server)),
            theme.health(health),
        ),
    ];
    title.extend(staleness::title_badge(app, server, theme));
    let title = Line::from(title);
    let outer = block(title, area.width, theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }

    let facts = facts(app, server, usize::from(inner.width), theme);
    let extras = extra_facts(server, usize::from(inner.width), theme);
    let mut violations = violation_lines(server, theme);
    // Space goes first to one row of sparkline, then the pool gauge, the facts and the
    // violations; rows left over make the sparkline taller.
    let mut left = inner.height;
    let mut spark = left.min(1);
    left -= spark;
    let gauge = left.min(1);
    left -= gauge;
    let fact_rows = left.min(u16::try_from(facts.len()).unwrap_or(u16::MAX));
    left -= fact_rows;
    let violation_rows = left.min(u16::try_from(violations.len()).unwrap_or(u16::MAX));
    left -= violation_rows;
    let extra_rows = left.min(u16::try_from(extras.len()).unwrap_or(u16::MAX));
    left -= extra_rows;
    spark += left.min(7);
    if usize::from(violation_rows) < violations.len() && violation_rows > 0 {
        let hidden = violations.len() - usize::from(violation_rows) + 1;
        violations.truncate(usize::from(violation_rows) - 1);
        violations.push(Line::from(Span::styled(
            format!("  … and {hidden} more"),
            theme.dim(),
        )));
    }
    let [
        spark_area,
        gauge_area,
        facts_area,
        extras_area,
        violations_area,
    ] = Layout::vertical([
        Constraint::Length(spark),
        Constraint::Length(gauge),
        Constraint::Length(fact_rows),
        Constraint::Length(extra_rows),
        Constraint::Length(violation_rows),
    ])
    .areas(inner);

    latency(frame, spark_area, server, theme);
    if let Some(status) = &server.status {
        pool_gauge(frame, gauge_area, status, theme);
    }
    frame.render_widget(Paragraph::new(facts), facts_area);
    frame.render_widget(Paragraph::new(extras), extras_area);
    frame.render_widget(Paragraph::new(violations), violations_area);
}

/// The server's latency history: a label column, then the sparkline (newest at the right).
fn latency(frame: &mut Frame, area: Rect, server: &ServerView, theme: Theme) {
    if area.height == 0 {
        return;
    }
    let [label_area, spark_area] =
        Layout::horizontal([Constraint::Length(LABEL), Constraint::Fill(1)]).areas(area);
    let width = usize::from(spark_area.width);
    let mut labels = vec![Line::from(Span::styled("latency", theme.header_row()))];
    match server.latency.latest() {
        Some(Some(now)) => labels.push(Line::from(format!("now {}", format::duration(now)))),
        Some(None) => labels.push(Line::from(Span::styled("now: lost", theme.lost()))),
        None => {}
    }
    if let Some(peak) = sparkline::peak(&server.latency, width) {
        labels.push(Line::from(Span::styled(
            format!("max {}", format::duration(peak)),
            theme.dim(),
        )));
        labels.push(Line::from(Span::styled("log scale", theme.dim())));
    }
    frame.render_widget(Paragraph::new(labels), label_area);
    if server.latency.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no samples yet", theme.dim())),
            spark_area,
        );
        return;
    }
    let bars = sparkline::bars(&server.latency, width);
    let widget = Sparkline::default()
        .data(bars)
        .direction(RenderDirection::RightToLeft)
        .style(
            theme
                .title()
                .remove_modifier(ratatui::style::Modifier::BOLD),
        )
        .absent_value_symbol(sparkline::GAP)
        .absent_value_style(theme.lost());
    frame.render_widget(widget, spark_area);
}

fn pool_gauge(frame: &mut Frame, area: Rect, status: &PoolStatus, theme: Theme) {
    if area.height == 0 {
        return;
    }
    let [label_area, gauge_area] =
        Layout::horizontal([Constraint::Length(LABEL), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled("pool", theme.header_row())),
        label_area,
    );
    #[expect(clippy::cast_precision_loss, reason = "pool sizes are small")]
    let ratio = if status.max == 0 {
        0.0
    } else {
        (status.in_use as f64 / status.max as f64).clamp(0.0, 1.0)
    };
    let mut label = format!(
        "{} in use · {} open · max {}",
        status.in_use, status.total, status.max
    );
    if status.waiters > 0 {
        let _ = write!(label, " · {} waiting", status.waiters);
    }
    let style = if status.waiters > 0 {
        theme.warn()
    } else {
        theme.ok()
    };
    let gauge = LineGauge::default()
        .ratio(ratio)
        .label(format!("{label} "))
        .filled_symbol(symbols::line::THICK_HORIZONTAL)
        .unfilled_symbol(symbols::line::HORIZONTAL)
        .filled_style(style)
        .unfilled_style(theme.dim());
    frame.render_widget(gauge, gauge_area);
}

/// A label of the detail area, padded to the label column and always followed by a space: a
/// label as long as the column ("credentials") would otherwise run into its value.
fn label(text: &str, theme: Theme) -> Span<'static> {
    Span::styled(
        format!("{text:<width$} ", width = usize::from(LABEL) - 1),
        theme.header_row(),
    )
}

/// Problems, quality and the last poll, one line each, each as much as fits in `width`.
fn facts(app: &App, server: &ServerView, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let line = |name: &str, rest: Vec<Span<'static>>| {
        let label = label(name, theme);
        let room = width.saturating_sub(label.width());
        let mut spans = vec![label];
        spans.extend(super::clip(rest, room));
        Line::from(spans)
    };
    let room = width.saturating_sub(usize::from(LABEL));
    let mut lines = Vec::new();
    let stale = staleness::reason(app, server);
    // The pool can know the credentials are refused before a poll has said so.
    if let Some(reason) = &server.unauthenticated
        && stale
            .as_ref()
            .is_none_or(|(label, _)| *label != "credentials")
    {
        lines.push(line(
            "credentials",
            vec![Span::styled(
                format!("unauthenticated: {reason}"),
                theme.error(),
            )],
        ));
    }
    if let Some((label, reason)) = stale {
        lines.push(line(label, vec![Span::styled(reason, theme.error())]));
    }
    if server.checkout.checkouts > 0 {
        lines.push(line("lktop", checkout_pieces(server, theme, room)));
    }
    lines.push(line(
        "API quality",
        pieces(quality_pieces(server.quality.as_ref(), server, theme), room),
    ));
    lines.push(line(
        "media",
        pieces(media_summary::pieces(app, server, theme), room),
    ));
    let poll = poll_pieces(app, server, room, theme);
    lines.push(line("last poll", poll));
    if let Some(webhooks) = webhook_pieces(app, server, theme) {
        lines.push(line("webhooks", pieces(webhooks, room)));
    }
    lines
}

/// Facts shown only when the violations leave room for them: who is in the rooms and what
/// the rooms hand to other services.
fn extra_facts(server: &ServerView, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let room = width.saturating_sub(usize::from(LABEL));
    let mut lines = Vec::new();
    for (name, found) in [
        ("people", participant_pieces(server, theme)),
        ("jobs", jobs_pieces(server, theme)),
    ] {
        if let Some(found) = found {
            let mut spans = vec![label(name, theme)];
            spans.extend(pieces(found, room));
            lines.push(Line::from(spans));
        }
    }
    lines
}

/// `42 standard, 3 agent, 2 sip, 1 ingress` over the rooms whose participants were read, and
/// how participants left since lktop started.
fn participant_pieces(server: &ServerView, theme: Theme) -> Option<Vec<Vec<Span<'static>>>> {
    server.snapshot.as_ref()?;
    let counts = server.participant_kinds.totals();
    let mut pieces = Vec::new();
    if !counts.is_empty() {
        pieces.push(vec![Span::raw(super::format::participant_kinds(
            &counts, true,
        ))]);
    }
    if !server.departures.total.is_empty() {
        pieces.push(vec![Span::styled(
            format!(
                "left: {}",
                crate::tui::departures::Departures::describe(&server.departures.total)
            ),
            theme.dim(),
        )]);
    }
    (!pieces.is_empty()).then_some(pieces)
}

/// The server's egress, ingress and dispatches in all: what runs, what failed, what waits.
fn jobs_pieces(server: &ServerView, theme: Theme) -> Option<Vec<Vec<Span<'static>>>> {
    use crate::jobs::JobsService;
    let jobs = &server.jobs;
    let mut pieces = Vec::new();
    for service in jobs.denied.keys() {
        pieces.push(vec![Span::styled(
            format!(
                "no permission to read {} (grant {})",
                service.what(),
                service.grant()
            ),
            theme.warn(),
        )]);
    }
    if jobs.read_at_ms.is_empty() && pieces.is_empty() {
        return None;
    }
    let counts = jobs.total();
    if !jobs.denied.contains_key(&JobsService::Egress) {
        pieces.push(vec![Span::raw(format!(
            "{} recording, {} streaming",
            counts.recording, counts.streaming
        ))]);
    }
    if counts.failed > 0 {
        pieces.push(vec![Span::styled(
            format!("{} egress failed lately", counts.failed),
            theme.error(),
        )]);
    }
    if counts.ingress > 0 {
        pieces.push(vec![Span::raw(format!(
            "ingress {}/{} live",
            counts.ingress_publishing, counts.ingress
        ))]);
    }
    let pending = counts.pending_dispatches;
    if pending > 0 {
        pieces.push(vec![Span::styled(
            format!(
                "{pending} {} waiting for an agent",
                if pending == 1 {
                    "dispatch"
                } else {
                    "dispatches"
                }
            ),
            theme.warn(),
        )]);
    }
    Some(pieces)
}

/// The last poll in pieces: how long it took, the rooms, the polling budget, rooms whose
/// participants could not be read, when.
fn poll_pieces(app: &App, server: &ServerView, room: usize, theme: Theme) -> Vec<Span<'static>> {
    match &server.poll {
        Some(poll) => {
            let mut parts = vec![vec![Span::raw(format!(
                "took {}",
                format::duration(poll.took)
            ))]];
            parts.push(vec![Span::raw(format::plural(
                u64::try_from(poll.rooms).unwrap_or(u64::MAX),
                "room",
            ))]);
            if poll.unread_rooms > 0 {
                parts.push(vec![Span::raw(format!(
                    "participants read in {}/{} (budget)",
                    poll.participant_calls, poll.rooms
                ))]);
                if let Some(snapshot) = &server.snapshot
                    && let Some(oldest) = snapshot.oldest_read_at(snapshot.taken_at_ms)
                {
                    parts.push(vec![Span::raw(format!(
                        "oldest list {}",
                        format::age(app.figures_clock_ms(server) - oldest)
                    ))]);
                }
            }
            if let Some(short) = &server.budget_short {
                parts.push(vec![Span::styled(
                    format!(
                        "budget too small: every room once per {}; {} req/s would meet \
                         max_staleness",
                        format::age(i64::try_from(short.rotation.as_millis()).unwrap_or(i64::MAX)),
                        short.needed_per_second
                    ),
                    theme.warn(),
                )]);
            }
            if let Some(first) = poll.failed_rooms.first() {
                let others = poll.failed_rooms.len() - 1;
                let more = if others > 0 {
                    format!(" and {others} more")
                } else {
                    String::new()
                };
                parts.push(vec![Span::styled(
                    format!(
                        "participants unread: {} ({}){more}",
                        first.room, first.error
                    ),
                    theme.warn(),
                )]);
            }
            if let Some(snapshot) = &server.snapshot {
                parts.push(vec![Span::styled(
                    format!("at {}", format::clock(snapshot.taken_at_ms)),
                    theme.dim(),
                )]);
            }
            pieces(parts, room)
        }
        None => vec![Span::styled("not yet", theme.dim())],
    }
}

/// What webhooks did for this server: taken, dropped, drift and its latest case, and causes
/// the listener refused webhooks for. `None` when the engine takes no webhooks.
fn webhook_pieces(app: &App, server: &ServerView, theme: Theme) -> Option<Vec<Vec<Span<'static>>>> {
    let data = app.data();
    let listen = data.webhooks_listen.as_ref()?;
    let mut parts = Vec::new();
    match &server.webhooks {
        None => parts.push(vec![Span::styled(
            format!("none yet at {listen}"),
            theme.dim(),
        )]),
        Some(totals) => {
            parts.push(vec![Span::raw(format!("{} taken", totals.taken))]);
            if totals.duplicates > 0 {
                parts.push(vec![Span::raw(format!("{} duplicates", totals.duplicates))]);
            }
            if totals.out_of_order > 0 {
                parts.push(vec![Span::raw(format!(
                    "{} out of order",
                    totals.out_of_order
                ))]);
            }
            if totals.drift > 0 {
                parts.push(vec![Span::styled(
                    format!("drift {}", totals.drift),
                    theme.warn(),
                )]);
            }
        }
    }
    if let Some(drift) = &server.last_drift {
        let who = drift.identity.as_ref().map_or_else(
            || format!("room {}", drift.room),
            |identity| format!("{identity} in {}", drift.room),
        );
        parts.push(vec![Span::styled(
            format!(
                "latest: {who} {} for {}",
                drift.kind.describe(),
                format::age(i64::try_from(drift.for_ms).unwrap_or(i64::MAX))
            ),
            theme.warn(),
        )]);
    }
    for cause in data.webhooks_refused.keys() {
        parts.push(vec![Span::styled(
            format!("refused: {cause}"),
            theme.error(),
        )]);
    }
    Some(parts)
}

/// lktop's own wait for a pooled connection: its cost, kept apart from the server's.
fn checkout_pieces(server: &ServerView, theme: Theme, room: usize) -> Vec<Span<'static>> {
    let checkout = &server.checkout;
    let mut parts = vec![vec![Span::raw(format!(
        "pool wait p50 {} · p95 {}",
        format::opt_duration(checkout.wait_p50),
        format::opt_duration(checkout.wait_p95)
    ))]];
    if checkout.timeouts > 0 {
        parts.push(vec![Span::styled(
            format!(
                "{} waited past connection_timeout",
                format::plural(checkout.timeouts, "request")
            ),
            theme.warn(),
        )]);
    }
    parts.push(vec![Span::styled(
        format!("{} checkouts", checkout.checkouts),
        theme.dim(),
    )]);
    pieces(parts, room)
}

/// The quality report in pieces, most important first.
fn quality_pieces(
    report: Option<&QualityReport>,
    server: &ServerView,
    theme: Theme,
) -> Vec<Vec<Span<'static>>> {
    let Some(report) = report else {
        return vec![vec![Span::styled("not graded yet", theme.dim())]];
    };
    let grade = server.grade();
    let mut first = vec![match report.score {
        Some(score) => Span::styled(
            format!(
                "{} {}",
                grade.map_or("ungraded", |g| g.as_str()),
                format::score(score.value())
            ),
            theme.grade(grade),
        ),
        None => Span::styled("no score", theme.dim()),
    }];
    if let Some(raw) = report.raw_score {
        first.push(Span::styled(
            format!(" (raw {})", format::score(raw.value())),
            theme.dim(),
        ));
    }
    let mut parts = vec![first];
    let mut samples = format!(
        "{}, {}",
        format::plural(report.samples, "sample"),
        format::plural(report.failures, "failure")
    );
    if let Some(rate) = report.success_rate {
        let _ = write!(samples, " ({} ok)", format::percent(rate));
    }
    parts.push(vec![Span::raw(samples)]);
    for (name, value) in [
        ("jitter", report.jitter),
        ("mean", report.mean),
        ("p95", report.p95),
        ("p99", report.p99),
        ("p50", report.p50),
    ] {
        if let Some(value) = value {
            parts.push(vec![Span::raw(format!(
                "{name} {}",
                format::duration(value)
            ))]);
        }
    }
    parts
}

/// The limits the server's rooms and nodes exceed, and the count drift, under a heading; then
/// the latest room alerts.
fn violation_lines(server: &ServerView, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = limit_lines(server, theme);
    lines.extend(server.alerts.iter().map(|(at_ms, alert)| {
        Line::from(vec![
            Span::styled("  ! ", theme.warn()),
            Span::styled(format!("{} ", format::clock(*at_ms)), theme.dim()),
            Span::raw(alert.to_string()),
        ])
    }));
    lines
}

fn limit_lines(server: &ServerView, theme: Theme) -> Vec<Line<'static>> {
    let media = media_summary::violation_lines(server, theme);
    let exceeded = server.violations.len() + server.nodes.violations.len();
    if exceeded == 0 && server.nodes.drift.is_none() {
        if server.snapshot.is_some() {
            return vec![Line::from(vec![
                label("limits", theme),
                Span::styled("every room within its limits", theme.ok()),
            ])];
        }
        return Vec::new();
    }
    let mut heading = Vec::new();
    if exceeded > 0 {
        heading.push(format!(
            "{} exceeded",
            format::plural(u64::try_from(exceeded).unwrap_or(0), "limit")
        ));
    }
    if server.nodes.drift.is_some() {
        heading.push("API and node counts disagree".to_owned());
    }
    let mut lines = vec![Line::from(vec![
        label("limits", theme),
        Span::styled(heading.join(" · "), theme.over()),
    ])];
    lines.extend(server.violations.iter().map(|violation| {
        Line::from(vec![
            Span::styled("  ! ", theme.error()),
            Span::raw(violation.to_string()),
        ])
    }));
    lines.extend(media);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans
            .iter()
            .map(|span| span.content.as_ref())
            .collect()
    }

    #[test]
    fn a_label_as_long_as_its_column_is_still_apart_from_its_value() {
        let mut server = ServerView::new("us-east".to_owned());
        server.unauthenticated = Some("invalid API key".to_owned());
        let app = App::new(
            crate::tui::Mode::Live { sandbox: None },
            crate::tui::keys::Keymap::default(),
            crate::config::RoomLimitsConfig::default(),
            0,
        );
        let width = 50;
        let lines = facts(&app, &server, width, Theme::new(true));
        let credentials = text(&lines[0]);
        assert!(
            credentials.starts_with("credentials unauthenticated: invalid API key"),
            "{credentials:?}"
        );
        let narrow = facts(&app, &server, 30, Theme::new(true));
        assert_eq!(narrow[0].width(), 30, "clipped to the width: {narrow:?}");
        assert_eq!(text(&lines[1]).find("API quality"), Some(0));
        assert_eq!(
            label("quality", Theme::new(true)).width(),
            usize::from(LABEL),
            "shorter labels keep the column"
        );
    }
}
