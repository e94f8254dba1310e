//! One server's worker: polls rooms, grades quality, evaluates and enforces limits, and turns
//! pool events into engine events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::api::MeasuredRoomService;
use super::budget_watch::BudgetWatch;
use super::drift::DriftTracker;
use super::enforcement::{EnforcementTracker, Verdict};
use super::server_state::{Observation, StateTracker};
use crate::api::RoomApi;
use crate::config::Config;
use crate::events::{EventBus, EventKind, Outcome, ServerState, now_ms};
use crate::history::RoomLives;
use crate::lifecycle::RoomLifecycles;
use crate::limits::{self, Enforcement, Violation};
use crate::metrics::PoolFigures;
use crate::poller::RoomsPoller;
use crate::pool::PoolEvent;
use crate::quality::{ScoreModel, WindowStats};
use crate::read_plan::ReadPolicy;
use crate::room_alerts::RoomAlerts;
use crate::rooms_update::RoomsUpdate;
use crate::snapshot::Snapshot;
use crate::webhooks::{Admission, Arrival, Drift, Ledger, WebhookNote, WebhookTotals};

/// The pool's status goes out this often besides every grading, so a dashboard shows checkouts,
/// growth and reconnections as they happen rather than every `monitoring_interval`.
const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// The latest snapshot of a server, shared with the command runner (room counts for
/// `max_concurrent_rooms`).
pub(crate) type LatestSnapshot = Arc<Mutex<Option<Arc<Snapshot>>>>;

pub(crate) struct ServerWorker {
    pub(crate) api: MeasuredRoomService,
    pub(crate) pool_events: mpsc::Receiver<PoolEvent>,
    pub(crate) settings: watch::Receiver<Arc<Config>>,
    pub(crate) polling_paused: watch::Receiver<bool>,
    /// The room open on screen, whose participants each poll reads while the budget allows.
    pub(crate) focused_room: watch::Receiver<Option<String>>,
    /// The server's webhooks, when the engine takes them.
    pub(crate) webhooks: Option<mpsc::Receiver<Arrival>>,
    pub(crate) bus: EventBus,
    pub(crate) latest: LatestSnapshot,
    pub(crate) shutdown: CancellationToken,
}

impl ServerWorker {
    /// Polling and watching run side by side: a poll waits on the server (up to the request
    /// timeout when it is down), and meanwhile connection changes, the pool's status and the
    /// grade must still go out as they happen.
    pub(crate) async fn run(self) {
        let state = Mutex::new(StateTracker::default());
        let worker = WorkerRef {
            api: &self.api,
            bus: &self.bus,
            latest: &self.latest,
            settings: &self.settings,
            focused_room: &self.focused_room,
            state: &state,
        };
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            () = worker.poll_loop(
                self.settings.clone(),
                self.polling_paused.clone(),
                self.webhooks,
            ) => {}
            () = worker.watch_loop(
                self.settings.clone(),
                self.pool_events,
                self.polling_paused.clone(),
            ) => {}
        }
    }
}

/// What both of a server's loops share.
#[derive(Clone, Copy)]
struct WorkerRef<'a> {
    api: &'a MeasuredRoomService,
    bus: &'a EventBus,
    latest: &'a LatestSnapshot,
    settings: &'a watch::Receiver<Arc<Config>>,
    focused_room: &'a watch::Receiver<Option<String>>,
    state: &'a Mutex<StateTracker>,
}

