//! The worker that follows what one server's rooms hand to LiveKit's other services: egress
//! jobs (recordings, streams), ingress endpoints and agent dispatches.
//!
//! Its reads are few and do not grow with the rooms where the API allows: active egress is
//! one `ListEgress(active)` per polling interval for every room at once, and a job that leaves
//! that list is looked up once by id to learn how it ended; the ingress list is one call per
//! `jobs_interval`. Agent dispatches can only be listed per room, so each `jobs_interval` reads
//! those of at most a second's worth of the polling budget's rooms (never read first, then the
//! stalest); the room open on screen is read whole when it opens, and its ingress and
//! dispatches at every polling interval while it stays open. A service the key
//! may not read is said once (`jobs_access`) and tried again every few minutes, not at every
//! interval.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::server::LatestSnapshot;
use crate::api::{ApiError, ApiErrorKind, EgressQuery, JobsApi};
use crate::config::Config;
use crate::events::{EventBus, EventKind, now_ms};
use crate::jobs::{
    DispatchSummary, EgressStatus, EgressSummary, IngressSummary, JobBook, JobCounts, JobsService,
    JobsUpdate, Tracked,
};
use crate::metrics::Metrics;

/// How long a finished or failed job stays listed after it ended: long enough for an operator
/// called about a failed recording to still find it on screen.
pub(crate) const KEEP_ENDED: Duration = Duration::from_secs(15 * 60);
/// How often a service the key may not read is tried again.
const DENIED_RETRY: Duration = Duration::from_secs(5 * 60);
/// How long a paused watcher sleeps when nothing wakes it.
const PAUSED_WAKE: Duration = Duration::from_secs(3600);
/// Jobs that left the active list looked up by id in one read; the rest wait for the next.
const LOOKUPS_PER_READ: usize = 20;

pub(crate) struct JobsWatcher<A> {
    pub(crate) server: String,
    pub(crate) api: A,
    pub(crate) settings: watch::Receiver<Arc<Config>>,
    pub(crate) polling_paused: watch::Receiver<bool>,
    /// The rooms, from the server worker's latest poll: where dispatches are read.
    pub(crate) latest: LatestSnapshot,
    pub(crate) focused_room: watch::Receiver<Option<String>>,
    /// Rung by a command that changed a job (stopped an egress, created a dispatch): read now.
    pub(crate) refresh: Arc<Notify>,
    pub(crate) bus: EventBus,
    pub(crate) metrics: Option<Metrics>,
    pub(crate) shutdown: CancellationToken,
}

/// What the watcher holds between reads.
struct Memory {
    egress: JobBook<EgressSummary>,
    ingress: JobBook<IngressSummary>,
    /// Per room: its dispatches as last read, and when (Unix ms).
    dispatches: HashMap<String, (Vec<DispatchSummary>, i64)>,
    /// Per service the key may not read: when to try again.
    denied: HashMap<JobsService, Instant>,
    /// `EventBus::gaps` when each book last went out whole.
    egress_gaps: Option<u64>,
    ingress_gaps: Option<u64>,
}

