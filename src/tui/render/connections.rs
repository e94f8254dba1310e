//! The selected server's pooled connections: state, reconnection countdown, counters,
//! latency and a latency sparkline per connection.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Column, block, fit, format, highlight, message, sparkline, table, window};
use crate::reconnect::ConnectionState;
use crate::tui::app::App;
use crate::tui::layout;
use crate::tui::server_view::ConnectionView;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 11] = [
    Column::fixed("Conn", 7, 0),
    Column::fixed("State", 12, 0),
    Column::fixed("In use", 7, 6),
    Column::fixed("Reconnection", 18, 1),
    Column::fixed("Requests", 8, 4),
    Column::fixed("Failures", 8, 3),
    Column::fixed("Latency now/avg", 15, 0).or_short("Latency", 13),
    Column::fixed("Score", 5, 5),
    Column::fixed("Age", 6, 7),
    Column::fill("Last error", 10, 48, 8),
    Column::fill("History", 12, u16::MAX, 2),
];
const LAST_ERROR: usize = 9;
const HISTORY: usize = 10;

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let body = layout::table_body(area);
    let Some(server) = app.server() else {
        let outer = block(" connections ", area.width, theme);
        frame.render_widget(outer, area);
        message(frame, body, "no server yet", theme.dim());
        return;
    };
    let mut title = vec![Span::raw(format!(" {} · ", server.name))];
    match &server.status {
        Some(status) => {
            title.push(Span::raw(format!(
                "pool {} in use / {} open / max {}",
                status.in_use, status.total, status.max
            )));
            if status.waiters > 0 {
                title.push(Span::styled(
                    format!(" · {} waiting", status.waiters),
                    theme.warn(),
                ));
            }
            if status.events_dropped > 0 {
                title.push(Span::styled(
                    format!(" · {} events dropped", status.events_dropped),
                    theme.warn(),
                ));
            }
        }
        None => title.push(Span::styled("no pool status yet", theme.dim())),
    }
    title.push(Span::raw(" "));
    if let Some(reason) = &server.unauthenticated {
        title.push(Span::styled(
            format!("· unauthenticated: {reason} "),
            theme.error(),
        ));
    }
    let mut outer = block(Line::from(title), area.width, theme);
    if !server.closed.is_empty() {
        let closed: Vec<String> = server
            .closed
            .iter()
            .map(|closed| {
                format!(
                    "{} closed {} ago: {}",
                    closed.id,
                    format::age(app.view_clock_ms() - closed.at_ms),
                    closed.cause
                )
            })
            .collect();
        let text = format::truncate(
            &closed.join(" · "),
            usize::from(area.width).saturating_sub(4),
        )
        .into_owned();
        outer = outer.title_bottom(Line::from(Span::styled(format!(" {text} "), theme.dim())));
    }

    let fitted = fit(&COLUMNS, body.width);
    let history_width = fitted
        .iter()
        .find(|f| f.index == HISTORY)
        .map_or(0, |f| usize::from(f.width));
    let len = server.connections.len();
    let (range, selected) = window(app.connections, body.height, len);
    let rows: Vec<Row> = server
        .connections
        .values()
        .enumerate()
        .skip(range.start)
        .take(range.len())
        .map(|(index, view)| {
            let cells = cells(view, app.clock_ms(), history_width, theme);
            let row = Row::new(fitted.iter().map(|f| {
                if f.index == LAST_ERROR {
                    // Cut with an ellipsis rather than mid-word.
                    let text = view.info.last_error.as_deref().unwrap_or("");
                    return Cell::from(Span::styled(
                        format::truncate(text, usize::from(f.width)).into_owned(),
                        theme.error(),
                    ));
                }
                cells[f.index].clone()
            }));
            highlight(row, index == selected, theme)
        })
        .collect();
    frame.render_widget(table(rows, &fitted, outer, theme), area);
    if len == 0 {
        message(frame, body, "no connections open", theme.dim());
    }
}

fn cells(view: &ConnectionView, now_ms: i64, history: usize, theme: Theme) -> [Cell<'static>; 11] {
    let info = &view.info;
    let dash = || Cell::from(Span::styled("—", theme.dim()));
    let in_use = match (info.in_use, info.checking) {
        (true, _) => Cell::from(Span::styled("yes", theme.ok())),
        (false, true) => Cell::from(Span::styled("check", theme.warn())),
        (false, false) => Cell::from(""),
    };
    let retrying = matches!(
        info.state,
        ConnectionState::Reconnecting | ConnectionState::Failed
    );
    // Reconnecting: which attempt comes next and when; Failed: out of attempts, tried again
    // on the slow cadence; healthy: how many attempts it took over its life.
    let reconnect = match (info.state, view.retry_in(now_ms)) {
        (ConnectionState::Failed, Some(wait)) => Cell::from(Span::styled(
            format!("gave up; retry in {}", format::duration(wait)),
            theme.error(),
        )),
        (_, Some(wait)) if retrying => {
            let attempt = view
                .attempt
                .map_or_else(|| "retry".to_owned(), |a| format!("attempt {a}"));
            Cell::from(Span::styled(
                format!("{attempt} in {}", format::duration(wait)),
                theme.warn(),
            ))
        }
        _ if retrying => Cell::from(Span::styled("retry due", theme.warn())),
        _ if info.reconnect_attempts > 0 => Cell::from(Span::styled(
            format!(
                "ok after {}",
                format::plural(info.reconnect_attempts, "attempt")
            ),
            theme.dim(),
        )),
        _ => Cell::from(""),
    };
    let failures = if info.failed_requests > 0 {
        Cell::from(Span::styled(info.failed_requests.to_string(), theme.warn()))
    } else {
        Cell::from(Span::styled("0", theme.dim()))
    };
    let latency = match (info.current_latency, info.average_latency) {
        (None, None) => dash(),
        (now, avg) => Cell::from(format!(
            "{}/{}",
            format::opt_duration(now),
            format::opt_duration(avg)
        )),
    };
    let created_ms = info
        .created_at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    [
        Cell::from(info.id.to_string()),
        Cell::from(Span::styled(info.state.as_str(), theme.state(info.state))),
        in_use,
        reconnect,
        Cell::from(info.total_requests.to_string()),
        failures,
        latency,
        info.quality_score
            .map_or_else(dash, |s| Cell::from(format::score(s))),
        Cell::from(format::age(now_ms - created_ms)),
        Cell::from(""),
        Cell::from(sparkline::text(&view.history, history, theme)),
    ]
}
