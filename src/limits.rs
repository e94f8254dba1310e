//! Room limits: which rooms are over `room_limits`, and — in `enforce` mode — what lktop does
//! about it.
//!
//! Track limits count *live* (unmuted) tracks. Muting is the only lever the RoomService API
//! gives over a published track, so a limit that counted muted tracks could be reported but
//! never enforced; muted tracks are still shown apart on every screen.

use serde::{Deserialize, Serialize};

use crate::config::{EnforcementMode, RoomLimitsConfig};
use crate::snapshot::{ParticipantSummary, RoomSummary, Snapshot, TrackKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    ConcurrentRooms,
    Participants,
    AudioTracks,
    VideoTracks,
    /// `lifecycle.solo_timeout`: one participant, or only agents, for too long.
    SoloTimeout,
    /// `lifecycle.empty_timeout`: nobody in the room for too long.
    EmptyTimeout,
    /// `lifecycle.max_duration`: the room is too old.
    MaxDuration,
}

impl LimitKind {
    pub const ALL: [Self; 7] = [
        Self::ConcurrentRooms,
        Self::Participants,
        Self::AudioTracks,
        Self::VideoTracks,
        Self::SoloTimeout,
        Self::EmptyTimeout,
        Self::MaxDuration,
    ];

    /// The `snake_case` name used in events and metric labels.
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::ConcurrentRooms => "concurrent_rooms",
            Self::Participants => "participants",
            Self::AudioTracks => "audio_tracks",
            Self::VideoTracks => "video_tracks",
            Self::SoloTimeout => "solo_timeout",
            Self::EmptyTimeout => "empty_timeout",
            Self::MaxDuration => "max_duration",
        }
    }

    #[must_use]
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::ConcurrentRooms => "concurrent rooms",
            Self::Participants => "participants",
            Self::AudioTracks => "live audio tracks",
            Self::VideoTracks => "live video tracks",
            Self::SoloTimeout => "one participant (or only agents)",
            Self::EmptyTimeout => "nobody in the room",
            Self::MaxDuration => "open",
        }
    }

    /// Whether the limit is a lifecycle rule, whose `limit` and `actual` are seconds.
    #[must_use]
    pub fn is_lifecycle(self) -> bool {
        matches!(
            self,
            Self::SoloTimeout | Self::EmptyTimeout | Self::MaxDuration
        )
    }
}

/// The limits that apply to one room: the global ones with its overrides on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLimit {
    pub max_participants: u32,
    pub max_audio_tracks: u32,
    pub max_video_tracks: u32,
}

#[must_use]
pub fn limit_for(config: &RoomLimitsConfig, room: &str) -> RoomLimit {
    let overrides = config.overrides.get(room).copied().unwrap_or_default();
    RoomLimit {
        max_participants: overrides
            .max_participants
            .unwrap_or(config.max_participants_per_room),
        max_audio_tracks: overrides
            .max_audio_tracks
            .unwrap_or(config.max_audio_tracks_per_room),
        max_video_tracks: overrides
            .max_video_tracks
            .unwrap_or(config.max_video_tracks_per_room),
    }
}

/// One limit exceeded: `room` is `None` for the server-wide concurrent-room limit. For a
/// lifecycle rule, `limit` and `actual` are seconds (the rule's, and how long the room had been
/// in that state at the poll) and `since_ms` is when that state began.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Violation {
    pub kind: LimitKind,
    pub room: Option<String>,
    pub limit: u32,
    pub actual: u32,
    /// Unix ms: when the room became solo or empty, or was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

impl Violation {
    /// What a consumer must hear about again when it changes: a lifecycle violation's age
    /// grows every poll and is news only when it starts or ends (or its rule changes).
    #[must_use]
    pub fn news(&self) -> (LimitKind, Option<&str>, u32, Option<u32>) {
        let actual = (!self.kind.is_lifecycle()).then_some(self.actual);
        (self.kind, self.room.as_deref(), self.limit, actual)
    }
}

/// A lifecycle figure in seconds as a duration is written in the configuration: `5m`, `1h 30m`.
#[must_use]
pub fn seconds_text(secs: u32) -> String {
    humantime::format_duration(std::time::Duration::from_secs(u64::from(secs))).to_string()
}

