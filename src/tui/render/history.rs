//! The History screen: rooms that finished, newest first by default, and under the table the
//! selected room's whole record when it is open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use super::{Column, block, filter_badge, fit, format, highlight, key_of, message, table, window};
use crate::history::FinishedRoom;
use crate::tui::app::App;
use crate::tui::history_view::HistoryEntry;
use crate::tui::keys::KeyAction;
use crate::tui::layout;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 8] = [
    Column::fixed("Finished", 8, 0),
    Column::fill("Room", 16, 36, 0),
    Column::fixed("Server", 10, 5),
    Column::fixed("Lasted", 8, 0),
    Column::fixed("Peak", 5, 0),
    Column::fixed("Seen", 5, 2),
    Column::fixed("Tracks", 6, 3),
    Column::fill("How people left", 12, u16::MAX, 1),
];

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let view = &app.history;
    let (table_area, detail_area) = layout::history(area, view.detail);
    let shown = view.shown();
    let arrow = if view.descending { "▼" } else { "▲" };
    let mut title = vec![Span::raw(format!(
        " finished rooms: {}/{} · sort: {} {arrow} ",
        shown.len(),
        view.len(),
        view.sort.label()
    ))];
    title.extend(filter_badge(&view.filter, theme));
    let outer = block(Line::from(title), table_area.width, theme);
    let body = layout::table_body(table_area);
    let fitted = fit(&COLUMNS, body.width);
    let (range, selected) = window(view.cursor, body.height, shown.len());
    let rows: Vec<Row> = shown[range.clone()]
        .iter()
        .zip(range)
        .map(|(entry, index)| {
            let cells = cells(entry, theme);
            let row = Row::new(fitted.iter().map(|f| cells[f.index].clone()));
            highlight(row, index == selected, theme)
        })
        .collect();
    frame.render_widget(table(rows, &fitted, outer, theme), table_area);
    if view.is_empty() {
        message(
            frame,
            body,
            "no room has finished since lktop started",
            theme.dim(),
        );
    } else if shown.is_empty() {
        message(
            frame,
            body,
            "no finished room matches the filter",
            theme.dim(),
        );
    }
    if let (Some(detail_area), Some(entry)) = (detail_area, view.selected()) {
        detail(frame, detail_area, app, entry, theme);
    }
}

fn cells(entry: &HistoryEntry, theme: Theme) -> [Cell<'static>; 8] {
    let room = &entry.room;
    [
        Cell::from(format::clock(room.finished_at_ms)),
        Cell::from(room.room.clone()),
        Cell::from(Span::styled(entry.server.clone(), theme.dim())),
        Cell::from(format::age(
            i64::try_from(room.duration_ms).unwrap_or(i64::MAX),
        )),
        Cell::from(room.peak_participants.to_string()),
        Cell::from(room.participants_seen.to_string()),
        Cell::from(room.tracks_published.to_string()),
        Cell::from(Span::styled(reasons(room), theme.dim())),
    ]
}

/// `CLIENT_INITIATED ×12 · ROOM_DELETED ×3`, most first.
fn reasons(room: &FinishedRoom) -> String {
    let mut tally: Vec<(&String, &u32)> = room.disconnect_reasons.iter().collect();
    tally.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    tally
        .iter()
        .map(|(reason, count)| format!("{reason} ×{count}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn detail(frame: &mut Frame, area: Rect, app: &App, entry: &HistoryEntry, theme: Theme) {
    let room = &entry.room;
    let back = key_of(app, KeyAction::Back)
        .map(|key| format!("· {key} closes "))
        .unwrap_or_default();
    let outer = block(
        Line::from(vec![
            Span::raw(format!(" {} on {} ", room.room, entry.server)),
            Span::styled(back, theme.dim()),
        ]),
        area.width,
        theme,
    );
    let label = |text: &str| Span::styled(format!("{text:<14}"), theme.header_row());
    let lines = vec![
        Line::from(vec![label("room"), Span::raw(format!("sid {}", room.sid))]),
        Line::from(vec![
            label("lived"),
            Span::raw(format!(
                "{} → {} ({}), finished per {}",
                format::clock(room.started_at_ms),
                format::clock(room.finished_at_ms),
                format::age(i64::try_from(room.duration_ms).unwrap_or(i64::MAX)),
                room.told_by
            )),
        ]),
        Line::from(vec![
            label("participants"),
            Span::raw(format!(
                "peak {} at once · {} seen · {} tracks published",
                room.peak_participants, room.participants_seen, room.tracks_published
            )),
        ]),
        Line::from(vec![
            label("how they left"),
            Span::raw(if room.disconnect_reasons.is_empty() {
                "nobody was seen leaving".to_owned()
            } else {
                reasons(room)
            }),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(outer),
        area,
    );
}