impl<A: JobsApi> JobsWatcher<A> {
    pub(crate) async fn run(mut self) {
        let keep_ended_ms = i64::try_from(KEEP_ENDED.as_millis()).unwrap_or(i64::MAX);
        let mut memory = Memory {
            egress: JobBook::new(keep_ended_ms),
            ingress: JobBook::new(keep_ended_ms),
            dispatches: HashMap::new(),
            denied: HashMap::new(),
            egress_gaps: None,
            ingress_gaps: None,
        };
        let mut next_egress = Instant::now();
        let mut next_slow = Instant::now();
        loop {
            let paused = *self.polling_paused.borrow();
            let mut read_focused = false;
            if !paused {
                let now = Instant::now();
                if now >= next_egress {
                    self.read_active_egress(&mut memory).await;
                    // The room open on screen is watched as closely as its participants: a
                    // dispatch taken or an ingress going live shows within a poll.
                    let focused = self.focused_room.borrow().clone();
                    if let Some(room) = focused {
                        self.read_ingress(&mut memory, Some(&room)).await;
                        self.read_room_dispatches(&mut memory, &room).await;
                    }
                    next_egress = now + self.settings.borrow().polling.interval.get();
                }
                if now >= next_slow {
                    self.read_ingress(&mut memory, None).await;
                    let settings = Arc::clone(&self.settings.borrow());
                    // Before the first poll there are no rooms to read dispatches of: try
                    // again after the next poll, not a whole jobs_interval later.
                    next_slow = if self.read_dispatches(&mut memory).await {
                        now + settings.polling.jobs_interval.get()
                    } else {
                        now + settings.polling.interval.get()
                    };
                    read_focused = true;
                }
            }
            // While polling is paused nothing is due: only a resume, a focus or a command
            // wakes the watcher (a deadline in the past would spin).
            let wake = if paused {
                Instant::now() + PAUSED_WAKE
            } else {
                next_egress.min(next_slow)
            };
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                () = tokio::time::sleep_until(wake) => {}
                changed = self.focused_room.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    read_focused = true;
                }
                () = self.refresh.notified() => {
                    next_egress = Instant::now();
                    read_focused = true;
                }
                changed = self.polling_paused.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
            if read_focused && !*self.polling_paused.borrow() {
                let room = self.focused_room.borrow_and_update().clone();
                if let Some(room) = room {
                    self.read_room(&mut memory, &room).await;
                }
            }
        }
    }

    /// Whether `service` may be asked now: not while its last refusal is recent.
    fn may_ask(memory: &Memory, service: JobsService) -> bool {
        memory
            .denied
            .get(&service)
            .is_none_or(|retry_at| Instant::now() >= *retry_at)
    }

    /// What a read's outcome says about the key's access to `service`; `Some` with the value
    /// when it was read.
    fn access<T>(
        &self,
        memory: &mut Memory,
        service: JobsService,
        outcome: Result<T, ApiError>,
    ) -> Option<T> {
        match outcome {
            Ok(value) => {
                if memory.denied.remove(&service).is_some() {
                    self.bus.emit(EventKind::JobsAccess {
                        server: self.server.clone(),
                        service,
                        allowed: true,
                        cause: None,
                    });
                }
                Some(value)
            }
            Err(err) if err.kind() == ApiErrorKind::PermissionDenied => {
                let first = memory
                    .denied
                    .insert(service, Instant::now() + DENIED_RETRY)
                    .is_none();
                if first {
                    self.bus.emit(EventKind::JobsAccess {
                        server: self.server.clone(),
                        service,
                        allowed: false,
                        cause: Some(err.to_string()),
                    });
                }
                None
            }
            // The server being down or slow is the server worker's to report; the jobs held
            // keep their age and the next interval tries again.
            Err(err) => {
                tracing::debug!(server = %self.server, %err, "reading {} failed", service.what());
                None
            }
        }
    }

    async fn read_active_egress(&self, memory: &mut Memory) {
        if !Self::may_ask(memory, JobsService::Egress) {
            return;
        }
        let outcome = self.api.list_egress(EgressQuery::Active).await;
        let Some(active) = self.access(memory, JobsService::Egress, outcome) else {
            return;
        };
        let active: Vec<EgressSummary> = active.iter().map(EgressSummary::from_proto).collect();
        let now = now_ms();
        let mut update = JobsUpdate::default();
        let ended = memory.egress.running_not_in(&active);
        memory.egress.upsert(active, now, &mut update);
        for id in ended.into_iter().take(LOOKUPS_PER_READ) {
            match self.api.list_egress(EgressQuery::Id(id.clone())).await {
                Ok(found) if !found.is_empty() => memory.egress.upsert(
                    found.iter().map(EgressSummary::from_proto).collect(),
                    now,
                    &mut update,
                ),
                // The server no longer knows the job: nothing left to show of it.
                Ok(_) => memory.egress.forget(&id, &mut update),
                Err(_) => {}
            }
        }
        memory.egress.expire(now, &mut update);
        self.emit_egress(memory, update);
    }

    /// The jobs held, by kind and state, into the metrics; a failed egress counted once, when
    /// it is seen ending so.
    fn export(&self, memory: &Memory, transitions: &[crate::jobs::JobTransition]) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        let mut counts = JobCounts::default();
        memory
            .egress
            .jobs()
            .values()
            .for_each(|job| counts.add_egress(job));
        memory
            .ingress
            .jobs()
            .values()
            .for_each(|ingress| counts.add_ingress(ingress));
        for (dispatches, _) in memory.dispatches.values() {
            counts.add_dispatches(dispatches);
        }
        metrics.set_room_jobs(
            &self.server,
            &[
                ("egress_recording", counts.recording),
                ("egress_streaming", counts.streaming),
                ("egress_failed", counts.failed),
                ("ingress", counts.ingress),
                ("ingress_publishing", counts.ingress_publishing),
                ("dispatches_pending", counts.pending_dispatches),
            ],
        );
        for transition in transitions {
            if EgressStatus::from_label(&transition.to).is_some_and(EgressStatus::is_failure) {
                metrics.count_egress_failure(&self.server);
            }
        }
    }

    fn emit_egress(&self, memory: &mut Memory, update: JobsUpdate<EgressSummary>) {
        let update = whole_after_gaps(
            &memory.egress,
            update,
            &mut memory.egress_gaps,
            self.bus.gaps(),
        );
        self.export(memory, &update.transitions);
        self.bus.emit(EventKind::Egress {
            server: self.server.clone(),
            update,
        });
    }

    /// Every ingress (`room` `None`), or one room's.
    async fn read_ingress(&self, memory: &mut Memory, room: Option<&str>) {
        if !Self::may_ask(memory, JobsService::Ingress) {
            return;
        }
        let outcome = self.api.list_ingress(room).await;
        let Some(listed) = self.access(memory, JobsService::Ingress, outcome) else {
            return;
        };
        let listed: Vec<IngressSummary> = listed.iter().map(IngressSummary::from_proto).collect();
        let mut update = JobsUpdate::default();
        memory.ingress.replace(
            listed,
            |ingress| room.is_none_or(|room| ingress.room == room),
            now_ms(),
            &mut update,
        );
        let update = whole_after_gaps(
            &memory.ingress,
            update,
            &mut memory.ingress_gaps,
            self.bus.gaps(),
        );
        self.export(memory, &[]);
        self.bus.emit(EventKind::Ingress {
            server: self.server.clone(),
            update,
        });
    }

    /// The dispatches of the rooms whose turn it is, within a second's worth of the polling
    /// budget; forgets the rooms that are gone. `false` before the first poll's rooms.
    async fn read_dispatches(&self, memory: &mut Memory) -> bool {
        let rooms: Vec<String> = {
            let latest = self.latest.lock().ok().and_then(|latest| latest.clone());
            let Some(snapshot) = latest else {
                return false;
            };
            snapshot.rooms.keys().cloned().collect()
        };
        memory
            .dispatches
            .retain(|room, _| rooms.binary_search(room).is_ok());
        let per_second = self.settings.borrow().polling.max_requests_per_second;
        let budget = if per_second == 0 {
            rooms.len()
        } else {
            usize::try_from(per_second).unwrap_or(usize::MAX)
        };
        let mut turn: Vec<(i64, String)> = rooms
            .into_iter()
            .map(|room| {
                let read_at = memory.dispatches.get(&room).map_or(i64::MIN, |(_, at)| *at);
                (read_at, room)
            })
            .collect();
        turn.sort();
        for (_, room) in turn.into_iter().take(budget) {
            if !self.read_room_dispatches(memory, &room).await {
                break;
            }
        }
        true
    }

    /// Reads one room's dispatches and sends them when they changed (or were never sent);
    /// `false` when the service is not readable now.
    async fn read_room_dispatches(&self, memory: &mut Memory, room: &str) -> bool {
        if !Self::may_ask(memory, JobsService::AgentDispatch) {
            return false;
        }
        let outcome = match self.api.list_dispatch(room).await {
            // A room that finished since the poll has no dispatches left.
            Err(err) if err.kind() == ApiErrorKind::NotFound => Ok(Vec::new()),
            other => other,
        };
        let Some(listed) = self.access(memory, JobsService::AgentDispatch, outcome) else {
            return !memory.denied.contains_key(&JobsService::AgentDispatch);
        };
        let dispatches: Vec<DispatchSummary> =
            listed.iter().map(DispatchSummary::from_proto).collect();
        let now = now_ms();
        let changed = memory
            .dispatches
            .get(room)
            .is_none_or(|(held, _)| *held != dispatches);
        memory
            .dispatches
            .insert(room.to_owned(), (dispatches.clone(), now));
        if changed {
            self.bus.emit(EventKind::AgentDispatches {
                server: self.server.clone(),
                room: room.to_owned(),
                dispatches,
            });
        }
        true
    }

    /// The room open on screen, whole: its egress jobs ended ones included, its ingress and its
    /// dispatches.
    async fn read_room(&self, memory: &mut Memory, room: &str) {
        if Self::may_ask(memory, JobsService::Egress) {
            let outcome = self
                .api
                .list_egress(EgressQuery::Room(room.to_owned()))
                .await;
            if let Some(jobs) = self.access(memory, JobsService::Egress, outcome) {
                let mut update = JobsUpdate::default();
                let now = now_ms();
                let jobs: Vec<EgressSummary> = jobs
                    .iter()
                    .map(EgressSummary::from_proto)
                    // Ended long ago: the server keeps them, a live view has no use for them.
                    .filter(|job| {
                        job.status.is_running()
                            || job.ended_at_ms.unwrap_or(job.updated_at_ms)
                                >= now - i64::try_from(KEEP_ENDED.as_millis()).unwrap_or(0)
                    })
                    .collect();
                memory
                    .egress
                    .replace(jobs, |job| job.room == room, now, &mut update);
                self.emit_egress(memory, update);
            }
        }
        self.read_ingress(memory, Some(room)).await;
        self.read_room_dispatches(memory, room).await;
    }
}

/// `update` as it is, or every job of `book` (with the update's state moves) the first time
/// and whenever the event bus dropped events since the book last went out whole: a consumer
/// may have missed a change.
fn whole_after_gaps<T: Tracked>(
    book: &JobBook<T>,
    update: JobsUpdate<T>,
    whole_at_gaps: &mut Option<u64>,
    gaps: u64,
) -> JobsUpdate<T> {
    if *whole_at_gaps == Some(gaps) {
        return update;
    }
    *whole_at_gaps = Some(gaps);
    JobsUpdate {
        transitions: update.transitions,
        ..book.full_update()
    }
}
