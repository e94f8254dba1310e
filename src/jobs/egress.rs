//! An egress job (a recording or a stream of a room) as lktop keeps it.

use livekit_protocol as proto;
use serde::{Deserialize, Serialize};

/// Where an egress job is in livekit's state machine: `Starting → Active → Ending → Complete`,
/// or `Failed`, `Aborted` (stopped before it started) or `LimitReached` (the server's time or
/// size limit ended it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgressStatus {
    Starting,
    Active,
    Ending,
    Complete,
    Failed,
    Aborted,
    LimitReached,
}

impl EgressStatus {
    const ALL: [Self; 7] = [
        Self::Starting,
        Self::Active,
        Self::Ending,
        Self::Complete,
        Self::Failed,
        Self::Aborted,
        Self::LimitReached,
    ];

    /// The status a label (`failed`, `limit reached`, …) names, as a `JobTransition` holds it.
    #[must_use]
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.label() == label)
    }

    fn from_proto(status: i32) -> Self {
        match proto::EgressStatus::try_from(status) {
            Ok(proto::EgressStatus::EgressStarting) => Self::Starting,
            Ok(proto::EgressStatus::EgressActive) => Self::Active,
            Ok(proto::EgressStatus::EgressEnding) => Self::Ending,
            Ok(proto::EgressStatus::EgressComplete) => Self::Complete,
            Ok(proto::EgressStatus::EgressAborted) => Self::Aborted,
            Ok(proto::EgressStatus::EgressLimitReached) => Self::LimitReached,
            // An unknown status from a newer server is shown as the one that asks for a look.
            Ok(proto::EgressStatus::EgressFailed) | Err(_) => Self::Failed,
        }
    }

    /// Still recording or streaming (or about to).
    #[must_use]
    pub fn is_running(self) -> bool {
        matches!(self, Self::Starting | Self::Active | Self::Ending)
    }

    /// Ended without doing its job: what an operator is called for.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Aborted | Self::LimitReached)
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Active => "active",
            Self::Ending => "ending",
            Self::Complete => "complete",
            Self::Failed => "failed",
            Self::Aborted => "aborted",
            Self::LimitReached => "limit reached",
        }
    }
}

/// Where an egress job's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EgressDestination {
    /// An MP4/OGG file in storage.
    File,
    /// HLS segments.
    Segments,
    /// A live stream (RTMP, SRT).
    Stream,
    /// Thumbnails.
    Images,
    /// Raw track audio to a WebSocket.
    Websocket,
}

