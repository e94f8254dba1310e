//! The selected server's rooms, in the order `update` keeps (sorted and filtered); only the
//! rows in view are built, each looked up by name in the snapshot.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{Column, block, fit, format, highlight, key_of, message, staleness, table, window};
use crate::limits::limit_for;
use crate::snapshot::{RoomSummary, Snapshot};
use crate::tui::app::App;
use crate::tui::keys::KeyAction;
use crate::tui::layout;
use crate::tui::server_view::ServerView;
use crate::tui::theme::Theme;

const ROOM: usize = 0;
const COLUMNS: [Column; 11] = [
    Column::fill("  Room", 20, 36, 0),
    Column::fixed("Participants", 12, 0).or_short("People", 7),
    Column::fixed("Read", 6, 3),
    Column::fixed("Audio", 17, 0),
    Column::fixed("Video", 17, 2),
    Column::fixed("Egress", 10, 1),
    Column::fixed("Ingress", 7, 4).or_short("In", 3),
    Column::fixed("Agents", 7, 2),
    Column::fixed("Publishers", 10, 5),
    Column::fixed("Age", 6, 3),
    Column::fixed("Profile", 7, 1),
];

/// How the filter is written, shown while it is typed.
const FILTER_HINT: &str =
    "enter keep · esc cancel · p>10 a>2 v=0 agents>0 kind=sip rec stream failed ! name";

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let body = layout::table_body(area);
    let Some(server) = app.server() else {
        frame.render_widget(block(" rooms ", area.width, theme), area);
        message(frame, body, "no server yet", theme.dim());
        return;
    };
    let outer = block(title(app, server, theme), area.width, theme);
    let outer = if app.rooms.editing_from.is_some() {
        // While the text cannot be read, the table keeps the last filter that could, and the
        // line says why in place of the hint.
        let after_cursor = match &app.rooms.filter_problem {
            Some(problem) => Span::styled(format!("  {problem} "), theme.error()),
            None => Span::styled(format!("  {FILTER_HINT} "), theme.dim()),
        };
        outer.title_bottom(Line::from(vec![
            Span::styled(format!(" / {}", app.rooms.filter), theme.title()),
            Span::styled("█", theme.title()),
            after_cursor,
        ]))
    } else {
        outer
    };

    let fitted = fit(&COLUMNS, body.width);
    let (range, selected) = window(app.rooms.cursor, body.height, server.room_order.len());
    let figures_clock_ms = app.figures_clock_ms(server);
    // Rows of a stale server are dimmed: they are as of its last good poll.
    let figure = staleness::figure_style(server, theme);
    let rows: Vec<Row> = match &server.snapshot {
        Some(snapshot) => server.room_order[range.clone()]
            .iter()
            .zip(range)
            .map(|(name, index)| {
                let cells = match snapshot.rooms.get(name) {
                    Some(room) => {
                        let read = read_cell(snapshot, room, figures_clock_ms, theme);
                        let mut row = cells(app, room, read, figures_clock_ms, theme).to_vec();
                        let jobs = job_cells(server, room, theme);
                        row.splice(5..5, jobs);
                        row
                    }
                    None => gone(theme),
                };
                let row = Row::new(fitted.iter().map(|f| {
                    if f.index == ROOM {
                        room_cell(server, name, usize::from(f.width), theme)
                    } else {
                        cells[f.index].clone()
                    }
                }))
                .style(figure);
                highlight(row, index == selected, theme)
            })
            .collect(),
        None => Vec::new(),
    };
    frame.render_widget(table(rows, &fitted, outer, theme), area);

    match &server.snapshot {
        None => match staleness::reason(app, server) {
            Some((_, reason)) => message(
                frame,
                body,
                &format!("no rooms read yet: {reason}"),
                theme.error(),
            ),
            None => message(frame, body, "waiting for the first poll…", theme.dim()),
        },
        Some(snapshot) if snapshot.rooms.is_empty() => {
            let hint = key_of(app, KeyAction::CreateRoom)
                .map(|key| format!(" — {key} creates one"))
                .unwrap_or_default();
            message(frame, body, &format!("no rooms{hint}"), theme.dim());
        }
        Some(_) if server.room_order.is_empty() => {
            message(frame, body, "no rooms match the filter", theme.dim());
        }
        Some(_) => {}
    }
}

