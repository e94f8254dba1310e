//! What the simulation tells its caller: the [`SimEvent`]s of a step, for logs and tests, and
//! the [`ScheduledDisruption`]s it hands to the server.

use serde::Serialize;

use crate::faults::Disruption;

/// What a published track is, in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    Microphone,
    Camera,
    ScreenShare,
}

/// Why a room went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Nobody ever joined within its `empty_timeout`.
    EmptyTimeout,
    /// Its `departure_timeout` ran out after the last participant left.
    DepartureTimeout,
    /// The simulation deleted it: a dynamic room with `on_end: delete`.
    Deleted,
    /// It disappeared between two steps: a DeleteRoom from a client, or a restart.
    Vanished,
}

/// Something the simulation did or noticed, for logs and tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SimEvent {
    RoomCreated {
        room: String,
    },
    RoomClosed {
        room: String,
        reason: CloseReason,
    },
    Joined {
        room: String,
        identity: String,
        name: String,
    },
    Left {
        room: String,
        identity: String,
    },
    /// The room was at `max_participants`: the server refused the join.
    RefusedFull {
        room: String,
        identity: String,
    },
    Published {
        room: String,
        identity: String,
        track_sid: String,
        source: TrackSource,
        muted: bool,
    },
    Muted {
        room: String,
        identity: String,
        track_sid: String,
    },
    Unmuted {
        room: String,
        identity: String,
        track_sid: String,
    },
    /// A fixed room begins climbing to `participants`.
    SurgeStarted {
        room: String,
        participants: u32,
    },
    /// The room is back within its normal range.
    SurgeEnded {
        room: String,
    },
    /// A dynamic group begins holding at least `rooms` rooms.
    RoomsSurgeStarted {
        prefix: String,
        rooms: u32,
    },
    RoomsSurgeEnded {
        prefix: String,
    },
    /// A scheduled recording or stream started.
    EgressStarted {
        room: String,
        egress_id: String,
    },
    /// An agent was dispatched to a room.
    AgentDispatched {
        room: String,
        agent_name: String,
        dispatch_id: String,
    },
    /// A phone caller joined a room through a SIP trunk.
    SipCallJoined {
        room: String,
        identity: String,
    },
    /// A phone call ended; `trunk_failure` when the trunk dropped it.
    SipCallEnded {
        room: String,
        identity: String,
        trunk_failure: bool,
    },
    /// A scheduled ingress began receiving its stream (`true`) or stopped (`false`).
    IngressReceiving {
        room: String,
        ingress_id: String,
        receiving: bool,
    },
    /// Every room the simulation kept had gone (a restart that lost state): it sets up again.
    StateLost,
    /// A scheduled fault is due; its durations are simulated time.
    DisruptionDue {
        name: Option<String>,
        disruption: Disruption,
    },
}

/// A scheduled fault on its way to the server that applies it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledDisruption {
    /// The scenario's name for it.
    pub name: Option<String>,
    pub disruption: Disruption,
}

impl SimEvent {
    /// Room-level happenings worth an `info` log line; per-participant ones are `debug`.
    #[must_use]
    pub(crate) fn is_notable(&self) -> bool {
        !matches!(
            self,
            Self::Joined { .. }
                | Self::Left { .. }
                | Self::RefusedFull { .. }
                | Self::Published { .. }
                | Self::Muted { .. }
                | Self::Unmuted { .. }
                | Self::SipCallJoined { .. }
                | Self::SipCallEnded { .. }
        )
    }
}
