//! What the dashboard holds of a server's egress jobs, ingress endpoints and agent
//! dispatches, from the engine's `egress`, `ingress`, `agent_dispatches` and `jobs_access`
//! events, with when each was read.

use std::collections::{BTreeMap, HashMap};

use crate::jobs::{
    DispatchSummary, EgressSummary, IngressSummary, JobCounts, JobsService, JobsUpdate,
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
    by_room: HashMap<String, JobCounts>,
    /// The server's counts, over every room.
    total: JobCounts,
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
    pub fn room_jobs(&self, room: &str) -> JobCounts {
        self.by_room.get(room).copied().unwrap_or_default()
    }

    /// The server's counts.
    #[must_use]
    pub fn total(&self) -> JobCounts {
        self.total
    }

    /// Every room's counts and the server's again, in one pass over the jobs.
    fn recount(&mut self) {
        let mut by_room: HashMap<String, JobCounts> = HashMap::new();
        let mut total = JobCounts::default();
        for job in self.egress.values() {
            by_room.entry(job.room.clone()).or_default().add_egress(job);
            total.add_egress(job);
        }
        for ingress in self.ingress.values() {
            by_room
                .entry(ingress.room.clone())
                .or_default()
                .add_ingress(ingress);
            total.add_ingress(ingress);
        }
        for (room, (dispatches, _)) in &self.dispatches {
            if dispatches.iter().any(DispatchSummary::is_pending) {
                by_room
                    .entry(room.clone())
                    .or_default()
                    .add_dispatches(dispatches);
            }
            total.add_dispatches(dispatches);
        }
        self.by_room = by_room;
        self.total = total;
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
        assert_eq!(view.room_jobs("b"), JobCounts::default());
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
        let mut jobs = JobCounts {
            recording: 1,
            ..JobCounts::default()
        };
        assert_eq!(jobs.egress_label(), "REC");
        jobs.streaming = 2;
        assert_eq!(jobs.egress_label(), "REC+STREAM 3");
        jobs.failed = 1;
        assert_eq!(jobs.egress_label(), "FAILED");
        assert_eq!(JobCounts::default().egress_label(), "");
    }
}
