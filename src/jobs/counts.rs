//! Egress, ingress and dispatches counted by state: one room's for the rooms table, a
//! server's for the overview and the metrics. One set of rules for all of them.

use super::dispatch::DispatchSummary;
use super::egress::EgressSummary;
use super::ingress::{IngressStatus, IngressSummary};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Running egress jobs that write files, segments or images.
    pub recording: u32,
    /// Running egress jobs that only stream.
    pub streaming: u32,
    /// Egress jobs that failed, were aborted or hit their limit, while they are kept.
    pub failed: u32,
    pub ingress: u32,
    /// Ingress endpoints publishing or buffering.
    pub ingress_live: u32,
    /// Ingress endpoints publishing.
    pub ingress_publishing: u32,
    /// Dispatches no agent has taken yet.
    pub pending_dispatches: u32,
}

impl JobCounts {
    pub fn add_egress(&mut self, job: &EgressSummary) {
        if job.status.is_running() {
            if job.records() {
                self.recording += 1;
            } else {
                self.streaming += 1;
            }
        } else if job.status.is_failure() {
            self.failed += 1;
        }
    }

    pub fn add_ingress(&mut self, ingress: &IngressSummary) {
        self.ingress += 1;
        match ingress.status {
            IngressStatus::Publishing => {
                self.ingress_live += 1;
                self.ingress_publishing += 1;
            }
            IngressStatus::Buffering => self.ingress_live += 1,
            IngressStatus::Inactive | IngressStatus::Error | IngressStatus::Complete => {}
        }
    }

    pub fn add_dispatches(&mut self, dispatches: &[DispatchSummary]) {
        let pending = dispatches.iter().filter(|d| d.is_pending()).count();
        self.pending_dispatches += u32::try_from(pending).unwrap_or(u32::MAX);
    }

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
