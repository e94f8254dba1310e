//! A set of jobs by id, and the change each new listing makes to it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::egress::EgressSummary;
use super::ingress::IngressSummary;

/// A job a book can hold: an id, the room it serves, a state that can move.
pub trait Tracked: Clone + PartialEq {
    fn id(&self) -> &str;
    fn room(&self) -> &str;
    /// The state's word (`active`, `failed`, `publishing`, …).
    fn status_label(&self) -> &'static str;
    fn error(&self) -> Option<&str>;
    /// Over and done: kept only for `keep_ended` after `ended_at_ms` (or after it was last
    /// seen, when the server gave no end).
    fn is_over(&self) -> bool;
    fn ended_at_ms(&self) -> Option<i64>;
}

impl Tracked for EgressSummary {
    fn id(&self) -> &str {
        &self.egress_id
    }
    fn room(&self) -> &str {
        &self.room
    }
    fn status_label(&self) -> &'static str {
        self.status.label()
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    fn is_over(&self) -> bool {
        !self.status.is_running()
    }
    fn ended_at_ms(&self) -> Option<i64> {
        self.ended_at_ms
    }
}

impl Tracked for IngressSummary {
    fn id(&self) -> &str {
        &self.ingress_id
    }
    fn room(&self) -> &str {
        &self.room
    }
    fn status_label(&self) -> &'static str {
        self.status.label()
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    // An ingress is an endpoint that lives until deleted; it is never over on its own.
    fn is_over(&self) -> bool {
        false
    }
    fn ended_at_ms(&self) -> Option<i64> {
        None
    }
}

/// A job whose state moved, for the event log: one line per transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTransition {
    pub id: String,
    pub room: String,
    /// `None` for a job seen for the first time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A listing as the change it made: the jobs new or changed (whole), the ids forgotten, and
/// the state moves among them. `full` means `changed` is every job held (a consumer drops
/// the rest): the first listing, and the first after the event stream dropped events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsUpdate<T> {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<JobTransition>,
}

impl<T> Default for JobsUpdate<T> {
    fn default() -> Self {
        Self {
            full: false,
            changed: Vec::new(),
            removed: Vec::new(),
            transitions: Vec::new(),
        }
    }
}

impl<T: Tracked> JobsUpdate<T> {
    /// Applies the update to a consumer's copy of the jobs.
    pub fn apply_to(&self, jobs: &mut BTreeMap<String, T>) {
        if self.full {
            jobs.clear();
        }
        for id in &self.removed {
            jobs.remove(id);
        }
        for job in &self.changed {
            jobs.insert(job.id().to_owned(), job.clone());
        }
    }
}

/// The jobs of one kind on one server as the engine last read them.
#[derive(Debug, Clone)]
pub struct JobBook<T> {
    jobs: BTreeMap<String, T>,
    /// When each job that is over was first seen over (Unix ms), for forgetting it.
    over_since_ms: BTreeMap<String, i64>,
    /// How long a job that is over stays listed: a failed recording must stay on screen long
    /// enough to be noticed.
    keep_ended_ms: i64,
}

impl<T: Tracked> JobBook<T> {
    #[must_use]
    pub fn new(keep_ended_ms: i64) -> Self {
        Self {
            jobs: BTreeMap::new(),
            over_since_ms: BTreeMap::new(),
            keep_ended_ms,
        }
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Option<&T> {
        self.jobs.get(id)
    }

    /// Every job held, by id.
    #[must_use]
    pub fn jobs(&self) -> &BTreeMap<String, T> {
        &self.jobs
    }

    /// Jobs read now (by id, by room, or all those running); what they change.
    pub fn upsert(&mut self, read: Vec<T>, now_ms: i64, update: &mut JobsUpdate<T>) {
        for job in read {
            let held = self.jobs.get(job.id());
            if held == Some(&job) {
                continue;
            }
            let from = held.map(Tracked::status_label);
            if from != Some(job.status_label()) {
                update.transitions.push(JobTransition {
                    id: job.id().to_owned(),
                    room: job.room().to_owned(),
                    from: from.map(str::to_owned),
                    to: job.status_label().to_owned(),
                    error: job.error().map(str::to_owned),
                });
            }
            if job.is_over() {
                self.over_since_ms
                    .entry(job.id().to_owned())
                    .or_insert_with(|| job.ended_at_ms().unwrap_or(now_ms).min(now_ms));
            } else {
                self.over_since_ms.remove(job.id());
            }
            update.changed.push(job.clone());
            self.jobs.insert(job.id().to_owned(), job);
        }
    }

    /// A complete listing of the jobs `in_scope` (every job, or one room's): jobs held in that
    /// scope and not listed are gone.
    pub fn replace(
        &mut self,
        read: Vec<T>,
        in_scope: impl Fn(&T) -> bool,
        now_ms: i64,
        update: &mut JobsUpdate<T>,
    ) {
        let listed: std::collections::HashSet<String> =
            read.iter().map(|job| job.id().to_owned()).collect();
        let gone: Vec<String> = self
            .jobs
            .values()
            .filter(|job| in_scope(job) && !listed.contains(job.id()))
            .map(|job| job.id().to_owned())
            .collect();
        for id in gone {
            self.forget(&id, update);
        }
        self.upsert(read, now_ms, update);
    }

    /// Jobs held as running that a listing of running jobs no longer shows: they ended, and
    /// a lookup by id says how.
    #[must_use]
    pub fn running_not_in(&self, listed: &[T]) -> Vec<String> {
        self.jobs
            .values()
            .filter(|job| !job.is_over() && !listed.iter().any(|l| l.id() == job.id()))
            .map(|job| job.id().to_owned())
            .collect()
    }

    pub fn forget(&mut self, id: &str, update: &mut JobsUpdate<T>) {
        if self.jobs.remove(id).is_some() {
            self.over_since_ms.remove(id);
            update.removed.push(id.to_owned());
        }
    }

    /// Forgets the jobs over for longer than `keep_ended`.
    pub fn expire(&mut self, now_ms: i64, update: &mut JobsUpdate<T>) {
        let expired: Vec<String> = self
            .over_since_ms
            .iter()
            .filter(|(_, since)| now_ms - **since > self.keep_ended_ms)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.forget(&id, update);
        }
    }

