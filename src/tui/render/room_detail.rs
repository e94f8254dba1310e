//! One room: its facts, limits and audio profile on top, its participants and their tracks
//! below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::{
    Column, block, fit, format, highlight, key_of, message, pieces, staleness, table, window,
};
use crate::config::{AudioProfile, RoomLimitOverride};
use crate::limits::{RoomLimit, limit_for};
use crate::snapshot::{ParticipantSummary, RoomSummary, Snapshot, TrackKind};
use crate::tui::app::{App, DetailRow, detail_rows};
use crate::tui::keys::KeyAction;
use crate::tui::layout;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 5] = [
    Column::fill("Participant / track", 24, 40, 0),
    Column::fixed("Name", 18, 2),
    Column::fixed("State", 8, 0),
    Column::fixed("Joined", 7, 1),
    // Wide enough for a whole sid (`TR_` and 12 characters) and more when there is room;
    // anything cut ends in `…`, and the selected row's full identity and sids are in the
    // table's bottom line.
    Column::fill("Tracks / sid", 16, 40, 0),
];

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let (info_area, table_area) = layout::room_detail(area);
    let name = app.room_detail.as_ref().map_or("", |d| d.room.as_str());
    let Some(room) = app.detail_room() else {
        let outer = block(format!(" room {name} "), area.width, theme);
        let inner = outer.inner(area);
        frame.render_widget(outer, area);
        let back = key_of(app, KeyAction::Back)
            .map(|key| format!(" — {key} to go back"))
            .unwrap_or_default();
        message(
            frame,
            inner,
            &format!("room {name} is gone (finished or deleted){back}"),
            theme.warn(),
        );
        return;
    };
    info(frame, info_area, app, room, theme);
    participants(frame, table_area, app, room, theme);
}

/// Width of the labels of the info area.
const LABEL: usize = 13;

fn info(frame: &mut Frame, area: Rect, app: &App, room: &RoomSummary, theme: Theme) {
    let data = app.data();
    let limit = limit_for(&data.limits, &room.name);
    let own = data.limits.overrides.get(&room.name).copied();
    let mut title = vec![Span::raw(format!(" room {} ", room.name))];
    if let Some(server) = app.server() {
        title.extend(staleness::title_badge(app, server, theme));
    }
    let outer = block(Line::from(title), area.width, theme);
    let now_ms = app.server().map_or_else(
        || app.view_clock_ms(),
        |server| app.figures_clock_ms(server),
    );
    let room_width = usize::from(outer.inner(area).width).saturating_sub(LABEL);
    let line = |label: &str, parts: Vec<Vec<Span<'static>>>| {
        let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.header_row())];
        spans.extend(pieces(parts, room_width));
        Line::from(spans)
    };
    let created_ms = room.created_at.saturating_mul(1000);
    let over = |actual: u32, max: u32| {
        let text = format::count(actual, max);
        if actual > max {
            Span::styled(text, theme.over())
        } else {
            Span::raw(text)
        }
    };
    let mut lines = vec![line(
        "room",
        vec![
            vec![Span::raw(format!("sid {}", room.sid))],
            vec![Span::raw(format!(
                "created {} ({} ago)",
                format::clock(created_ms),
                format::age(now_ms - created_ms)
            ))],
            vec![Span::styled(
                if room.max_participants == 0 {
                    "no server cap".to_owned()
                } else {
                    format!("server cap {}", room.max_participants)
                },
                theme.dim(),
            )],
        ],
    )];
    let mut participants = participant_pieces(room, limit.max_participants, theme);
    if let Some(snapshot) = app.server().and_then(|server| server.snapshot.as_deref()) {
        participants.push(vec![read_piece(snapshot, room, now_ms, theme)]);
    }
    lines.push(line("participants", participants));
    if room.participants.is_some() {
        let muted = |n: u32| {
            Span::styled(
                if n > 0 {
                    format!(" (+{n} muted)")
                } else {
                    String::new()
                },
                theme.muted(),
            )
        };
        lines.push(line(
            "live tracks",
            vec![
                vec![
                    Span::raw("audio "),
                    over(room.tracks.live_audio(), limit.max_audio_tracks),
                    muted(room.tracks.audio_muted),
                ],
                vec![
                    Span::raw("video "),
                    over(room.tracks.live_video(), limit.max_video_tracks),
                    muted(room.tracks.video_muted),
                ],
            ],
        ));
    } else {
        lines.push(line(
            "live tracks",
            vec![vec![Span::styled(
                "unknown: participants not read yet",
                theme.warn(),
            )]],
        ));
    }
    lines.push(line("limits", limits(own, limit, theme)));
    lines.push(line(
        "audio",
        vec![vec![profile(room, &data.audio_default, theme)]],
    ));
    frame.render_widget(Paragraph::new(lines).block(outer), area);
}

