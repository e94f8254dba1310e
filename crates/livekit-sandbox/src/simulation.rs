//! The simulation: a [`Scenario`] brought to life in the sandbox's [`RoomStore`].
//!
//! [`Simulation::step`] is the whole behaviour and is deterministic: given the same scenario
//! (seed included), the same store and the same sequence of `now_ms` values, it makes the same
//! changes and returns the same [`SimEvent`]s. Tests call it with explicit times; the sandbox
//! calls it from [`Simulation::run`] every `tick` of simulated time.
//!
//! The store is the single source of truth: the simulation keeps no list of participants or
//! tracks, so whatever clients do through the API (remove a participant, mute a track, delete a
//! room) is simply part of the world the next step sees. It only remembers what the store
//! cannot tell it: which dynamic rooms it owns and when they end, surge progress, and when each
//! scheduled fault is next due.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use livekit_protocol as proto;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::clock::SimClock;
use super::faults::Disruption;
use super::rooms::{Closed, RoomStore, TrackSpec};
use super::scenario::{
    DynamicRooms, FixedRoom, MAX_TICK, ParticipantModel, PublishOdds, RoomEnd, RoomsSurge,
    Scenario, Surge,
};
use super::twirp_error::TwirpCode;
use yaml_located::ConfigDuration;

/// The longest stretch of simulated time one step accounts for. After a stall (a suspended
/// laptop, a debugger) the simulation resumes instead of replaying minutes of churn at once.
#[expect(
    clippy::cast_possible_truncation,
    reason = "10 s in ms fits any integer"
)]
const MAX_STEP_MS: i64 = MAX_TICK.as_millis() as i64;

/// How fast everyone leaves a dynamic room whose lifetime ended (`on_end: leave`): per
/// participant and minute, so the room empties within seconds, as when a call is over.
const WIND_DOWN_LEAVES_PER_MINUTE: f64 = 12.0;

/// Keeps the Poisson sampler's loop bounded whatever the rate; far above any per-step mean a
/// sensible scenario produces.
const MAX_EVENTS_MEAN: f64 = 50.0;

/// First names for simulated participants; with a last initial, enough for believable rosters.
const FIRST_NAMES: [&str; 48] = [
    "Ada",
    "Alan",
    "Amara",
    "Ana",
    "Aroha",
    "Ben",
    "Bianca",
    "Chen",
    "Chloe",
    "Dmitri",
    "Elena",
    "Emeka",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Kenji",
    "Lars",
    "Leila",
    "Lucia",
    "Malik",
    "Marta",
    "Mei",
    "Nadia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sami",
    "Sofia",
    "Tariq",
    "Thea",
    "Umar",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoltan",
];

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
        )
    }
}

/// Where a repeating schedule (a surge) stands at some time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SurgePhase {
    /// Climbing; the fraction of the ramp done.
    Climb(f64),
    Hold,
    /// Falling back; the fraction of the ramp done.
    Fall(f64),
    /// This occurrence is over.
    Done,
}

/// Which occurrence of a surge `elapsed` falls in, and where in it; `None` before the first.
fn surge_phase(surge: &Surge, elapsed: Duration) -> Option<(u64, SurgePhase)> {
    let (occurrence, within) = occurrence(surge.at, surge.every.map(ConfigDuration::get), elapsed)?;
    let ramp = surge.ramp.get();
    let phase = if within < ramp {
        SurgePhase::Climb(within.as_secs_f64() / ramp.as_secs_f64())
    } else if within < ramp + surge.duration.get() {
        SurgePhase::Hold
    } else if within < surge.span() {
        let falling = within.saturating_sub(ramp + surge.duration.get());
        SurgePhase::Fall(falling.as_secs_f64() / ramp.as_secs_f64())
    } else {
        SurgePhase::Done
    };
    Some((occurrence, phase))
}