/// `rooms: shown/total · sort: participants ▼ · filter: p>10`.
fn title(app: &App, server: &ServerView, theme: Theme) -> Line<'static> {
    let total = server.snapshot.as_ref().map_or(0, |s| s.rooms.len());
    let arrow = if app.rooms.descending { "▼" } else { "▲" };
    let mut spans = vec![Span::raw(format!(
        " {} · rooms: {}/{} · sort: {} {arrow} ",
        server.name,
        server.room_order.len(),
        total,
        app.rooms.sort.label()
    ))];
    spans.extend(staleness::title_badge(app, server, theme));
    if !app.rooms.filter.is_empty() && app.rooms.editing_from.is_none() {
        spans.push(Span::styled(
            format!("· filter: {} ", app.rooms.filter),
            theme.warn(),
        ));
        if let Some(problem) = &app.rooms.filter_problem {
            spans.push(Span::styled(
                format!("({problem}; the last valid filter applies) "),
                theme.error(),
            ));
        }
    }
    Line::from(spans)
}

/// The room's name, after a `!` when it is over one of its limits.
fn room_cell(server: &ServerView, name: &str, width: usize, theme: Theme) -> Cell<'static> {
    let marker = if server.violating_rooms.contains_key(name) {
        Span::styled("! ", theme.error())
    } else {
        Span::raw("  ")
    };
    Cell::from(Line::from(vec![
        marker,
        Span::raw(format::truncate(name, width.saturating_sub(2)).into_owned()),
    ]))
}

/// A count against its limit, in the over style past it.
fn against(actual: u32, limit: u32, theme: Theme) -> Span<'static> {
    let text = format::count(actual, limit);
    if actual > limit {
        Span::styled(text, theme.over())
    } else {
        Span::raw(text)
    }
}

/// Live tracks against the limit, and the muted ones apart.
fn tracks(live: u32, muted: u32, limit: u32, theme: Theme) -> Cell<'static> {
    let mut spans = vec![against(live, limit, theme)];
    if muted > 0 {
        spans.push(Span::styled(format!(" (+{muted} muted)"), theme.muted()));
    }
    Cell::from(Line::from(spans))
}

/// How old the room's participant list is, when the latest poll did not read it (the polling
/// budget reads rooms in turn): blank when current, `?` when never read.
fn read_cell(
    snapshot: &Snapshot,
    room: &RoomSummary,
    figures_clock_ms: i64,
    theme: Theme,
) -> Cell<'static> {
    if snapshot.read_in_this_poll(&room.name) {
        return Cell::from("");
    }
    match snapshot.participants_read_at(&room.name) {
        Some(at) => Cell::from(Span::styled(
            format::age(figures_clock_ms - at),
            theme.warn(),
        )),
        None => Cell::from(Span::styled("?", theme.dim())),
    }
}

fn cells(
    app: &App,
    room: &RoomSummary,
    read: Cell<'static>,
    figures_clock_ms: i64,
    theme: Theme,
) -> [Cell<'static>; 8] {
    let limit = limit_for(&app.data().limits, &room.name);
    let unknown = || Cell::from(Span::styled("?", theme.dim()));
    let (audio, video) = if room.participants.is_some() {
        (
            tracks(
                room.tracks.live_audio(),
                room.tracks.audio_muted,
                limit.max_audio_tracks,
                theme,
            ),
            tracks(
                room.tracks.live_video(),
                room.tracks.video_muted,
                limit.max_video_tracks,
                theme,
            ),
        )
    } else {
        (unknown(), unknown())
    };
    let profile = match crate::audio::read_profile(&room.metadata) {
        Ok(Some(_)) => Cell::from(Span::styled("✓", theme.ok())),
        Ok(None) => Cell::from(""),
        Err(_) => Cell::from(Span::styled("?", theme.warn())),
    };
    [
        Cell::from(""),
        Cell::from(against(
            room.num_participants,
            participant_limit(room, limit.max_participants).0,
            theme,
        )),
        read,
        audio,
        video,
        Cell::from(room.num_publishers.to_string()),
        Cell::from(format::age(
            figures_clock_ms - room.created_at.saturating_mul(1000),
        )),
        profile,
    ]
}

