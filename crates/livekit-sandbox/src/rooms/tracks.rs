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
}

impl TrackSpec {
    #[must_use]
    pub fn microphone() -> Self {
        Self {
            kind: proto::TrackType::Audio,
            source: proto::TrackSource::Microphone,
            name: "microphone".to_owned(),
            muted: false,
        }
    }

    #[must_use]
    pub fn camera() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::Camera,
            name: "camera".to_owned(),
            muted: false,
        }
    }

    #[must_use]
    pub(crate) fn screen_share() -> Self {
        Self {
            kind: proto::TrackType::Video,
            source: proto::TrackSource::ScreenShare,
            name: "screen".to_owned(),
            muted: false,
        }
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
        let (width, height) = match spec.source {
            proto::TrackSource::Camera => (1280, 720),
            proto::TrackSource::ScreenShare => (1920, 1080),
            _ => (0, 0),
        };
        let mime_type = match spec.kind {
            proto::TrackType::Audio => "audio/opus",
            proto::TrackType::Video => "video/VP8",
            proto::TrackType::Data => "",
        };
        let track = proto::TrackInfo {
            sid,
            r#type: spec.kind as i32,
            name: spec.name.clone(),
            muted: spec.muted,
            width,
            height,
            source: spec.source as i32,
            mime_type: mime_type.to_owned(),
            ..proto::TrackInfo::default()
        };
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