/// Whether two evaluations say the same thing (see [`Violation::news`]).
#[must_use]
pub fn same_news(before: &[Violation], now: &[Violation]) -> bool {
    before.len() == now.len()
        && before
            .iter()
            .zip(now)
            .all(|(before, now)| before.news() == now.news() && before.since_ms == now.since_ms)
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.kind.is_lifecycle() {
            let limit = seconds_text(self.limit);
            return write!(
                f,
                "room {}: {} for longer than its {} of {limit}",
                self.room.as_deref().unwrap_or_default(),
                self.kind.describe(),
                self.kind.as_str(),
            );
        }
        match &self.room {
            Some(room) => write!(
                f,
                "room {room}: {} {} over the limit of {}",
                self.actual,
                self.kind.describe(),
                self.limit
            ),
            None => write!(
                f,
                "{} {} over the limit of {}",
                self.actual,
                self.kind.describe(),
                self.limit
            ),
        }
    }
}

/// Every limit the snapshot exceeds, server-wide first, then by room name.
#[must_use]
pub fn evaluate(snapshot: &Snapshot, config: &RoomLimitsConfig) -> Vec<Violation> {
    let mut violations = Vec::new();
    let rooms = u32::try_from(snapshot.rooms.len()).unwrap_or(u32::MAX);
    if rooms > config.max_concurrent_rooms {
        violations.push(Violation {
            kind: LimitKind::ConcurrentRooms,
            room: None,
            limit: config.max_concurrent_rooms,
            actual: rooms,
            since_ms: None,
        });
    }
    for room in snapshot.rooms.values() {
        let limit = limit_for(config, &room.name);
        for (kind, actual, max) in [
            (
                LimitKind::Participants,
                room.num_participants,
                limit.max_participants,
            ),
            (
                LimitKind::AudioTracks,
                room.tracks.live_audio(),
                limit.max_audio_tracks,
            ),
            (
                LimitKind::VideoTracks,
                room.tracks.live_video(),
                limit.max_video_tracks,
            ),
        ] {
            if actual > max {
                violations.push(Violation {
                    kind,
                    room: Some(room.name.clone()),
                    limit: max,
                    actual,
                    since_ms: None,
                });
            }
        }
    }
    violations
}

/// A change lktop makes on the server to bring a room back within its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Enforcement {
    MuteTrack {
        room: String,
        identity: String,
        track_sid: String,
        kind: TrackKind,
        reason: String,
    },
    RemoveParticipant {
        room: String,
        identity: String,
        reason: String,
    },
    /// A room past a lifecycle rule (`lifecycle.enforcement: enforce`). The sid says which
    /// instance: one recreated under the same name since is not the room that was judged.
    DeleteRoom {
        room: String,
        sid: String,
        rule: LimitKind,
        reason: String,
    },
}

impl Enforcement {
    /// The room acted on.
    #[must_use]
    pub fn room(&self) -> &str {
        match self {
            Self::MuteTrack { room, .. }
            | Self::RemoveParticipant { room, .. }
            | Self::DeleteRoom { room, .. } => room,
        }
    }

    /// Why lktop acts: the limit and the figures that broke it.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            Self::MuteTrack { reason, .. }
            | Self::RemoveParticipant { reason, .. }
            | Self::DeleteRoom { reason, .. } => reason,
        }
    }
}

/// What `enforce` mode does with a snapshot: remove the newest participants beyond the
/// participant limit, then mute the newest live tracks beyond the track limits among those who
/// stay. Nothing in `observe` mode, and nothing for rooms whose participants are unknown or
/// were not read in the snapshot's own poll (the polling budget left them for later): lktop
/// never removes or mutes on a list that may be old.
#[must_use]
pub(crate) fn plan(snapshot: &Snapshot, config: &RoomLimitsConfig) -> Vec<Enforcement> {
    if config.enforcement != EnforcementMode::Enforce {
        return Vec::new();
    }
    snapshot
        .rooms
        .values()
        .filter(|room| snapshot.read_in_this_poll(&room.name))
        .flat_map(|room| plan_room(room, limit_for(config, &room.name)))
        .collect()
}