/// The occurrence index of a schedule starting at `at` and repeating `every`, and the time
/// into that occurrence.
fn occurrence(at: Duration, every: Option<Duration>, elapsed: Duration) -> Option<(u64, Duration)> {
    let since = elapsed.checked_sub(at)?;
    match every {
        Some(period) if !period.is_zero() => {
            let index = since.as_nanos() / period.as_nanos();
            let index = u64::try_from(index).unwrap_or(u64::MAX);
            let start = period.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
            Some((index, since.saturating_sub(start)))
        }
        _ => Some((0, since)),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The chance that an event with `rate_per_minute` happens within `minutes`.
fn chance(rate_per_minute: f64, minutes: f64) -> f64 {
    if rate_per_minute > 0.0 {
        1.0 - (-rate_per_minute * minutes).exp()
    } else {
        0.0
    }
}

/// How many events with mean `mean` happen in one step (Knuth's Poisson sampler: fine for the
/// small means of a rate per minute over a fraction of a minute).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let limit = (-mean.min(MAX_EVENTS_MEAN)).exp();
    let mut product: f64 = rng.random();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.random::<f64>();
    }
    count
}

/// The stretch of simulated time one step covers.
#[derive(Debug, Clone, Copy)]
struct StepTime {
    /// Simulated Unix ms at the end of the step.
    now_ms: i64,
    /// The step's length, in the unit of the scenario's rates.
    minutes: f64,
}

fn head_count(store: &RoomStore, room: &str) -> u32 {
    u32::try_from(store.participants(room).len()).unwrap_or(u32::MAX)
}

/// The participant target of a surge phase: from `base` (the head count when it began, never
/// above the room's normal `max`) up to `target`, and back to `base`.
fn surge_target(phase: SurgePhase, base: u32, target: u32, normal_max: u32) -> u32 {
    let base = base.min(normal_max);
    let between = |from: u32, to: u32, progress: f64| {
        let value = f64::from(from) + (f64::from(to) - f64::from(from)) * progress.clamp(0.0, 1.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a value between two u32 head counts"
        )]
        let rounded = value.round() as u32;
        rounded
    };
    match phase {
        SurgePhase::Climb(progress) => between(base, target, progress),
        SurgePhase::Hold => target,
        SurgePhase::Fall(progress) => between(target, base.min(target), progress),
        SurgePhase::Done => base.min(target),
    }
}

/// The random part of the simulation: who joins, what they publish, who leaves and mutes.
#[derive(Debug, Clone)]
struct Crowd {
    rng: ChaCha8Rng,
    /// The number of the next simulated participant: `user-0001`, `user-0002`, …
    next_user: u32,
}

impl Crowd {
    /// Creates the room if it does not exist; false if the store refused it.
    fn ensure_room(
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        if store.has_room(&request.name) {
            return true;
        }
        match store.create_room(request, now_ms) {
            Ok(_) => {
                events.push(SimEvent::RoomCreated {
                    room: request.name.clone(),
                });
                true
            }
            Err(err) => {
                tracing::warn!(room = %request.name, %err, "the simulation could not create a room");
                false
            }
        }
    }

    /// One participant joining (creating the room if needed) and publishing; false when the
    /// join was refused, so callers stop trying for this step.
    fn join(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        publish: &PublishOdds,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        if !Self::ensure_room(store, request, now_ms, events) {
            return false;
        }
        let room = &request.name;
        let identity = format!("user-{:04}", self.next_user);
        self.next_user += 1;
        let first = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
        let initial = char::from(b'A' + self.rng.random_range(0..26u8));
        let name = format!("{first} {initial}.");
        match store.join(room, &identity, &name, now_ms) {
            Ok(_) => {}
            Err(err) if err.code == TwirpCode::ResourceExhausted => {
                events.push(SimEvent::RefusedFull {
                    room: room.clone(),
                    identity,
                });
                return false;
            }
            Err(err) => {
                tracing::warn!(room, identity, %err, "a simulated join failed");
                return false;
            }
        }
        events.push(SimEvent::Joined {
            room: room.clone(),
            identity: identity.clone(),
            name,
        });
        for (odds, source, spec) in [
            (
                publish.audio,
                TrackSource::Microphone,
                TrackSpec::microphone(),
            ),
            (publish.video, TrackSource::Camera, TrackSpec::camera()),
            (
                publish.screen_share,
                TrackSource::ScreenShare,
                TrackSpec::screen_share(),
            ),
        ] {
            if self.rng.random::<f64>() >= odds {
                continue;
            }
            let muted = self.rng.random::<f64>() < publish.muted;
            let spec = TrackSpec { muted, ..spec };
            match store.publish(room, &identity, &spec) {
                Ok(track) => events.push(SimEvent::Published {
                    room: room.clone(),
                    identity: identity.clone(),
                    track_sid: track.sid,
                    source,
                    muted,
                }),
                Err(err) => tracing::warn!(room, identity, %err, "a simulated publish failed"),
            }
        }
        true
    }

