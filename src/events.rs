//! What the engine tells its consumers (the dashboard, `lktop watch`, recordings) and what they
//! ask of it. Both are serde types: the same stream is printed as NDJSON, recorded and replayed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::config::{AudioProfile, KeyList, MediaLimitsConfig, QualityConfig, RoomLimitsConfig};
use crate::history::FinishedRoom;
use crate::jobs::{DispatchSummary, EgressSummary, IngressSummary, JobsService, JobsUpdate};
use crate::limits::{Enforcement, Violation};
use crate::nodes::{
    CountDrift, MediaViolation, NodeChange, NodeHealth, NodeSource, SourceState, SourceStatus,
};
use crate::poller::PollStats;
use crate::pool::{PoolEvent, PoolStatus};
use crate::quality::{QualityReport, RequestTally};
use crate::read_plan::BudgetCoverage;
use crate::room_alerts::RoomAlert;
use crate::rooms_update::RoomsUpdate;
use crate::snapshot::{RoomChange, Snapshot};
use crate::webhooks::{Drift, WebhookNote};

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
        /// Where the engine takes webhooks, when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        webhooks: Option<String>,
        /// Per server, the node sources configured (`metrics_url`, `redis_url`); a server
        /// left out has neither.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        node_sources: BTreeMap<String, Vec<NodeSource>>,
        /// The settings in force at start; later changes arrive as `ConfigApplied` or a done
        /// `SetLimits` command.
        #[serde(flatten)]
        settings: LiveSettings,
    },
    /// A server's state changed, by the rules in [`ServerState`].
    ServerState {
        server: String,
        state: ServerState,
        /// Why it is down or unauthenticated: the error the deciding request got.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
        /// When it comes back after being down or unauthenticated: for how long it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        down_for_ms: Option<u64>,
    },
    Pool {
        event: PoolEvent,
    },
    PoolStatus {
        status: PoolStatus,
        /// The engine's requests to the server since the previous status: the source of the
        /// server's latency sparkline (the same requests its quality report grades).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requests: Option<RequestTally>,
    },
    Quality {
        server: String,
        report: QualityReport,
        /// lktop's own share of the requests' time: waiting for a pooled connection. Kept out
        /// of the server's report, which grades only the server.
        #[serde(default)]
        checkout: CheckoutReport,
    },
    /// A poll's rooms, as the change from the previous poll (see [`RoomsUpdate`]). Sent at
    /// every poll, changed or not: its time says how fresh the rooms are.
    Rooms {
        #[serde(flatten)]
        update: RoomsUpdate,
        stats: PollStats,
    },
    /// A poll's rooms whole: what engines before `rooms` updates sent at every poll. Kept so
    /// older recordings replay; read as a full update.
    Snapshot {
        snapshot: Arc<Snapshot>,
        stats: PollStats,
    },
    /// Whether the polling budget reads every room's participants within
    /// `polling.max_staleness`. Sent when that changes (first only when it does not) and when
    /// the rate that would suffice moved by a quarter or more.
    PollBudget {
        server: String,
        #[serde(flatten)]
        coverage: BudgetCoverage,
    },
    /// A webhook taken from a server, with the rooms it changed (as an update of those held,
    /// like a poll's) when it changed any.
    Webhook {
        server: String,
        webhook: WebhookNote,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        update: Option<RoomsUpdate>,
    },
    /// A room finished (a `room_finished` webhook, or gone from ListRooms), summed up for the
    /// room history.
    RoomFinished {
        server: String,
        #[serde(flatten)]
        room: FinishedRoom,
    },
    /// Webhooks and polling disagreed for longer than `webhooks.drift_after`.
    WebhookDrift {
        server: String,
        #[serde(flatten)]
        drift: Drift,
    },
    /// The webhook listener refused a webhook for a cause it had not refused one for before;
    /// later ones of the same cause are only counted.
    WebhookRefused {
        cause: String,
        status: u16,
        reason: String,
    },
    RoomChanges {
        server: String,
        changes: Vec<RoomChange>,
    },
    /// A read of the server's egress jobs (running ones every polling interval, a room's
    /// when it is opened): the jobs new or changed, those forgotten (ended for
    /// longer than lktop keeps them), and each state move for the log.
    Egress {
        server: String,
        #[serde(flatten)]
        update: JobsUpdate<EgressSummary>,
    },
    /// A read of the server's ingress endpoints (every `polling.jobs_interval`, a room's when
    /// it is opened), as a change like `egress`.
    Ingress {
        server: String,
        #[serde(flatten)]
        update: JobsUpdate<IngressSummary>,
    },
    /// One room's agent dispatches, whole, when they changed.
    AgentDispatches {
        server: String,
        room: String,
        dispatches: Vec<DispatchSummary>,
    },
    /// The key may not read a service (`allowed` false, once, with the server's words), or
    /// may again.
    JobsAccess {
        server: String,
        service: JobsService,
        allowed: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// One reading of a server's nodes (every `metrics_interval`): each node's media plane
    /// and registry figures, and how each source fared.
    NodeHealth {
        server: String,
        nodes: Vec<NodeHealth>,
        sources: Vec<SourceStatus>,
    },
    /// A node source (a metrics endpoint, the Redis registry) went down, was refused or came
    /// back, by the same rules as [`ServerState`].
    NodeSourceState {
        server: String,
        source: NodeSource,
        /// The endpoint, any password masked.
        target: String,
        state: SourceState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        down_for_ms: Option<u64>,
    },
    /// A node appeared, left, changed state (`SHUTTING_DOWN`: draining) or went stale.
    NodeChanged {
        server: String,
        node_id: String,
        #[serde(flatten)]
        change: NodeChange,
    },
    /// The media limits the server's nodes are past, sent whenever that set changes.
    MediaViolations {
        server: String,
        violations: Vec<MediaViolation>,
    },
    /// The API's room and participant counts and the nodes' own disagreed for
    /// `count_drift_after` (`Some`), or agree again (`None`).
    NodeCountDrift {
        server: String,
        drift: Option<CountDrift>,
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
    /// Something about a room lktop reports and never acts on (`room_limits.alerts`): a room
    /// recreated under the same name, a participant count that collapsed.
    RoomAlert {
        server: String,
        #[serde(flatten)]
        alert: RoomAlert,
    },
    Enforced {
        server: String,
        action: Enforcement,
        outcome: Outcome,
    },
    /// A participant lktop removed came back; it is removed again only after this hold, which
    /// doubles with each removal.
    EnforcementHeld {
        server: String,
        action: Enforcement,
        /// Removals of this participant from this room so far.
        removals: u32,
        until_ms: i64,
    },
    Command {
        id: u64,
        command: Command,
        outcome: Outcome,
    },
    ConfigApplied {
        source: String,
        /// Every setting that applies without a restart, as now in force.
        #[serde(flatten)]
        settings: LiveSettings,
        /// What the reload changed, one `key: old → new` each (secrets masked).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changes: Vec<String>,
        /// Set when room limits changed in the dashboard (`SetLimits`) were replaced by
        /// limits the file changed; otherwise the dashboard's limits stay in force.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limits_replaced: Option<ReplacedLimits>,
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
    /// Recording to a file stopped before the end (a full disk, a removed directory); the
    /// session goes on. The recording holds every event before this one.
    RecordingStopped {
        path: String,
        events: u64,
        reason: String,
    },
    /// A fault in the built-in sandbox began or ended: a demo key, the demo scenario's
    /// schedule, or the sandbox's admin endpoint.
    SandboxFault {
        /// The sandbox's number for the fault; its `began` and `ended` share it.
        id: u64,
        origin: FaultOrigin,
        phase: FaultPhase,
        /// What the fault does, e.g. "latency +300 ms (jitter 200 ms) for 20 s".
        description: String,
        /// How it ended, or why it was refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

/// Room limits set in the dashboard that a reload replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplacedLimits {
    /// When they were set (Unix ms).
    pub set_at_ms: i64,
    pub limits: RoomLimitsConfig,
}

/// The settings a configuration reload applies without a restart, as consumers need them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSettings {
    #[serde(default)]
    pub limits: RoomLimitsConfig,
    /// The audio profile written into rooms that have none of their own.
    #[serde(default)]
    pub audio_default: AudioProfile,
    /// Polling runs every this many milliseconds.
    #[serde(default)]
    pub poll_interval_ms: u64,
    /// `polling.max_requests_per_second`: 0 reads every room every poll.
    #[serde(default)]
    pub poll_budget_per_second: u32,
    /// `history.max_rooms`: finished rooms the dashboard keeps.
    #[serde(default = "default_history_rooms")]
    pub history_max_rooms: u32,
    #[serde(default)]
    pub quality: QualityConfig,
    /// `media_limits`: what each node is checked against.
    #[serde(default)]
    pub media_limits: MediaLimitsConfig,
    /// The dashboard's key bindings (`keys:`), as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, KeyList>,
}

impl LiveSettings {
    #[must_use]
    pub(crate) fn of(config: &crate::config::Config) -> Self {
        Self {
            limits: config.room_limits.clone(),
            audio_default: config.audio_optimization,
            poll_interval_ms: u64::try_from(config.polling.interval.get().as_millis())
                .unwrap_or(u64::MAX),
            poll_budget_per_second: config.polling.max_requests_per_second,
            history_max_rooms: config.history.max_rooms,
            quality: config.quality_monitoring,
            media_limits: config.media_limits,
            keys: config.keys.clone(),
        }
    }
}

fn default_history_rooms() -> u32 {
    crate::config::HistoryConfig::default().max_rooms
}

/// Whether a server answers, by these rules (the same for every consumer):
/// - `Up` from the first poll that gets an answer from the server, even a Twirp error or a
///   200 that does not decode: something answers there (its figures are still stale while
///   polls fail, see `PollFailed`);
/// - `Down` from the first poll that gets no answer: refused, reset, timed out, unreachable,
///   no usable connection in the pool, or a non-Twirp error page from a proxy in front of it
///   (a poll that waited out `connection_timeout` for lktop's own busy pool was never sent:
///   it leaves the state as it was);
/// - `Unauthenticated` from the first request the server refuses for the credentials.
///
/// While polling is paused the pool's health checks decide instead: `Up` when a connection is
/// connected, `Down` when every connection is reconnecting or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    Up,
    Down,
    Unauthenticated,
}

impl ServerState {
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}

impl std::fmt::Display for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Waiting for a pooled connection over the quality window: lktop's own cost, not the
/// server's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckoutReport {
    /// Checkouts in the window.
    pub checkouts: u64,
    /// Checkouts that waited past `connection_timeout` for a free connection.
    pub timeouts: u64,
    #[serde(rename = "wait_p50_ms", with = "crate::serde_time::opt_millis")]
    pub wait_p50: Option<Duration>,
    #[serde(rename = "wait_p95_ms", with = "crate::serde_time::opt_millis")]
    pub wait_p95: Option<Duration>,
}

