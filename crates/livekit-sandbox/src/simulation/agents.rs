//! The scenario's agents: dispatched to a fixed room once due (and again whenever the room
//! lost its dispatch), or to each new room of a dynamic group with their odds.

use std::collections::HashSet;

use livekit_protocol as proto;
use rand::Rng;

use super::events::SimEvent;
use super::{Simulation, millis};
use crate::rooms::RoomStore;
use crate::scenario::ScheduledAgent;

/// What the simulation remembers about a dynamic group's agent: the rooms it considered.
pub(super) type ConsideredRooms = HashSet<String>;

impl Simulation {
    pub(super) fn dispatch_agents(
        &mut self,
        store: &mut RoomStore,
        elapsed_ms: i64,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        for (index, agent) in self.scenario.agents.iter().enumerate() {
            if let Some(room) = &agent.room {
                if elapsed_ms >= millis(agent.at)
                    && store.has_room(room)
                    && !store.dispatches.has(room, &agent.agent_name)
                {
                    dispatch(store, agent, room, now_ms, events);
                }
                continue;
            }
            let Some(prefix) = &agent.prefix else {
                continue;
            };
            let rooms: Vec<String> = self
                .scenario
                .dynamic_rooms
                .iter()
                .zip(&self.groups)
                .filter(|(group, _)| &group.prefix == prefix)
                .flat_map(|(_, state)| state.rooms.iter().map(|room| room.name.clone()))
                .collect();
            for room in rooms {
                if !self.considered[index].insert(room.clone()) {
                    continue;
                }
                if self.service_rng.random::<f64>() < agent.odds && store.has_room(&room) {
                    dispatch(store, agent, &room, now_ms, events);
                }
            }
        }
    }
}

fn dispatch(
    store: &mut RoomStore,
    agent: &ScheduledAgent,
    room: &str,
    now_ms: i64,
    events: &mut Vec<SimEvent>,
) {
    let request = proto::CreateAgentDispatchRequest {
        agent_name: agent.agent_name.clone(),
        room: room.to_owned(),
        metadata: agent.metadata.clone(),
        ..proto::CreateAgentDispatchRequest::default()
    };
    match store.create_dispatch(&request, now_ms) {
        Ok(dispatch) => events.push(SimEvent::AgentDispatched {
            room: room.to_owned(),
            agent_name: agent.agent_name.clone(),
            dispatch_id: dispatch.id,
        }),
        Err(err) => tracing::debug!(room, %err, "a scheduled dispatch failed"),
    }
}
