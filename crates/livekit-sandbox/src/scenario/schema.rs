//! The scenario format as types: what a scenario file decodes into, with the defaults of
//! every key it may leave out.

use std::time::Duration;

use livekit_protocol as proto;
use serde::Deserialize;
use yaml_located::ConfigDuration;

use super::offset;
use super::services::{ScheduledAgent, ScheduledEgress, ScheduledIngress, SipCallers};
use crate::faults::Disruption;

/// A whole scenario: the simulation's settings, its rooms and its scheduled faults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Seeds every random choice of the simulation.
    pub seed: u64,
    /// Simulated seconds per real second; above 1 the simulation runs faster than real time.
    pub speed: f64,
    /// The simulation step, in simulated time.
    pub tick: ConfigDuration,
    /// Rooms that exist from the start and are kept alive.
    pub rooms: Vec<FixedRoom>,
    /// Groups of rooms created and closed over time.
    pub dynamic_rooms: Vec<DynamicRooms>,
    /// Disruptions applied at scheduled simulated times.
    pub faults: Vec<ScheduledFault>,
    /// Recordings and streams started at scheduled times.
    pub egress: Vec<ScheduledEgress>,
    /// Agents dispatched to rooms.
    pub agents: Vec<ScheduledAgent>,
    /// Phone callers joining rooms.
    pub sip_callers: Vec<SipCallers>,
    /// Streams sent into rooms.
    pub ingress: Vec<ScheduledIngress>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: 0,
            speed: 1.0,
            tick: ConfigDuration::from_millis(250),
            rooms: Vec::new(),
            dynamic_rooms: Vec::new(),
            faults: Vec::new(),
            egress: Vec::new(),
            agents: Vec::new(),
            sip_callers: Vec::new(),
            ingress: Vec::new(),
        }
    }
}

/// A room created at start. When it closes (nobody left and its departure timeout ran out, or
/// a DeleteRoom), the next simulated join creates it again with these settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedRoom {
    pub name: String,
    /// 0 means no limit; a join beyond the limit is refused (`resource_exhausted`).
    #[serde(default)]
    pub max_participants: u32,
    /// The server's default (300 s) when absent.
    #[serde(default)]
    pub empty_timeout: Option<ConfigDuration>,
    /// The server's default (20 s) when absent.
    #[serde(default)]
    pub departure_timeout: Option<ConfigDuration>,
    #[serde(default)]
    pub metadata: String,
    #[serde(default)]
    pub participants: ParticipantModel,
    /// Optional: the room grows far beyond `participants.max` at known times.
    #[serde(default)]
    pub surge: Option<Surge>,
}

impl FixedRoom {
    /// The CreateRoom request that makes this room.
    #[must_use]
    pub fn create_request(&self) -> proto::CreateRoomRequest {
        room_request(
            &self.name,
            self.max_participants,
            self.empty_timeout,
            self.departure_timeout,
            &self.metadata,
        )
    }
}

/// How participants of a room come, go, publish and mute.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParticipantModel {
    /// Participants joined when the room is created; `min <= initial <= max`.
    pub initial: u32,
    /// Random departures never take the room below this.
    pub min: u32,
    /// Random joins never take the room above this (a surge does).
    pub max: u32,
    /// Joins per simulated minute, for the whole room.
    pub join_rate: f64,
    /// Departures per simulated minute, for each participant: 0.1 keeps someone ~10 minutes.
    pub leave_rate: f64,
    /// What a participant publishes when joining.
    pub publish: PublishOdds,
    /// Mutes per simulated minute, for each unmuted track.
    pub mute_rate: f64,
    /// Unmutes per simulated minute, for each muted track.
    pub unmute_rate: f64,
}

impl Default for ParticipantModel {
    fn default() -> Self {
        Self {
            initial: 0,
            min: 0,
            max: 10,
            join_rate: 0.0,
            leave_rate: 0.0,
            publish: PublishOdds::default(),
            mute_rate: 0.0,
            unmute_rate: 0.0,
        }
    }
}

/// Probabilities (0..=1) of what a joining participant publishes.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishOdds {
    /// A microphone track.
    pub audio: f64,
    /// A camera track.
    pub video: f64,
    /// A screen-share track (video).
    pub screen_share: f64,
    /// That each published track starts muted.
    pub muted: f64,
}

impl Default for PublishOdds {
    fn default() -> Self {
        Self {
            audio: 0.8,
            video: 0.5,
            screen_share: 0.0,
            muted: 0.0,
        }
    }
}