fn plan_room(room: &RoomSummary, limit: RoomLimit) -> Vec<Enforcement> {
    let Some(participants) = &room.participants else {
        return Vec::new();
    };
    let mut by_age: Vec<&ParticipantSummary> = participants.iter().collect();
    // Oldest first; ties broken by identity so a plan is the same every time.
    by_age.sort_by(|a, b| (a.joined_at_ms, &a.identity).cmp(&(b.joined_at_ms, &b.identity)));
    let keep = by_age.len().min(limit.max_participants as usize);
    let (staying, excess) = by_age.split_at(keep);

    let mut actions: Vec<Enforcement> = excess
        .iter()
        .rev()
        .map(|participant| Enforcement::RemoveParticipant {
            room: room.name.clone(),
            identity: participant.identity.clone(),
            reason: format!(
                "room {} has {} participants, limit {}: newest removed first",
                room.name,
                participants.len(),
                limit.max_participants
            ),
        })
        .collect();

    for (kind, max) in [
        (TrackKind::Audio, limit.max_audio_tracks),
        (TrackKind::Video, limit.max_video_tracks),
    ] {
        let live: Vec<(&ParticipantSummary, &crate::snapshot::TrackSummary)> = staying
            .iter()
            .flat_map(|p| p.tracks.iter().map(move |t| (*p, t)))
            .filter(|(_, track)| track.kind == kind && !track.muted)
            .collect();
        let over = live.len().saturating_sub(max as usize);
        // The newest participants' tracks go first, their last-published track first.
        for (participant, track) in live.iter().rev().take(over) {
            actions.push(Enforcement::MuteTrack {
                room: room.name.clone(),
                identity: participant.identity.clone(),
                track_sid: track.sid.clone(),
                kind,
                reason: format!(
                    "room {} has {} live {} tracks, limit {max}: newest muted first",
                    room.name,
                    live.len(),
                    match kind {
                        TrackKind::Video => "video",
                        _ => "audio",
                    }
                ),
            });
        }
    }
    actions
}

