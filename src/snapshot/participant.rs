//! One participant and its tracks as lktop keeps them: what an operator reads in a room's
//! detail (who it is, what kind of client, from where, with which rights, publishing what).
//!
//! Every field added after the first recordings is `serde(default)`, so those recordings still
//! replay; empty values are left out of the NDJSON to keep recordings small.

use std::collections::BTreeMap;

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    Audio,
    Video,
    Data,
}

impl TrackKind {
    fn from_proto(kind: i32) -> Self {
        match proto::TrackType::try_from(kind) {
            Ok(proto::TrackType::Video) => Self::Video,
            Ok(proto::TrackType::Data) => Self::Data,
            // An unknown number from a newer server is treated as audio, the commonest kind.
            _ => Self::Audio,
        }
    }
}

/// What kind of client a participant is, as livekit-server tells it (`ParticipantInfo.kind`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    /// A person's client: a browser, a mobile app, an SDK.
    #[default]
    Standard,
    /// A stream brought in by the Ingress service (RTMP, WHIP, a URL).
    Ingress,
    /// A recorder or streamer of the Egress service.
    Egress,
    /// A phone call through LiveKit SIP.
    Sip,
    /// A LiveKit agent.
    Agent,
    Connector,
    Bridge,
    /// A kind newer than this build of lktop.
    Other,
}

impl ParticipantKind {
    pub const ALL: [Self; 8] = [
        Self::Standard,
        Self::Agent,
        Self::Sip,
        Self::Ingress,
        Self::Egress,
        Self::Connector,
        Self::Bridge,
        Self::Other,
    ];

    #[must_use]
    pub fn from_proto(kind: i32) -> Self {
        use proto::participant_info::Kind;
        match Kind::try_from(kind) {
            Ok(Kind::Standard) => Self::Standard,
            Ok(Kind::Ingress) => Self::Ingress,
            Ok(Kind::Egress) => Self::Egress,
            Ok(Kind::Sip) => Self::Sip,
            Ok(Kind::Agent) => Self::Agent,
            Ok(Kind::Connector) => Self::Connector,
            Ok(Kind::Bridge) => Self::Bridge,
            Err(_) => Self::Other,
        }
    }

    /// The word used on screen and in filters (`kind=sip`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Ingress => "ingress",
            Self::Egress => "egress",
            Self::Sip => "sip",
            Self::Agent => "agent",
            Self::Connector => "connector",
            Self::Bridge => "bridge",
            Self::Other => "other",
        }
    }

    /// The kind named by `word` (a filter's value), case-insensitive; plural forms too.
    #[must_use]
    pub fn parse(word: &str) -> Option<Self> {
        let word = word.trim().to_ascii_lowercase();
        let singular = word.strip_suffix('s').unwrap_or(&word);
        Self::ALL
            .into_iter()
            .find(|kind| kind.label() == word || kind.label() == singular)
    }

    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's skip_serializing_if passes a reference"
    )]
    fn is_standard(&self) -> bool {
        *self == Self::Standard
    }
}

/// A simulcast layer of a video track as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoLayerSummary {
    /// `low`, `medium`, `high` or `off`.
    pub quality: String,
    pub width: u32,
    pub height: u32,
    /// Bits per second the publisher announced for the layer.
    pub bitrate: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub sid: String,
    pub kind: TrackKind,
    /// `microphone`, `camera`, `screen_share`, `screen_share_audio` or `unknown`.
    pub source: String,
    pub name: String,
    pub muted: bool,
    /// `audio/opus`, `video/VP8`, …; empty when the server did not say.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mime_type: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub simulcast: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<VideoLayerSummary>,
    /// `gcm` or `custom` for end-to-end encrypted tracks; `None` for plain ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
}

