//! The fixed rooms' step: each lives its ordinary life, or follows the surge under way,
//! climbing to the surge's head count and falling back to where it was.

use std::time::Duration;

use super::crowd::{Crowd, head_count};
use super::events::SimEvent;
use super::surges::{SurgePhase, surge_phase, surge_target};
use super::{Simulation, StepTime};
use crate::rooms::RoomStore;
use crate::scenario::{FixedRoom, Surge};

/// What the simulation remembers about a fixed room.
#[derive(Debug, Clone, Default)]
pub(super) struct FixedState {
    /// Whether the room existed after the last step.
    pub(super) open: bool,
    /// The surge occurrence in progress and the head count it started from.
    surge: Option<(u64, u32)>,
}

/// A surge of the room and where its schedule stands: the occurrence and the phase.
type SurgeNow<'a> = Option<(&'a Surge, (u64, SurgePhase))>;

impl Simulation {
    pub(super) fn step_fixed_room(
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
        follow_surge(state, room, phase, store, now_ms, events);

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
}

/// Ends the surge in progress once its occurrence is over (or a later one began), sending its
/// crowd home, and starts an occurrence that is under way and not yet started.
fn follow_surge(
    state: &mut FixedState,
    room: &FixedRoom,
    phase: SurgeNow<'_>,
    store: &mut RoomStore,
    now_ms: i64,
    events: &mut Vec<SimEvent>,
) {
    if let Some((running, base)) = state.surge {
        let still_running = matches!(
            phase,
            Some((_, (occurrence, p))) if occurrence == running && p != SurgePhase::Done
        );
        if !still_running {
            let before = base.min(room.participants.max);
            Crowd::trim_newest_to(store, &room.name, before, now_ms, events);
            state.surge = None;
            events.push(SimEvent::SurgeEnded {
                room: room.name.clone(),
            });
        }
    }
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
}