    fn leave(
        store: &mut RoomStore,
        room: &str,
        identity: &str,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        if store.remove_participant(room, identity, now_ms).is_ok() {
            events.push(SimEvent::Left {
                room: room.to_owned(),
                identity: identity.to_owned(),
            });
        }
    }

    /// Joins until the room holds `target`, stopping at the first refusal.
    fn fill_to(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        publish: &PublishOdds,
        target: u32,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        while head_count(store, &request.name) < target {
            if !self.join(store, request, publish, now_ms, events) {
                break;
            }
        }
    }

    /// The newest participants leave until the room holds `target`: after a surge the crowd
    /// that came for it goes, and the regulars stay.
    fn trim_newest_to(
        store: &mut RoomStore,
        room: &str,
        target: u32,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        let mut identities = store.identities(room);
        while u32::try_from(identities.len()).unwrap_or(u32::MAX) > target {
            let Some(leaver) = identities.pop() else {
                break;
            };
            Self::leave(store, room, &leaver, now_ms, events);
        }
    }

    /// Each participant leaves with the chance of `rate_per_minute` over the step, never
    /// taking the room below `floor`.
    fn random_leaves(
        &mut self,
        store: &mut RoomStore,
        room: &str,
        rate_per_minute: f64,
        floor: u32,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let probability = chance(rate_per_minute, step.minutes);
        if probability <= 0.0 {
            return;
        }
        let identities = store.identities(room);
        let mut remaining = u32::try_from(identities.len()).unwrap_or(u32::MAX);
        for identity in identities {
            if remaining <= floor {
                break;
            }
            if self.rng.random::<f64>() < probability {
                Self::leave(store, room, &identity, step.now_ms, events);
                remaining -= 1;
            }
        }
    }

    /// Each track is muted or unmuted with the chance of its rate over the step.
    fn toggle_mutes(
        &mut self,
        store: &mut RoomStore,
        room: &str,
        model: &ParticipantModel,
        minutes: f64,
        events: &mut Vec<SimEvent>,
    ) {
        let mute = chance(model.mute_rate, minutes);
        let unmute = chance(model.unmute_rate, minutes);
        if mute <= 0.0 && unmute <= 0.0 {
            return;
        }
        let mut toggles = Vec::new();
        for participant in store.participants(room) {
            for track in &participant.tracks {
                let probability = if track.muted { unmute } else { mute };
                if probability > 0.0 && self.rng.random::<f64>() < probability {
                    toggles.push((
                        participant.identity.clone(),
                        track.sid.clone(),
                        !track.muted,
                    ));
                }
            }
        }
        for (identity, track_sid, muted) in toggles {
            if store
                .mute_published_track(room, &identity, &track_sid, muted)
                .is_err()
            {
                continue;
            }
            let room = room.to_owned();
            events.push(if muted {
                SimEvent::Muted {
                    room,
                    identity,
                    track_sid,
                }
            } else {
                SimEvent::Unmuted {
                    room,
                    identity,
                    track_sid,
                }
            });
        }
    }