impl EgressDestination {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Segments => "segments",
            Self::Stream => "stream",
            Self::Images => "images",
            Self::Websocket => "websocket",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressSummary {
    pub egress_id: String,
    pub room: String,
    /// `room composite`, `web`, `participant`, `track composite`, `track`, `replay` or `egress`.
    pub source: String,
    pub status: EgressStatus,
    /// Unix ms; `None` while it has not started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at_ms: Option<i64>,
    /// When the server last changed it (Unix ms).
    pub updated_at_ms: i64,
    pub destinations: Vec<EgressDestination>,
    /// Why it failed, as the egress service said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl EgressSummary {
    #[must_use]
    pub fn from_proto(info: &proto::EgressInfo) -> Self {
        let error = (!info.error.is_empty()).then(|| {
            if info.error_code == 0 {
                info.error.clone()
            } else {
                format!("{} (code {})", info.error, info.error_code)
            }
        });
        Self {
            egress_id: info.egress_id.clone(),
            room: info.room_name.clone(),
            source: source_of(info).to_owned(),
            status: EgressStatus::from_proto(info.status),
            started_at_ms: nanos_to_ms(info.started_at),
            ended_at_ms: nanos_to_ms(info.ended_at),
            updated_at_ms: nanos_to_ms(info.updated_at).unwrap_or_default(),
            destinations: destinations_of(info),
            error,
        }
    }

    /// A recording (file, segments, images) rather than only a stream: the rooms table shows
    /// `REC` for those and `STREAM` for streams.
    #[must_use]
    pub fn records(&self) -> bool {
        self.destinations.iter().any(|destination| {
            matches!(
                destination,
                EgressDestination::File | EgressDestination::Segments | EgressDestination::Images
            )
        })
    }

    /// `file, stream`; `unknown` before the server said.
    #[must_use]
    pub fn destinations_label(&self) -> String {
        if self.destinations.is_empty() {
            return "unknown".to_owned();
        }
        self.destinations
            .iter()
            .map(|destination| destination.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// livekit timestamps its jobs in Unix nanoseconds; 0 means not yet.
fn nanos_to_ms(nanos: i64) -> Option<i64> {
    (nanos > 0).then_some(nanos / 1_000_000)
}

fn source_of(info: &proto::EgressInfo) -> &'static str {
    use proto::egress_info::Request;
    match &info.request {
        Some(Request::RoomComposite(_)) => "room composite",
        Some(Request::Web(_)) => "web",
        Some(Request::Participant(_)) => "participant",
        Some(Request::TrackComposite(_)) => "track composite",
        Some(Request::Track(_)) => "track",
        Some(Request::Replay(_)) => "replay",
        Some(Request::Egress(_)) | None => "egress",
    }
}

/// Where the job writes: from its results once the server reports them, else from what was
/// asked for.
fn destinations_of(info: &proto::EgressInfo) -> Vec<EgressDestination> {
    let mut found = Vec::new();
    let mut add = |present: bool, destination: EgressDestination| {
        if present && !found.contains(&destination) {
            found.push(destination);
        }
    };
    add(!info.file_results.is_empty(), EgressDestination::File);
    add(
        !info.segment_results.is_empty(),
        EgressDestination::Segments,
    );
    add(!info.stream_results.is_empty(), EgressDestination::Stream);
    add(!info.image_results.is_empty(), EgressDestination::Images);
    #[allow(deprecated)] // servers before the *_results lists fill only this one
    if let Some(result) = &info.result {
        use proto::egress_info::Result;
        add(matches!(result, Result::File(_)), EgressDestination::File);
        add(
            matches!(result, Result::Stream(_)),
            EgressDestination::Stream,
        );
        add(
            matches!(result, Result::Segments(_)),
            EgressDestination::Segments,
        );
    }
    if found.is_empty() {
        found = requested_destinations(info);
    }
    found
}

fn requested_destinations(info: &proto::EgressInfo) -> Vec<EgressDestination> {
    use proto::egress_info::Request;
    let from_outputs = |files: bool, segments: bool, streams: bool, images: bool| {
        [
            (files, EgressDestination::File),
            (segments, EgressDestination::Segments),
            (streams, EgressDestination::Stream),
            (images, EgressDestination::Images),
        ]
        .into_iter()
        .filter(|(asked, _)| *asked)
        .map(|(_, destination)| destination)
        .collect()
    };
    match &info.request {
        Some(Request::RoomComposite(r)) => from_outputs(
            !r.file_outputs.is_empty(),
            !r.segment_outputs.is_empty(),
            !r.stream_outputs.is_empty(),
            !r.image_outputs.is_empty(),
        ),
        Some(Request::Web(r)) => from_outputs(
            !r.file_outputs.is_empty(),
            !r.segment_outputs.is_empty(),
            !r.stream_outputs.is_empty(),
            !r.image_outputs.is_empty(),
        ),
        Some(Request::Participant(r)) => from_outputs(
            !r.file_outputs.is_empty(),
            !r.segment_outputs.is_empty(),
            !r.stream_outputs.is_empty(),
            !r.image_outputs.is_empty(),
        ),
        Some(Request::TrackComposite(r)) => from_outputs(
            !r.file_outputs.is_empty(),
            !r.segment_outputs.is_empty(),
            !r.stream_outputs.is_empty(),
            !r.image_outputs.is_empty(),
        ),
        Some(Request::Track(r)) => match &r.output {
            Some(proto::track_egress_request::Output::File(_)) => vec![EgressDestination::File],
            Some(proto::track_egress_request::Output::WebsocketUrl(_)) => {
                vec![EgressDestination::Websocket]
            }
            None => Vec::new(),
        },
        Some(Request::Replay(_) | Request::Egress(_)) | None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_recording_keeps_its_error_and_destination() {
        let info = proto::EgressInfo {
            egress_id: "EG_1".into(),
            room_name: "standup".into(),
            status: proto::EgressStatus::EgressFailed as i32,
            started_at: 2_000_000_000,
            updated_at: 3_000_000_000,
            error: "upload failed".into(),
            error_code: 500,
            request: Some(proto::egress_info::Request::RoomComposite(
                proto::RoomCompositeEgressRequest {
                    file_outputs: vec![proto::EncodedFileOutput::default()],
                    ..Default::default()
                },
            )),
            ..Default::default()
        };
        let summary = EgressSummary::from_proto(&info);
        assert_eq!(summary.status, EgressStatus::Failed);
        assert!(summary.status.is_failure());
        assert_eq!(
            EgressStatus::from_label(summary.status.label()),
            Some(EgressStatus::Failed)
        );
        assert_eq!(
            EgressStatus::from_label("limit reached"),
            Some(EgressStatus::LimitReached)
        );
        assert_eq!(summary.started_at_ms, Some(2_000));
        assert_eq!(summary.ended_at_ms, None);
        assert_eq!(summary.source, "room composite");
        assert_eq!(summary.destinations, vec![EgressDestination::File]);
        assert!(summary.records());
        assert_eq!(summary.error.as_deref(), Some("upload failed (code 500)"));
    }

    #[test]
    fn a_stream_is_told_by_its_results() {
        let info = proto::EgressInfo {
            status: proto::EgressStatus::EgressActive as i32,
            stream_results: vec![proto::StreamInfo::default()],
            ..Default::default()
        };
        let summary = EgressSummary::from_proto(&info);
        assert!(summary.status.is_running());
        assert!(!summary.records());
        assert_eq!(summary.destinations_label(), "stream");
    }
}
