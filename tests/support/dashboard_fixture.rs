//! A deterministic dashboard for snapshot tests and render benchmarks: two servers, a pool in
//! every state, latency histories with gaps, a quality report, `rooms` rooms with participants
//! and tracks (some muted, some over their limits, one with an audio profile), violations and
//! a few log entries. Everything goes in through [`App::absorb`] as engine events, at fixed
//! times; nothing reads a clock or a random number generator.
//!
//! Test data, so it lives with the tests and is compiled only into the snapshot tests and the
//! render bench that include it (`#[path]`), never into lktop itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lktop::config::{
    AudioProfile, ConfigDuration, EnforcementMode, QualityConfig, RoomLimitOverride,
    RoomLimitsConfig,
};
use lktop::events::{
    CheckoutReport, Command, EngineEvent, EventKind, LiveSettings, Outcome, ServerState,
};
use lktop::limits::Enforcement;
use lktop::nodes::{MediaViolation, NodeHealth, NodeSource, SourceState, SourceStatus};
use lktop::poller::{FailedRoom, PollStats};
use lktop::pool::{ConnectionInfo, PoolEvent, PoolStatus};
use lktop::quality::{Grade, QualityReport, QualityScore, RequestTally};
use lktop::reconnect::{ConnectionId, ConnectionState, StateChange};
use lktop::rooms_update::RoomsUpdate;
use lktop::snapshot::{
    ParticipantSummary, RoomChange, RoomSummary, Snapshot, TrackCounts, TrackKind,
};
use lktop::tui::keys::Keymap;

use lktop::tui::app::{App, Mode};

/// The fixture's "now": 2025-11-24 16:00:00 UTC.
pub const NOW_MS: i64 = 1_764_000_000_000;
/// The servers, in order.
pub const SERVERS: [&str; 2] = ["eu-west", "us-east"];
/// Pool statuses of the first server: one a second, the last 10 s before now.
const STATUSES: i64 = 30;

const PREFIXES: [&str; 8] = [
    "all-hands",
    "design-review",
    "game-night",
    "office-hours",
    "podcast",
    "standup",
    "support",
    "webinar",
];
const NAMES: [&str; 10] = [
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia",
];

/// The name of room `index` of the first server.
#[must_use]
pub fn room_name(index: usize) -> String {
    format!("{}-{index:04}", PREFIXES[index % PREFIXES.len()])
}

/// The limits in force: small, so a few rooms exceed them; room 1 has its own.
#[must_use]
pub fn limits() -> RoomLimitsConfig {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        room_name(1),
        RoomLimitOverride {
            max_participants: Some(12),
            max_audio_tracks: None,
            max_video_tracks: None,
            ..RoomLimitOverride::default()
        },
    );
    RoomLimitsConfig {
        max_concurrent_rooms: 25,
        max_participants_per_room: 8,
        max_audio_tracks_per_room: 6,
        max_video_tracks_per_room: 4,
        enforcement: EnforcementMode::Observe,
        overrides,
        ..RoomLimitsConfig::default()
    }
}

fn both_node_sources() -> Vec<NodeSource> {
    vec![NodeSource::Metrics, NodeSource::Redis]
}

