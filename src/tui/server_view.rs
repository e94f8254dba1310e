//! Everything the dashboard knows about one server: its state, pool status and connections,
//! quality, last snapshot and poll, violations, and the histories drawn as sparklines. Folded
//! in from the engine's events by [`App::absorb`](super::app::App::absorb).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::events::{CheckoutReport, ServerState};
use crate::limits::{LimitKind, Violation};
use crate::poller::PollStats;
use crate::pool::{ConnectionInfo, PoolEvent, PoolStatus};
use crate::quality::{Grade, LatencyRing, QualityReport, RequestTally};
use crate::reconnect::{ConnectionId, ConnectionState};
use crate::room_alerts::RoomAlert;
use crate::rooms_update::RoomsUpdate;
use crate::snapshot::Snapshot;

/// Samples kept per sparkline: one per pool status (every second), four minutes' worth, more
/// than the widest terminal draws.
pub(crate) const HISTORY_CAPACITY: usize = 240;
/// Room alerts shown under the violations: they are moments, not states, so only the latest
/// few stay (the event log has them all).
pub(crate) const RECENT_ALERTS: usize = 3;

/// One connection as the dashboard tracks it between pool statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionView {
    pub(crate) info: ConnectionInfo,
    /// Mean latency of the requests answered between two statuses; `None` where requests were
    /// made and none was answered (drawn as a gap, never as zero).
    pub history: LatencyRing,
    /// The reconnection attempt scheduled next, from the last state change.
    pub attempt: Option<u32>,
    /// When the next attempt is due (Unix ms), while reconnecting or failed.
    pub(crate) retry_at_ms: Option<i64>,
    /// Why it last changed state.
    pub(crate) cause: Option<String>,
}

impl ConnectionView {
    fn new(info: ConnectionInfo) -> Self {
        Self {
            info,
            history: LatencyRing::new(HISTORY_CAPACITY),
            attempt: None,
            retry_at_ms: None,
            cause: None,
        }
    }

    /// Seconds until the next reconnection attempt, counted from `now_ms`.
    #[must_use]
    pub fn retry_in(&self, now_ms: i64) -> Option<Duration> {
        let due = self.retry_at_ms?;
        Some(Duration::from_millis(
            u64::try_from(due.saturating_sub(now_ms)).unwrap_or(0),
        ))
    }
}

/// Closed connections remembered per server.
const CLOSED_KEPT: usize = 4;

/// A connection the pool closed, and why (`idle for 1m above pool_size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClosedConnection {
    pub(crate) id: ConnectionId,
    pub(crate) at_ms: i64,
    pub(crate) cause: String,
}

/// The server's state as the engine decided it, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateView {
    pub(crate) state: ServerState,
    /// When the state began (Unix ms).
    pub(crate) since_ms: i64,
    /// Why it is down or unauthenticated.
    pub(crate) cause: Option<String>,
}

/// A failed poll and how many followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PollError {
    pub(crate) error: String,
    /// When the first of the run failed (Unix ms).
    pub(crate) since_ms: i64,
    pub(crate) count: u64,
}

/// Everything known about one server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerView {
    pub name: String,
    /// From the engine's `ServerState` events; `None` until the first.
    pub(crate) state: Option<StateView>,
    pub(crate) status: Option<PoolStatus>,
    pub connections: BTreeMap<ConnectionId, ConnectionView>,
    pub(crate) quality: Option<QualityReport>,
    /// When the quality report was made (Unix ms).
    pub(crate) quality_at_ms: i64,
    /// lktop's own wait for pooled connections.
    pub(crate) checkout: CheckoutReport,
    /// The server's latency over time: the mean of the engine's answered requests per pool
    /// status (the requests the quality report grades), a gap where requests were made and
    /// none was answered.
    pub latency: LatencyRing,
    pub snapshot: Option<Arc<Snapshot>>,
    pub(crate) poll: Option<PollStats>,
    /// The polls failing since the last snapshot; cleared by the next snapshot.
    pub(crate) poll_error: Option<PollError>,
    /// Set while the polling budget cannot read every room within `max_staleness`.
    pub(crate) budget_short: Option<crate::read_plan::BudgetCoverage>,
    /// The server's webhooks so far, once one came.
    pub(crate) webhooks: Option<crate::webhooks::WebhookTotals>,
    /// The latest drift between webhooks and polling.
    pub(crate) last_drift: Option<crate::webhooks::Drift>,
    pub violations: Vec<Violation>,
    /// Which limits each room exceeds, for the rooms table's marker.
    pub violating_rooms: HashMap<String, Vec<LimitKind>>,
    /// The latest room alerts with when they came (Unix ms), newest last.
    pub(crate) alerts: VecDeque<(i64, RoomAlert)>,
    /// Set while the server rejects the credentials.
    pub(crate) unauthenticated: Option<String>,
    /// Connections the pool closed lately, newest first, with why.
    pub(crate) closed: VecDeque<ClosedConnection>,
    /// Room names of the snapshot in the rooms table's order (sorted and filtered), kept up
    /// to date by `update` so drawing builds only the visible rows.
    pub room_order: Vec<String>,
    /// The server's nodes: media plane and registry (issue: `metrics_url`, `redis_url`).
    pub nodes: crate::tui::nodes_view::NodesView,
    /// Its egress jobs, ingress endpoints and agent dispatches.
    pub jobs: crate::tui::jobs_view::JobsView,
    /// How its participants left, per room and in all.
    pub departures: crate::tui::departures::Departures,
    /// Its participants by kind, kept with the snapshot.
    pub participant_kinds: crate::tui::participant_kinds::ParticipantKinds,
}

