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
use crate::jobs::{DispatchSummary, EgressSummary, IngressStatus, IngressSummary};
use crate::limits::{RoomLimit, limit_for};
use crate::snapshot::{
    ParticipantKind, ParticipantSummary, RoomSummary, Snapshot, TrackKind, TrackSummary,
};
use crate::tui::app::{App, DetailRow, detail_rows};
use crate::tui::departures::Departures;
use crate::tui::jobs_view::JobsView;
use crate::tui::keys::KeyAction;
use crate::tui::layout;
use crate::tui::theme::Theme;

const COLUMNS: [Column; 5] = [
    Column::fill("Job / participant / track", 24, 40, 0),
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
    lines.push(line(
        "participants",
        participants_line(app, room, limit.max_participants, now_ms, theme),
    ));
    lines.push(line(
        "jobs",
        jobs_pieces(app.detail_jobs(), &room.name, now_ms, theme),
    ));
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

/// The participants against their limit, how old their list is, the kinds that are not
/// people's clients, and how participants left.
fn participants_line(
    app: &App,
    room: &RoomSummary,
    limit: u32,
    now_ms: i64,
    theme: Theme,
) -> Vec<Vec<Span<'static>>> {
    let mut participants = participant_pieces(room, limit, theme);
    if let Some(snapshot) = app.server().and_then(|server| server.snapshot.as_deref()) {
        participants.push(vec![read_piece(snapshot, room, now_ms, theme)]);
    }
    if let Some(kinds) = kinds_piece(room) {
        participants.push(vec![Span::raw(kinds)]);
    }
    if let Some(left) = app
        .data()
        .servers
        .get(app.room_detail.as_ref().map_or(0, |d| d.server))
        .and_then(|server| server.departures.by_room.get(&room.name))
    {
        participants.push(vec![Span::styled(
            format!("left: {}", Departures::describe(left)),
            theme.dim(),
        )]);
    }
    participants
}

/// `2 agents, 1 sip`: the participants that are not people's clients, when there are any.
fn kinds_piece(room: &RoomSummary) -> Option<String> {
    let counts = crate::snapshot::kind_counts(room.participants.as_deref()?);
    let others = format::participant_kinds(&counts, false);
    (!others.is_empty()).then_some(others)
}

/// The room's egress, ingress and dispatches in a line, with the age of the reads, or why
/// they are not known.
fn jobs_pieces(
    jobs: Option<&JobsView>,
    room: &str,
    now_ms: i64,
    theme: Theme,
) -> Vec<Vec<Span<'static>>> {
    use crate::jobs::JobsService;
    let Some(jobs) = jobs else {
        return vec![vec![Span::styled("not read yet", theme.dim())]];
    };
    let mut pieces = Vec::new();
    for service in JobsService::ALL {
        if let Some(cause) = jobs.denied.get(&service) {
            pieces.push(vec![Span::styled(
                format!(
                    "no permission to read {} (grant {}): {cause}",
                    service.what(),
                    service.grant()
                ),
                theme.warn(),
            )]);
        }
    }
    let counts = jobs.room_jobs(room);
    let egress = counts.egress_label();
    pieces.push(vec![if egress.is_empty() {
        Span::styled("no recording or stream", theme.dim())
    } else if counts.failed > 0 {
        Span::styled(format!("egress {egress}"), theme.error())
    } else {
        Span::styled(format!("egress {egress}"), theme.ok())
    }]);
    if counts.ingress > 0 {
        pieces.push(vec![Span::raw(format!(
            "ingress {}/{} live",
            counts.ingress_live, counts.ingress
        ))]);
    }
    if counts.pending_dispatches > 0 {
        pieces.push(vec![Span::styled(
            format!(
                "{} dispatch(es) waiting for an agent",
                counts.pending_dispatches
            ),
            theme.warn(),
        )]);
    }
    if let Some(read) = jobs.read_at_ms.get(&JobsService::Egress) {
        pieces.push(vec![Span::styled(
            format!("egress read {} ago", format::age(now_ms - read)),
            theme.dim(),
        )]);
    }
    pieces
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

