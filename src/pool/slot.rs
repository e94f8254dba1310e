//! One connection of a pool and everything the pool knows about it.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::stats::RequestStats;
use super::status::ConnectionInfo;
use crate::reconnect::{ConnectionId, ConnectionState, Lifecycle};

/// Who has the connection right now. Exclusivity lives here: a slot is handed out only while
/// `Idle`, and the guard that took it puts it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Idle,
    Caller,
    HealthCheck,
}

pub(crate) struct Slot<C> {
    pub(crate) id: ConnectionId,
    pub(crate) api: Arc<C>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) holder: Holder,
    pub(crate) stats: RequestStats,
    pub(crate) created_at: SystemTime,
    pub(crate) created: Instant,
    /// When a caller last returned it; the most recently returned connection is handed out
    /// first, so extra connections stay idle and can be shrunk.
    pub(crate) returned: Instant,
    /// Last time the server answered on this connection.
    pub(crate) verified: Instant,
    /// A transport error was seen: check it as soon as it is free.
    pub(crate) check_due: bool,
    /// When the next reconnection attempt is due (Reconnecting, Failed).
    pub(crate) retry_at: Option<Instant>,
    /// Reconnection attempts ever made on this connection.
    pub(crate) reconnect_attempts: u64,
    pub(crate) last_error: Option<String>,
    /// Set by the quality worker.
    pub(crate) quality_score: Option<f64>,
}

impl<C> Slot<C> {
    pub(crate) fn new(id: ConnectionId, api: C, now: Instant) -> Self {
        Self {
            id,
            api: Arc::new(api),
            lifecycle: Lifecycle::new(id),
            holder: Holder::Idle,
            stats: RequestStats::default(),
            created_at: SystemTime::now(),
            created: now,
            returned: now,
            verified: now,
            check_due: false,
            retry_at: None,
            reconnect_attempts: 0,
            last_error: None,
            quality_score: None,
        }
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.lifecycle.state()
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.holder == Holder::Idle
    }

    /// When a caller last used it, or its creation: what the idle timeout counts from.
    pub(crate) fn last_caller_activity(&self) -> Instant {
        self.returned.max(self.created)
    }

    pub(crate) fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            id: self.id,
            state: self.state(),
            in_use: self.holder == Holder::Caller,
            checking: self.holder == Holder::HealthCheck,
            created_at: self.created_at,
            last_used: self.stats.last_used,
            total_requests: self.stats.total,
            failed_requests: self.stats.failed,
            current_latency: self.stats.current_latency,
            average_latency: self.stats.average_latency(),
            answered_requests: self.stats.answered,
            answered_latency_total: self.stats.latency_sum,
            reconnect_attempts: self.reconnect_attempts,
            last_error: self.last_error.clone(),
            quality_score: self.quality_score,
        }
    }
}
