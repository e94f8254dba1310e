//! Tracks: what a simulated participant publishes, MutePublishedTrack, and
//! UpdateSubscriptions' check that the tracks exist.

use livekit_protocol as proto;

use super::RoomStore;
use crate::twirp_error::{TwirpCode, TwirpError};

/// What a simulated participant publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSpec {
    pub kind: proto::TrackType,
    pub source: proto::TrackSource,
    pub name: String,
    pub muted: bool,
    /// The codec, `audio/opus`, `video/VP8`, `video/H264`…; the kind's usual one when empty.
    pub mime_type: String,
    /// A video track sent in three layers (low, medium, high), as browsers send cameras.
    pub simulcast: bool,
    /// End-to-end encrypted (`TrackInfo.encryption` GCM).
    pub encrypted: bool,
}

impl TrackSpec {
    #[must_use]
    pub fn microphone() -> Self {
        Self {
            kind: proto::TrackType::Audio,
            source: proto::TrackSource::Microphone,
            name: "microphone".to_owned(),
            muted: false,
            mime_type: String::new(),
            simulcast: false,
            encrypted: false,
        }
    }

    #[must_use]
    pub fn camera() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::Camera,
            name: "camera".to_owned(),
            muted: false,
            mime_type: String::new(),
            simulcast: true,
            encrypted: false,
        }
    }

    #[must_use]
    pub(crate) fn screen_share() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::ScreenShare,
            name: "screen".to_owned(),
            muted: false,
            mime_type: String::new(),
            simulcast: false,
            encrypted: false,
        }
    }
}

/// The layers a video track is sent in: three for simulcast (a quarter, half and full
/// resolution, at the bitrates browsers pick), else one at full resolution.
fn video_layers(
    kind: proto::TrackType,
    width: u32,
    height: u32,
    simulcast: bool,
) -> Vec<proto::VideoLayer> {
    if kind != proto::TrackType::Video || width == 0 {
        return Vec::new();
    }
    let layer = |quality: proto::VideoQuality, divisor: u32, bitrate: u32| proto::VideoLayer {
        quality: quality as i32,
        width: width / divisor,
        height: height / divisor,
        bitrate,
        ..proto::VideoLayer::default()
    };
    if simulcast {
        vec![
            layer(proto::VideoQuality::Low, 4, 150_000),
            layer(proto::VideoQuality::Medium, 2, 500_000),
            layer(proto::VideoQuality::High, 1, 1_700_000),
        ]
    } else {
        vec![layer(proto::VideoQuality::High, 1, 2_500_000)]
    }
}

/// The track as livekit-server describes it: the codec and its layers in `codecs`, and the
/// same layers in the fields older clients still read.
#[expect(
    deprecated,
    reason = "`simulcast` and `layers` are deprecated for `codecs`, but livekit-server still \
              fills them and older SDKs and tools read them"
)]
fn track_info(spec: &TrackSpec, sid: String, mime_type: &str) -> proto::TrackInfo {
    let (width, height) = match spec.source {
        proto::TrackSource::Camera => (1280, 720),
        proto::TrackSource::ScreenShare => (1920, 1080),
        _ => (0, 0),
    };
    let simulcast = spec.simulcast && spec.kind == proto::TrackType::Video;
    let encryption = if spec.encrypted {
        proto::encryption::Type::Gcm
    } else {
        proto::encryption::Type::None
    };
    let layers = video_layers(spec.kind, width, height, simulcast);
    let layer_mode = if layers.is_empty() {
        proto::video_layer::Mode::Unused
    } else {
        proto::video_layer::Mode::OneSpatialLayerPerStream
    };
    proto::TrackInfo {
        sid,
        r#type: spec.kind as i32,
        name: spec.name.clone(),
        muted: spec.muted,
        width,
        height,
        source: spec.source as i32,
        mime_type: mime_type.to_owned(),
        simulcast,
        layers: layers.clone(),
        codecs: vec![proto::SimulcastCodecInfo {
            mime_type: mime_type.to_owned(),
            layers,
            video_layer_mode: layer_mode as i32,
            ..proto::SimulcastCodecInfo::default()
        }],
        encryption: encryption as i32,
        ..proto::TrackInfo::default()
    }
}

impl RoomStore {
    /// A simulated participant publishing a track.
    ///
    /// # Errors
    /// `not_found` for a missing room or participant.
    pub fn publish(
        &mut self,
        room: &str,
        identity: &str,
        spec: &TrackSpec,
    ) -> Result<proto::TrackInfo, TwirpError> {
        let sid = self.sid("TR");
        let participant = self.room_mut(room)?.participant_mut(identity)?;
        let mime_type = match (spec.kind, spec.mime_type.is_empty()) {
            (_, false) => spec.mime_type.as_str(),
            (proto::TrackType::Audio, true) => "audio/opus",
            (proto::TrackType::Video, true) => "video/VP8",
            (proto::TrackType::Data, true) => "",
        };
        let track = track_info(spec, sid, mime_type);
        participant.tracks.push(track.clone());
        participant.is_publisher = true;
        participant.version += 1;
        if self.webhooks.is_some() {
            let entry = self.room(room)?;
            let (view, publisher) = (entry.view(), entry.participant(identity)?.clone());
            let now_ms = self.latest_ms;
            self.notify(
                "track_published",
                &view,
                Some(&publisher),
                Some(&track),
                now_ms,
            );
        }
        Ok(track)
    }

    /// # Errors
    /// `not_found` for a missing room, participant or track.
    pub(crate) fn mute_published_track(
        &mut self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> Result<proto::TrackInfo, TwirpError> {
        let participant = self.room_mut(room)?.participant_mut(identity)?;
        let track = participant
            .tracks
            .iter_mut()
            .find(|t| t.sid == track_sid)
            .ok_or_else(|| TwirpError::new(TwirpCode::NotFound, "track is not found"))?;
        track.muted = muted;
        let track = track.clone();
        participant.version += 1;
        Ok(track)
    }

    /// UpdateSubscriptions: checks that the participant and the tracks exist.
    ///
    /// # Errors
    /// `not_found` for a missing room, participant or track.
    pub(crate) fn update_subscriptions(
        &self,
        request: &proto::UpdateSubscriptionsRequest,
    ) -> Result<(), TwirpError> {
        let entry = self.room(&request.room)?;
        entry.participant(&request.identity)?;
        let published: Vec<&str> = entry
            .participants
            .iter()
            .flat_map(|p| p.tracks.iter().map(|t| t.sid.as_str()))
            .collect();
        let wanted = request.track_sids.iter().chain(
            request
                .participant_tracks
                .iter()
                .flat_map(|pt| pt.track_sids.iter()),
        );
        for sid in wanted {
            if !published.contains(&sid.as_str()) {
                return Err(TwirpError::new(
                    TwirpCode::NotFound,
                    format!("track {sid} is not found"),
                ));
            }
        }
        Ok(())
    }
}
