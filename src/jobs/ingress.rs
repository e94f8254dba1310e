//! An ingress (a stream brought into a room) as lktop keeps it.

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

/// livekit's `IngressState.Status`: `Inactive` (waiting for the encoder), `Buffering`,
/// `Publishing`, `Error`, `Complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngressStatus {
    Inactive,
    Buffering,
    Publishing,
    Error,
    Complete,
}

impl IngressStatus {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Inactive => "inactive",
            Self::Buffering => "buffering",
            Self::Publishing => "publishing",
            Self::Error => "error",
            Self::Complete => "complete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngressSummary {
    pub ingress_id: String,
    pub name: String,
    pub room: String,
    /// `rtmp`, `whip` or `url`.
    pub input: String,
    pub status: IngressStatus,
    /// The identity its participant joins the room as.
    pub participant_identity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unix ms of the current session's start; `None` when no encoder is connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    /// Tracks it publishes into the room.
    pub tracks: u32,
}

impl IngressSummary {
    #[must_use]
    pub fn from_proto(info: &proto::IngressInfo) -> Self {
        let state = info.state.clone().unwrap_or_default();
        let status = match proto::ingress_state::Status::try_from(state.status) {
            Ok(proto::ingress_state::Status::EndpointInactive) => IngressStatus::Inactive,
            Ok(proto::ingress_state::Status::EndpointBuffering) => IngressStatus::Buffering,
            Ok(proto::ingress_state::Status::EndpointPublishing) => IngressStatus::Publishing,
            Ok(proto::ingress_state::Status::EndpointComplete) => IngressStatus::Complete,
            Ok(proto::ingress_state::Status::EndpointError) | Err(_) => IngressStatus::Error,
        };
        let input = match proto::IngressInput::try_from(info.input_type) {
            Ok(proto::IngressInput::RtmpInput) => "rtmp",
            Ok(proto::IngressInput::WhipInput) => "whip",
            Ok(proto::IngressInput::UrlInput) => "url",
            Err(_) => "unknown",
        };
        Self {
            ingress_id: info.ingress_id.clone(),
            name: info.name.clone(),
            room: info.room_name.clone(),
            input: input.to_owned(),
            status,
            participant_identity: info.participant_identity.clone(),
            error: (!state.error.is_empty()).then(|| state.error.clone()),
            // Ingress timestamps are Unix nanoseconds, like egress.
            started_at_ms: (state.started_at > 0).then_some(state.started_at / 1_000_000),
            tracks: u32::try_from(state.tracks.len()).unwrap_or(u32::MAX),
        }
    }
}
