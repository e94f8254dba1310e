//! An agent dispatch (an agent sent into a room) and its jobs, as lktop keeps them.

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

/// One job of a dispatch: an agent worker took the dispatch (or has not yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentJobSummary {
    pub id: String,
    /// `pending`, `running`, `success` or `failed`.
    pub status: String,
    /// The agent's identity in the room once it joined.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub participant_identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchSummary {
    pub id: String,
    pub agent_name: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub metadata: String,
    /// Unix ms.
    pub created_at_ms: i64,
    pub jobs: Vec<AgentJobSummary>,
}

impl DispatchSummary {
    #[must_use]
    pub fn from_proto(dispatch: &proto::AgentDispatch) -> Self {
        let state = dispatch.state.clone().unwrap_or_default();
        Self {
            id: dispatch.id.clone(),
            agent_name: dispatch.agent_name.clone(),
            room: dispatch.room.clone(),
            metadata: dispatch.metadata.clone(),
            // The dispatch's own times are Unix nanoseconds.
            created_at_ms: state.created_at / 1_000_000,
            jobs: state
                .jobs
                .iter()
                .map(|job| {
                    let job_state = job.state.clone().unwrap_or_default();
                    AgentJobSummary {
                        id: job.id.clone(),
                        status: match proto::JobStatus::try_from(job_state.status) {
                            Ok(proto::JobStatus::JsPending) => "pending",
                            Ok(proto::JobStatus::JsRunning) => "running",
                            Ok(proto::JobStatus::JsSuccess) => "success",
                            Ok(proto::JobStatus::JsFailed) | Err(_) => "failed",
                        }
                        .to_owned(),
                        participant_identity: job_state.participant_identity.clone(),
                        error: (!job_state.error.is_empty()).then(|| job_state.error.clone()),
                    }
                })
                .collect(),
        }
    }

    /// No agent has joined for it yet: no job, or only pending ones.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.jobs.iter().all(|job| job.status == "pending")
    }
}
