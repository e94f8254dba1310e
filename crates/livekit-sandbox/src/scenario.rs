//! Scenario files: what the sandbox simulates.
//!
//! A scenario is a YAML file (this crate's `assets/demo.yaml`, [`Scenario::demo`], is the
//! commented reference of the format). Every key is optional unless marked *required*;
//! unknown keys are refused.
//!
//! ```yaml
//! seed: 42            # decides every random choice: same seed, same simulation
//! speed: 1.0          # simulated seconds per real second (> 0)
//! tick: 250ms         # simulation step, in simulated time
//! rooms:              # fixed rooms, created at start and kept alive
//!   - name: standup                     # required, unique
//!     max_participants: 0               # 0 = no limit; joins beyond it are refused
//!     empty_timeout: 5m                 # server default (300s) when absent
//!     departure_timeout: 20s            # server default (20s) when absent
//!     metadata: '{"team":"core"}'
//!     participants:
//!       initial: 6                      # joined at start; min <= initial <= max
//!       min: 3                          # random departures stop here
//!       max: 12                         # random joins stop here
//!       join_rate: 1.5                  # joins per simulated minute (per room)
//!       leave_rate: 0.1                 # departures per minute per participant (0.1: ~10 min stay)
//!       publish: { audio: 0.9, video: 0.6, screen_share: 0.05, muted: 0.3 }  # probabilities at join
//!       mute_rate: 0.5                  # per minute per unmuted track
//!       unmute_rate: 0.5                # per minute per muted track
//!     surge:                            # optional: the room goes far above max at known times
//!       at: 3m                          # simulated time from start (0 allowed)
//!       participants: 64                # target head count
//!       ramp: 45s                       # time to climb to the target, and to fall back to the
//!                                       # head count from before (newest participants leave)
//!       duration: 2m                    # time held at the target
//!       every: 15m                      # optional repeat period
//!       publish: { audio: 1.0, muted: 0.9 }  # optional: what surge joiners publish
//! dynamic_rooms:      # rooms that come and go
//!   - prefix: call-                     # required, non-empty: rooms are call-0001, call-0002, ...
//!     initial: 2                        # rooms created at start
//!     max_rooms: 3                      # concurrent rooms of this group (outside surges)
//!     create_rate: 0.5                  # new rooms per simulated minute
//!     lifetime: { min: 2m, max: 6m }    # each room lives a random time in this range
//!     on_end: leave                     # leave: everyone leaves, departure_timeout closes the
//!                                       # room; delete: the room is deleted (DeleteRoom)
//!     max_participants / empty_timeout / departure_timeout / metadata / participants: as above
//!     surge: { at: 8m, rooms: 7, duration: 2m, every: 15m }  # optional: many rooms at once
//! faults:             # scheduled disruptions
//!   - name: latency spike               # optional, for logs
//!     at: 1m                            # required: simulated time from start (0 allowed)
//!     every: 6m                         # optional repeat period
//!     apply: { kind: faults, latency_ms: 400, jitter_ms: 200, duration: 20s }  # a Disruption
//! ```
//!
//! Durations are written `30` (seconds), `30s`, `1500ms`, `2m` or `1m 30s`, and are simulated
//! time throughout, including the `duration` and `downtime` of a disruption.
//!
//! Errors name the file, the line and column, and the key, e.g.
//! `assets/x.yaml:12:5: rooms[1].participants.max: invalid type: string "ten", expected u32`;
//! semantic problems (min above max, a probability of 1.5, duplicate room names) are all
//! reported at once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use livekit_protocol as proto;
use serde::Deserialize;
use yaml_located::{ConfigDuration, KeyPath, LocatedIssue, Locator, Origin, Position, Target};

use super::faults::Disruption;
use super::rooms::ServerLimits;

/// The demo scenario, compiled in.
pub(crate) const DEMO_YAML: &str = include_str!("../assets/demo.yaml");

/// How errors in the built-in demo name it.
pub(crate) const DEMO_LABEL: &str = "livekit-sandbox/assets/demo.yaml (built in)";

/// The longest simulation step: a step covers at most this much simulated time (longer
/// stalls are skipped rather than replayed), so a longer `tick` would lose time.
pub(crate) const MAX_TICK: Duration = Duration::from_secs(10);

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