    /// A room's ordinary life over one step: random joins up to `max`, departures down to
    /// `min`, mutes and unmutes.
    fn live(
        &mut self,
        store: &mut RoomStore,
        request: &proto::CreateRoomRequest,
        model: &ParticipantModel,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let room = &request.name;
        for _ in 0..poisson(&mut self.rng, model.join_rate * step.minutes) {
            if head_count(store, room) >= model.max
                || !self.join(store, request, &model.publish, step.now_ms, events)
            {
                break;
            }
        }
        self.random_leaves(store, room, model.leave_rate, model.min, step, events);
        self.toggle_mutes(store, room, model, step.minutes, events);
    }

    fn lifetime_ms(&mut self, group: &DynamicRooms) -> i64 {
        let (min, max) = (
            millis(group.lifetime.min.get()),
            millis(group.lifetime.max.get()),
        );
        if max <= min {
            min
        } else {
            self.rng.random_range(min..=max)
        }
    }

    /// Creates the group's next room with its initial participants; false if none could be
    /// created.
    fn open_dynamic_room(
        &mut self,
        store: &mut RoomStore,
        group: &DynamicRooms,
        state: &mut GroupState,
        ends_at_ms: i64,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) -> bool {
        state.next_index += 1;
        let mut name = group.room_name(state.next_index);
        // A client may have created a room of that name: take the next free number.
        while store.has_room(&name) {
            state.next_index += 1;
            name = group.room_name(state.next_index);
        }
        let request = group.create_request(&name);
        if !Self::ensure_room(store, &request, now_ms, events) {
            return false;
        }
        let model = &group.participants;
        self.fill_to(
            store,
            &request,
            &model.publish,
            model.initial,
            now_ms,
            events,
        );
        state.rooms.push(OwnedRoom {
            name,
            ends_at_ms,
            winding_down: false,
        });
        true
    }
}

/// What the simulation remembers about a fixed room.
#[derive(Debug, Clone, Default)]
struct FixedState {
    /// Whether the room existed after the last step.
    open: bool,
    /// The surge occurrence in progress and the head count it started from.
    surge: Option<(u64, u32)>,
}

/// A dynamic room the simulation owns.
#[derive(Debug, Clone)]
struct OwnedRoom {
    name: String,
    /// When its lifetime ends (simulated Unix ms).
    ends_at_ms: i64,
    /// Lifetime over with `on_end: leave`: everyone is leaving.
    winding_down: bool,
}

#[derive(Debug, Clone, Default)]
struct GroupState {
    /// The number of the group's next room.
    next_index: u32,
    rooms: Vec<OwnedRoom>,
    /// The rooms-surge occurrence in progress and when it ends (simulated Unix ms).
    surge: Option<(u64, i64)>,
}

/// A scenario running against a [`RoomStore`].
#[derive(Debug, Clone)]
pub struct Simulation {
    scenario: Scenario,
    clock: SimClock,
    crowd: Crowd,
    /// Simulated Unix ms of the first setup: scenario times count from here.
    started_ms: Option<i64>,
    last_step_ms: i64,
    fixed: Vec<FixedState>,
    groups: Vec<GroupState>,
    /// When each scheduled fault is next due, in ms from the start; `None` once done.
    next_due: Vec<Option<i64>>,
}

impl Simulation {
    #[must_use]
    pub fn new(scenario: Scenario, clock: SimClock) -> Self {
        let next_due = scenario.faults.iter().map(|f| Some(millis(f.at))).collect();
        Self {
            crowd: Crowd {
                rng: ChaCha8Rng::seed_from_u64(scenario.seed),
                next_user: 1,
            },
            fixed: vec![FixedState::default(); scenario.rooms.len()],
            groups: vec![GroupState::default(); scenario.dynamic_rooms.len()],
            next_due,
            started_ms: None,
            last_step_ms: 0,
            scenario,
            clock,
        }
    }

    #[must_use]
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Creates the fixed rooms with their initial participants and tracks, and the dynamic
    /// groups' initial rooms. Called once at start, and again after a restart that lost the
    /// rooms; rooms that exist are kept and only topped up to their initial head count. The
    /// first call starts the scenario's timeline at `now_ms`.
    pub fn setup(&mut self, store: &mut RoomStore, now_ms: i64) -> Vec<SimEvent> {
        let mut events = Vec::new();
        self.setup_into(store, now_ms, &mut events);
        events
    }