/// Who started a sandbox fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultOrigin {
    /// A demo key in the dashboard.
    Key,
    /// The sandbox's scenario schedule.
    Scheduled,
    /// The sandbox's admin endpoint or its Rust API.
    Api,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultPhase {
    Began,
    Ended,
    Refused,
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
    /// Stops a running egress job (recording or stream).
    StopEgress {
        server: String,
        egress_id: String,
    },
    /// Sends the agent registered as `agent_name` into the room, with `metadata` for its job.
    CreateDispatch {
        server: String,
        room: String,
        agent_name: String,
        #[serde(default)]
        metadata: String,
    },
    DeleteDispatch {
        server: String,
        room: String,
        dispatch_id: String,
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

pub use crate::serde_time::now_ms;

/// The sending side of the event stream, shared by every worker. It never waits: when the
/// consumer is behind, events are dropped and counted, and the count is reported once there
/// is room again.
#[derive(Debug, Clone)]
pub(crate) struct EventBus {
    sender: mpsc::Sender<EngineEvent>,
    dropped: Arc<AtomicU64>,
    /// How many times events were dropped so far: a server worker that sees it grow sends its
    /// next rooms update full, since consumers may have missed one.
    gaps: Arc<AtomicU64>,
}

impl EventBus {
    #[must_use]
    pub(crate) fn new(capacity: usize) -> (Self, mpsc::Receiver<EngineEvent>) {
        let (sender, receiver) = mpsc::channel(capacity.max(2));
        (
            Self {
                sender,
                dropped: Arc::new(AtomicU64::new(0)),
                gaps: Arc::new(AtomicU64::new(0)),
            },
            receiver,
        )
    }

    pub(crate) fn emit(&self, kind: EventKind) {
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
                self.gaps.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Grows each time an event is dropped.
    pub(crate) fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::Relaxed)
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
                settings: LiveSettings::default(),
                changes: Vec::new(),
                limits_replaced: None,
                needs_restart: Vec::new(),
            });
        }
        assert_eq!(bus.gaps(), 3, "every drop is a gap");
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