/// Simulated offsets from the start: like [`ConfigDuration`], but zero is allowed.
mod offset {
    use std::fmt;
    use std::time::Duration;

    use serde::Deserializer;
    use serde::de::{self, Visitor};
    use yaml_located::ConfigDuration;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        struct OffsetVisitor;

        impl Visitor<'_> for OffsetVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a time from the start: seconds as a number, or a string like 90s or 2m",
                )
            }

            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Duration, E> {
                Ok(Duration::from_secs(secs))
            }

            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Duration, E> {
                u64::try_from(secs).map(Duration::from_secs).map_err(|_| {
                    E::custom(format!("`{secs}` is negative; write e.g. 0, 90s or 2m"))
                })
            }

            fn visit_f64<E: de::Error>(self, secs: f64) -> Result<Duration, E> {
                if secs == 0.0 {
                    return Ok(Duration::ZERO);
                }
                secs.to_string()
                    .parse::<ConfigDuration>()
                    .map(ConfigDuration::get)
                    .map_err(E::custom)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
                if humantime::parse_duration(text.trim()).is_ok_and(|d| d.is_zero())
                    || text.trim().parse::<f64>().is_ok_and(|secs| secs == 0.0)
                {
                    return Ok(Duration::ZERO);
                }
                text.parse::<ConfigDuration>()
                    .map(ConfigDuration::get)
                    .map_err(E::custom)
            }
        }

        deserializer.deserialize_any(OffsetVisitor)
    }
}

impl Scenario {
    /// No rooms and no faults: the sandbox serves only what clients create (`--scenario none`).
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in demo, this crate's `assets/demo.yaml`.
    ///
    /// # Panics
    /// Never in a released build: a test loads the embedded file.
    #[must_use]
    pub fn demo() -> Self {
        Self::from_yaml(DEMO_YAML, DEMO_LABEL)
            .unwrap_or_else(|err| panic!("the built-in demo scenario is broken:\n{err}"))
    }