    fn setup_into(&mut self, store: &mut RoomStore, now_ms: i64, events: &mut Vec<SimEvent>) {
        self.started_ms.get_or_insert(now_ms);
        self.last_step_ms = self.last_step_ms.max(now_ms);
        for (room, state) in self.scenario.rooms.iter().zip(&mut self.fixed) {
            let request = room.create_request();
            if Crowd::ensure_room(store, &request, now_ms, events) {
                let model = &room.participants;
                self.crowd.fill_to(
                    store,
                    &request,
                    &model.publish,
                    model.initial,
                    now_ms,
                    events,
                );
            }
            state.open = store.has_room(&room.name);
        }
        for (group, state) in self.scenario.dynamic_rooms.iter().zip(&mut self.groups) {
            while state.rooms.len() < group.initial as usize {
                let ends_at_ms = now_ms + self.crowd.lifetime_ms(group);
                if !self
                    .crowd
                    .open_dynamic_room(store, group, state, ends_at_ms, now_ms, events)
                {
                    break;
                }
            }
        }
    }

    /// Advances the simulation to `now_ms` (simulated Unix ms): the scenario's random life
    /// over the time since the last step, surges, dynamic rooms, the store's own timeouts,
    /// and the scheduled faults that became due (returned as [`SimEvent::DisruptionDue`]; the
    /// caller applies them). A first call without [`Simulation::setup`] sets up.
    pub fn step(&mut self, store: &mut RoomStore, now_ms: i64) -> Vec<SimEvent> {
        let mut events = Vec::new();
        let Some(started_ms) = self.started_ms else {
            self.setup_into(store, now_ms, &mut events);
            return events;
        };
        let step_ms = (now_ms - self.last_step_ms).clamp(0, MAX_STEP_MS);
        self.last_step_ms = self.last_step_ms.max(now_ms);
        #[expect(clippy::cast_precision_loss, reason = "at most MAX_STEP_MS")]
        let minutes = step_ms as f64 / 60_000.0;
        let elapsed_ms = now_ms - started_ms;
        let elapsed = Duration::from_millis(u64::try_from(elapsed_ms).unwrap_or(0));
        let step = StepTime { now_ms, minutes };

        self.due_disruptions(elapsed_ms, &mut events);
        self.recover_lost_rooms(store, now_ms, &mut events);
        for index in 0..self.scenario.rooms.len() {
            self.step_fixed_room(index, store, elapsed, step, &mut events);
        }
        for index in 0..self.scenario.dynamic_rooms.len() {
            self.step_group(index, store, elapsed, step, &mut events);
        }
        for closed in store.tick(now_ms) {
            let (name, reason) = match closed {
                Closed::EmptyTimeout(name) => (name, CloseReason::EmptyTimeout),
                Closed::DepartureTimeout(name) => (name, CloseReason::DepartureTimeout),
            };
            self.forget_room(&name);
            events.push(SimEvent::RoomClosed { room: name, reason });
        }
        events
    }

    fn due_disruptions(&mut self, elapsed_ms: i64, events: &mut Vec<SimEvent>) {
        for (fault, next_due) in self.scenario.faults.iter().zip(&mut self.next_due) {
            let Some(due) = *next_due else { continue };
            if elapsed_ms < due {
                continue;
            }
            events.push(SimEvent::DisruptionDue {
                name: fault.name.clone(),
                disruption: fault.apply.clone(),
            });
            // One event however late the step is; the next occurrence is the first one after
            // now, so a stalled simulation does not fire a backlog.
            *next_due = fault.every.map(|every| {
                let (period, at) = (millis(every.get()).max(1), millis(fault.at));
                at + ((elapsed_ms - at) / period + 1) * period
            });
        }
    }