/// The dashboard after a session on a live engine (not the sandbox), `rooms` rooms on the
/// first server, sized `width` x `height`.
#[must_use]
pub fn sample_app(rooms: usize, width: u16, height: u16) -> App {
    let mut app = App::new(
        Mode::Live { sandbox: None },
        Keymap::default(),
        RoomLimitsConfig::default(),
        NOW_MS - 60_000,
    );
    let mut events = vec![at(
        NOW_MS - 45_000,
        EventKind::Started {
            servers: SERVERS.iter().map(|s| (*s).to_owned()).collect(),
            sandbox: None,
            webhooks: None,
            // eu-west's nodes are read from metrics and registry; us-east has neither.
            node_sources: BTreeMap::from([(SERVERS[0].to_owned(), both_node_sources())]),
            settings: LiveSettings {
                limits: limits(),
                audio_default: AudioProfile::default(),
                poll_interval_ms: 2000,
                poll_budget_per_second: 50,
                quality: QualityConfig {
                    metrics_interval: Some(ConfigDuration::from_secs(NODE_READING_SECS)),
                    ..QualityConfig::default()
                },
                ..LiveSettings::default()
            },
        },
    )];
    events.push(at(
        NOW_MS - 44_000,
        EventKind::ServerState {
            server: SERVERS[0].to_owned(),
            state: ServerState::Up,
            cause: None,
            down_for_ms: None,
        },
    ));
    events.push(at(
        NOW_MS - 30_000,
        EventKind::ServerState {
            server: SERVERS[1].to_owned(),
            state: ServerState::Unauthenticated,
            cause: Some("ListRooms: authentication failed: invalid API key".to_owned()),
            down_for_ms: None,
        },
    ));
    events.extend(eu_west_pool());
    events.extend(us_east_pool());
    events.push(at(NOW_MS - 1_500, quality_eu_west()));
    events.push(at(NOW_MS - 1_500, quality_us_east()));
    let snapshot = snapshot(rooms);
    let unread_rooms = snapshot
        .rooms
        .keys()
        .filter(|room| {
            snapshot
                .participants_read_at(room)
                .is_some_and(|_| !snapshot.read_in_this_poll(room))
        })
        .count();
    let violations = lktop::limits::evaluate(&snapshot, &limits());
    let failed_rooms = if rooms > 3 {
        vec![FailedRoom {
            room: room_name(3),
            error: "deadline exceeded".to_owned(),
        }]
    } else {
        Vec::new()
    };
    events.push(at(
        NOW_MS - 2_000,
        EventKind::Rooms {
            update: RoomsUpdate::full(&snapshot),
            stats: PollStats {
                rooms,
                participant_calls: rooms - unread_rooms,
                unread_rooms,
                failed_rooms,
                took: Duration::from_millis(342),
            },
        },
    ));
    events.push(at(
        NOW_MS - 1_900,
        EventKind::Violations {
            server: SERVERS[0].to_owned(),
            violations,
        },
    ));
    events.extend(log_events(rooms));
    events.extend(jobs(rooms));
    events.extend(finished_rooms());
    events.extend(node_readings());
    events.sort_by_key(|event| event.at_ms);
    for event in events {
        app.absorb(event);
    }
    app.now_ms = NOW_MS;
    app.width = width;
    app.height = height;
    app
}

/// The refusing server's grade: every request failed.
fn quality_us_east() -> EventKind {
    EventKind::Quality {
        server: SERVERS[1].to_owned(),
        report: QualityReport {
            samples: 40,
            failures: 40,
            success_rate: Some(0.0),
            p50: None,
            p95: None,
            p99: None,
            mean: None,
            std_dev: None,
            jitter: None,
            raw_score: Some(QualityScore::new(0.0)),
            score: Some(QualityScore::new(0.04)),
            grade: Some(Grade::Poor),
        },
        checkout: CheckoutReport::default(),
    }
}

