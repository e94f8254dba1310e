//! What the engine says about webhooks: each one taken (`WebhookNote`), and each disagreement
//! between webhooks and polling that lasted (`Drift`).

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

/// A webhook taken from a server, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookNote {
    pub id: String,
    /// `room_started`, `participant_joined`, … as livekit-server names it.
    pub event: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_sid: Option<String>,
    /// The egress or ingress the webhook is about (`egress_*`, `ingress_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Why the participant left (`CLIENT_INITIATED`, `SIP_TRUNK_FAILURE`, …), for
    /// `participant_left` and `participant_connection_aborted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_reason: Option<String>,
    /// When livekit-server made it (Unix seconds).
    pub created_at: i64,
    /// When lktop took it (Unix ms).
    pub received_at_ms: i64,
    /// The server's webhooks so far.
    pub totals: WebhookTotals,
}

impl WebhookNote {
    #[must_use]
    pub fn of(event: &proto::WebhookEvent, received_at_ms: i64, totals: WebhookTotals) -> Self {
        Self {
            id: event.id.clone(),
            event: event.event.clone(),
            // Egress and ingress webhooks carry no room, only their job's room name.
            room: event
                .room
                .as_ref()
                .map(|room| room.name.clone())
                .or_else(|| event.egress_info.as_ref().map(|e| e.room_name.clone()))
                .or_else(|| event.ingress_info.as_ref().map(|i| i.room_name.clone()))
                .unwrap_or_default(),
            identity: event
                .participant
                .as_ref()
                .map(|participant| participant.identity.clone()),
            track_sid: event.track.as_ref().map(|track| track.sid.clone()),
            job_id: event
                .egress_info
                .as_ref()
                .map(|egress| egress.egress_id.clone())
                .or_else(|| {
                    event
                        .ingress_info
                        .as_ref()
                        .map(|ingress| ingress.ingress_id.clone())
                }),
            disconnect_reason: match event.event.as_str() {
                "participant_left" => event.participant.as_ref().map(|participant| {
                    crate::snapshot::disconnect_reason_name(participant.disconnect_reason)
                }),
                "participant_connection_aborted" => Some("CONNECTION_ABORTED".to_owned()),
                _ => None,
            },
            created_at: event.created_at,
            received_at_ms,
            totals,
        }
    }
}

/// A server's webhooks by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTotals {
    /// Taken and applied (or about something lktop keeps no state of).
    pub taken: u64,
    /// Dropped: the id was taken before.
    pub duplicates: u64,
    /// Dropped: something newer about the same room, participant or track came first.
    pub out_of_order: u64,
    /// Changes polling found that no webhook told of within `webhooks.drift_after`, and
    /// webhook changes polling contradicted as long.
    pub drift: u64,
}

/// A change polling and webhooks disagree about, for longer than `webhooks.drift_after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub kind: DriftKind,
    /// How long the disagreement has lasted.
    pub for_ms: u64,
    pub totals: WebhookTotals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Listed by polling, no `room_started` webhook.
    RoomWithoutStartWebhook,
    /// Gone from polling, no `room_finished` webhook.
    RoomGoneWithoutFinishWebhook,
    /// In ListParticipants, no `participant_joined` webhook.
    PresentWithoutJoinWebhook,
    /// Gone from ListParticipants, no `participant_left` webhook.
    LeftWithoutLeaveWebhook,
    /// Joined per webhook, absent from ListParticipants.
    JoinedPerWebhookAbsent,
    /// Published per polling, no `track_published` webhook.
    TrackWithoutPublishWebhook,
    /// Unpublished per polling, no `track_unpublished` webhook.
    TrackGoneWithoutUnpublishWebhook,
}

impl DriftKind {
    /// The disagreement in words, after the thing it is about.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::RoomWithoutStartWebhook => "listed by ListRooms without a room_started webhook",
            Self::RoomGoneWithoutFinishWebhook => {
                "gone from ListRooms without a room_finished webhook"
            }
            Self::PresentWithoutJoinWebhook => {
                "present in ListParticipants without a participant_joined webhook"
            }
            Self::LeftWithoutLeaveWebhook => {
                "gone from ListParticipants without a participant_left webhook"
            }
            Self::JoinedPerWebhookAbsent => "joined per webhook, absent from ListParticipants",
            Self::TrackWithoutPublishWebhook => "published without a track_published webhook",
            Self::TrackGoneWithoutUnpublishWebhook => {
                "unpublished without a track_unpublished webhook"
            }
        }
    }
}