    /// Reads and checks a scenario file.
    ///
    /// # Errors
    /// The file cannot be read, is not a valid scenario, or makes no sense; see
    /// [`Scenario::from_yaml`].
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Decodes and checks a scenario; `label` names it in errors (usually the file's path).
    /// An empty document is the empty scenario.
    ///
    /// # Errors
    /// [`ScenarioError::Decode`] for YAML syntax, an unknown key or a wrong type;
    /// [`ScenarioError::Invalid`] with every semantic problem found.
    pub fn from_yaml(text: &str, label: &str) -> Result<Self, ScenarioError> {
        let has_content = text.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && line != "---"
        });
        if !has_content {
            return Ok(Self::empty());
        }
        let deserializer = serde_yaml::Deserializer::from_str(text);
        let scenario: Self = serde_path_to_error::deserialize(deserializer)
            .map_err(|err| ScenarioError::Decode(Box::new(decode_issue(&err, label))))?;
        let problems = scenario.problems();
        if problems.is_empty() {
            return Ok(scenario);
        }
        let locator = Locator::new(text);
        let issues = problems
            .into_iter()
            .map(|(key, problem)| LocatedIssue {
                origin: Origin::File {
                    path: PathBuf::from(label),
                    position: locator.find(&key, Target::Key),
                    line_text: None,
                },
                key: Some(key),
                problem,
                help: None,
            })
            .collect();
        Err(ScenarioError::Invalid {
            label: label.to_owned(),
            issues,
        })
    }

    /// Every semantic problem, with the key that holds it.
    fn problems(&self) -> Vec<(KeyPath, String)> {
        let mut problems = Vec::new();
        let top = KeyPath::root();
        if !(self.speed.is_finite() && self.speed > 0.0) {
            problems.push((
                top.clone().key("speed"),
                format!("speed is {}; it must be a positive number", self.speed),
            ));
        }

        if self.tick.get() > MAX_TICK {
            problems.push((
                top.clone().key("tick"),
                format!(
                    "tick is {}; at most {} keeps the simulation smooth",
                    self.tick,
                    humantime::format_duration(MAX_TICK)
                ),
            ));
        }
        let mut names = HashSet::new();
        for (index, room) in self.rooms.iter().enumerate() {
            let at = top.clone().key("rooms").index(index);
            self.check_fixed_room(room, &at, &mut names, &mut problems);
        }
        let mut prefixes = HashSet::new();
        for (index, group) in self.dynamic_rooms.iter().enumerate() {
            let at = top.clone().key("dynamic_rooms").index(index);
            check_group(group, &at, &mut prefixes, &mut problems);
        }

        for (index, fault) in self.faults.iter().enumerate() {
            let at = top.clone().key("faults").index(index);
            if let Disruption::Faults { faults, .. } = &fault.apply
                && let Err(problem) = faults.validate()
            {
                problems.push((at.clone().key("apply"), problem));
            }
        }
        problems
    }

    fn check_fixed_room<'a>(
        &self,
        room: &'a FixedRoom,
        at: &KeyPath,
        names: &mut HashSet<&'a str>,
        problems: &mut Vec<(KeyPath, String)>,
    ) {
        let limits = ServerLimits::default();
        let name_key = at.clone().key("name");
        if room.name.is_empty() {
            problems.push((
                name_key.clone(),
                "the room name must not be empty".to_owned(),
            ));
        } else if room.name.chars().count() > limits.max_room_name_length {
            problems.push((
                name_key.clone(),
                format!(
                    "the room name is longer than the server allows ({} characters)",
                    limits.max_room_name_length
                ),
            ));
        }
        if !names.insert(room.name.as_str()) {
            problems.push((
                name_key.clone(),
                format!(
                    "room `{}` is named twice; room names must be unique",
                    room.name
                ),
            ));
        }
        if let Some(group) = self
            .dynamic_rooms
            .iter()
            .find(|group| !group.prefix.is_empty() && room.name.starts_with(&group.prefix))
        {
            problems.push((
                name_key,
                format!(
                    "room `{}` starts with the dynamic prefix `{}`; the group could create a \
                     room of the same name",
                    room.name, group.prefix
                ),
            ));
        }
        check_metadata(&room.metadata, at, &limits, problems);
        check_participants(
            &room.participants,
            room.max_participants,
            &at.clone().key("participants"),
            problems,
        );
        if let Some(surge) = &room.surge {
            check_surge(surge, &at.clone().key("surge"), problems);
        }
    }
}

fn check_group<'a>(
    group: &'a DynamicRooms,
    at: &KeyPath,
    prefixes: &mut HashSet<&'a str>,
    problems: &mut Vec<(KeyPath, String)>,
) {
    let limits = ServerLimits::default();
    let prefix_key = at.clone().key("prefix");
    if group.prefix.is_empty() {
        problems.push((prefix_key, "the prefix must not be empty".to_owned()));
    } else if group.prefix.chars().count() + 8 > limits.max_room_name_length {
        problems.push((
            prefix_key,
            "the prefix leaves no room for a number within the server's name limit".to_owned(),
        ));
    } else if !prefixes.insert(group.prefix.as_str()) {
        problems.push((
            prefix_key,
            format!(
                "prefix `{}` is used twice; prefixes must be unique",
                group.prefix
            ),
        ));
    }
    if group.initial > group.max_rooms {
        problems.push((
            at.clone().key("initial"),
            format!(
                "initial ({}) is greater than max_rooms ({})",
                group.initial, group.max_rooms
            ),
        ));
    }
    check_rate(group.create_rate, &at.clone().key("create_rate"), problems);
    if group.lifetime.min > group.lifetime.max {
        problems.push((
            at.clone().key("lifetime").key("min"),
            format!(
                "lifetime.min ({}) is longer than lifetime.max ({})",
                group.lifetime.min, group.lifetime.max
            ),
        ));
    }
    check_metadata(&group.metadata, at, &limits, problems);
    check_participants(
        &group.participants,
        group.max_participants,
        &at.clone().key("participants"),
        problems,
    );
    if let Some(surge) = &group.surge {
        let surge_key = at.clone().key("surge");
        if surge.rooms == 0 {
            problems.push((
                surge_key.clone().key("rooms"),
                "a surge of 0 rooms does nothing; write at least 1".to_owned(),
            ));
        }
        check_period(surge.every, surge.duration.get(), &surge_key, problems);
    }
}

