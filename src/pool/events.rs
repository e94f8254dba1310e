//! What a pool tells the rest of lktop, and the lossy channel it tells it through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::reconnect::{ConnectionId, StateChange};

/// Something that happened to a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PoolEvent {
    /// A connection changed state.
    StateChanged {
        server: String,
        #[serde(flatten)]
        change: StateChange,
    },
    /// Every connection was busy while a caller waited, so one more was opened.
    Grew {
        server: String,
        connection: ConnectionId,
        total: usize,
    },
    /// A connection above `pool_size` went unused for `idle_timeout` and was closed.
    Shrank {
        server: String,
        connection: ConnectionId,
        total: usize,
        #[serde(rename = "idle_for_ms", with = "crate::serde_time::millis")]
        idle_for: Duration,
    },
    /// The server rejected lktop's credentials; callers get an error until it accepts them.
    Unauthenticated { server: String, reason: String },
    /// The server accepts the credentials again.
    Authenticated { server: String },
}

/// Sends without ever waiting: a slow consumer loses events (counted) instead of stalling
/// checkouts and health checks, which send while holding the pool's lock.
pub(crate) struct EventSink {
    sender: mpsc::Sender<PoolEvent>,
    dropped: AtomicU64,
}

impl EventSink {
    pub(crate) fn new(sender: mpsc::Sender<PoolEvent>) -> Self {
        Self {
            sender,
            dropped: AtomicU64::new(0),
        }
    }

    pub(crate) fn send(&self, event: PoolEvent) {
        match self.sender.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(?event, "pool event dropped: the consumer is behind");
            }
            // Nobody listens any more; the pool keeps working without an audience.
            Err(TrySendError::Closed(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconnect::ConnectionState;

    #[tokio::test]
    async fn a_full_channel_drops_and_counts_instead_of_waiting() {
        let (sender, mut receiver) = mpsc::channel(1);
        let sink = EventSink::new(sender);
        for _ in 0..3 {
            sink.send(PoolEvent::Authenticated { server: "a".into() });
        }
        assert_eq!(sink.dropped(), 2);
        assert!(receiver.recv().await.is_some());
    }

    #[test]
    fn events_serialize_flat_with_a_kind_tag() {
        let event = PoolEvent::StateChanged {
            server: "local".into(),
            change: StateChange {
                connection: ConnectionId(2),
                from: ConnectionState::Reconnecting,
                to: ConnectionState::Failed,
                cause: "3 attempts failed".into(),
                attempt: None,
                next_retry_in: Some(Duration::from_millis(400)),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "state_changed");
        assert_eq!(json["to"], "failed");
        assert_eq!(json["next_retry_in_ms"], 400.0);
        assert_eq!(serde_json::from_value::<PoolEvent>(json).unwrap(), event);
    }
}