/// The selected row in full, for the table's bottom line: a participant's identity, sid,
/// kind, region, joined time, protocol, rights and attributes; a track's sid, codec, layers
/// and encryption; a job's id, state, times and error.
fn selected_detail(
    participants: &[ParticipantSummary],
    jobs: Option<(&JobsView, &str)>,
    row: DetailRow,
    now_ms: i64,
) -> Option<String> {
    match row {
        DetailRow::Participant(p) => Some(participant_detail(participants.get(p)?, now_ms)),
        DetailRow::Track(p, t) => {
            let participant = participants.get(p)?;
            Some(track_detail(participant, participant.tracks.get(t)?))
        }
        DetailRow::Egress(index) => {
            let (jobs, room) = jobs?;
            Some(egress_detail(jobs.egress_of(room).get(index)?, now_ms))
        }
        DetailRow::Ingress(index) => {
            let (jobs, room) = jobs?;
            Some(ingress_detail(jobs.ingress_of(room).get(index)?))
        }
        DetailRow::Dispatch(index) => {
            let (jobs, room) = jobs?;
            Some(dispatch_detail(jobs.dispatches_of(room).get(index)?))
        }
    }
}

fn participant_detail(participant: &ParticipantSummary, now_ms: i64) -> String {
    let mut parts = vec![
        participant.identity.clone(),
        participant.sid.clone(),
        participant.kind.label().to_owned(),
        format!(
            "joined {} ({} ago)",
            format::clock(participant.joined_at_ms),
            format::age(now_ms - participant.joined_at_ms)
        ),
    ];
    if !participant.region.is_empty() {
        parts.push(format!("region {}", participant.region));
    }
    if participant.client_protocol > 0 {
        parts.push(format!("protocol {}", participant.client_protocol));
    }
    if let Some(permission) = &participant.permission {
        parts.push(format!("may {}", permission.describe()));
    }
    if !participant.attributes.is_empty() {
        let attributes: Vec<String> = participant
            .attributes
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        parts.push(attributes.join(" "));
    }
    parts.join(" · ")
}

fn track_detail(participant: &ParticipantSummary, track: &TrackSummary) -> String {
    let mut parts = vec![
        participant.identity.clone(),
        format!("track {} ({})", track.sid, track.source),
    ];
    if !track.mime_type.is_empty() {
        parts.push(track.mime_type.clone());
    }
    if !track.layers.is_empty() {
        let layers: Vec<String> = track
            .layers
            .iter()
            .map(|layer| {
                format!(
                    "{} {}x{} {}",
                    layer.quality,
                    layer.width,
                    layer.height,
                    super::node_figures::bitrate(f64::from(layer.bitrate))
                )
            })
            .collect();
        let simulcast = if track.simulcast { "simulcast " } else { "" };
        parts.push(format!("{simulcast}{}", layers.join(", ")));
    }
    if let Some(encryption) = &track.encryption {
        parts.push(format!("encrypted ({encryption})"));
    }
    parts.join(" · ")
}

fn egress_detail(job: &EgressSummary, now_ms: i64) -> String {
    let mut parts = vec![
        job.egress_id.clone(),
        format!("{} to {}", job.source, job.destinations_label()),
        job.status.label().to_owned(),
    ];
    if let Some(started) = job.started_at_ms {
        let until = job.ended_at_ms.unwrap_or(now_ms);
        parts.push(format!(
            "started {}, ran {}",
            format::clock(started),
            format::age(until - started)
        ));
    }
    if let Some(error) = &job.error {
        parts.push(format!("error: {error}"));
    }
    parts.join(" · ")
}

fn ingress_detail(ingress: &IngressSummary) -> String {
    let mut parts = vec![
        ingress.ingress_id.clone(),
        format!("{} input", ingress.input),
        ingress.status.label().to_owned(),
        format!("joins as {}", ingress.participant_identity),
    ];
    if let Some(error) = &ingress.error {
        parts.push(format!("error: {error}"));
    }
    parts.join(" · ")
}

