//! What a room hands to LiveKit's other services — egress (recordings and streams), ingress
//! (streams brought in) and agent dispatch — as lktop keeps it, and the books that turn each
//! listing into a change. Emits no events: `engine/jobs_watcher.rs` reports them.

mod book;
mod counts;
mod dispatch;
mod egress;
mod ingress;

pub use book::{JobBook, JobTransition, JobsUpdate, Tracked};
pub use counts::JobCounts;
pub use dispatch::{AgentJobSummary, DispatchSummary};
pub use egress::{EgressDestination, EgressStatus, EgressSummary};
pub use ingress::{IngressStatus, IngressSummary};

use serde::{Deserialize, Serialize};

/// The service a listing came from, and the grant it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobsService {
    Egress,
    Ingress,
    AgentDispatch,
}

impl JobsService {
    pub const ALL: [Self; 3] = [Self::Egress, Self::Ingress, Self::AgentDispatch];

    /// The words of "no permission to read …".
    #[must_use]
    pub fn what(self) -> &'static str {
        match self {
            Self::Egress => "egress",
            Self::Ingress => "ingress",
            Self::AgentDispatch => "agent dispatches",
        }
    }

    /// The token grant livekit-server asks for.
    #[must_use]
    pub fn grant(self) -> &'static str {
        match self {
            Self::Egress => "roomRecord",
            Self::Ingress => "ingressAdmin",
            Self::AgentDispatch => "roomAdmin",
        }
    }
}