impl TrackSummary {
    #[must_use]
    pub(crate) fn from_proto(track: &proto::TrackInfo) -> Self {
        Self {
            sid: track.sid.clone(),
            kind: TrackKind::from_proto(track.r#type),
            source: proto::TrackSource::try_from(track.source).map_or_else(
                |_| "unknown".to_owned(),
                |s| s.as_str_name().to_ascii_lowercase(),
            ),
            name: track.name.clone(),
            muted: track.muted,
            mime_type: track.mime_type.clone(),
            simulcast: is_simulcast(track),
            layers: published_layers(track)
                .iter()
                .map(|layer| VideoLayerSummary {
                    quality: proto::VideoQuality::try_from(layer.quality)
                        .map_or("unknown", |q| match q {
                            proto::VideoQuality::Low => "low",
                            proto::VideoQuality::Medium => "medium",
                            proto::VideoQuality::High => "high",
                            proto::VideoQuality::Off => "off",
                        })
                        .to_owned(),
                    width: layer.width,
                    height: layer.height,
                    bitrate: layer.bitrate,
                })
                .collect(),
            encryption: match proto::encryption::Type::try_from(track.encryption) {
                Ok(proto::encryption::Type::None) => None,
                Ok(other) => Some(other.as_str_name().to_ascii_lowercase()),
                Err(_) => Some(format!("type {}", track.encryption)),
            },
        }
    }
}

/// The layers of a track's first codec; servers before per-codec layers (and the sandbox's
/// older scenarios) fill only the track's own, deprecated list.
fn published_layers(track: &proto::TrackInfo) -> &[proto::VideoLayer] {
    if let Some(codec) = track.codecs.iter().find(|codec| !codec.layers.is_empty()) {
        return &codec.layers;
    }
    #[allow(deprecated)]
    &track.layers
}

fn is_simulcast(track: &proto::TrackInfo) -> bool {
    #[allow(deprecated)]
    let announced = track.simulcast;
    announced || published_layers(track).len() > 1
}

/// What a participant may do, as the server holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per grant of livekit's ParticipantPermission, as the server holds them"
)]
pub struct PermissionSummary {
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub can_publish_data: bool,
    pub can_update_metadata: bool,
    /// Invisible to the other participants.
    pub hidden: bool,
    /// The sources it may publish (`camera`, `microphone`, …); empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

impl PermissionSummary {
    fn from_proto(permission: &proto::ParticipantPermission) -> Self {
        Self {
            can_publish: permission.can_publish,
            can_subscribe: permission.can_subscribe,
            can_publish_data: permission.can_publish_data,
            can_update_metadata: permission.can_update_metadata,
            hidden: permission.hidden,
            sources: permission
                .can_publish_sources
                .iter()
                .map(|source| {
                    proto::TrackSource::try_from(*source).map_or_else(
                        |_| format!("source {source}"),
                        |s| s.as_str_name().to_ascii_lowercase(),
                    )
                })
                .collect(),
        }
    }