/// The participant limit that binds first: the server's own `max_participants` when it is
/// set and lower than lktop's, which the second value then says.
pub(super) fn participant_limit(room: &RoomSummary, lktop: u32) -> (u32, bool) {
    if room.max_participants > 0 && room.max_participants < lktop {
        (room.max_participants, true)
    } else {
        (lktop, false)
    }
}

/// The room's egress (`REC`, `STREAM`, `FAILED`), its live ingress and its agents (those in
/// the room, then `+n` dispatches no agent took yet). `n/a` where the key may not read the
/// service; blank before the first read.
fn job_cells(server: &ServerView, room: &RoomSummary, theme: Theme) -> [Cell<'static>; 3] {
    use crate::jobs::JobsService;
    let jobs = server.jobs.room_jobs(&room.name);
    let denied = |service| server.jobs.denied.contains_key(&service);
    let egress = if denied(JobsService::Egress) {
        Cell::from(Span::styled("n/a", theme.dim()))
    } else {
        let label = jobs.egress_label();
        let style = if jobs.failed > 0 {
            theme.error()
        } else {
            theme.ok()
        };
        Cell::from(Span::styled(label, style))
    };
    let ingress = if denied(JobsService::Ingress) {
        Cell::from(Span::styled("n/a", theme.dim()))
    } else if jobs.ingress == 0 {
        Cell::from("")
    } else if jobs.ingress_live == jobs.ingress {
        Cell::from(jobs.ingress.to_string())
    } else {
        Cell::from(Span::styled(
            format!("{}/{}", jobs.ingress_live, jobs.ingress),
            theme.warn(),
        ))
    };
    let in_room = agent_count(room);
    let mut agents = Vec::new();
    match in_room {
        Some(0) if jobs.pending_dispatches > 0 => agents.push(Span::raw("0")),
        Some(0) => {}
        Some(count) => agents.push(Span::raw(count.to_string())),
        None => agents.push(Span::styled("?", theme.dim())),
    }
    if jobs.pending_dispatches > 0 {
        agents.push(Span::styled(
            format!(" +{}", jobs.pending_dispatches),
            theme.warn(),
        ));
    }
    [egress, ingress, Cell::from(Line::from(agents))]
}

/// Participants of kind agent; `None` while the room's participants are unknown.
fn agent_count(room: &RoomSummary) -> Option<usize> {
    room.participants.as_ref().map(|participants| {
        participants
            .iter()
            .filter(|p| p.kind == crate::snapshot::ParticipantKind::Agent)
            .count()
    })
}

/// A name in the order that the snapshot no longer has (never expected; drawn, not hidden).
fn gone(theme: Theme) -> Vec<Cell<'static>> {
    let dash = || Cell::from(Span::styled("—", theme.dim()));
    (0..COLUMNS.len()).map(|_| dash()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::TrackCounts;

    fn room(max_participants: u32) -> RoomSummary {
        RoomSummary {
            name: "r".into(),
            sid: "RM_r".into(),
            created_at: 0,
            max_participants,
            metadata: String::new(),
            num_participants: 0,
            num_publishers: 0,
            tracks: TrackCounts::default(),
            participants: None,
        }
    }

    #[test]
    fn the_server_cap_shows_when_it_binds_first() {
        assert_eq!(
            participant_limit(&room(0), 50),
            (50, false),
            "no server cap"
        );
        assert_eq!(
            participant_limit(&room(100), 50),
            (50, false),
            "lktop's binds first"
        );
        assert_eq!(
            participant_limit(&room(20), 50),
            (20, true),
            "the server's binds first"
        );
    }
}