fn check_rate(rate: f64, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if !(rate.is_finite() && rate >= 0.0) {
        problems.push((
            key.clone(),
            format!(
                "{} is {rate}; a rate per minute must be 0 or more",
                leaf(key)
            ),
        ));
    }
}

fn check_probability(value: f64, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if !(0.0..=1.0).contains(&value) {
        problems.push((
            key.clone(),
            format!(
                "{} is {value}; a probability must be within 0.0..=1.0",
                leaf(key)
            ),
        ));
    }
}

fn leaf(key: &KeyPath) -> &str {
    key.leaf().unwrap_or("the value")
}

fn check_publish(odds: &PublishOdds, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    for (name, value) in [
        ("audio", odds.audio),
        ("video", odds.video),
        ("screen_share", odds.screen_share),
        ("muted", odds.muted),
    ] {
        check_probability(value, &key.clone().key(name), problems);
    }
}

fn check_participants(
    model: &ParticipantModel,
    max_participants: u32,
    key: &KeyPath,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if model.min > model.max {
        problems.push((
            key.clone().key("min"),
            format!("min ({}) is greater than max ({})", model.min, model.max),
        ));
    } else if !(model.min..=model.max).contains(&model.initial) {
        problems.push((
            key.clone().key("initial"),
            format!(
                "initial ({}) is outside min..=max ({}..={})",
                model.initial, model.min, model.max
            ),
        ));
    }
    if max_participants > 0 && model.min > max_participants {
        problems.push((
            key.clone().key("min"),
            format!(
                "min ({}) is above the room's max_participants ({max_participants}); the room \
                 could never hold it",
                model.min
            ),
        ));
    }
    check_rate(model.join_rate, &key.clone().key("join_rate"), problems);
    check_rate(model.leave_rate, &key.clone().key("leave_rate"), problems);
    check_rate(model.mute_rate, &key.clone().key("mute_rate"), problems);
    check_rate(model.unmute_rate, &key.clone().key("unmute_rate"), problems);
    check_publish(&model.publish, &key.clone().key("publish"), problems);
}

fn check_surge(surge: &Surge, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if surge.participants == 0 {
        problems.push((
            key.clone().key("participants"),
            "a surge to 0 participants does nothing; write the head count to reach".to_owned(),
        ));
    }
    if let Some(publish) = &surge.publish {
        check_publish(publish, &key.clone().key("publish"), problems);
    }
    check_period(surge.every, surge.span(), key, problems);
}

/// A repeating surge must end before it starts again.
fn check_period(
    every: Option<ConfigDuration>,
    span: Duration,
    key: &KeyPath,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if let Some(every) = every
        && every.get() <= span
    {
        problems.push((
            key.clone().key("every"),
            format!(
                "every ({every}) must be longer than the surge itself ({})",
                humantime::format_duration(span)
            ),
        ));
    }
}

fn check_metadata(
    metadata: &str,
    key: &KeyPath,
    limits: &ServerLimits,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if metadata.len() > limits.max_metadata_size {
        problems.push((
            key.clone().key("metadata"),
            format!(
                "metadata is {} bytes; the server allows {}",
                metadata.len(),
                limits.max_metadata_size
            ),
        ));
    }
}

/// Turns serde's error into one issue: the key from `serde_path_to_error` (none for the
/// document as a whole), the position from `serde_yaml`, and the message without the position
/// and path `serde_yaml` already appends.
fn decode_issue(err: &serde_path_to_error::Error<serde_yaml::Error>, label: &str) -> LocatedIssue {
    let key = (err.path().iter().len() > 0).then(|| key_path(err.path()));
    let key_text = key.as_ref().map(ToString::to_string).unwrap_or_default();
    let mut problem = strip_positions(&err.inner().to_string());
    // serde_yaml prefixes its messages with its own path, which is the same as ours or an
    // ancestor (it cannot see into buffered content such as a flattened disruption).
    if let Some((prefix, rest)) = problem.split_once(": ")
        && !prefix.is_empty()
        && !prefix.contains(' ')
        && key_text.starts_with(prefix)
    {
        problem = rest.to_owned();
    }
    LocatedIssue {
        key,
        origin: Origin::File {
            path: PathBuf::from(label),
            position: err.inner().location().map(|location| Position {
                line: location.line(),
                column: location.column(),
            }),
            line_text: None,
        },
        problem,
        help: None,
    }
}

