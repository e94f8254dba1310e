//! Agents dispatched to rooms, as livekit-server's `livekit.AgentDispatchService` reports
//! them.
//!
//! A dispatch asks for an agent in a room. There are no agent workers, so the sandbox plays
//! one: [`AGENT_JOIN_MS`] after the dispatch a job is assigned (`AgentDispatch.state.jobs`,
//! `JS_RUNNING`) and its participant joins, of kind `AGENT`, identity `agent-AJ_…`, with the
//! agents framework's `lk.agent.state` attribute, publishing its voice. Deleting the dispatch
//! ends the job and the agent leaves; a room that goes away takes its dispatches with it.
//!
//! The files: `dispatch` (creating, listing, deleting, the agent joining) and `service` (the
//! Twirp methods).

mod dispatch;
pub(crate) mod service;

use livekit_protocol as proto;

/// How long after a dispatch its agent joins (a worker accepting the job and connecting).
pub(crate) const AGENT_JOIN_MS: i64 = 1_500;

/// One dispatch, and when its agent joins.
#[derive(Debug, Clone)]
pub(crate) struct DispatchRecord {
    dispatch: proto::AgentDispatch,
    join_at_ms: Option<i64>,
}

/// Every dispatch of every room, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dispatches {
    records: Vec<DispatchRecord>,
}

impl Dispatches {
    /// Whether `room` has a dispatch of `agent_name`.
    pub(crate) fn has(&self, room: &str, agent_name: &str) -> bool {
        self.records
            .iter()
            .any(|r| r.dispatch.room == room && r.dispatch.agent_name == agent_name)
    }

    /// A room went away, and its dispatches with it.
    pub(crate) fn forget_room(&mut self, room: &str) {
        self.records.retain(|record| record.dispatch.room != room);
    }
}