    /// Notices rooms that went away between steps. If every room the simulation kept is gone,
    /// the server restarted without its state: set up again. Otherwise a client deleted some:
    /// fixed rooms come back with the next join, dynamic ones are forgotten.
    fn recover_lost_rooms(
        &mut self,
        store: &mut RoomStore,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        let fixed_names = self
            .scenario
            .rooms
            .iter()
            .zip(&self.fixed)
            .filter(|(_, state)| state.open)
            .map(|(room, _)| room.name.as_str());
        let owned_names = self
            .groups
            .iter()
            .flat_map(|group| group.rooms.iter().map(|room| room.name.as_str()));
        let mut kept = fixed_names.chain(owned_names).peekable();
        if kept.peek().is_none() {
            return;
        }
        let mut vanished = Vec::new();
        let mut any_left = false;
        for name in kept {
            if store.has_room(name) {
                any_left = true;
            } else {
                vanished.push(name.to_owned());
            }
        }
        if vanished.is_empty() {
            return;
        }
        for name in vanished {
            self.forget_room(&name);
            events.push(SimEvent::RoomClosed {
                room: name,
                reason: CloseReason::Vanished,
            });
        }
        if !any_left {
            events.push(SimEvent::StateLost);
            self.setup_into(store, now_ms, events);
        }
    }

    /// Drops what the simulation knew about a room that closed.
    fn forget_room(&mut self, name: &str) {
        if let Some(index) = self.scenario.rooms.iter().position(|r| r.name == name) {
            self.fixed[index].open = false;
        }
        for group in &mut self.groups {
            group.rooms.retain(|room| room.name != name);
        }
    }

    fn step_fixed_room(
        &mut self,
        index: usize,
        store: &mut RoomStore,
        elapsed: Duration,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let now_ms = step.now_ms;
        let room: &FixedRoom = &self.scenario.rooms[index];
        let state = &mut self.fixed[index];
        let request = room.create_request();
        let model = &room.participants;
        let phase = room
            .surge
            .as_ref()
            .and_then(|surge| Some((surge, surge_phase(surge, elapsed)?)));

        // End the surge in progress once its occurrence is over (or a later one began).
        if let Some((running, base)) = state.surge {
            let still_running = matches!(
                phase,
                Some((_, (occurrence, p))) if occurrence == running && p != SurgePhase::Done
            );
            if !still_running {
                let before = base.min(model.max);
                Crowd::trim_newest_to(store, &room.name, before, now_ms, events);
                state.surge = None;
                events.push(SimEvent::SurgeEnded {
                    room: room.name.clone(),
                });
            }
        }
        // Start an occurrence that is under way and not yet started.
        if let Some((surge, (occurrence, p))) = phase
            && p != SurgePhase::Done
            && state.surge.is_none()
        {
            state.surge = Some((occurrence, head_count(store, &room.name)));
            events.push(SimEvent::SurgeStarted {
                room: room.name.clone(),
                participants: surge.participants,
            });
        }

        match (state.surge, phase) {
            (Some((_, base)), Some((surge, (_, p)))) => {
                let target = surge_target(p, base, surge.participants, model.max);
                let publish = surge.publish.as_ref().unwrap_or(&model.publish);
                let crowd = &mut self.crowd;
                crowd.random_leaves(store, &room.name, model.leave_rate, model.min, step, events);
                match p {
                    SurgePhase::Climb(_) | SurgePhase::Hold => {
                        crowd.fill_to(store, &request, publish, target, now_ms, events);
                    }
                    SurgePhase::Fall(_) | SurgePhase::Done => {
                        Crowd::trim_newest_to(store, &room.name, target, now_ms, events);
                    }
                }
                crowd.toggle_mutes(store, &room.name, model, step.minutes, events);
            }
            _ => self.crowd.live(store, &request, model, step, events),
        }
        self.fixed[index].open = store.has_room(&room.name);
    }