/// serde's path as a key path that reads as serde writes it: a mapping key that is not text
/// is `?`.
fn key_path(path: &serde_path_to_error::Path) -> KeyPath {
    use serde_path_to_error::Segment as S;
    path.iter()
        .fold(KeyPath::root(), |key, segment| match segment {
            S::Seq { index } => key.index(*index),
            S::Map { key: name } | S::Enum { variant: name } => key.key(name.as_str()),
            S::Unknown => key.key("?"),
        })
}

/// Removes every ` at line N column M` (the issue carries the position itself).
fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" at line ") {
        let after = &rest[start + " at line ".len()..];
        let digits = |text: &str| text.chars().take_while(char::is_ascii_digit).count();
        let line_digits = digits(after);
        let Some(column_part) = after[line_digits..].strip_prefix(" column ") else {
            out.push_str(&rest[..start + " at line ".len()]);
            rest = after;
            continue;
        };
        let column_digits = digits(column_part);
        if line_digits == 0 || column_digits == 0 {
            out.push_str(&rest[..start + " at line ".len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        rest = &column_part[column_digits..];
    }
    out.push_str(rest);
    out
}

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// YAML syntax, an unknown key or a value of the wrong type: decoding stops at the first.
    /// The issue's file is the scenario's label; it names no key for a YAML syntax error.
    #[error("{0}")]
    Decode(Box<LocatedIssue>),
    /// The scenario decodes but does not make sense; every problem found.
    #[error("{}", render_issues(label, issues))]
    Invalid {
        label: String,
        issues: Vec<LocatedIssue>,
    },
}

impl ScenarioError {
    /// The problems with their positions (none for a read error).
    #[must_use]
    pub fn issues(&self) -> &[LocatedIssue] {
        match self {
            Self::Read { .. } => &[],
            Self::Decode(issue) => std::slice::from_ref(&**issue),
            Self::Invalid { issues, .. } => issues,
        }
    }
}

fn render_issues(label: &str, issues: &[LocatedIssue]) -> String {
    let mut text = match issues.len() {
        1 => format!("the scenario {label} has 1 problem:"),
        count => format!("the scenario {label} has {count} problems:"),
    };
    for issue in issues {
        text.push_str("\n  ");
        text.push_str(&issue.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(yaml: &str) -> Vec<LocatedIssue> {
        Scenario::from_yaml(yaml, "x.yaml")
            .expect_err("the scenario should be refused")
            .issues()
            .to_vec()
    }

    /// The issue's key as written in messages; empty for the document as a whole.
    fn key(issue: &LocatedIssue) -> String {
        issue
            .key
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    fn line(issue: &LocatedIssue) -> Option<usize> {
        issue.origin.position().map(|position| position.line)
    }

    #[test]
    fn the_built_in_demo_loads() {
        let demo = Scenario::demo();
        assert!(demo.rooms.len() >= 5);
        assert!(!demo.dynamic_rooms.is_empty());
        assert!(!demo.faults.is_empty());
    }

    #[test]
    fn an_empty_document_is_the_empty_scenario() {
        assert_eq!(Scenario::from_yaml("", "x").unwrap(), Scenario::empty());
        assert_eq!(
            Scenario::from_yaml("# nothing yet\n---\n", "x").unwrap(),
            Scenario::empty()
        );
    }

    #[test]
    fn offsets_allow_zero_and_durations_parse_as_in_the_config() {
        let scenario = Scenario::from_yaml(
            "tick: 500ms\nfaults:\n  - at: 0\n    apply: { kind: clear }\n  - at: 1m 30s\n    \
             every: 90\n    apply: { kind: listener_down, duration: 5s }\n",
            "x",
        )
        .unwrap();
        assert_eq!(scenario.tick.get(), Duration::from_millis(500));
        assert_eq!(scenario.faults[0].at, Duration::ZERO);
        assert_eq!(scenario.faults[1].at, Duration::from_secs(90));
        assert_eq!(
            scenario.faults[1].apply,
            Disruption::ListenerDown {
                duration: Some(Duration::from_secs(5))
            }
        );
        let err = issues("faults:\n  - at: -5\n    apply: { kind: clear }\n");
        assert!(err[0].problem.contains("negative"), "{err:?}");
    }

    #[test]
    fn an_unknown_key_names_its_path_and_line() {
        let err = issues("rooms:\n  - name: a\n    participants:\n      maxx: 3\n");
        assert_eq!(key(&err[0]), "rooms[0].participants.maxx");
        assert_eq!(line(&err[0]), Some(4));
        assert!(err[0].problem.contains("unknown field `maxx`"), "{err:?}");
    }

    #[test]
    fn a_wrong_type_names_its_path_and_position() {
        let text = "seed: 1\nrooms:\n  - name: a\n  - name: b\n    participants:\n      max: ten\n";
        let err = Scenario::from_yaml(text, "assets/x.yaml").unwrap_err();
        let rendered = err.to_string();
        assert!(
            rendered.starts_with("assets/x.yaml:6:12: rooms[1].participants.max: invalid type"),
            "{rendered}"
        );
        assert!(!rendered.contains("at line"), "{rendered}");
    }

    #[test]
    fn yaml_syntax_errors_carry_a_position() {
        let err = issues("rooms: [\n  name: a\n");
        assert!(line(&err[0]).is_some(), "{err:?}");
    }

    #[test]
    fn semantic_problems_are_reported_together_with_positions() {
        let text = "\
speed: 0
rooms:
  - name: a
    participants:
      min: 5
      max: 3
      publish:
        video: 1.5
  - name: a
    participants:
      join_rate: -1
dynamic_rooms:
  - prefix: ''
";
        let err = Scenario::from_yaml(text, "x.yaml").unwrap_err();
        let found: Vec<(String, Option<usize>)> = err
            .issues()
            .iter()
            .map(|issue| (key(issue), line(issue)))
            .collect();
        let expected = [
            ("speed", Some(1)),
            ("rooms[0].participants.min", Some(5)),
            ("rooms[0].participants.publish.video", Some(8)),
            ("rooms[1].name", Some(9)),
            ("rooms[1].participants.join_rate", Some(11)),
            ("dynamic_rooms[0].prefix", Some(13)),
        ]
        .map(|(key, line)| (key.to_owned(), line));
        assert_eq!(found, expected);
        let rendered = err.to_string();
        assert!(
            rendered.starts_with("the scenario x.yaml has 6 problems:"),
            "{rendered}"
        );
        assert!(
            rendered.contains("x.yaml:8:9: rooms[0].participants.publish.video: video is 1.5"),
            "{rendered}"
        );
    }

    #[test]
    fn surge_periods_and_fault_rates_are_checked() {
        let text = "\
rooms:
  - name: a
    surge: { at: 1m, participants: 60, duration: 2m, ramp: 30s, every: 3m }
faults:
  - at: 1m
    apply: { kind: faults, error_rate: 1.5 }
";
        let keys: Vec<String> = issues(text).iter().map(key).collect();
        assert_eq!(keys, ["rooms[0].surge.every", "faults[0].apply"]);
        let keys: Vec<String> = issues("tick: 1m\n").iter().map(key).collect();
        assert_eq!(keys, ["tick"]);
    }

    #[test]
    fn timeouts_become_whole_seconds_in_the_create_request() {
        let scenario = Scenario::from_yaml(
            "rooms:\n  - name: a\n    empty_timeout: 1500ms\n    max_participants: 4\n",
            "x",
        )
        .unwrap();
        let request = scenario.rooms[0].create_request();
        assert_eq!(
            (
                request.empty_timeout,
                request.departure_timeout,
                request.max_participants
            ),
            (2, 0, 4)
        );
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let err = Scenario::load(Path::new("/nonexistent/scenario.yaml")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/scenario.yaml"),
            "{err}"
        );
    }

    #[test]
    fn strip_positions_leaves_other_text_alone() {
        assert_eq!(
            strip_positions("bad at line 3 column 5, while parsing at line 2 column 1"),
            "bad, while parsing"
        );
        assert_eq!(strip_positions("at line of fire"), "at line of fire");
    }
}
