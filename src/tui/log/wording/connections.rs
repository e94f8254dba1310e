//! The pool's connections: their state changes (collapsed per target state), the pool growing
//! and shrinking, and the credentials refused and accepted again.

use std::fmt::Write as _;

use crate::pool::PoolEvent;
use crate::reconnect::{ConnectionState, StateChange};
use crate::tui::log::human;
use crate::tui::log::note::{CollapseKey, Level, Note};

pub(super) fn pool(event: &PoolEvent) -> Note {
    match event {
        PoolEvent::StateChanged { server, change } => connection_state(server, change),
        PoolEvent::Grew {
            server,
            connection,
            total,
        } => Note::new(
            Level::Info,
            Some(server),
            format!("pool grew to {total}: {connection} opened under load"),
        ),
        PoolEvent::Shrank {
            server,
            connection,
            total,
            idle_for,
        } => Note::new(Level::Info, Some(server), format!("{connection} closed")).detail(format!(
            ": idle for {} above pool_size (pool now {total})",
            human::span(*idle_for)
        )),
        PoolEvent::Unauthenticated { server, reason } => {
            Note::new(Level::Error, Some(server), "credentials rejected")
                .detail(format!(": {reason}"))
                .collapsing(CollapseKey::CredentialsRejected {
                    reason: reason.clone(),
                })
        }
        PoolEvent::Authenticated { server } => {
            Note::new(Level::Info, Some(server), "credentials accepted again")
                .collapsing(CollapseKey::CredentialsAccepted)
        }
    }
}

/// A connection's state change, collapsed per server and target state:
/// `connections reconnecting ×10 (conn-4: attempt 3 in 2.0 s: connection refused)`.
fn connection_state(server: &str, change: &StateChange) -> Note {
    let level = match change.to {
        ConnectionState::Failed => Level::Error,
        ConnectionState::Reconnecting => Level::Warn,
        ConnectionState::Disconnected
        | ConnectionState::Connecting
        | ConnectionState::Connected => Level::Info,
    };
    let mut detail = format!(" ({}", change.connection);
    // The retry schedule before the cause: causes can be long and get cut.
    match (change.attempt, change.next_retry_in) {
        (Some(attempt), Some(delay)) => {
            let _ = write!(detail, ": attempt {attempt} in {}", human::span(delay));
        }
        (None, Some(delay)) => {
            let _ = write!(detail, ": next try in {}", human::span(delay));
        }
        _ => {}
    }
    if !change.cause.is_empty() {
        let _ = write!(detail, ": {}", change.cause);
    }
    detail.push(')');
    Note::new(level, Some(server), format!("connections {}", change.to))
        .detail(detail)
        .collapsing(CollapseKey::ConnectionsTo(change.to))
}