impl ServerView {
    #[must_use]
    pub(crate) fn new(name: String) -> Self {
        Self {
            name,
            state: None,
            status: None,
            connections: BTreeMap::new(),
            quality: None,
            quality_at_ms: 0,
            checkout: CheckoutReport::default(),
            latency: LatencyRing::new(HISTORY_CAPACITY),
            snapshot: None,
            poll: None,
            poll_error: None,
            budget_short: None,
            webhooks: None,
            last_drift: None,
            violations: Vec::new(),
            violating_rooms: HashMap::new(),
            alerts: VecDeque::new(),
            unauthenticated: None,
            closed: VecDeque::new(),
            room_order: Vec::new(),
            nodes: crate::tui::nodes_view::NodesView::default(),
            jobs: crate::tui::jobs_view::JobsView::default(),
            departures: crate::tui::departures::Departures::default(),
            participant_kinds: crate::tui::participant_kinds::ParticipantKinds::default(),
        }
    }

    /// The engine's verdict (see [`ServerState`] for the rules); unknown before the first.
    #[must_use]
    pub(crate) fn health(&self) -> ServerHealth {
        match self.state.as_ref().map(|view| view.state) {
            None => ServerHealth::Unknown,
            Some(ServerState::Up) => ServerHealth::Up,
            Some(ServerState::Down) => ServerHealth::Down,
            Some(ServerState::Unauthenticated) => ServerHealth::Unauthenticated,
        }
    }

    /// Whether the server's figures are old: it is not up, or its last poll failed. They are
    /// then drawn as of [`ServerView::figures_at_ms`].
    #[must_use]
    pub fn is_stale(&self) -> bool {
        self.health() != ServerHealth::Up || self.poll_error.is_some()
    }

    /// When the room figures were read: the last snapshot's time.
    #[must_use]
    pub(crate) fn figures_at_ms(&self) -> Option<i64> {
        self.snapshot.as_ref().map(|snapshot| snapshot.taken_at_ms)
    }

    #[must_use]
    pub(crate) fn grade(&self) -> Option<Grade> {
        self.quality.as_ref().and_then(|report| report.grade)
    }

    /// Folds a pool status in: connection histories get one sample each, and the server one
    /// from the engine's requests since the previous status.
    pub(crate) fn absorb_status(&mut self, status: PoolStatus, requests: Option<RequestTally>) {
        let mut present = Vec::with_capacity(status.connections.len());
        for info in &status.connections {
            present.push(info.id);
            let view = self
                .connections
                .entry(info.id)
                .or_insert_with(|| ConnectionView::new(info.clone()));
            let previous = &view.info;
            let answered = info
                .answered_requests
                .saturating_sub(previous.answered_requests);
            let total = info.total_requests.saturating_sub(previous.total_requests);
            let spent = info
                .answered_latency_total
                .saturating_sub(previous.answered_latency_total);
            if answered > 0 {
                view.history
                    .push(Some(spent / u32::try_from(answered).unwrap_or(u32::MAX)));
            } else if total > 0 || info.state != ConnectionState::Connected {
                view.history.push(None);
            }
            // Idle and healthy: no sample at all, rather than an invented one.
            if info.state == ConnectionState::Connected {
                view.retry_at_ms = None;
                view.attempt = None;
            }
            view.info = info.clone();
        }
        self.connections.retain(|id, _| present.contains(id));
        if let Some(requests) = requests {
            match requests.mean() {
                Some(mean) => self.latency.push(Some(mean)),
                None if requests.failed > 0 => self.latency.push(None),
                None => {}
            }
        }
        self.unauthenticated.clone_from(&status.unauthenticated);
        self.status = Some(status);
    }

