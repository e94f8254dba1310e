//! What the dashboard holds of a server's egress jobs, ingress endpoints and agent
//! dispatches, from the engine's `egress`, `ingress`, `agent_dispatches` and `jobs_access`
//! events, with when each was read.

use std::collections::{BTreeMap, HashMap};

use crate::jobs::{
    DispatchSummary, EgressSummary, IngressStatus, IngressSummary, JobsService, JobsUpdate,
};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsView {
    pub egress: BTreeMap<String, EgressSummary>,
    pub ingress: BTreeMap<String, IngressSummary>,
    /// Per room: its dispatches and when they were read (Unix ms).
    pub dispatches: BTreeMap<String, (Vec<DispatchSummary>, i64)>,
    /// When each service was last read (Unix ms).
    pub read_at_ms: BTreeMap<JobsService, i64>,
    /// The services the key may not read, with the server's words.
    pub denied: BTreeMap<JobsService, String>,
    /// Each room's counts, kept with the jobs: the rooms table sorts and filters every room
    /// by them, which must not walk every job for each room.
    by_room: HashMap<String, RoomJobs>,
}

/// One room's jobs, as the rooms table counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomJobs {
    /// Running egress jobs that write files, segments or images.
    pub recording: u32,
    /// Running egress jobs that only stream.
    pub streaming: u32,
    /// Egress jobs of the room that failed lately (kept for `KEEP_ENDED`).
    pub failed: u32,
    /// Ingress endpoints publishing or buffering into the room.
    pub ingress_live: u32,
    pub ingress: u32,
    /// Dispatches no agent has taken yet.
    pub pending_dispatches: u32,
}

impl JobsView {
    pub(crate) fn absorb_egress(&mut self, update: &JobsUpdate<EgressSummary>, at_ms: i64) {
        update.apply_to(&mut self.egress);
        self.read_at_ms.insert(JobsService::Egress, at_ms);
        self.recount();
    }

    pub(crate) fn absorb_ingress(&mut self, update: &JobsUpdate<IngressSummary>, at_ms: i64) {
        update.apply_to(&mut self.ingress);
        self.read_at_ms.insert(JobsService::Ingress, at_ms);
        self.recount();
    }

    pub(crate) fn absorb_dispatches(
        &mut self,
        room: String,
        dispatches: Vec<DispatchSummary>,
        at_ms: i64,
    ) {
        if dispatches.is_empty() {
            self.dispatches.remove(&room);
        } else {
            self.dispatches.insert(room, (dispatches, at_ms));
        }
        self.read_at_ms.insert(JobsService::AgentDispatch, at_ms);
        self.recount();
    }

    pub(crate) fn absorb_access(
        &mut self,
        service: JobsService,
        allowed: bool,
        cause: Option<String>,
    ) {
        if allowed {
            self.denied.remove(&service);
        } else {
            self.denied.insert(
                service,
                cause.unwrap_or_else(|| "permission denied".to_owned()),
            );
        }
    }

    /// The room's egress jobs, running first, then newest.
    #[must_use]
    pub fn egress_of(&self, room: &str) -> Vec<&EgressSummary> {
        let mut jobs: Vec<&EgressSummary> = self
            .egress
            .values()
            .filter(|job| job.room == room)
            .collect();
        jobs.sort_by_key(|job| {
            (
                !job.status.is_running(),
                std::cmp::Reverse(job.started_at_ms.unwrap_or(job.updated_at_ms)),
            )
        });
        jobs
    }

    #[must_use]
    pub fn ingress_of(&self, room: &str) -> Vec<&IngressSummary> {
        self.ingress
            .values()
            .filter(|ingress| ingress.room == room)
            .collect()
    }

    #[must_use]
    pub fn dispatches_of(&self, room: &str) -> &[DispatchSummary] {
        self.dispatches
            .get(room)
            .map_or(&[], |(dispatches, _)| dispatches.as_slice())
    }

    /// The room's counts (all zero for a room with no jobs).
    #[must_use]
    pub fn room_jobs(&self, room: &str) -> RoomJobs {
        self.by_room.get(room).copied().unwrap_or_default()
    }

