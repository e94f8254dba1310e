//! What the engine tells its consumers (the dashboard, `lktop watch`, recordings) and what they
//! ask of it. Both are serde types: the same stream is printed as NDJSON, recorded and replayed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::config::{AudioProfile, RoomLimitsConfig};
use crate::limits::{Enforcement, Violation};
use crate::poller::PollStats;
use crate::pool::{PoolEvent, PoolStatus};
use crate::quality::QualityReport;
use crate::snapshot::{RoomChange, Snapshot};

/// One engine event with the time it happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineEvent {
    /// Unix milliseconds.
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Started {
        servers: Vec<String>,
        /// Set when the engine watches its own built-in sandbox.
        sandbox: Option<String>,
        /// The room limits in force at start (later changes arrive as `ConfigApplied` or a
        /// done `SetLimits` command).
        #[serde(default)]
        limits: RoomLimitsConfig,
        /// The audio profile written into rooms that have none of their own.
        #[serde(default)]
        audio_default: AudioProfile,
        /// Polling runs every this many milliseconds.
        #[serde(default)]
        poll_interval_ms: u64,
    },
    Pool {
        event: PoolEvent,
    },
    PoolStatus {
        status: PoolStatus,
    },
    Quality {
        server: String,
        report: QualityReport,
    },
    Snapshot {
        snapshot: Arc<Snapshot>,
        stats: PollStats,
    },
    RoomChanges {
        server: String,
        changes: Vec<RoomChange>,
    },
    PollFailed {
        server: String,
        error: String,
    },
    /// The limits exceeded in the latest snapshot, sent whenever that set changes.
    Violations {
        server: String,
        violations: Vec<Violation>,
    },
    Enforced {
        server: String,
        action: Enforcement,
        outcome: Outcome,
    },
    Command {
        id: u64,
        command: Command,
        outcome: Outcome,
    },
    ConfigApplied {
        source: String,
        /// The room limits now in force.
        #[serde(default)]
        limits: RoomLimitsConfig,
        /// Sections that changed but apply only when lktop restarts (`servers`,
        /// `connection_pool`, `metrics`): the running pools keep what they were built with.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        needs_restart: Vec<String>,
    },
    ConfigRejected {
        error: String,
    },
    /// Events lost because the consumer fell behind; snapshots and statuses that follow carry
    /// the full state again.
    EventsDropped {
        count: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Done { detail: String },
    Failed { reason: String },
}

impl Outcome {
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done { .. })
    }
}

/// What a user (or a script) asks the engine to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateRoom {
        server: String,
        room: String,
    },
    DeleteRoom {
        server: String,
        room: String,
    },
    /// Replaces the room limits (global values, overrides and mode); validated first.
    SetLimits {
        limits: RoomLimitsConfig,
    },
    /// Writes a profile into the room's metadata; `None` writes the default profile.
    ApplyAudioProfile {
        server: String,
        room: String,
        profile: Option<AudioProfile>,
    },
    RemoveParticipant {
        server: String,
        room: String,
        identity: String,
    },
    MuteTrack {
        server: String,
        room: String,
        identity: String,
        track_sid: String,
        muted: bool,
    },
    /// Reads the configuration file again.
    ReloadConfig,
    /// Makes every reconnecting or failed connection of the server try again now.
    RetryNow {
        server: String,
    },
    /// Stops or restarts room polling on every server (pool health checks and quality grading
    /// go on), e.g. to hold the room view still during an incident call.
    SetPolling {
        paused: bool,
    },
}

#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The sending side of the event stream, shared by every worker. It never waits: when the
/// consumer is behind, events are dropped and counted, and the count is reported once there
/// is room again.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: mpsc::Sender<EngineEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventBus {
    #[must_use]
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<EngineEvent>) {
        let (sender, receiver) = mpsc::channel(capacity.max(2));
        (
            Self {
                sender,
                dropped: Arc::new(AtomicU64::new(0)),
            },
            receiver,
        )
    }

    pub fn emit(&self, kind: EventKind) {
        let lost = self.dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            let report = EngineEvent {
                at_ms: now_ms(),
                kind: EventKind::EventsDropped { count: lost },
            };
            if self.sender.try_send(report).is_err() {
                self.dropped.fetch_add(lost, Ordering::Relaxed);
            }
        }
        let event = EngineEvent {
            at_ms: now_ms(),
            kind,
        };
        match self.sender.try_send(event) {
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_channel_drops_and_reports_the_loss_later() {
        let (bus, mut receiver) = EventBus::new(2);
        for _ in 0..5 {
            bus.emit(EventKind::ConfigApplied {
                source: "test".into(),
                limits: RoomLimitsConfig::default(),
                needs_restart: Vec::new(),
            });
        }
        assert_eq!(receiver.try_recv().map(|_| ()).ok(), Some(()));
        assert_eq!(receiver.try_recv().map(|_| ()).ok(), Some(()));
        assert!(receiver.try_recv().is_err());
        bus.emit(EventKind::ConfigRejected { error: "x".into() });
        let report = receiver.try_recv().unwrap();
        assert!(
            matches!(report.kind, EventKind::EventsDropped { count: 3 }),
            "{report:?}"
        );
    }

    #[test]
    fn events_serialize_as_tagged_json_lines() {
        let event = EngineEvent {
            at_ms: 5,
            kind: EventKind::Command {
                id: 1,
                command: Command::DeleteRoom {
                    server: "s".into(),
                    room: "r".into(),
                },
                outcome: Outcome::Failed {
                    reason: "not found".into(),
                },
            },
        };
        let line = serde_json::to_string(&event).unwrap();
        assert_eq!(
            line,
            r#"{"at_ms":5,"type":"command","id":1,"command":{"command":"delete_room","server":"s","room":"r"},"outcome":{"result":"failed","reason":"not found"}}"#
        );
        let back: EngineEvent = serde_json::from_str(&line).unwrap();
        assert!(matches!(back.kind, EventKind::Command { id: 1, .. }));
    }
}