/// How old the participant list is: always said here, in the warning style when the latest
/// poll did not read it (the polling budget reads rooms in turn).
fn read_piece(snapshot: &Snapshot, room: &RoomSummary, now_ms: i64, theme: Theme) -> Span<'static> {
    match snapshot.participants_read_at(&room.name) {
        Some(at) if snapshot.read_in_this_poll(&room.name) => Span::styled(
            format!("list read {} ago", format::age(now_ms - at)),
            theme.dim(),
        ),
        Some(at) => Span::styled(
            format!(
                "list read {} ago, not in the latest poll (polling budget)",
                format::age(now_ms - at)
            ),
            theme.warn(),
        ),
        None => Span::styled("list not read yet", theme.warn()),
    }
}

/// The count against the limit that binds first, and the server's cap when it is that one.
fn participant_pieces(room: &RoomSummary, lktop: u32, theme: Theme) -> Vec<Vec<Span<'static>>> {
    let (limit, servers) = super::rooms::participant_limit(room, lktop);
    let count = format::count(room.num_participants, limit);
    let mut pieces = vec![
        vec![if room.num_participants > limit {
            Span::styled(count, theme.over())
        } else {
            Span::raw(count)
        }],
        vec![Span::raw(format!("{} publishing", room.num_publishers))],
    ];
    if servers {
        pieces.push(vec![Span::styled(
            format!("the server's max_participants {limit} binds before lktop's {lktop}"),
            theme.warn(),
        )]);
    }
    pieces
}

/// The selected row's whole identity and sids: `user-0016 · PA_… · TR_… (audio microphone)`.
fn selected_ids(participants: &[ParticipantSummary], row: DetailRow) -> Option<String> {
    match row {
        DetailRow::Participant(p) => {
            let participant = participants.get(p)?;
            Some(format!("{} · {}", participant.identity, participant.sid))
        }
        DetailRow::Track(p, t) => {
            let participant = participants.get(p)?;
            let track = participant.tracks.get(t)?;
            Some(format!(
                "{} · {} · track {} ({})",
                participant.identity, participant.sid, track.sid, track.source
            ))
        }
    }
}

/// The limits that apply: the room's own values, or the global ones.
fn limits(
    own: Option<RoomLimitOverride>,
    limit: RoomLimit,
    theme: Theme,
) -> Vec<Vec<Span<'static>>> {
    let Some(own) = own else {
        return vec![vec![Span::raw(format!(
            "global: participants {}, audio {}, video {}",
            limit.max_participants, limit.max_audio_tracks, limit.max_video_tracks
        ))]];
    };
    let set: Vec<String> = [
        ("participants", own.max_participants),
        ("audio", own.max_audio_tracks),
        ("video", own.max_video_tracks),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| format!("{name} {value}")))
    .collect();
    vec![
        vec![Span::styled(
            format!("own: {}", set.join(", ")),
            theme.warn(),
        )],
        vec![Span::styled("the rest global", theme.dim())],
    ]
}

/// The room's audio profile from its metadata, or why there is none.
fn profile(room: &RoomSummary, default: &AudioProfile, theme: Theme) -> Span<'static> {
    match crate::audio::read_profile(&room.metadata) {
        Ok(Some(profile)) => Span::raw(describe(&profile)),
        Ok(None) => Span::styled(
            format!("none — the default applies: {}", describe(default)),
            theme.dim(),
        ),
        Err(err) => Span::styled(format!("metadata unreadable: {err}"), theme.warn()),
    }
}