    /// Every job as a full update, for a consumer that may have missed one.
    #[must_use]
    pub fn full_update(&self) -> JobsUpdate<T> {
        JobsUpdate {
            full: true,
            changed: self.jobs.values().cloned().collect(),
            ..JobsUpdate::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::EgressStatus;

    fn egress(id: &str, status: EgressStatus) -> EgressSummary {
        EgressSummary {
            egress_id: id.to_owned(),
            room: "r".to_owned(),
            source: "room composite".to_owned(),
            status,
            started_at_ms: Some(1),
            ended_at_ms: None,
            updated_at_ms: 1,
            destinations: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_listing_says_what_moved_and_nothing_twice() {
        let mut book = JobBook::new(60_000);
        let mut update = JobsUpdate::default();
        book.upsert(vec![egress("EG_1", EgressStatus::Starting)], 0, &mut update);
        assert_eq!(update.transitions.len(), 1);
        assert_eq!(update.transitions[0].from, None);

        let mut update = JobsUpdate::default();
        book.upsert(vec![egress("EG_1", EgressStatus::Starting)], 1, &mut update);
        assert!(update.changed.is_empty() && update.transitions.is_empty());

        let mut update = JobsUpdate::default();
        book.upsert(vec![egress("EG_1", EgressStatus::Active)], 2, &mut update);
        assert_eq!(update.transitions[0].from.as_deref(), Some("starting"));
        assert_eq!(update.transitions[0].to, "active");
    }

    #[test]
    fn an_ended_job_is_kept_for_a_while_then_forgotten() {
        let mut book = JobBook::new(60_000);
        let mut update = JobsUpdate::default();
        book.upsert(vec![egress("EG_1", EgressStatus::Active)], 0, &mut update);
        assert_eq!(book.running_not_in(&[]), vec!["EG_1".to_owned()]);
        book.upsert(
            vec![egress("EG_1", EgressStatus::Failed)],
            1_000,
            &mut update,
        );
        assert!(book.running_not_in(&[]).is_empty());

        let mut update = JobsUpdate::default();
        book.expire(60_000, &mut update);
        assert!(update.removed.is_empty(), "kept for a minute");
        book.expire(61_001, &mut update);
        assert_eq!(update.removed, vec!["EG_1".to_owned()]);
    }

    #[test]
    fn a_complete_listing_forgets_what_it_no_longer_shows() {
        let mut book = JobBook::new(60_000);
        let mut update = JobsUpdate::default();
        book.upsert(
            vec![
                egress("EG_1", EgressStatus::Active),
                egress("EG_2", EgressStatus::Active),
            ],
            0,
            &mut update,
        );
        let mut update = JobsUpdate::default();
        book.replace(
            vec![egress("EG_2", EgressStatus::Active)],
            |_| true,
            1,
            &mut update,
        );
        assert_eq!(update.removed, vec!["EG_1".to_owned()]);
        let mut consumer = BTreeMap::new();
        book.full_update().apply_to(&mut consumer);
        assert_eq!(consumer.keys().collect::<Vec<_>>(), vec!["EG_2"]);
    }
}