fn dispatch_detail(dispatch: &DispatchSummary) -> String {
    let mut parts = vec![
        dispatch.id.clone(),
        format!("agent {}", dispatch.agent_name),
    ];
    for job in &dispatch.jobs {
        let mut words = format!("job {} {}", job.id, job.status);
        if !job.participant_identity.is_empty() {
            words = format!("{words} as {}", job.participant_identity);
        }
        if let Some(error) = &job.error {
            words = format!("{words}: {error}");
        }
        parts.push(words);
    }
    if !dispatch.metadata.is_empty() {
        parts.push(format!("metadata {}", dispatch.metadata));
    }
    parts.join(" · ")
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
    let jobs = app.detail_jobs();
    let rows = detail_rows(room, jobs);
    let Some(participants) = &room.participants else {
        frame.render_widget(block(" participants ", area.width, theme), area);
        message(frame, body, "participants not read this poll", theme.warn());
        return;
    };
    let track_count: usize = participants.iter().map(|p| p.tracks.len()).sum();
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
    let outer = match rows.get(cursor.selected).and_then(|row| {
        selected_detail(
            participants,
            jobs.map(|jobs| (jobs, room.name.as_str())),
            *row,
            now_ms,
        )
    }) {
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
                DetailRow::Egress(index) => {
                    egress_cells(*jobs?.egress_of(&room.name).get(index)?, now_ms, theme)
                }
                DetailRow::Ingress(index) => {
                    ingress_cells(*jobs?.ingress_of(&room.name).get(index)?, now_ms, theme)
                }
                DetailRow::Dispatch(index) => {
                    dispatch_cells(jobs?.dispatches_of(&room.name).get(index)?, now_ms, theme)
                }
                DetailRow::Participant(p) => participant_cells(participants.get(p)?, now_ms, theme),
                DetailRow::Track(p, t) => track_cells(participants.get(p)?.tracks.get(t)?, theme),
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

/// `⏺ egress room composite · file · active · 5m · EG_…`.
fn egress_cells(job: &EgressSummary, now_ms: i64, theme: Theme) -> [Span<'static>; 5] {
    let style = if job.status.is_failure() {
        theme.error()
    } else if job.status.is_running() {
        theme.ok()
    } else {
        theme.dim()
    };
    let ran = job
        .started_at_ms
        .map(|started| format::age(job.ended_at_ms.unwrap_or(now_ms) - started))
        .unwrap_or_default();
    [
        Span::styled(format!("⏺ egress {}", job.source), style),
        Span::raw(job.destinations_label()),
        Span::styled(job.status.label().to_owned(), style),
        Span::raw(ran),
        Span::styled(job.egress_id.clone(), theme.dim()),
    ]
}

fn ingress_cells(ingress: &IngressSummary, now_ms: i64, theme: Theme) -> [Span<'static>; 5] {
    let style = match ingress.status {
        IngressStatus::Publishing => theme.ok(),
        IngressStatus::Error => theme.error(),
        IngressStatus::Buffering => theme.warn(),
        IngressStatus::Inactive | IngressStatus::Complete => theme.dim(),
    };
    [
        Span::raw(format!("⇥ ingress {}", ingress.input)),
        Span::raw(ingress.name.clone()),
        Span::styled(ingress.status.label().to_owned(), style),
        Span::raw(
            ingress
                .started_at_ms
                .map(|started| format::age(now_ms - started))
                .unwrap_or_default(),
        ),
        Span::styled(ingress.ingress_id.clone(), theme.dim()),
    ]
}

fn dispatch_cells(dispatch: &DispatchSummary, now_ms: i64, theme: Theme) -> [Span<'static>; 5] {
    let (state, style) = if dispatch.is_pending() {
        ("pending", theme.warn())
    } else if dispatch.jobs.iter().any(|job| job.status == "failed") {
        ("failed", theme.error())
    } else {
        ("taken", theme.ok())
    };
    [
        Span::raw(format!("✦ agent {}", dispatch.agent_name)),
        Span::raw(format::plural(
            u64::try_from(dispatch.jobs.len()).unwrap_or(0),
            "job",
        )),
        Span::styled(state, style),
        Span::raw(if dispatch.created_at_ms > 0 {
            format::age(now_ms - dispatch.created_at_ms)
        } else {
            String::new()
        }),
        Span::styled(dispatch.id.clone(), theme.dim()),
    ]
}

fn participant_cells(
    participant: &ParticipantSummary,
    now_ms: i64,
    theme: Theme,
) -> [Span<'static>; 5] {
    let state_style = if participant.state == "active" {
        theme.ok()
    } else {
        theme.dim()
    };
    let name = if participant.kind == ParticipantKind::Standard {
        participant.name.clone()
    } else {
        format!("[{}] {}", participant.kind.label(), participant.name)
    };
    [
        participant.identity.clone().into(),
        Span::raw(name),
        Span::styled(participant.state.clone(), state_style),
        Span::raw(format::age(now_ms - participant.joined_at_ms)),
        Span::raw(format::plural(
            u64::try_from(participant.tracks.len()).unwrap_or(0),
            "track",
        )),
    ]
}

/// `└ audio microphone · audio/opus · live · TR_…`: the codec where the server names it,
/// else the track's own name.
fn track_cells(track: &TrackSummary, theme: Theme) -> [Span<'static>; 5] {
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
    let codec = if track.mime_type.is_empty() {
        track.name.clone()
    } else {
        track.mime_type.clone()
    };
    [
        format!("  └ {kind} {}", track.source).into(),
        Span::raw(codec),
        state,
        Span::raw(""),
        Span::styled(track.sid.clone(), theme.dim()),
    ]
}