/// `target 40ms · buffer 20ms · jitter 80ms · EC on · NS on · AGC off`.
fn describe(profile: &AudioProfile) -> String {
    let on = |flag: bool| if flag { "on" } else { "off" };
    format!(
        "target {}ms · buffer {}ms · jitter {}ms · EC {} · NS {} · AGC {}",
        profile.target_latency_ms,
        profile.buffer_size_ms,
        profile.jitter_buffer_ms,
        on(profile.echo_cancellation),
        on(profile.noise_suppression),
        on(profile.auto_gain_control)
    )
}

fn participants(frame: &mut Frame, area: Rect, app: &App, room: &RoomSummary, theme: Theme) {
    let body = layout::table_body(area);
    let Some(participants) = &room.participants else {
        frame.render_widget(block(" participants ", area.width, theme), area);
        message(frame, body, "participants not read this poll", theme.warn());
        return;
    };
    let track_count: usize = participants.iter().map(|p| p.tracks.len()).sum();
    let rows = detail_rows(room);
    let cursor = app
        .room_detail
        .as_ref()
        .map(|d| d.cursor)
        .unwrap_or_default();
    let now_ms = app.server().map_or_else(
        || app.view_clock_ms(),
        |server| app.figures_clock_ms(server),
    );
    let outer = block(
        format!(
            " {} · {} ",
            format::plural(
                u64::try_from(participants.len()).unwrap_or(0),
                "participant"
            ),
            format::plural(u64::try_from(track_count).unwrap_or(0), "track")
        ),
        area.width,
        theme,
    );
    let outer = match rows
        .get(cursor.selected)
        .and_then(|row| selected_ids(participants, *row))
    {
        Some(ids) => outer.title_bottom(Line::from(Span::styled(format!(" {ids} "), theme.dim()))),
        None => outer,
    };
    let fitted = fit(&COLUMNS, body.width);
    let (range, selected) = window(cursor, body.height, rows.len());
    let table_rows: Vec<Row> = rows[range.clone()]
        .iter()
        .zip(range)
        .filter_map(|(row, index)| {
            let cells = match *row {
                DetailRow::Participant(p) => {
                    let participant = participants.get(p)?;
                    let state_style = if participant.state == "active" {
                        theme.ok()
                    } else {
                        theme.dim()
                    };
                    [
                        participant.identity.clone().into(),
                        Span::raw(participant.name.clone()),
                        Span::styled(participant.state.clone(), state_style),
                        Span::raw(format::age(now_ms - participant.joined_at_ms)),
                        Span::raw(format::plural(
                            u64::try_from(participant.tracks.len()).unwrap_or(0),
                            "track",
                        )),
                    ]
                }
                DetailRow::Track(p, t) => {
                    let track = participants.get(p)?.tracks.get(t)?;
                    let kind = match track.kind {
                        TrackKind::Audio => "audio",
                        TrackKind::Video => "video",
                        TrackKind::Data => "data",
                    };
                    let state = if track.muted {
                        Span::styled("muted", theme.muted())
                    } else {
                        Span::styled("live", theme.ok())
                    };
                    [
                        format!("  └ {kind} {}", track.source).into(),
                        Span::raw(track.name.clone()),
                        state,
                        Span::raw(""),
                        Span::styled(track.sid.clone(), theme.dim()),
                    ]
                }
            };
            let row = Row::new(fitted.iter().map(|f| {
                let cell = &cells[f.index];
                // Cut with `…`, never silently: a cut sid must not pass for a whole one.
                let text = format::truncate(&cell.content, usize::from(f.width)).into_owned();
                Cell::from(Span::styled(text, cell.style))
            }));
            Some(highlight(row, index == selected, theme))
        })
        .collect();
    frame.render_widget(table(table_rows, &fitted, outer, theme), area);
    if rows.is_empty() {
        message(frame, body, "no participants", theme.dim());
    }
}