fn at(at_ms: i64, kind: EventKind) -> EngineEvent {
    EngineEvent { at_ms, kind }
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// One connection's counters as they grow from status to status.
struct Counters {
    info: ConnectionInfo,
}

impl Counters {
    fn new(id: u64, created_ms: i64) -> Self {
        Self {
            info: ConnectionInfo {
                id: ConnectionId(id),
                state: ConnectionState::Connected,
                in_use: false,
                checking: false,
                created_at: time(created_ms),
                last_used: None,
                total_requests: 0,
                failed_requests: 0,
                current_latency: None,
                average_latency: None,
                answered_requests: 0,
                answered_latency_total: Duration::ZERO,
                reconnect_attempts: 0,
                last_error: None,
                quality_score: None,
            },
        }
    }

    /// `requests` made, `answered` of them at `latency` each, the rest failed.
    fn tick(&mut self, requests: u64, answered: u64, latency: Duration, now_ms: i64) {
        let info = &mut self.info;
        info.total_requests += requests;
        info.failed_requests += requests - answered;
        if answered > 0 {
            info.answered_requests += answered;
            info.answered_latency_total += latency * u32::try_from(answered).unwrap_or(1);
            info.current_latency = Some(latency);
            info.average_latency = Some(
                info.answered_latency_total / u32::try_from(info.answered_requests).unwrap_or(1),
            );
            info.last_used = Some(time(now_ms));
        }
    }
}

/// Thirty statuses of a five-connection pool: a blackout (every request lost) at samples 8
/// and 9, a latency spike at 15–17, conn-2 loses one sample, conn-3 breaks at 26 and conn-4
/// fails at 20; conn-5 opens at 27 and is still connecting.
fn eu_west_pool() -> Vec<EngineEvent> {
    let server = SERVERS[0];
    let mut connections: Vec<Counters> = (1..=4)
        .map(|id| {
            Counters::new(
                id,
                NOW_MS - 3_600_000 - i64::try_from(id).unwrap_or(0) * 60_000,
            )
        })
        .collect();
    let mut events = Vec::new();
    for k in 0..STATUSES {
        let now_ms = NOW_MS - (STATUSES - k) * 1000 - 500;
        if k == 27 {
            let mut fresh = Counters::new(5, now_ms - 200);
            fresh.info.state = ConnectionState::Connecting;
            connections.push(fresh);
        }
        let mut tally = RequestTally::default();
        for counters in &mut connections {
            let id = counters.info.id.0;
            let requests = 3 + (id + u64::try_from(k).unwrap_or(0)) % 4;
            let spike = if (15..=17).contains(&k) { 40 } else { 0 };
            let wave =
                u64::try_from((k * 7 + i64::try_from(id).unwrap_or(0) * 3) % 11).unwrap_or(0);
            let latency = Duration::from_micros((8 + id * 2 + wave + spike) * 1000 + id * 137);
            let answered = match (id, k) {
                (_, 8 | 9) | (2, 12) | (3, 26..) | (4, 20..) | (5, _) => 0,
                _ => requests,
            };
            let requests = if id == 5 { 0 } else { requests };
            counters.tick(requests, answered, latency, now_ms);
            tally.answered += answered;
            tally.failed += requests - answered;
            tally.answered_latency_total += latency * u32::try_from(answered).unwrap_or(1);
            let info = &mut counters.info;
            match (id, k) {
                (3, 26..) => {
                    info.state = ConnectionState::Reconnecting;
                    info.last_error = Some("request timed out after 5s".to_owned());
                }
                (4, 20..) => {
                    info.state = ConnectionState::Failed;
                    info.last_error = Some(
                        "connection refused (os error 111) while dialing eu-west.example.com:443"
                            .to_owned(),
                    );
                }
                _ => {}
            }
            info.in_use = id == 1 && k >= 28;
            info.checking = id == 2 && k == STATUSES - 1;
            info.reconnect_attempts = match id {
                3 if k >= 26 => 2,
                4 if k >= 20 => 5,
                _ => 0,
            };
            info.quality_score = match id {
                1 => Some(0.97),
                2 => Some(0.91),
                3 => Some(if k >= 26 { 0.42 } else { 0.88 }),
                4 => Some(0.0),
                _ => None,
            };
        }
        events.push(at(
            now_ms,
            EventKind::PoolStatus {
                status: counted(server, &connections, 10),
                requests: Some(tally),
            },
        ));
    }
    events.extend(countdowns(server));
    events
}

/// The status of `server`'s pool of at most `max` with `connections` as they are now, every
/// count taken from them; no caller waiting.
fn counted(server: &str, connections: &[Counters], max: usize) -> PoolStatus {
    let infos: Vec<ConnectionInfo> = connections.iter().map(|c| c.info.clone()).collect();
    let count = |state: ConnectionState| infos.iter().filter(|i| i.state == state).count();
    PoolStatus {
        server: server.to_owned(),
        total: infos.len(),
        in_use: infos.iter().filter(|i| i.in_use).count(),
        healthy: count(ConnectionState::Connected),
        failed: count(ConnectionState::Failed),
        waiters: 0,
        max,
        unauthenticated: None,
        events_dropped: 0,
        connections: infos,
    }
}

/// The countdowns: conn-3 tries again in 2.3 s, conn-4 in 25 s.
fn countdowns(server: &str) -> Vec<EngineEvent> {
    let change = |id: u64, from, to, cause: &str, attempt, retry_ms: Option<u64>| {
        at(
            0,
            EventKind::Pool {
                event: PoolEvent::StateChanged {
                    server: server.to_owned(),
                    change: StateChange {
                        connection: ConnectionId(id),
                        from,
                        to,
                        cause: cause.to_owned(),
                        attempt,
                        next_retry_in: retry_ms.map(Duration::from_millis),
                    },
                },
            },
        )
    };
    let mut reconnecting = change(
        3,
        ConnectionState::Connected,
        ConnectionState::Reconnecting,
        "request timed out after 5s",
        Some(2),
        Some(3_000),
    );
    reconnecting.at_ms = NOW_MS - 700;
    let mut failed = change(
        4,
        ConnectionState::Reconnecting,
        ConnectionState::Failed,
        "connection refused (os error 111); out of attempts",
        None,
        Some(30_000),
    );
    failed.at_ms = NOW_MS - 5_000;
    vec![reconnecting, failed]
}

/// The second server rejects the credentials: two failed connections, polling fails.
fn us_east_pool() -> Vec<EngineEvent> {
    let server = SERVERS[1];
    let reason = "invalid API key (token signature mismatch)";
    let mut connections: Vec<Counters> = (1..=2)
        .map(|id| Counters::new(id, NOW_MS - 40_000))
        .collect();
    let mut events = vec![at(
        NOW_MS - 30_000,
        EventKind::Pool {
            event: PoolEvent::Unauthenticated {
                server: server.to_owned(),
                reason: reason.to_owned(),
            },
        },
    )];
    for k in 0..5 {
        let now_ms = NOW_MS - (5 - k) * 2000 - 250;
        for counters in &mut connections {
            counters.tick(2, 0, Duration::ZERO, now_ms);
            counters.info.state = ConnectionState::Failed;
            counters.info.last_error = Some(format!("unauthenticated: {reason}"));
            counters.info.reconnect_attempts = 3;
            counters.info.quality_score = Some(0.0);
        }
        events.push(at(
            now_ms,
            EventKind::PoolStatus {
                status: PoolStatus {
                    waiters: 1,
                    unauthenticated: Some(reason.to_owned()),
                    ..counted(server, &connections, 4)
                },
                requests: Some(RequestTally {
                    failed: 2,
                    ..RequestTally::default()
                }),
            },
        ));
    }
    events.push(at(
        NOW_MS - 4_000,
        EventKind::PollFailed {
            server: server.to_owned(),
            error: format!("ListRooms: unauthenticated: {reason}"),
        },
    ));
    events
}

fn quality_eu_west() -> EventKind {
    EventKind::Quality {
        checkout: CheckoutReport {
            checkouts: 412,
            timeouts: 0,
            wait_p50: Some(Duration::from_micros(40)),
            wait_p95: Some(Duration::from_micros(310)),
        },
        server: SERVERS[0].to_owned(),
        report: QualityReport {
            samples: 412,
            failures: 23,
            success_rate: Some(389.0 / 412.0),
            p50: Some(Duration::from_micros(12_340)),
            p95: Some(Duration::from_micros(48_100)),
            p99: Some(Duration::from_micros(61_900)),
            mean: Some(Duration::from_micros(16_870)),
            std_dev: Some(Duration::from_micros(9_400)),
            jitter: Some(Duration::from_micros(4_210)),
            raw_score: Some(QualityScore::new(0.79)),
            score: Some(QualityScore::new(0.83)),
            grade: Some(Grade::Good),
        },
    }
}

/// The audio profile room 0 carries in its metadata.
#[must_use]
pub fn room_profile() -> AudioProfile {
    AudioProfile {
        target_latency_ms: 40,
        buffer_size_ms: 20,
        jitter_buffer_ms: 80,
        echo_cancellation: true,
        noise_suppression: true,
        auto_gain_control: false,
    }
}

fn snapshot(rooms: usize) -> Snapshot {
    let now_s = NOW_MS / 1000;
    let mut map = BTreeMap::new();
    for i in 0..rooms {
        let name = room_name(i);
        let created_at = now_s - 120 - i64::try_from(i * 97 % 7000).unwrap_or(0);
        let count = match i {
            0 => 9,
            1 => 11,
            _ => (i * 5 + 3) % 10,
        };
        let participants: Vec<ParticipantSummary> = (0..count)
            .map(|p| participant(i, p, count, created_at * 1000))
            .collect();
        let tracks = TrackCounts::of(participants.iter().flat_map(|p| &p.tracks));
        let metadata = match i {
            0 => {
                lktop::audio::merge_profile(r#"{"topic":"quarterly"}"#, &room_profile(), 512 * 1024)
                    .unwrap_or_default()
            }
            2 => r#"{"topic":"weekly","audio_optimization":"fast"}"#.to_owned(),
            _ if i % 3 == 0 => format!(r#"{{"topic":"session {i}"}}"#),
            _ => String::new(),
        };
        let publishers = participants.iter().filter(|p| !p.tracks.is_empty()).count();
        let (num_participants, num_publishers, participants) = if i == 3 {
            // Its participants could not be read this poll: ListRooms counts only.
            (4, 2, None)
        } else {
            (
                u32::try_from(count).unwrap_or(u32::MAX),
                u32::try_from(publishers).unwrap_or(u32::MAX),
                Some(participants),
            )
        };
        let summary = RoomSummary {
            name: name.clone(),
            sid: format!("RM_{:06x}{i:04}", (i * 7919 + 13) % 0xff_ffff),
            created_at,
            max_participants: if i % 5 == 0 { 100 } else { 0 },
            metadata,
            num_participants,
            num_publishers,
            tracks: if i == 3 {
                TrackCounts::default()
            } else {
                tracks
            },
            participants,
        };
        map.insert(name, Arc::new(summary));
    }
    let mut snapshot = Snapshot {
        server: SERVERS[0].to_owned(),
        taken_at_ms: NOW_MS - 2_000,
        rooms: map,
        participants_read_at_ms: BTreeMap::new(),
    }
    .with_every_room_read();
    // The polling budget left some rooms for later: their lists are 40 s old.
    for (index, read_at) in snapshot.participants_read_at_ms.values_mut().enumerate() {
        if index % 5 == 2 {
            *read_at -= 38_000;
        }
    }
    snapshot
}

fn participant(room: usize, p: usize, count: usize, created_ms: i64) -> ParticipantSummary {
    let name = NAMES[(room + p) % NAMES.len()];
    let pattern = (room + p) % 4;
    let track = |kind: TrackKind, tag: char, source: &str, title: &str, muted: bool| {
        lktop::snapshot::TrackSummary {
            // As long as livekit-server's: `TR_` and 12 characters.
            sid: format!("TR_{tag}{room:04}{p:02}kQ7xZ"),
            kind,
            source: source.to_owned(),
            name: title.to_owned(),
            muted,
            mime_type: if kind == TrackKind::Audio {
                "audio/opus".to_owned()
            } else {
                "video/VP8".to_owned()
            },
            simulcast: kind == TrackKind::Video,
            layers: Vec::new(),
            encryption: None,
        }
    };
    let video_muted = (room + p).is_multiple_of(7);
    let tracks = match pattern {
        0 => vec![
            track(TrackKind::Audio, 'A', "microphone", "mic", false),
            track(TrackKind::Video, 'V', "camera", "camera", video_muted),
        ],
        1 => vec![track(TrackKind::Audio, 'A', "microphone", "mic", false)],
        2 => vec![
            track(TrackKind::Audio, 'A', "microphone", "mic", true),
            track(TrackKind::Video, 'S', "screen_share", "screen", false),
        ],
        _ => Vec::new(),
    };
    ParticipantSummary {
        identity: format!(
            "{}-{}",
            name.to_lowercase(),
            (room * 31 + p * 17) % 900 + 100
        ),
        sid: format!("PA_{room:04}{p:02}vB3nWq"),
        name: name.to_owned(),
        joined_at_ms: (created_ms + i64::try_from(p).unwrap_or(0) * 45_000).min(NOW_MS - 5_000),
        state: if p + 1 == count && count > 2 {
            "joining".to_owned()
        } else {
            "active".to_owned()
        },
        tracks,
        // Every fifth room has an agent and every eleventh a phone caller, as voice-AI
        // deployments do.
        kind: match (p, room % 5, room % 11) {
            (0, 0, _) => lktop::snapshot::ParticipantKind::Agent,
            (1, _, 0) => lktop::snapshot::ParticipantKind::Sip,
            _ => lktop::snapshot::ParticipantKind::Standard,
        },
        region: "eu-central".to_owned(),
        client_protocol: 1,
        permission: None,
        attributes: std::collections::BTreeMap::new(),
    }
}

/// What the rooms hand to other services: a recording of the first room, a stream of the
/// second, a failed recording of the fifth, an RTMP ingress into the fourth and an agent
/// dispatch of the seventh that no agent took yet.
fn jobs(rooms: usize) -> Vec<EngineEvent> {
    use lktop::jobs::{
        DispatchSummary, EgressDestination, EgressStatus, EgressSummary, IngressStatus,
        IngressSummary, JobTransition, JobsUpdate,
    };
    if rooms < 7 {
        return Vec::new();
    }
    let egress = |id: &str, room: usize, status, destination, minutes: i64| EgressSummary {
        egress_id: id.to_owned(),
        room: room_name(room),
        source: "room composite".to_owned(),
        status,
        started_at_ms: Some(NOW_MS - minutes * 60_000),
        ended_at_ms: (status == EgressStatus::Failed).then_some(NOW_MS - 40_000),
        updated_at_ms: NOW_MS - 40_000,
        destinations: vec![destination],
        error: (status == EgressStatus::Failed)
            .then(|| "upload to s3://recordings failed: AccessDenied".to_owned()),
    };
    let failed = egress(
        "EG_fail4Xk2pQ",
        4,
        EgressStatus::Failed,
        EgressDestination::File,
        6,
    );
    vec![
        at(
            NOW_MS - 1_800,
            EventKind::Egress {
                server: SERVERS[0].to_owned(),
                update: JobsUpdate {
                    full: true,
                    changed: vec![
                        egress(
                            "EG_rec0Wm3Zt8",
                            0,
                            EgressStatus::Active,
                            EgressDestination::File,
                            12,
                        ),
                        egress(
                            "EG_str1Lp9Qa2",
                            1,
                            EgressStatus::Active,
                            EgressDestination::Stream,
                            3,
                        ),
                        failed.clone(),
                    ],
                    removed: Vec::new(),
                    transitions: vec![JobTransition {
                        id: failed.egress_id.clone(),
                        room: failed.room.clone(),
                        from: Some("active".to_owned()),
                        to: "failed".to_owned(),
                        error: failed.error.clone(),
                    }],
                },
            },
        ),
        at(
            NOW_MS - 1_700,
            EventKind::Ingress {
                server: SERVERS[0].to_owned(),
                update: JobsUpdate {
                    full: true,
                    changed: vec![IngressSummary {
                        ingress_id: "IN_lobbyR7vK".to_owned(),
                        name: "lobby-camera".to_owned(),
                        room: room_name(3),
                        input: "rtmp".to_owned(),
                        status: IngressStatus::Publishing,
                        participant_identity: "lobby-camera".to_owned(),
                        error: None,
                        started_at_ms: Some(NOW_MS - 300_000),
                        tracks: 2,
                    }],
                    ..JobsUpdate::default()
                },
            },
        ),
        at(
            NOW_MS - 1_600,
            EventKind::AgentDispatches {
                server: SERVERS[0].to_owned(),
                room: room_name(6),
                dispatches: vec![DispatchSummary {
                    id: "AD_sb6Hq2Wn".to_owned(),
                    agent_name: "support-bot".to_owned(),
                    room: room_name(6),
                    metadata: String::new(),
                    created_at_ms: NOW_MS - 20_000,
                    jobs: Vec::new(),
                }],
            },
        ),
    ]
}

/// Rooms that finished before the fixture's moment, for the History screen.
fn finished_rooms() -> Vec<EngineEvent> {
    let finished = |room: &str,
                    minutes: i64,
                    ago_s: i64,
                    peak: u32,
                    reasons: &[(&str, u32)],
                    told_by: &str| {
        let finished_at_ms = NOW_MS - ago_s * 1000;
        at(
            finished_at_ms,
            EventKind::RoomFinished {
                server: SERVERS[0].to_owned(),
                room: lktop::history::FinishedRoom {
                    room: room.to_owned(),
                    sid: format!("RM_{room}"),
                    started_at_ms: finished_at_ms - minutes * 60_000,
                    finished_at_ms,
                    duration_ms: u64::try_from(minutes * 60_000).unwrap_or(0),
                    peak_participants: peak,
                    participants_seen: peak + 3,
                    tracks_published: peak * 2,
                    disconnect_reasons: reasons
                        .iter()
                        .map(|(reason, count)| ((*reason).to_owned(), *count))
                        .collect(),
                    told_by: told_by.to_owned(),
                },
            },
        )
    };
    vec![
        finished(
            "standup-0907",
            16,
            3_000,
            9,
            &[("CLIENT_INITIATED", 11), ("ROOM_DELETED", 1)],
            "webhook",
        ),
        finished(
            "incident-4412",
            95,
            600,
            23,
            &[
                ("CLIENT_INITIATED", 19),
                ("CONNECTION_TIMEOUT", 6),
                ("PARTICIPANT_REMOVED", 1),
            ],
            "webhook",
        ),
        finished(
            "call-0031",
            4,
            90,
            2,
            &[(lktop::history::REASON_NOT_TOLD, 2)],
            "poll",
        ),
    ]
}

/// A few entries for the log: configuration, commands, enforcement, room changes.
#[expect(clippy::too_many_lines, reason = "test data: one event after another")]
fn log_events(rooms: usize) -> Vec<EngineEvent> {
    let server = SERVERS[0].to_owned();
    let first = room_name(0);
    let mut events = vec![
        at(
            NOW_MS - 44_000,
            EventKind::ConfigApplied {
                source: "config/performance.yaml".to_owned(),
                settings: LiveSettings {
                    limits: limits(),
                    poll_interval_ms: 2000,
                    poll_budget_per_second: 50,
                    ..LiveSettings::default()
                },
                changes: Vec::new(),
                limits_replaced: None,
                needs_restart: Vec::new(),
            },
        ),
        at(
            NOW_MS - 20_000,
            EventKind::Command {
                id: 1,
                command: Command::CreateRoom {
                    server: server.clone(),
                    room: first.clone(),
                },
                outcome: Outcome::Done {
                    detail: "room created".to_owned(),
                },
            },
        ),
        at(
            NOW_MS - 8_000,
            EventKind::Command {
                id: 2,
                command: Command::ApplyAudioProfile {
                    server: server.clone(),
                    room: first.clone(),
                    profile: Some(room_profile()),
                },
                outcome: Outcome::Done {
                    detail: "metadata updated".to_owned(),
                },
            },
        ),
        at(
            NOW_MS - 6_000,
            EventKind::Command {
                id: 3,
                command: Command::DeleteRoom {
                    server: server.clone(),
                    room: "retro-0000".to_owned(),
                },
                outcome: Outcome::Failed {
                    reason: "room not found".to_owned(),
                },
            },
        ),
        at(
            NOW_MS - 3_000,
            EventKind::Enforced {
                server: server.clone(),
                action: Enforcement::MuteTrack {
                    room: first.clone(),
                    identity: "ada-100".to_owned(),
                    track_sid: "TR_A000000".to_owned(),
                    kind: TrackKind::Audio,
                    reason: "7 live audio tracks over the limit of 6".to_owned(),
                },
                outcome: Outcome::Failed {
                    reason: "observe mode: nothing changed".to_owned(),
                },
            },
        ),
    ];
    if rooms > 0 {
        events.push(at(
            NOW_MS - 2_000,
            EventKind::RoomChanges {
                server,
                changes: vec![
                    RoomChange::RoomStarted {
                        room: first.clone(),
                    },
                    RoomChange::ParticipantJoined {
                        room: first.clone(),
                        identity: "ada-100".to_owned(),
                    },
                    RoomChange::TrackPublished {
                        room: first.clone(),
                        identity: "ada-100".to_owned(),
                        track_sid: "TR_A000000".to_owned(),
                        kind: TrackKind::Audio,
                    },
                    RoomChange::TrackMuted {
                        room: first,
                        identity: "grace-117".to_owned(),
                        track_sid: "TR_A000001".to_owned(),
                    },
                ],
            },
        ));
    }
    events
}

/// Seconds between two readings of eu-west's nodes (`metrics_interval`).
const NODE_READING_SECS: u64 = 2;
/// Readings of eu-west's nodes since the session started, the last one a second before now.
const NODE_READINGS: i64 = 22;
/// eu-west's nodes, by id: serving and healthy, serving and lossy past its media limits,
/// draining, and starting (known to the registry only).
pub const NODES: [&str; 4] = [
    "ND_eu1aZ8kP3qLm",
    "ND_eu2Lq9Tx4Wd",
    "ND_eu3Dr7nM2Qc",
    "ND_eu4Nw5Yb8Hs",
];

const GIB: u64 = 1024 * 1024 * 1024;

/// eu-west's nodes at reading `k` (0 the first): figures that move a little from reading
/// to reading, the lossy node getting worse.
#[expect(clippy::cast_precision_loss, reason = "small test numbers")]
pub fn eu_west_nodes(k: i64) -> Vec<NodeHealth> {
    let wobble = ((k * 7) % 10) as f64 / 10.0;
    let registry_at = NOW_MS - 2_000 - (NODE_READINGS - 1 - k) * 2_000;
    let both = vec![NodeSource::Metrics, NodeSource::Redis];
    let healthy = NodeHealth {
        node_id: NODES[0].to_owned(),
        node_type: Some("SERVER".to_owned()),
        state: Some("SERVING".to_owned()),
        region: Some("eu-west-1".to_owned()),
        rooms: Some(14),
        participants: Some(96),
        tracks_published: Some(61),
        tracks_subscribed: Some(312),
        bytes_in_per_s: Some(1_500_000.0 + wobble * 300_000.0),
        bytes_out_per_s: Some(6_200_000.0 + wobble * 900_000.0),
        packets_in_per_s: Some(1_420.0),
        packets_out_per_s: Some(5_230.0),
        packet_loss_pct: Some(0.3 + wobble * 0.2),
        nack_per_s: Some(12.5),
        pli_per_s: Some(0.8),
        rtt_p50_ms: Some(38.0),
        rtt_p95_ms: Some(96.0 + wobble * 20.0),
        jitter_p95_ms: Some(11.0),
        quality_score_p50: Some(4.31),
        join_failures_per_s: Some(0.0),
        twirp_errors_per_s: Some(0.0),
        cpu_pct: Some(142.0 + wobble * 10.0),
        rss_bytes: Some(612 * 1024 * 1024),
        cpu_load: Some(0.31),
        load_avg_1m: Some(2.41),
        load_avg_5m: Some(2.10),
        load_avg_15m: Some(1.95),
        num_cpus: Some(8),
        memory_used_bytes: Some(5 * GIB + GIB / 5),
        memory_total_bytes: Some(16 * GIB),
        registry_updated_at_ms: Some(registry_at),
        stale: false,
        metrics_url: Some("http://10.0.1.11:6789/metrics".to_owned()),
        sources: both.clone(),
    };
    let lossy = NodeHealth {
        node_id: NODES[1].to_owned(),
        region: Some("eu-west-2".to_owned()),
        rooms: Some(11),
        participants: Some(70),
        tracks_published: Some(44),
        tracks_subscribed: Some(230),
        bytes_in_per_s: Some(1_100_000.0 - k as f64 * 20_000.0),
        bytes_out_per_s: Some(4_800_000.0 - k as f64 * 60_000.0),
        packet_loss_pct: Some(2.1 + k as f64 * 0.3),
        nack_per_s: Some(184.0),
        pli_per_s: Some(9.5),
        rtt_p50_ms: Some(210.0),
        rtt_p95_ms: Some(270.0 + k as f64 * 10.0),
        jitter_p95_ms: Some(62.0),
        quality_score_p50: Some(2.6),
        join_failures_per_s: Some(1.4),
        twirp_errors_per_s: Some(0.2),
        cpu_pct: Some(188.0),
        cpu_load: Some(0.93),
        metrics_url: Some("http://10.0.1.12:6789/metrics".to_owned()),
        ..healthy.clone()
    };
    let draining = NodeHealth {
        node_id: NODES[2].to_owned(),
        state: Some("SHUTTING_DOWN".to_owned()),
        rooms: Some(2),
        participants: Some(5),
        tracks_published: Some(4),
        tracks_subscribed: Some(12),
        bytes_in_per_s: Some(40_000.0),
        bytes_out_per_s: Some(95_000.0),
        cpu_pct: Some(9.0),
        cpu_load: Some(0.04),
        metrics_url: Some("http://10.0.1.13:6789/metrics".to_owned()),
        ..healthy.clone()
    };
    // Just registered: the registry knows its load, no metrics yet.
    let starting = NodeHealth {
        node_id: NODES[3].to_owned(),
        node_type: Some("SERVER".to_owned()),
        state: Some("STARTING_UP".to_owned()),
        region: Some("eu-west-2".to_owned()),
        cpu_load: Some(0.12),
        load_avg_1m: Some(0.4),
        load_avg_5m: Some(0.2),
        load_avg_15m: Some(0.1),
        num_cpus: Some(4),
        memory_used_bytes: Some(GIB),
        memory_total_bytes: Some(8 * GIB),
        registry_updated_at_ms: Some(registry_at),
        sources: vec![NodeSource::Redis],
        ..NodeHealth::default()
    };
    vec![healthy, lossy, draining, starting]
}

/// eu-west's node sources, `metrics` of the first node down when `down` is set.
pub fn eu_west_sources(down: bool) -> Vec<SourceStatus> {
    let mut sources: Vec<SourceStatus> = (11..=13)
        .map(|host| SourceStatus {
            source: NodeSource::Metrics,
            target: format!("http://10.0.1.{host}:6789/metrics"),
            state: SourceState::Up,
            error: None,
            took_ms: Some(4),
        })
        .collect();
    if down {
        sources[0].state = SourceState::Down;
        sources[0].error = Some("connection refused (os error 111)".to_owned());
        sources[0].took_ms = None;
    }
    sources.push(SourceStatus {
        source: NodeSource::Redis,
        target: "redis://:***@10.0.1.5:6379".to_owned(),
        state: SourceState::Up,
        error: None,
        took_ms: Some(1),
    });
    sources
}

/// The media limits the lossy node is past (the defaults: loss 5 %, RTT p95 400 ms, jitter
/// p95 50 ms, quality p50 3, join failures 1/s).
pub fn lossy_violations() -> Vec<MediaViolation> {
    let last = eu_west_nodes(NODE_READINGS - 1);
    let lossy = &last[1];
    [
        ("max_packet_loss_pct", lossy.packet_loss_pct, 5.0),
        ("max_rtt_p95_ms", lossy.rtt_p95_ms, 400.0),
        ("max_jitter_p95_ms", lossy.jitter_p95_ms, 50.0),
        ("min_quality_score_p50", lossy.quality_score_p50, 3.0),
        ("max_join_failures_per_s", lossy.join_failures_per_s, 1.0),
    ]
    .into_iter()
    .filter_map(|(limit, value, threshold)| {
        Some(MediaViolation {
            node_id: lossy.node_id.clone(),
            limit: limit.to_owned(),
            value: value?,
            threshold,
        })
    })
    .collect()
}

/// A reading of eu-west's nodes every `NODE_READING_SECS` since the session started, and the
/// media limits the lossy node went past half a minute ago.
fn node_readings() -> Vec<EngineEvent> {
    let step = i64::try_from(NODE_READING_SECS * 1000).unwrap_or(i64::MAX);
    let mut events: Vec<EngineEvent> = (0..NODE_READINGS)
        .map(|k| {
            at(
                NOW_MS - 1_000 - (NODE_READINGS - 1 - k) * step,
                EventKind::NodeHealth {
                    server: SERVERS[0].to_owned(),
                    nodes: eu_west_nodes(k),
                    sources: eu_west_sources(false),
                },
            )
        })
        .collect();
    events.push(at(
        NOW_MS - 30_000,
        EventKind::MediaViolations {
            server: SERVERS[0].to_owned(),
            violations: lossy_violations(),
        },
    ));
    events
}
