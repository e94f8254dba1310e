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
//!
//! Here the simulation itself: setting up, one step, and noticing rooms that vanished. Its
//! parts: `events` (what a step reports), `crowd` (the participant model: joins, departures,
//! tracks, mutes), `odds` (chance over a step), `surges` (surge schedules), `fixed_rooms` and
//! `dynamic_rooms` (the two kinds of rooms' steps), `scheduled_faults` (the faults that became
//! due) and `run` (the task that steps it in the sandbox).

mod agents;
mod crowd;
mod dynamic_rooms;
mod events;
mod fixed_rooms;
mod ingress_feeds;
mod odds;
mod recordings;
mod run;
mod schedule;
mod scheduled_faults;
mod sip_callers;
mod surges;

use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::clock::SimClock;
use super::rooms::{Closed, RoomStore};
use super::scenario::{MAX_TICK, Scenario};
use crowd::Crowd;
use dynamic_rooms::GroupState;
pub use events::{CloseReason, ScheduledDisruption, SimEvent, TrackSource};
use fixed_rooms::FixedState;

/// The longest stretch of simulated time one step accounts for. After a stall (a suspended
/// laptop, a debugger) the simulation resumes instead of replaying minutes of churn at once.
#[expect(
    clippy::cast_possible_truncation,
    reason = "10 s in ms fits any integer"
)]
const MAX_STEP_MS: i64 = MAX_TICK.as_millis() as i64;

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The stretch of simulated time one step covers.
#[derive(Debug, Clone, Copy)]
struct StepTime {
    /// Simulated Unix ms at the end of the step.
    now_ms: i64,
    /// The step's length, in the unit of the scenario's rates.
    minutes: f64,
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
    /// When each scheduled egress is next due, in ms from the start; `None` once done.
    egress_due: Vec<Option<i64>>,
    /// Per agent of a dynamic group, the rooms already given their chance of it.
    considered: Vec<agents::ConsideredRooms>,
    /// Per `sip_callers` entry, the calls in progress.
    calls: Vec<Vec<sip_callers::Call>>,
    /// Per scenario ingress, its stream's schedule.
    feeds: Vec<ingress_feeds::Feed>,
    /// Agents' odds and phone calls, from a stream of their own so they never shift the
    /// crowd's choices.
    service_rng: ChaCha8Rng,
}

impl Simulation {
    #[must_use]
    pub fn new(scenario: Scenario, clock: SimClock) -> Self {
        let next_due = scenario.faults.iter().map(|f| Some(millis(f.at))).collect();
        Self {
            egress_due: scenario.egress.iter().map(|e| Some(millis(e.at))).collect(),
            considered: vec![agents::ConsideredRooms::default(); scenario.agents.len()],
            calls: vec![Vec::new(); scenario.sip_callers.len()],
            feeds: scenario
                .ingress
                .iter()
                .map(ingress_feeds::Feed::new)
                .collect(),
            service_rng: ChaCha8Rng::seed_from_u64(scenario.seed ^ 0x5e41_1ce5),
            crowd: Crowd::new(scenario.seed),
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
            self.crowd
                .open_with_initial(store, &request, &room.participants, now_ms, events);
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
        self.start_due_egress(store, elapsed_ms, now_ms, &mut events);
        self.dispatch_agents(store, elapsed_ms, now_ms, &mut events);
        self.step_sip_callers(store, step, &mut events);
        self.feed_ingress(store, elapsed_ms, now_ms, &mut events);
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
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::rooms::ServerLimits;

    const T0: i64 = 1_700_000_000_000;

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