    fn step_group(
        &mut self,
        index: usize,
        store: &mut RoomStore,
        elapsed: Duration,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let now_ms = step.now_ms;
        let group: &DynamicRooms = &self.scenario.dynamic_rooms[index];
        let state = &mut self.groups[index];
        let crowd = &mut self.crowd;

        let surge_now = group
            .surge
            .as_ref()
            .and_then(|surge| rooms_surge_window(surge, elapsed, now_ms));
        if let Some((running, _)) = state.surge
            && surge_now.is_none_or(|(occurrence, _)| occurrence != running)
        {
            state.surge = None;
            events.push(SimEvent::RoomsSurgeEnded {
                prefix: group.prefix.clone(),
            });
        }
        if let (Some(surge), Some(window), None) = (&group.surge, surge_now, state.surge) {
            state.surge = Some(window);
            events.push(SimEvent::RoomsSurgeStarted {
                prefix: group.prefix.clone(),
                rooms: surge.rooms,
            });
        }

        // New rooms: one per step up to the surge's count, else at the group's rate.
        let room_count = u32::try_from(state.rooms.len()).unwrap_or(u32::MAX);
        if let (Some((_, surge_ends_ms)), Some(surge)) = (state.surge, &group.surge) {
            if room_count < surge.rooms {
                crowd.open_dynamic_room(store, group, state, surge_ends_ms, now_ms, events);
            }
        } else {
            for _ in 0..poisson(&mut crowd.rng, group.create_rate * step.minutes) {
                if state.rooms.len() >= group.max_rooms as usize {
                    break;
                }
                let ends_at_ms = now_ms + crowd.lifetime_ms(group);
                if !crowd.open_dynamic_room(store, group, state, ends_at_ms, now_ms, events) {
                    break;
                }
            }
        }

        let mut deleted = Vec::new();
        for owned in &mut state.rooms {
            if !owned.winding_down && now_ms >= owned.ends_at_ms {
                match group.on_end {
                    RoomEnd::Leave => owned.winding_down = true,
                    RoomEnd::Delete => {
                        if store.delete_room(&owned.name).is_ok() {
                            events.push(SimEvent::RoomClosed {
                                room: owned.name.clone(),
                                reason: CloseReason::Deleted,
                            });
                        }
                        deleted.push(owned.name.clone());
                        continue;
                    }
                }
            }
            if owned.winding_down {
                crowd.random_leaves(
                    store,
                    &owned.name,
                    WIND_DOWN_LEAVES_PER_MINUTE,
                    0,
                    step,
                    events,
                );
            } else {
                let request = group.create_request(&owned.name);
                crowd.live(store, &request, &group.participants, step, events);
            }
        }
        state.rooms.retain(|owned| !deleted.contains(&owned.name));
    }

    /// Runs the simulation until `shutdown`: every `tick` of simulated time it locks the store
    /// for one [`Simulation::step`] and forwards the disruptions that became due as written,
    /// their durations in simulated time (the server converts them with the same clock, as it
    /// does for the admin endpoint's). The lock is never held across an await.
    pub async fn run(
        mut self,
        store: Arc<Mutex<RoomStore>>,
        disruptions: mpsc::Sender<ScheduledDisruption>,
        shutdown: CancellationToken,
    ) {
        // A panic elsewhere while holding the lock leaves the rooms as they were; carrying on
        // with them beats stopping the simulation.
        let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
        let events = {
            let mut rooms = lock();
            self.setup(&mut rooms, self.clock.now_ms())
        };
        Self::report(events, &disruptions);
        let pause = self.clock.real(self.scenario.tick.get());
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
            let events = {
                let mut rooms = lock();
                self.step(&mut rooms, self.clock.now_ms())
            };
            Self::report(events, &disruptions);
        }
        tracing::debug!("simulation stopped");
    }

    fn report(events: Vec<SimEvent>, disruptions: &mpsc::Sender<ScheduledDisruption>) {
        for event in events {
            if event.is_notable() {
                tracing::info!(event = ?event, "simulation");
            } else {
                tracing::debug!(event = ?event, "simulation");
            }
            let SimEvent::DisruptionDue { name, disruption } = event else {
                continue;
            };
            match disruptions.try_send(ScheduledDisruption {
                name: name.clone(),
                disruption,
            }) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => tracing::warn!(
                    name = name.as_deref().unwrap_or("unnamed"),
                    "a scheduled disruption was dropped: the sandbox has not taken the previous ones"
                ),
                Err(TrySendError::Closed(_)) => {
                    tracing::debug!("no one applies disruptions any more");
                }
            }
        }
    }
}