    /// `publish, subscribe, data` style: the rights granted, `hidden` last; `none` when none.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut rights: Vec<String> = [
            (self.can_publish, "publish"),
            (self.can_subscribe, "subscribe"),
            (self.can_publish_data, "data"),
            (self.can_update_metadata, "update metadata"),
            (self.hidden, "hidden"),
        ]
        .into_iter()
        .filter(|(granted, _)| *granted)
        .map(|(_, right)| right.to_owned())
        .collect();
        if self.can_publish && !self.sources.is_empty() {
            rights[0] = format!("publish ({})", self.sources.join(", "));
        }
        if rights.is_empty() {
            "none".to_owned()
        } else {
            rights.join(", ")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantSummary {
    pub identity: String,
    pub sid: String,
    pub name: String,
    pub joined_at_ms: i64,
    /// `joining`, `joined`, `active` or `disconnected`.
    pub state: String,
    pub tracks: Vec<TrackSummary>,
    #[serde(default, skip_serializing_if = "ParticipantKind::is_standard")]
    pub kind: ParticipantKind,
    /// The region of the node it is connected to (LiveKit Cloud and multi-region setups).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// The signalling protocol version its client speaks (0: not told).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub client_protocol: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<PermissionSummary>,
    /// Sorted, so the detail lists them in a stable order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl ParticipantSummary {
    #[must_use]
    pub(crate) fn from_proto(participant: &proto::ParticipantInfo) -> Self {
        let state = proto::participant_info::State::try_from(participant.state).map_or(
            "unknown",
            |state| match state {
                proto::participant_info::State::Joining => "joining",
                proto::participant_info::State::Joined => "joined",
                proto::participant_info::State::Active => "active",
                proto::participant_info::State::Disconnected => "disconnected",
            },
        );
        let joined_at_ms = if participant.joined_at_ms > 0 {
            participant.joined_at_ms
        } else {
            participant.joined_at.saturating_mul(1000)
        };
        Self {
            identity: participant.identity.clone(),
            sid: participant.sid.clone(),
            name: participant.name.clone(),
            joined_at_ms,
            state: state.to_owned(),
            tracks: participant
                .tracks
                .iter()
                .map(TrackSummary::from_proto)
                .collect(),
            kind: ParticipantKind::from_proto(participant.kind),
            region: participant.region.clone(),
            client_protocol: participant.client_protocol,
            permission: participant
                .permission
                .as_ref()
                .map(PermissionSummary::from_proto),
            attributes: participant
                .attributes
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        }
    }
}

/// The name livekit-server gives a `DisconnectReason` number (`CLIENT_INITIATED`, …).
#[must_use]
pub fn disconnect_reason_name(reason: i32) -> String {
    proto::DisconnectReason::try_from(reason).map_or_else(
        |_| format!("REASON_{reason}"),
        |reason| reason.as_str_name().to_owned(),
    )
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(value: &bool) -> bool {
    !*value
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(value: &i32) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_participant_keeps_what_an_operator_reads() {
        let info = proto::ParticipantInfo {
            identity: "sip_+15550100".into(),
            kind: proto::participant_info::Kind::Sip as i32,
            region: "eu-west".into(),
            client_protocol: 1,
            permission: Some(proto::ParticipantPermission {
                can_publish: true,
                can_subscribe: true,
                can_publish_sources: vec![proto::TrackSource::Microphone as i32],
                ..Default::default()
            }),
            attributes: [("sip.callStatus".to_owned(), "active".to_owned())].into(),
            tracks: vec![proto::TrackInfo {
                sid: "TR_1".into(),
                r#type: proto::TrackType::Video as i32,
                mime_type: "video/VP8".into(),
                codecs: vec![proto::SimulcastCodecInfo {
                    mime_type: "video/VP8".into(),
                    layers: [proto::VideoQuality::Low, proto::VideoQuality::High]
                        .into_iter()
                        .map(|quality| proto::VideoLayer {
                            quality: quality as i32,
                            width: 1280,
                            height: 720,
                            bitrate: 1_700_000,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                encryption: proto::encryption::Type::Gcm as i32,
                ..Default::default()
            }],
            ..Default::default()
        };
        let summary = ParticipantSummary::from_proto(&info);
        assert_eq!(summary.kind, ParticipantKind::Sip);
        assert_eq!(summary.region, "eu-west");
        assert_eq!(
            summary.permission.as_ref().map(PermissionSummary::describe),
            Some("publish (microphone), subscribe".to_owned())
        );
        assert_eq!(summary.attributes["sip.callStatus"], "active");
        let track = &summary.tracks[0];
        assert_eq!(track.mime_type, "video/VP8");
        assert!(track.simulcast);
        assert_eq!(track.layers[1].quality, "high");
        assert_eq!(track.encryption.as_deref(), Some("gcm"));
    }

    #[test]
    fn a_recording_from_before_the_new_fields_still_reads() {
        let old = r#"{"identity":"a","sid":"PA_1","name":"","joined_at_ms":1,"state":"active",
            "tracks":[{"sid":"TR_1","kind":"audio","source":"microphone","name":"","muted":false}]}"#;
        let summary: ParticipantSummary = serde_json::from_str(old).expect("old participant");
        assert_eq!(summary.kind, ParticipantKind::Standard);
        assert!(summary.tracks[0].mime_type.is_empty());
        let written = serde_json::to_string(&summary).expect("serialize");
        assert!(!written.contains("kind\":\"standard"), "{written}");
    }

    #[test]
    fn kinds_parse_as_filters_write_them() {
        assert_eq!(ParticipantKind::parse("SIP"), Some(ParticipantKind::Sip));
        assert_eq!(
            ParticipantKind::parse("agents"),
            Some(ParticipantKind::Agent)
        );
        assert_eq!(ParticipantKind::parse("robot"), None);
        assert_eq!(disconnect_reason_name(1), "CLIENT_INITIATED");
    }
}
