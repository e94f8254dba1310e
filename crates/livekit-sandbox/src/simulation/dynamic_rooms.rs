//! The dynamic rooms' step: each group opens rooms at its rate (or all at once during a rooms
//! surge), and each room lives until its lifetime ends, then empties or is deleted.

use std::time::Duration;

use rand::Rng;

use super::crowd::Crowd;
use super::events::{CloseReason, SimEvent};
use super::odds::poisson;
use super::surges::rooms_surge_window;
use super::{Simulation, StepTime, millis};
use crate::rooms::RoomStore;
use crate::scenario::{DynamicRooms, RoomEnd};

/// How fast everyone leaves a dynamic room whose lifetime ended (`on_end: leave`): per
/// participant and minute, so the room empties within seconds, as when a call is over.
const WIND_DOWN_LEAVES_PER_MINUTE: f64 = 12.0;

/// A dynamic room the simulation owns.
#[derive(Debug, Clone)]
pub(super) struct OwnedRoom {
    pub(super) name: String,
    /// When its lifetime ends (simulated Unix ms).
    ends_at_ms: i64,
    /// Lifetime over with `on_end: leave`: everyone is leaving.
    winding_down: bool,
}

/// What the simulation remembers about a group of dynamic rooms.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupState {
    /// The number of the group's next room.
    next_index: u32,
    pub(super) rooms: Vec<OwnedRoom>,
    /// The rooms-surge occurrence in progress and when it ends (simulated Unix ms).
    surge: Option<(u64, i64)>,
}

impl Simulation {
    pub(super) fn step_group(
        &mut self,
        index: usize,
        store: &mut RoomStore,
        elapsed: Duration,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let group: &DynamicRooms = &self.scenario.dynamic_rooms[index];
        let state = &mut self.groups[index];
        let crowd = &mut self.crowd;
        state.follow_rooms_surge(group, elapsed, step.now_ms, events);
        state.open_rooms(crowd, store, group, step, events);
        state.step_rooms(crowd, store, group, step, events);
    }
}

impl GroupState {
    /// Ends the rooms surge whose occurrence is over and starts the one under way.
    fn follow_rooms_surge(
        &mut self,
        group: &DynamicRooms,
        elapsed: Duration,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        let surge_now = group
            .surge
            .as_ref()
            .and_then(|surge| rooms_surge_window(surge, elapsed, now_ms));
        if let Some((running, _)) = self.surge
            && surge_now.is_none_or(|(occurrence, _)| occurrence != running)
        {
            self.surge = None;
            events.push(SimEvent::RoomsSurgeEnded {
                prefix: group.prefix.clone(),
            });
        }
        if let (Some(surge), Some(window), None) = (&group.surge, surge_now, self.surge) {
            self.surge = Some(window);
            events.push(SimEvent::RoomsSurgeStarted {
                prefix: group.prefix.clone(),
                rooms: surge.rooms,
            });
        }
    }

    /// New rooms: one per step up to the surge's count, else at the group's rate.
    fn open_rooms(
        &mut self,
        crowd: &mut Crowd,
        store: &mut RoomStore,
        group: &DynamicRooms,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let now_ms = step.now_ms;
        let room_count = u32::try_from(self.rooms.len()).unwrap_or(u32::MAX);
        if let (Some((_, surge_ends_ms)), Some(surge)) = (self.surge, &group.surge) {
            if room_count < surge.rooms {
                crowd.open_dynamic_room(store, group, self, surge_ends_ms, now_ms, events);
            }
            return;
        }
        for _ in 0..poisson(&mut crowd.rng, group.create_rate * step.minutes) {
            if self.rooms.len() >= group.max_rooms as usize {
                break;
            }
            let ends_at_ms = now_ms + crowd.lifetime_ms(group);
            if !crowd.open_dynamic_room(store, group, self, ends_at_ms, now_ms, events) {
                break;
            }
        }
    }

    /// Each owned room lives its ordinary life until its lifetime ends; then everyone leaves
    /// (`on_end: leave`) or the room is deleted at once (`on_end: delete`).
    fn step_rooms(
        &mut self,
        crowd: &mut Crowd,
        store: &mut RoomStore,
        group: &DynamicRooms,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        let now_ms = step.now_ms;
        let mut deleted = Vec::new();
        for owned in &mut self.rooms {
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
        self.rooms.retain(|owned| !deleted.contains(&owned.name));
    }
}

impl Crowd {
    /// A random lifetime within the group's range, in ms.
    pub(super) fn lifetime_ms(&mut self, group: &DynamicRooms) -> i64 {
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
    pub(super) fn open_dynamic_room(
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
        if !self.open_with_initial(store, &request, &group.participants, now_ms, events) {
            return false;
        }
        state.rooms.push(OwnedRoom {
            name,
            ends_at_ms,
            winding_down: false,
        });
        true
    }
}