/// The occurrence of a rooms surge under way at `elapsed` and when it ends (simulated Unix ms).
fn rooms_surge_window(surge: &RoomsSurge, elapsed: Duration, now_ms: i64) -> Option<(u64, i64)> {
    let (occurrence, within) = occurrence(surge.at, surge.every.map(ConfigDuration::get), elapsed)?;
    let left = surge.duration.get().checked_sub(within)?;
    (!left.is_zero()).then(|| (occurrence, now_ms + millis(left)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rooms::ServerLimits;

    const T0: i64 = 1_700_000_000_000;

    fn surge(at: u64, ramp: u64, duration: u64, every: Option<u64>) -> Surge {
        Surge {
            at: Duration::from_secs(at),
            participants: 60,
            duration: ConfigDuration::from_secs(duration),
            ramp: ConfigDuration::from_secs(ramp),
            every: every.map(ConfigDuration::from_secs),
            publish: None,
        }
    }

    #[test]
    fn surge_phases_follow_the_schedule_and_repeat() {
        let surge = surge(60, 10, 30, Some(100));
        let at = |secs: u64| surge_phase(&surge, Duration::from_secs(secs));
        assert_eq!(at(59), None);
        assert_eq!(at(60), Some((0, SurgePhase::Climb(0.0))));
        assert_eq!(at(65), Some((0, SurgePhase::Climb(0.5))));
        assert_eq!(at(70), Some((0, SurgePhase::Hold)));
        assert_eq!(at(105), Some((0, SurgePhase::Fall(0.5))));
        assert_eq!(at(110), Some((0, SurgePhase::Done)));
        assert_eq!(at(165), Some((1, SurgePhase::Climb(0.5))));
    }

    #[test]
    fn surge_targets_interpolate_between_counts() {
        assert_eq!(surge_target(SurgePhase::Climb(0.5), 20, 60, 40), 40);
        assert_eq!(surge_target(SurgePhase::Hold, 20, 60, 40), 60);
        assert_eq!(surge_target(SurgePhase::Fall(0.25), 20, 60, 40), 50);
        assert_eq!(surge_target(SurgePhase::Done, 20, 60, 40), 20);
        assert_eq!(
            surge_target(SurgePhase::Done, 50, 60, 40),
            40,
            "never above max"
        );
    }

    #[test]
    fn poisson_has_the_requested_mean_and_chance_grows_with_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let total: u32 = (0..10_000).map(|_| poisson(&mut rng, 0.3)).sum();
        assert!((2_700..3_300).contains(&total), "{total}");
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert!(chance(1.0, 1.0) > chance(1.0, 0.5));
        assert!((chance(1.0, 1.0) - 0.632).abs() < 0.001);
        assert!(chance(0.0, 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn setup_creates_fixed_rooms_with_their_initial_participants() {
        let scenario = Scenario::from_yaml(
            "rooms:\n  - name: a\n    participants: { initial: 3, publish: { audio: 1.0, video: 0.0 } }\n",
            "x",
        )
        .unwrap();
        let mut store = RoomStore::new(ServerLimits::default(), ChaCha8Rng::seed_from_u64(0));
        let mut simulation = Simulation::new(scenario, SimClock::new(1.0));
        let events = simulation.setup(&mut store, T0);
        assert_eq!(
            store.identities("a"),
            ["user-0001", "user-0002", "user-0003"]
        );
        let published = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    SimEvent::Published {
                        source: TrackSource::Microphone,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(published, 3);
        // Setting up again over existing rooms only tops up.
        assert!(simulation.setup(&mut store, T0).is_empty());
    }
}