    /// Folds in a pool event: reconnection countdowns and authentication.
    pub(crate) fn absorb_pool_event(&mut self, event: &PoolEvent, at_ms: i64) {
        match event {
            PoolEvent::StateChanged { change, .. } => {
                if change.to == ConnectionState::Disconnected {
                    if self.closed.len() == CLOSED_KEPT {
                        self.closed.pop_back();
                    }
                    self.closed.push_front(ClosedConnection {
                        id: change.connection,
                        at_ms,
                        cause: change.cause.clone(),
                    });
                }
                if let Some(view) = self.connections.get_mut(&change.connection) {
                    view.info.state = change.to;
                    view.attempt = change.attempt;
                    view.retry_at_ms = change.next_retry_in.map(|delay| {
                        at_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
                    });
                    view.cause = Some(change.cause.clone());
                }
            }
            PoolEvent::Unauthenticated { reason, .. } => {
                self.unauthenticated = Some(reason.clone());
            }
            PoolEvent::Authenticated { .. } => self.unauthenticated = None,
            PoolEvent::Grew { .. } | PoolEvent::Shrank { .. } => {}
        }
    }

    /// A grading of the server, and lktop's own wait for its connections.
    pub(crate) fn absorb_quality(
        &mut self,
        report: QualityReport,
        checkout: CheckoutReport,
        at_ms: i64,
    ) {
        self.quality = Some(report);
        self.quality_at_ms = at_ms;
        self.checkout = checkout;
    }

    /// A poll's rooms, whole (from a recording made before rooms updates): the failed polls
    /// before it are over. The snapshot it replaces is dropped away from the event loop (it
    /// can be large).
    /// A whole snapshot from a recording made before `rooms` updates, when every poll read
    /// every room.
    pub(crate) fn absorb_snapshot(&mut self, snapshot: Arc<Snapshot>, stats: PollStats) {
        let snapshot = Arc::new(
            Arc::try_unwrap(snapshot)
                .unwrap_or_else(|shared| Snapshot::clone(&shared))
                .with_every_room_read(),
        );
        self.participant_kinds.recount(&snapshot);
        if let Some(replaced) = self.snapshot.replace(snapshot) {
            super::retire::retire(replaced);
        }
        self.poll = Some(stats);
        self.poll_error = None;
    }

    /// A poll's rooms as an update of those held: the failed polls before it are over. A full
    /// update replaces them (the old ones are dropped away from the event loop); another
    /// changes the held snapshot in place, unless a frozen view shares it, which then keeps
    /// its own copy.
    pub(crate) fn absorb_rooms(&mut self, update: RoomsUpdate, stats: PollStats) {
        match &mut self.snapshot {
            Some(held) if !update.full => {
                self.participant_kinds.apply(&update);
                Arc::make_mut(held).apply(update);
            }
            _ => {
                let fresh = Arc::new(Snapshot::from_update(update));
                self.participant_kinds.recount(&fresh);
                if let Some(replaced) = self.snapshot.replace(fresh) {
                    super::retire::retire(replaced);
                }
            }
        }
        self.poll = Some(stats);
        self.poll_error = None;
    }

    /// The rooms a webhook changed, applied to those held; `false` when none are held yet
    /// (the first poll brings them all).
    pub(crate) fn absorb_webhook_update(&mut self, update: RoomsUpdate) -> bool {
        match &mut self.snapshot {
            Some(held) => {
                self.participant_kinds.apply(&update);
                Arc::make_mut(held).apply(update);
                true
            }
            None => false,
        }
    }

    pub(crate) fn absorb_drift(&mut self, drift: crate::webhooks::Drift) {
        self.webhooks = Some(drift.totals);
        self.last_drift = Some(drift);
    }

    /// A failed poll: the first of a run, or one more of it with the latest error.
    pub(crate) fn absorb_poll_failure(&mut self, error: String, at_ms: i64) {
        match &mut self.poll_error {
            Some(run) => {
                run.count += 1;
                run.error = error;
            }
            None => {
                self.poll_error = Some(PollError {
                    error,
                    since_ms: at_ms,
                    count: 1,
                });
            }
        }
    }

    pub(crate) fn set_violations(&mut self, violations: Vec<Violation>) {
        self.violating_rooms.clear();
        for violation in &violations {
            if let Some(room) = &violation.room {
                self.violating_rooms
                    .entry(room.clone())
                    .or_default()
                    .push(violation.kind);
            }
        }
        self.violations = violations;
    }

    pub(crate) fn note_alert(&mut self, alert: RoomAlert, at_ms: i64) {
        if self.alerts.len() == RECENT_ALERTS {
            self.alerts.pop_front();
        }
        self.alerts.push_back((at_ms, alert));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerHealth {
    /// No poll has decided yet.
    Unknown,
    Up,
    Down,
    Unauthenticated,
}

impl ServerHealth {
    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Unknown => "starting",
            Self::Up => "up",
            Self::Down => "down",
            Self::Unauthenticated => "unauthenticated",
        }
    }
}