/// A fixed room climbing to `participants` from `at`, holding there for `duration` and falling
/// back to the head count it had before (the newest participants leave first):
///
/// ```text
///  participants          ┌──────────────┐
///                      ╱ │   duration   │ ╲
///  before ────────────╱  │              │  ╲──────── normal life again (SurgeEnded)
///                   at    ramp            ramp
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surge {
    /// Simulated time from the start of the simulation.
    #[serde(deserialize_with = "offset::deserialize")]
    pub at: Duration,
    /// The head count held during the surge.
    pub participants: u32,
    /// How long the room stays at the target.
    pub duration: ConfigDuration,
    /// How long the climb takes, and the fall afterwards.
    #[serde(default = "default_ramp")]
    pub ramp: ConfigDuration,
    /// Repeats the surge with this period, counted from `at`.
    #[serde(default)]
    pub every: Option<ConfigDuration>,
    /// What participants joining during the surge publish; the room's `publish` when absent.
    #[serde(default)]
    pub publish: Option<PublishOdds>,
}

fn default_ramp() -> ConfigDuration {
    ConfigDuration::from_secs(30)
}

impl Surge {
    /// From `at` to the end of the fall.
    #[must_use]
    pub fn span(&self) -> Duration {
        self.ramp.get() * 2 + self.duration.get()
    }
}

/// A group of rooms named `{prefix}0001`, `{prefix}0002`, … created at a rate and closed when
/// their lifetime ends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicRooms {
    pub prefix: String,
    /// Rooms created at start.
    #[serde(default)]
    pub initial: u32,
    /// Concurrent rooms of this group, rooms winding down included (a surge goes beyond).
    #[serde(default = "default_max_rooms")]
    pub max_rooms: u32,
    /// New rooms per simulated minute while under `max_rooms`.
    #[serde(default)]
    pub create_rate: f64,
    #[serde(default)]
    pub lifetime: Lifetime,
    #[serde(default)]
    pub on_end: RoomEnd,
    #[serde(default)]
    pub max_participants: u32,
    #[serde(default)]
    pub empty_timeout: Option<ConfigDuration>,
    #[serde(default)]
    pub departure_timeout: Option<ConfigDuration>,
    #[serde(default)]
    pub metadata: String,
    #[serde(default)]
    pub participants: ParticipantModel,
    /// Optional: many rooms of this group at once, at known times.
    #[serde(default)]
    pub surge: Option<RoomsSurge>,
}

fn default_max_rooms() -> u32 {
    5
}

impl DynamicRooms {
    /// The name of the group's `index`th room: `call-0007`.
    #[must_use]
    pub fn room_name(&self, index: u32) -> String {
        format!("{}{index:04}", self.prefix)
    }

    /// The CreateRoom request for one room of the group.
    #[must_use]
    pub fn create_request(&self, name: &str) -> proto::CreateRoomRequest {
        room_request(
            name,
            self.max_participants,
            self.empty_timeout,
            self.departure_timeout,
            &self.metadata,
        )
    }
}

/// How long a dynamic room lives: uniformly random between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetime {
    pub min: ConfigDuration,
    pub max: ConfigDuration,
}

impl Default for Lifetime {
    fn default() -> Self {
        Self {
            min: ConfigDuration::from_secs(120),
            max: ConfigDuration::from_secs(600),
        }
    }
}

/// What happens when a dynamic room's lifetime ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomEnd {
    /// Everyone leaves within seconds; the server closes the room after its departure timeout.
    #[default]
    Leave,
    /// The room is deleted at once, as a DeleteRoom would.
    Delete,
}

/// A dynamic group holding at least `rooms` rooms from `at` for `duration`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomsSurge {
    #[serde(deserialize_with = "offset::deserialize")]
    pub at: Duration,
    pub rooms: u32,
    pub duration: ConfigDuration,
    #[serde(default)]
    pub every: Option<ConfigDuration>,
}

/// A disruption applied at `at` and, with `every`, again each period.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// A label for logs: "latency spike".
    #[serde(default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "offset::deserialize")]
    pub at: Duration,
    #[serde(default)]
    pub every: Option<ConfigDuration>,
    pub apply: Disruption,
}

fn room_request(
    name: &str,
    max_participants: u32,
    empty_timeout: Option<ConfigDuration>,
    departure_timeout: Option<ConfigDuration>,
    metadata: &str,
) -> proto::CreateRoomRequest {
    // The protocol counts timeouts in whole seconds and reads 0 as "the server's default".
    let whole_secs = |timeout: Option<ConfigDuration>| {
        timeout.map_or(0, |t| {
            let millis = t.get().as_millis();
            u32::try_from(millis.div_ceil(1000)).unwrap_or(u32::MAX)
        })
    };
    proto::CreateRoomRequest {
        name: name.to_owned(),
        max_participants,
        empty_timeout: whole_secs(empty_timeout),
        departure_timeout: whole_secs(departure_timeout),
        metadata: metadata.to_owned(),
        ..proto::CreateRoomRequest::default()
    }
}