impl WorkerRef<'_> {
    /// Polls every `polling.interval` unless polling is paused; returns when the settings
    /// are gone (the engine stopped).
    /// Webhooks are taken as they come, also while a poll waits on the server.
    async fn poll_loop(
        self,
        mut settings: watch::Receiver<Arc<Config>>,
        polling_paused: watch::Receiver<bool>,
        mut webhooks: Option<mpsc::Receiver<Arrival>>,
    ) {
        let mut poll_every = settings.borrow().polling.interval.get();
        let mut poll_tick = ticker(poll_every);
        let mut poller =
            RoomsPoller::new(self.api.server.clone(), self.api.pool.status().max.max(1));
        let mut memory = PollMemory {
            drift: webhooks.is_some().then(DriftTracker::default),
            ..PollMemory::default()
        };
        loop {
            tokio::select! {
                _ = poll_tick.tick() => {
                    if !*polling_paused.borrow() {
                        self.poll(&mut poller, &mut memory, webhooks.as_mut()).await;
                    }
                }
                Some(arrival) = next_webhook(webhooks.as_mut()) => {
                    self.take_webhook(&mut poller, &mut memory, arrival);
                }
                changed = settings.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let every = settings.borrow_and_update().polling.interval.get();
                    if every != poll_every {
                        poll_every = every;
                        poll_tick = ticker(poll_every);
                    }
                }
            }
        }
    }

    /// Forwards the pool's events, sends its status every second and grades quality every
    /// `monitoring_interval`.
    async fn watch_loop(
        self,
        mut settings: watch::Receiver<Arc<Config>>,
        mut pool_events: mpsc::Receiver<PoolEvent>,
        polling_paused: watch::Receiver<bool>,
    ) {
        let mut grade_every = settings
            .borrow()
            .quality_monitoring
            .monitoring_interval
            .get();
        let mut grade_tick = ticker(grade_every);
        let mut status_tick = ticker(STATUS_INTERVAL);
        loop {
            tokio::select! {
                _ = grade_tick.tick() => self.grade(),
                _ = status_tick.tick() => {
                    let status = self.api.pool.status();
                    if *polling_paused.borrow()
                        && let Some(observation) = Observation::of_pool(&status)
                    {
                        self.observe(observation);
                    }
                    let requests = self
                        .api
                        .quality
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take_tally();
                    self.bus.emit(EventKind::PoolStatus { status, requests: Some(requests) });
                }
                Some(event) = pool_events.recv() => {
                    self.bus.emit(EventKind::Pool { event });
                }
                changed = settings.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let settings = Arc::clone(&settings.borrow_and_update());
                    self.api
                        .quality
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .set_config(settings.quality_monitoring);
                    if settings.quality_monitoring.monitoring_interval.get() != grade_every {
                        grade_every = settings.quality_monitoring.monitoring_interval.get();
                        grade_tick = ticker(grade_every);
                    }
                }
            }
        }
    }

    /// Folds an observation into the server's state; a change is announced, and a server
    /// that came back is graded at once rather than at the next monitoring tick.
    fn observe(self, observation: Observation) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(event) = state.observe(&self.api.server, observation, now_ms()) {
            let up = state.state() == Some(ServerState::Up);
            drop(state);
            self.bus.emit(event);
            if up {
                self.grade();
            }
        }
    }

    async fn poll(
        self,
        poller: &mut RoomsPoller,
        memory: &mut PollMemory,
        mut webhooks: Option<&mut mpsc::Receiver<Arrival>>,
    ) {
        let server = self.api.server.clone();
        let settings = Arc::clone(&self.settings.borrow());
        let focused = self.focused_room.borrow().clone();
        let policy = ReadPolicy {
            reads: settings.polling.reads_per_interval(),
            focused: focused.as_deref(),
            limits: &settings.room_limits,
        };
        let taken_at = now_ms();
        let read = poller.reader().read(self.api, &policy);
        tokio::pin!(read);
        let readings = loop {
            tokio::select! {
                readings = &mut read => break readings,
                Some(arrival) = next_webhook(webhooks.as_deref_mut()) => {
                    self.take_webhook(poller, memory, arrival);
                }
            }
        };
        let poll = match readings.map(|readings| poller.finish(readings, taken_at)) {
            Ok(poll) => poll,
            Err(err) => {
                // The state change first: a consumer reading the failure knows the server is
                // down (the log then says so once, not once per failed poll).
                if let Some(observation) = Observation::of_error(&err) {
                    self.observe(observation);
                }
                self.bus.emit(EventKind::PollFailed {
                    server,
                    error: err.to_string(),
                });
                return;
            }
        };
        self.observe(Observation::Answered);
        let snapshot = poll.snapshot;
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&snapshot));
        self.report_drift(memory, &poll.changes, &snapshot, taken_at, &settings);
        for room in memory.lives.observe_poll(&snapshot, &poll.update) {
            self.bus.emit(EventKind::RoomFinished {
                server: server.clone(),
                room,
            });
        }
        if !poll.changes.is_empty() {
            self.bus.emit(EventKind::RoomChanges {
                server: server.clone(),
                changes: poll.changes,
            });
        }
        // Events were dropped since the last update: a consumer may have missed one, so this
        // one carries every room.
        let gaps = self.bus.gaps();
        let update = if memory.gaps_seen == gaps {
            poll.update
        } else {
            RoomsUpdate::full(&snapshot)
        };
        memory.gaps_seen = gaps;
        if let Some(event) = memory
            .budget
            .check(&server, snapshot.rooms.len(), &settings.polling)
        {
            self.bus.emit(event);
        }
        self.bus.emit(EventKind::Rooms {
            update,
            stats: poll.stats,
        });

        let room_limits = &settings.room_limits;
        for alert in memory.alerts.observe(&snapshot, &room_limits.alerts) {
            self.bus.emit(EventKind::RoomAlert {
                server: server.clone(),
                alert,
            });
        }
        memory.lifecycles.observe(&snapshot);
        let mut violations = limits::evaluate(&snapshot, room_limits);
        violations.extend(memory.lifecycles.violations(&snapshot, room_limits));
        if let Some(metrics) = &self.api.metrics {
            metrics.set_rooms(&server, &snapshot);
            metrics.set_violations(&server, &violations);
        }
        if !memory
            .violations
            .as_ref()
            .is_some_and(|before| limits::same_news(before, &violations))
        {
            self.bus.emit(EventKind::Violations {
                server: server.clone(),
                violations: violations.clone(),
            });
            memory.violations = Some(violations);
        }

        self.enforce_limits(memory, &snapshot, room_limits).await;
    }

    /// Feeds what a poll found to the drift tracker and reports the disagreements that lasted
    /// longer than `webhooks.drift_after`.
    fn report_drift(
        self,
        memory: &mut PollMemory,
        changes: &[crate::snapshot::RoomChange],
        snapshot: &Snapshot,
        taken_at: i64,
        settings: &Config,
    ) {
        let Some(drift) = &mut memory.drift else {
            return;
        };
        drift.polled(changes, taken_at);
        drift.confirm(snapshot);
        let after = settings.webhooks.drift_after(&settings.polling);
        for lasted in drift.lasted(now_ms(), after) {
            memory.webhook_totals.drift += 1;
            if let Some(metrics) = &self.api.metrics {
                metrics.count_webhook(&self.api.server, "drift");
            }
            self.bus.emit(EventKind::WebhookDrift {
                server: self.api.server.clone(),
                drift: Drift {
                    room: lasted.room,
                    identity: lasted.identity,
                    kind: lasted.kind,
                    for_ms: lasted.for_ms,
                    totals: memory.webhook_totals,
                },
            });
        }
    }

    /// Carries out what `enforce` mode plans for the lists this poll read, and the rooms
    /// `lifecycle.enforcement: enforce` deletes.
    async fn enforce_limits(
        self,
        memory: &mut PollMemory,
        snapshot: &Snapshot,
        room_limits: &crate::config::RoomLimitsConfig,
    ) {
        let server = &self.api.server;
        let mut actions = limits::plan(snapshot, room_limits);
        actions.extend(memory.lifecycles.plan(snapshot, room_limits));
        for action in actions {
            let now = tokio::time::Instant::now();
            match memory.enforcement.decide(&action, now) {
                Verdict::Wait => continue,
                Verdict::Hold { until, removals } => {
                    let until_ms = now_ms().saturating_add(
                        i64::try_from(until.duration_since(now).as_millis()).unwrap_or(i64::MAX),
                    );
                    self.bus.emit(EventKind::EnforcementHeld {
                        server: server.clone(),
                        action,
                        removals,
                        until_ms,
                    });
                    continue;
                }
                Verdict::Act => {}
            }
            let outcome = self.enforce(&action).await;
            memory
                .enforcement
                .record(&action, outcome.is_done(), tokio::time::Instant::now());
            self.bus.emit(EventKind::Enforced {
                server: server.clone(),
                action,
                outcome,
            });
        }
    }

    /// A webhook from this server: dropped when its id was taken or something newer about
    /// the same thing was, else applied to the rooms held at once and sent on with the rooms
    /// it changed.
    fn take_webhook(self, poller: &mut RoomsPoller, memory: &mut PollMemory, arrival: Arrival) {
        let server = &self.api.server;
        let event = arrival.event;
        let counted = match memory.ledger.admit(&event) {
            Admission::Duplicate => {
                memory.webhook_totals.duplicates += 1;
                "duplicate"
            }
            Admission::Stale => {
                memory.webhook_totals.out_of_order += 1;
                "out_of_order"
            }
            Admission::Apply => {
                memory.webhook_totals.taken += 1;
                "taken"
            }
        };
        if let Some(metrics) = &self.api.metrics {
            metrics.count_webhook(server, counted);
        }
        if counted != "taken" {
            return;
        }
        let change = poller.apply_webhook(&event);
        if let Some(drift) = &mut memory.drift {
            drift.webhook(&event, change.is_some());
        }
        let finished = memory.lives.observe_webhook(&event, arrival.received_at_ms);
        self.bus.emit(EventKind::Webhook {
            server: server.clone(),
            webhook: WebhookNote::of(&event, arrival.received_at_ms, memory.webhook_totals),
            update: change.map(|change| change.update),
        });
        if let Some(room) = finished {
            self.bus.emit(EventKind::RoomFinished {
                server: server.clone(),
                room,
            });
        }
    }

    async fn enforce(self, action: &Enforcement) -> Outcome {
        let (label, result) = match action {
            Enforcement::MuteTrack {
                room,
                identity,
                track_sid,
                ..
            } => (
                "mute_track",
                self.api
                    .mute_published_track(room, identity, track_sid, true)
                    .await
                    .map(|_| format!("muted {track_sid} of {identity} in {room}")),
            ),
            Enforcement::RemoveParticipant { room, identity, .. } => (
                "remove_participant",
                self.api
                    .remove_participant(room, identity)
                    .await
                    .map(|()| format!("removed {identity} from {room}")),
            ),
            Enforcement::DeleteRoom { room, sid, .. } => (
                "delete_room",
                self.api
                    .delete_room(room)
                    .await
                    .map(|()| format!("deleted {room} ({sid})")),
            ),
        };
        match result {
            Ok(detail) => {
                if let Some(metrics) = &self.api.metrics {
                    metrics.count_enforcement(&self.api.server, label);
                }
                Outcome::Done { detail }
            }
            Err(err) => Outcome::Failed {
                reason: err.to_string(),
            },
        }
    }

    /// The monitoring tick: the server's quality report, each connection's score, the pool.
    fn grade(self) {
        let report = self
            .api
            .quality
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .evaluate(Instant::now());
        let status = self.api.pool.status();
        for connection in &status.connections {
            let _ = self
                .api
                .pool
                .set_quality_score(connection.id, connection_score(connection));
        }
        if let Some(metrics) = &self.api.metrics {
            let server = &self.api.server;
            metrics.set_quality(
                server,
                report.success_rate,
                report.score.map(crate::quality::QualityScore::value),
            );
            metrics.set_pool(
                server,
                PoolFigures {
                    total: status.total as u64,
                    in_use: status.in_use as u64,
                    healthy: status.healthy as u64,
                    failed: status.failed as u64,
                    waiters: status.waiters as u64,
                    max: status.max as u64,
                },
            );
            let mut per_state: HashMap<&str, u64> = HashMap::new();
            for connection in &status.connections {
                *per_state.entry(connection.state.as_str()).or_default() += 1;
            }
            let counted: Vec<(&str, u64)> = per_state.into_iter().collect();
            metrics.set_connection_states(server, &counted);
            metrics.track_reconnect_deferrals(self.api.pool.reconnect_budget().deferred());
        }
        self.bus.emit(EventKind::Quality {
            server: self.api.server.clone(),
            report,
            checkout: self.api.checkout_report(),
        });
    }
}

