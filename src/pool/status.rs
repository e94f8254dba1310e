//! A pool as the dashboard shows it.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::reconnect::{ConnectionId, ConnectionState};

/// One server's pool at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolStatus {
    pub server: String,
    /// Open connections, whatever their state.
    pub total: usize,
    /// Connections checked out by callers.
    pub in_use: usize,
    /// Connections in the Connected state.
    pub healthy: usize,
    /// Connections in the Failed state.
    pub failed: usize,
    /// Callers waiting for a connection.
    pub waiters: usize,
    /// `max_pool_size`.
    pub max: usize,
    /// Set while the server rejects lktop's credentials: the server's reason.
    pub unauthenticated: Option<String>,
    /// Pool events dropped because the event channel was full.
    pub events_dropped: u64,
    pub connections: Vec<ConnectionInfo>,
}

/// One connection at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub id: ConnectionId,
    pub state: ConnectionState,
    /// Checked out by a caller.
    pub in_use: bool,
    /// Held by the pool for a health check or reconnection attempt.
    pub checking: bool,
    #[serde(rename = "created_at_ms", with = "crate::serde_time::epoch_ms")]
    pub created_at: SystemTime,
    #[serde(rename = "last_used_ms", with = "crate::serde_time::opt_epoch_ms")]
    pub last_used: Option<SystemTime>,
    /// Requests carried, health checks included.
    pub total_requests: u64,
    pub failed_requests: u64,
    /// Latency of the last answered request.
    #[serde(rename = "current_latency_ms", with = "crate::serde_time::opt_millis")]
    pub current_latency: Option<Duration>,
    #[serde(rename = "average_latency_ms", with = "crate::serde_time::opt_millis")]
    pub average_latency: Option<Duration>,
    /// Requests that got an answer (the average's denominator), so a consumer can tell the
    /// mean latency between two statuses from the differences.
    #[serde(default)]
    pub answered_requests: u64,
    /// Sum of the latencies of answered requests.
    #[serde(
        default,
        rename = "answered_latency_total_ms",
        with = "crate::serde_time::millis"
    )]
    pub answered_latency_total: Duration,
    /// Reconnection attempts made over the connection's life.
    pub reconnect_attempts: u64,
    pub last_error: Option<String>,
    /// 0..=1, set by the quality worker; `None` until it has scored the connection.
    pub quality_score: Option<f64>,
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn times_serialize_as_plain_milliseconds() {
        let info = ConnectionInfo {
            id: ConnectionId(1),
            state: ConnectionState::Connected,
            in_use: false,
            checking: false,
            created_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            last_used: None,
            total_requests: 3,
            failed_requests: 1,
            current_latency: Some(Duration::from_micros(1500)),
            average_latency: Some(Duration::from_millis(2)),
            answered_requests: 2,
            answered_latency_total: Duration::from_millis(4),
            reconnect_attempts: 0,
            last_error: None,
            quality_score: Some(0.9),
        };
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["created_at_ms"], 1_700_000_000_123_u64);
        assert_eq!(json["last_used_ms"], serde_json::Value::Null);
        assert_eq!(json["current_latency_ms"], 1.5);
        assert_eq!(json["average_latency_ms"], 2.0);
        assert_eq!(json["state"], "connected");
        assert_eq!(
            serde_json::from_value::<ConnectionInfo>(json).unwrap(),
            info
        );
    }
}
