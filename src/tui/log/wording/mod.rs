//! Each engine event in an operator's words: which events deserve a line, at which level,
//! what the line says, and what makes a later line a repeat of it
//! ([`CollapseKey`](super::CollapseKey)).
//!
//! Here the choice of words for each event; the words themselves are per family of events:
//! `server` (state, failed polls, quality), `connections` (the pool's), `limits`,
//! `enforcement`, `room_alerts`, `jobs` (egress, ingress, dispatches), `commands`, `reloads`
//! (of the configuration), `demo_faults` and `session`.

mod commands;
mod connections;
mod demo_faults;
mod enforcement;
mod jobs;
mod limits;
mod nodes;
mod reloads;
mod room_alerts;
mod server;
mod session;
mod webhooks;

use crate::events::{EngineEvent, EventKind};
use crate::pool::PoolEvent;
use crate::reconnect::ConnectionState;

use super::memory::Memory;
use super::note::Note;
use super::rooms;
use commands::command_outcome;
pub(crate) use commands::{describe_command, describe_command_outcome};
use connections::pool;
use demo_faults::sandbox_fault;
use enforcement::{enforced, held};
use reloads::{config_applied, config_rejected};
use server::{poll_budget, poll_failed, quality, server_state};
use session::{events_dropped, recording_stopped, started};

/// The notes an engine event deserves (none for routine statuses and snapshots, none for a
/// grading or a set of violations that changes nothing).
#[must_use]
#[expect(
    clippy::too_many_lines,
    reason = "one arm per event kind; the words are in each family's module"
)]
pub(crate) fn notes(event: &EngineEvent, memory: &mut Memory) -> Vec<Note> {
    match &event.kind {
        EventKind::Started {
            servers, sandbox, ..
        } => vec![started(servers, sandbox.as_deref())],
        EventKind::ServerState {
            server,
            state,
            cause,
            down_for_ms,
        } => {
            let previous = memory.state(server, *state);
            vec![server_state(
                server,
                *state,
                previous,
                cause.as_deref(),
                *down_for_ms,
            )]
        }
        // A closed connection's own line is its `Shrank` (or the pool's shutdown): its move
        // to `disconnected` would only say the same thing less clearly.
        EventKind::Pool {
            event: PoolEvent::StateChanged { change, .. },
        } if change.to == ConnectionState::Disconnected => Vec::new(),
        EventKind::Pool { event } => vec![pool(event)],
        EventKind::Quality { server, report, .. } => {
            quality(server, report, memory).into_iter().collect()
        }
        EventKind::RoomChanges { server, changes } => rooms::notes(server, changes),
        // While the server is down its `down` line (with the cause) says it all; failed polls
        // are news only while it is up (answering with errors).
        EventKind::PollFailed { server, .. } if memory.is_out(server) => Vec::new(),
        EventKind::PollFailed { server, error } => vec![poll_failed(server, error)],
        EventKind::PollBudget { server, coverage } => vec![poll_budget(server, coverage)],
        EventKind::Webhook {
            server, webhook, ..
        } => vec![webhooks::webhook(server, webhook)],
        EventKind::WebhookDrift { server, drift } => vec![webhooks::drift(server, drift)],
        EventKind::WebhookRefused {
            cause,
            status,
            reason,
        } => vec![webhooks::refused(cause, *status, reason)],
        EventKind::Violations { server, violations } => {
            limits::violations(server, violations, memory)
        }
        EventKind::RoomAlert { server, alert } => vec![room_alerts::room_alert(server, alert)],
        kind @ (EventKind::NodeSourceState { .. }
        | EventKind::NodeChanged { .. }
        | EventKind::MediaViolations { .. }
        | EventKind::NodeCountDrift { .. }
        | EventKind::Egress { .. }
        | EventKind::Ingress { .. }
        | EventKind::JobsAccess { .. }) => beside_the_rooms(kind, memory),
        EventKind::Enforced {
            server,
            action,
            outcome,
        } => vec![enforced(server, action, outcome)],
        EventKind::EnforcementHeld {
            server,
            action,
            removals,
            until_ms,
        } => vec![held(server, action, *removals, *until_ms)],
        EventKind::Command {
            id,
            command,
            outcome,
        } => vec![command_outcome(*id, command, outcome)],
        EventKind::ConfigApplied {
            source,
            changes,
            limits_replaced,
            needs_restart,
            ..
        } => vec![config_applied(
            source,
            changes,
            limits_replaced.as_ref(),
            needs_restart,
        )],
        EventKind::ConfigRejected { error } => vec![config_rejected(error)],
        EventKind::EventsDropped { count } => vec![events_dropped(*count)],
        EventKind::SandboxFault {
            id,
            origin,
            phase,
            description,
            detail,
        } => vec![sandbox_fault(
            *id,
            *origin,
            *phase,
            description,
            detail.as_deref(),
        )],
        EventKind::RecordingStopped {
            path,
            events,
            reason,
        } => vec![recording_stopped(path, *events, reason)],
        // The room's end is said by its `room_finished` webhook or the poll's changes; this
        // is the History screen's record of it.
        EventKind::PoolStatus { .. }
        | EventKind::Rooms { .. }
        | EventKind::Snapshot { .. }
        | EventKind::NodeHealth { .. }
        | EventKind::AgentDispatches { .. }
        | EventKind::RoomFinished { .. } => Vec::new(),
    }
}

/// The server's nodes and its rooms' jobs: read beside the rooms, worded by their own module.
fn beside_the_rooms(kind: &EventKind, memory: &mut Memory) -> Vec<Note> {
    match kind {
        EventKind::Egress { .. } | EventKind::Ingress { .. } | EventKind::JobsAccess { .. } => {
            jobs::notes(kind)
        }
        _ => nodes::notes(kind, memory),
    }
}

#[cfg(test)]
mod tests;