/// Whether lktop may create one more room: in `enforce` mode not past `max_concurrent_rooms`.
///
/// # Errors
/// A message naming the limit when the room would be one too many.
pub(crate) fn may_create_room(
    current_rooms: usize,
    config: &RoomLimitsConfig,
) -> Result<(), String> {
    if config.enforcement == EnforcementMode::Enforce
        && current_rooms >= config.max_concurrent_rooms as usize
    {
        return Err(format!(
            "refused: {current_rooms} rooms are open and max_concurrent_rooms is {} \
             (enforcement: enforce)",
            config.max_concurrent_rooms
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use livekit_protocol as proto;

    use super::*;
    use crate::config::RoomLimitOverride;

    fn people(count: usize, audio_each: usize, video_each: usize) -> Vec<proto::ParticipantInfo> {
        (0..count)
            .map(|index| {
                let mut tracks = Vec::new();
                for n in 0..audio_each {
                    tracks.push(proto::TrackInfo {
                        sid: format!("TR_a{index}_{n}"),
                        r#type: proto::TrackType::Audio as i32,
                        ..Default::default()
                    });
                }
                for n in 0..video_each {
                    tracks.push(proto::TrackInfo {
                        sid: format!("TR_v{index}_{n}"),
                        r#type: proto::TrackType::Video as i32,
                        ..Default::default()
                    });
                }
                proto::ParticipantInfo {
                    identity: format!("user-{index:02}"),
                    joined_at_ms: 1_000 + i64::try_from(index).unwrap(),
                    tracks,
                    ..Default::default()
                }
            })
            .collect()
    }

    #[test]
    fn nothing_is_enforced_on_a_list_an_earlier_poll_read() {
        let config = RoomLimitsConfig {
            max_participants_per_room: 1,
            enforcement: EnforcementMode::Enforce,
            ..RoomLimitsConfig::default()
        };
        let mut snapshot = snapshot_of(&[("crowded", people(3, 0, 0))]);
        assert_eq!(plan(&snapshot, &config).len(), 2, "read in this poll");
        snapshot.taken_at_ms = 2_000;
        assert_eq!(plan(&snapshot, &config), [], "read a poll ago");
        assert_eq!(
            evaluate(&snapshot, &config).len(),
            1,
            "still shown as a violation"
        );
    }

    fn snapshot_of(rooms: &[(&str, Vec<proto::ParticipantInfo>)]) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: 0,
            rooms: rooms
                .iter()
                .map(|(name, participants)| {
                    let room = proto::Room {
                        name: (*name).into(),
                        sid: format!("RM_{name}"),
                        ..Default::default()
                    };
                    (
                        (*name).to_owned(),
                        std::sync::Arc::new(RoomSummary::new(&room, Some(participants))),
                    )
                })
                .collect(),
            participants_read_at_ms: rooms
                .iter()
                .map(|(name, _)| ((*name).to_owned(), 0))
                .collect(),
        }
    }

    fn limits(enforcement: EnforcementMode) -> RoomLimitsConfig {
        RoomLimitsConfig {
            max_concurrent_rooms: 2,
            max_participants_per_room: 3,
            max_audio_tracks_per_room: 2,
            max_video_tracks_per_room: 1,
            enforcement,
            ..RoomLimitsConfig::default()
        }
    }

    #[test]
    fn reports_every_exceeded_limit() {
        let snapshot = snapshot_of(&[
            ("a", people(4, 1, 1)),
            ("b", people(1, 0, 0)),
            ("c", people(0, 0, 0)),
        ]);
        let violations = evaluate(&snapshot, &limits(EnforcementMode::Observe));
        let kinds: Vec<(LimitKind, Option<&str>, u32, u32)> = violations
            .iter()
            .map(|v| (v.kind, v.room.as_deref(), v.limit, v.actual))
            .collect();
        assert_eq!(
            kinds,
            [
                (LimitKind::ConcurrentRooms, None, 2, 3),
                (LimitKind::Participants, Some("a"), 3, 4),
                (LimitKind::AudioTracks, Some("a"), 2, 4),
                (LimitKind::VideoTracks, Some("a"), 1, 4),
            ]
        );
        assert_eq!(
            violations[1].to_string(),
            "room a: 4 participants over the limit of 3"
        );
    }

    #[test]
    fn muted_tracks_do_not_count_against_track_limits() {
        let mut participants = people(2, 2, 0);
        for track in participants.iter_mut().flat_map(|p| p.tracks.iter_mut()) {
            track.muted = true;
        }
        let snapshot = snapshot_of(&[("a", participants)]);
        assert!(evaluate(&snapshot, &limits(EnforcementMode::Observe)).is_empty());
    }

    #[test]
    fn overrides_replace_the_global_limit_for_their_room() {
        let mut config = limits(EnforcementMode::Observe);
        config.overrides.insert(
            "big".into(),
            RoomLimitOverride {
                max_participants: Some(10),
                ..Default::default()
            },
        );
        let snapshot = snapshot_of(&[("big", people(5, 0, 0)), ("small", people(5, 0, 0))]);
        let rooms: Vec<_> = evaluate(&snapshot, &config)
            .into_iter()
            .filter_map(|v| v.room)
            .collect();
        assert_eq!(rooms, ["small"]);
        assert_eq!(
            limit_for(&config, "big").max_audio_tracks,
            2,
            "not overridden"
        );
    }

    #[test]
    fn metric_labels_are_the_serialized_names() {
        for kind in LimitKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn observe_mode_plans_nothing() {
        let snapshot = snapshot_of(&[("a", people(9, 3, 3))]);
        assert!(plan(&snapshot, &limits(EnforcementMode::Observe)).is_empty());
    }

    #[test]
    fn enforce_mode_removes_the_newest_then_mutes_the_newest_tracks() {
        let snapshot = snapshot_of(&[("a", people(5, 1, 1))]);
        let actions = plan(&snapshot, &limits(EnforcementMode::Enforce));
        let removed: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a {
                Enforcement::RemoveParticipant { identity, .. } => Some(identity.as_str()),
                Enforcement::MuteTrack { .. } | Enforcement::DeleteRoom { .. } => None,
            })
            .collect();
        assert_eq!(removed, ["user-04", "user-03"], "newest first");
        let muted: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a {
                Enforcement::MuteTrack { track_sid, .. } => Some(track_sid.as_str()),
                Enforcement::RemoveParticipant { .. } | Enforcement::DeleteRoom { .. } => None,
            })
            .collect();
        // Three stay with one audio and one video each: one audio and two video too many.
        assert_eq!(muted, ["TR_a2_0", "TR_v2_0", "TR_v1_0"]);
        let Enforcement::MuteTrack { reason, .. } = &actions[2] else {
            panic!("a mute")
        };
        assert!(reason.contains("3 live audio tracks, limit 2"), "{reason}");
    }

    #[test]
    fn room_creation_is_refused_only_when_enforcing_at_the_limit() {
        assert!(may_create_room(2, &limits(EnforcementMode::Observe)).is_ok());
        assert!(may_create_room(1, &limits(EnforcementMode::Enforce)).is_ok());
        let refused = may_create_room(2, &limits(EnforcementMode::Enforce)).unwrap_err();
        assert!(refused.contains("max_concurrent_rooms is 2"), "{refused}");
    }
}