/// What a server's worker remembers from one poll to the next.
#[derive(Debug, Default)]
struct PollMemory {
    /// The event bus's gap count when the last rooms update went out.
    gaps_seen: u64,
    violations: Option<Vec<Violation>>,
    enforcement: EnforcementTracker,
    budget: BudgetWatch,
    /// Which webhooks were taken, for duplicates and order.
    ledger: Ledger,
    webhook_totals: WebhookTotals,
    /// Set when the engine takes webhooks: where they and polling disagree.
    drift: Option<DriftTracker>,
    /// Each live room's life, summed up when it finishes.
    lives: RoomLives,
    /// Since when each room has been solo or empty, for the lifecycle rules.
    lifecycles: RoomLifecycles,
    /// The previous poll's rooms, for recreated rooms and collapsed counts.
    alerts: RoomAlerts,
}

/// The next webhook, or never when the engine takes none.
async fn next_webhook(webhooks: Option<&mut mpsc::Receiver<Arrival>>) -> Option<Arrival> {
    match webhooks {
        Some(webhooks) => webhooks.recv().await,
        None => std::future::pending().await,
    }
}

/// A connection's own score, by the same model as the server's, from what the pool records
/// about it: its answered and failed requests, with its average latency standing in for p95
/// (the pool keeps no per-connection percentiles or jitter). Coarser than the server's windowed
/// score, which sees every request.
fn connection_score(connection: &crate::pool::ConnectionInfo) -> Option<f64> {
    let stats = WindowStats {
        successes: connection
            .total_requests
            .saturating_sub(connection.failed_requests),
        failures: connection.failed_requests,
        p50: connection.average_latency,
        p95: connection.average_latency,
        p99: connection.average_latency,
        mean: connection.average_latency,
        std_dev: None,
        jitter: None,
    };
    ScoreModel::default()
        .raw_score(&stats)
        .map(crate::quality::QualityScore::value)
}

fn ticker(every: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval(every);
    // A slow poll is followed by the next one after a full interval, not by a burst.
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}