    /// Every room's counts again, in one pass over the jobs.
    fn recount(&mut self) {
        let mut by_room: HashMap<String, RoomJobs> = HashMap::new();
        for job in self.egress.values() {
            let counts = by_room.entry(job.room.clone()).or_default();
            if job.status.is_running() {
                if job.records() {
                    counts.recording += 1;
                } else {
                    counts.streaming += 1;
                }
            } else if job.status.is_failure() {
                counts.failed += 1;
            }
        }
        for ingress in self.ingress.values() {
            let counts = by_room.entry(ingress.room.clone()).or_default();
            counts.ingress += 1;
            if matches!(
                ingress.status,
                IngressStatus::Publishing | IngressStatus::Buffering
            ) {
                counts.ingress_live += 1;
            }
        }
        for (room, (dispatches, _)) in &self.dispatches {
            let pending = dispatches.iter().filter(|d| d.is_pending()).count();
            if pending > 0 {
                by_room.entry(room.clone()).or_default().pending_dispatches =
                    u32::try_from(pending).unwrap_or(u32::MAX);
            }
        }
        self.by_room = by_room;
    }
}

impl RoomJobs {
    /// The rooms table's egress cell: `REC`, `STREAM`, `REC+STREAM`, `FAILED`, with a count
    /// past one; failures win, since they are what the operator must see.
    #[must_use]
    pub fn egress_label(&self) -> String {
        let running = self.recording + self.streaming;
        let word = match (self.failed > 0, self.recording > 0, self.streaming > 0) {
            (true, _, _) => "FAILED",
            (false, true, true) => "REC+STREAM",
            (false, true, false) => "REC",
            (false, false, true) => "STREAM",
            (false, false, false) => return String::new(),
        };
        let count = if self.failed > 0 {
            self.failed
        } else {
            running
        };
        if count > 1 {
            format!("{word} {count}")
        } else {
            word.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{EgressDestination, EgressStatus};

    #[test]
    fn counts_follow_each_update_per_room() {
        let job = |id: &str, room: &str, status, destination| EgressSummary {
            egress_id: id.to_owned(),
            room: room.to_owned(),
            source: "room composite".to_owned(),
            status,
            started_at_ms: Some(1),
            ended_at_ms: None,
            updated_at_ms: 1,
            destinations: vec![destination],
            error: None,
        };
        let mut view = JobsView::default();
        view.absorb_egress(
            &JobsUpdate {
                full: true,
                changed: vec![
                    job("EG_1", "a", EgressStatus::Active, EgressDestination::File),
                    job("EG_2", "a", EgressStatus::Active, EgressDestination::Stream),
                    job("EG_3", "b", EgressStatus::Failed, EgressDestination::File),
                ],
                ..JobsUpdate::default()
            },
            1,
        );
        assert_eq!(view.room_jobs("a").egress_label(), "REC+STREAM 2");
        assert_eq!(view.room_jobs("b").failed, 1);
        view.absorb_egress(
            &JobsUpdate {
                removed: vec!["EG_3".to_owned()],
                ..JobsUpdate::default()
            },
            2,
        );
        assert_eq!(view.room_jobs("b"), RoomJobs::default());
        view.absorb_dispatches(
            "c".to_owned(),
            vec![DispatchSummary {
                id: "AD_1".to_owned(),
                agent_name: "bot".to_owned(),
                room: "c".to_owned(),
                metadata: String::new(),
                created_at_ms: 1,
                jobs: Vec::new(),
            }],
            3,
        );
        assert_eq!(view.room_jobs("c").pending_dispatches, 1);
    }

    #[test]
    fn failures_win_the_egress_cell() {
        let mut jobs = RoomJobs {
            recording: 1,
            ..RoomJobs::default()
        };
        assert_eq!(jobs.egress_label(), "REC");
        jobs.streaming = 2;
        assert_eq!(jobs.egress_label(), "REC+STREAM 3");
        jobs.failed = 1;
        assert_eq!(jobs.egress_label(), "FAILED");
        assert_eq!(RoomJobs::default().egress_label(), "");
    }
}
