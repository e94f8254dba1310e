//! An ingress from creation to deletion: created, updated, listed, deleted, and moved along
//! by simulated time while a stream comes in.

use livekit_protocol as proto;
use proto::ingress_state::Status;

use super::{BUFFERING_MS, IngressRecord};
use crate::rooms::{Joining, RoomStore, TrackSpec};
use crate::twirp_error::{TwirpCode, TwirpError};

fn not_found() -> TwirpError {
    TwirpError::new(TwirpCode::NotFound, "ingress does not exist")
}

fn state(record: &IngressRecord) -> i32 {
    record.info.state.as_ref().map_or(0, |state| state.status)
}

/// Transcoding on or off, in both the field livekit-server reads and the one it still fills
/// for older clients.
#[expect(
    deprecated,
    reason = "`bypass_transcoding` is deprecated, but livekit-server still fills it for older \
              clients"
)]
fn set_transcoding(info: &mut proto::IngressInfo, enable: bool) {
    info.enable_transcoding = Some(enable);
    info.bypass_transcoding = !enable;
}

/// Where a stream that stopped leaves its ingress: ready for the next one, or done for good.
fn stopped(info: &proto::IngressInfo) -> Status {
    if info.reusable {
        Status::EndpointInactive
    } else {
        Status::EndpointComplete
    }
}

/// The name of a published track: the one asked for, or `fallback`.
fn track_name(asked: Option<&str>, fallback: &str) -> String {
    asked
        .filter(|name| !name.is_empty())
        .unwrap_or(fallback)
        .to_owned()
}

fn nanos(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000)
}

/// livekit's `guid.New("")`: 12 letters or digits, the stream key.
fn stream_key(store: &mut RoomStore) -> String {
    store.sid("").trim_start_matches('_').to_owned()
}

impl RoomStore {
    /// CreateIngress. With `receiving`, a stream comes in at once.
    ///
    /// # Errors
    /// `invalid_argument` for a URL ingress without a usable URL, or without a participant
    /// identity (livekit/protocol `ingress.ValidateForSerialization`).
    pub(crate) fn create_ingress(
        &mut self,
        request: &proto::CreateIngressRequest,
        receiving: bool,
    ) -> Result<proto::IngressInfo, TwirpError> {
        let input = proto::IngressInput::try_from(request.input_type)
            .map_err(|_| TwirpError::invalid("unsupported input type"))?;
        let url = match input {
            proto::IngressInput::RtmpInput => self.ingress.rtmp_url.clone(),
            proto::IngressInput::WhipInput => self.ingress.whip_url.clone(),
            proto::IngressInput::UrlInput => {
                if request.url.is_empty() {
                    return Err(TwirpError::invalid("missing URL parameter"));
                }
                let scheme = request.url.split("://").next().unwrap_or_default();
                if !matches!(scheme, "http" | "https" | "srt") || !request.url.contains("://") {
                    return Err(TwirpError::invalid(format!("invalid url scheme {scheme}")));
                }
                request.url.clone()
            }
        };
        if request.participant_identity.is_empty() {
            return Err(TwirpError::invalid("no participant identity"));
        }
        let whip = input == proto::IngressInput::WhipInput;
        let enable_transcoding = request.enable_transcoding.unwrap_or(!whip);
        let mut info = proto::IngressInfo {
            ingress_id: self.sid("IN"),
            name: request.name.clone(),
            stream_key: if input == proto::IngressInput::UrlInput {
                String::new()
            } else {
                stream_key(self)
            },
            url,
            input_type: input as i32,
            audio: request.audio.clone(),
            video: request.video.clone(),
            room_name: request.room_name.clone(),
            participant_identity: request.participant_identity.clone(),
            participant_name: request.participant_name.clone(),
            participant_metadata: request.participant_metadata.clone(),
            reusable: input != proto::IngressInput::UrlInput,
            state: Some(proto::IngressState::default()),
            enabled: request.enabled,
            ..proto::IngressInfo::default()
        };
        set_transcoding(&mut info, enable_transcoding);
        self.ingress.records.push(IngressRecord {
            info: info.clone(),
            receiving,
            publish_at_ms: None,
            publishing_as: None,
        });
        Ok(info)
    }

    /// UpdateIngress: the fields given replace the ingress's own (livekit-server's
    /// `updateInfoUsingRequest`); a failed ingress is reset to inactive first.
    ///
    /// # Errors
    /// `not_found`; `invalid_argument` for an ingress that is not reusable.
    pub(crate) fn update_ingress(
        &mut self,
        request: &proto::UpdateIngressRequest,
    ) -> Result<proto::IngressInfo, TwirpError> {
        let record = self
            .ingress
            .get_mut(&request.ingress_id)
            .ok_or_else(not_found)?;
        let info = &mut record.info;
        if !info.reusable {
            return Err(TwirpError::invalid(
                "ingress is not reusable and cannot be modified",
            ));
        }
        if let Some(state) = &mut info.state
            && state.status == Status::EndpointError as i32
        {
            state.status = Status::EndpointInactive as i32;
        }
        let replace = |target: &mut String, value: &String| {
            if !value.is_empty() {
                target.clone_from(value);
            }
        };
        replace(&mut info.name, &request.name);
        replace(&mut info.room_name, &request.room_name);
        replace(
            &mut info.participant_identity,
            &request.participant_identity,
        );
        replace(&mut info.participant_name, &request.participant_name);
        replace(
            &mut info.participant_metadata,
            &request.participant_metadata,
        );
        if let Some(enable) = request.enable_transcoding {
            set_transcoding(info, enable);
        }
        if request.audio.is_some() {
            info.audio.clone_from(&request.audio);
        }
        if request.video.is_some() {
            info.video.clone_from(&request.video);
        }
        if request.enabled.is_some() {
            info.enabled = request.enabled;
        }
        Ok(info.clone())
    }

    /// ListIngress: every ingress, those of a room, or one.
    ///
    /// # Errors
    /// `not_found` for an `ingress_id` that names none.
    pub(crate) fn list_ingress(
        &self,
        request: &proto::ListIngressRequest,
    ) -> Result<Vec<proto::IngressInfo>, TwirpError> {
        if !request.ingress_id.is_empty() {
            return self
                .ingress
                .records
                .iter()
                .find(|record| record.info.ingress_id == request.ingress_id)
                .map(|record| vec![record.info.clone()])
                .ok_or_else(not_found);
        }
        Ok(self
            .ingress
            .records
            .iter()
            .filter(|r| request.room_name.is_empty() || r.info.room_name == request.room_name)
            .map(|record| record.info.clone())
            .collect())
    }

    /// DeleteIngress: a stream coming in stops, its participant leaves; the answer shows the
    /// ingress inactive, as livekit-server's.
    ///
    /// # Errors
    /// `not_found` "ingress does not exist".
    pub(crate) fn delete_ingress(
        &mut self,
        ingress_id: &str,
        now_ms: i64,
    ) -> Result<proto::IngressInfo, TwirpError> {
        let index = self.ingress.index_of(ingress_id).ok_or_else(not_found)?;
        self.end_stream(index, Status::EndpointInactive, None, now_ms);
        let record = self.ingress.records.remove(index);
        Ok(record.info)
    }

    /// A scenario's encoder starting or stopping its stream.
    pub(crate) fn feed_ingress(&mut self, ingress_id: &str, receiving: bool) {
        if let Some(record) = self.ingress.get_mut(ingress_id) {
            record.receiving = receiving;
        }
    }

    /// A scenario's stream breaking: the ingress ends in `ENDPOINT_ERROR` with `error`.
    pub(crate) fn fail_ingress(&mut self, ingress_id: &str, error: &str, now_ms: i64) {
        if let Some(index) = self.ingress.index_of(ingress_id) {
            self.end_stream(index, Status::EndpointError, Some(error), now_ms);
        }
    }

    /// The stream into a room that went away stops with it.
    pub(crate) fn stop_ingress_of_room(&mut self, room: &str, now_ms: i64) {
        for index in 0..self.ingress.records.len() {
            let record = &self.ingress.records[index];
            if record
                .publishing_as
                .as_ref()
                .is_some_and(|(r, _)| r == room)
                || (record.info.room_name == room
                    && state(record) == Status::EndpointBuffering as i32)
            {
                self.end_stream(index, stopped(&record.info), None, now_ms);
            }
        }
    }

    /// Stops the stream of ingress `index` if one comes in: its participant leaves, the state
    /// becomes `status`, and `ingress_ended` goes out.
    fn end_stream(&mut self, index: usize, status: Status, error: Option<&str>, now_ms: i64) {
        let record = &mut self.ingress.records[index];
        let was = state(record);
        record.receiving = false;
        record.publish_at_ms = None;
        let publishing_as = record.publishing_as.take();
        let running =
            was == Status::EndpointBuffering as i32 || was == Status::EndpointPublishing as i32;
        if let Some(state) = &mut record.info.state {
            if running || status == Status::EndpointError {
                state.status = status as i32;
                state.ended_at = nanos(now_ms);
                state.updated_at = nanos(now_ms);
                state.tracks.clear();
            }
            if let Some(error) = error {
                error.clone_into(&mut state.error);
            }
        }
        let info = record.info.clone();
        if let Some((room, identity)) = publishing_as {
            let reason = if error.is_some() {
                proto::DisconnectReason::MediaFailure
            } else {
                proto::DisconnectReason::ClientInitiated
            };
            let _gone = self.remove_participant(&room, &identity, reason, now_ms);
        }
        if running {
            self.notify_ingress("ingress_ended", &info, now_ms);
        }
    }

    /// Moves every ingress along: a stream coming in to BUFFERING, then PUBLISHING with its
    /// participant in the room; a stream that stopped, or a participant removed from the
    /// room, back to INACTIVE (COMPLETE for a URL ingress).
    pub(crate) fn advance_ingress(&mut self, now_ms: i64) {
        for index in 0..self.ingress.records.len() {
            let record = &mut self.ingress.records[index];
            let status = state(record);
            let enabled = record.info.enabled != Some(false);
            if record.receiving && enabled && status != Status::EndpointError as i32 {
                if status == Status::EndpointInactive as i32 && !record.info.room_name.is_empty() {
                    if let Some(state) = &mut record.info.state {
                        *state = proto::IngressState {
                            status: Status::EndpointBuffering as i32,
                            started_at: nanos(now_ms),
                            updated_at: nanos(now_ms),
                            resource_id: format!("IR_{}", &record.info.ingress_id[3..]),
                            ..proto::IngressState::default()
                        };
                    }
                    record.publish_at_ms = Some(now_ms + BUFFERING_MS);
                } else if status == Status::EndpointBuffering as i32
                    && record.publish_at_ms.is_some_and(|at| now_ms >= at)
                {
                    self.start_publishing(index, now_ms);
                } else if status == Status::EndpointPublishing as i32
                    && let Some((room, identity)) = record.publishing_as.clone()
                    && self.get_participant(&room, &identity).is_err()
                {
                    self.end_stream(index, Status::EndpointInactive, None, now_ms);
                }
            } else if !record.receiving
                && (status == Status::EndpointBuffering as i32
                    || status == Status::EndpointPublishing as i32)
            {
                let done = stopped(&record.info);
                self.end_stream(index, done, None, now_ms);
            }
        }
    }

    /// The ingress's participant joins its room and publishes the stream's audio and video.
    fn start_publishing(&mut self, index: usize, now_ms: i64) {
        let info = self.ingress.records[index].info.clone();
        let room = info.room_name.clone();
        let identity = info.participant_identity.clone();
        let joining = Joining {
            identity: identity.clone(),
            name: if info.participant_name.is_empty() {
                identity.clone()
            } else {
                info.participant_name.clone()
            },
            kind: proto::participant_info::Kind::Ingress,
            metadata: info.participant_metadata.clone(),
            attributes: std::collections::HashMap::new(),
        };
        if let Err(err) = self.join_as(&room, joining, now_ms) {
            self.end_stream(index, Status::EndpointError, Some(&err.msg), now_ms);
            return;
        }
        let mut tracks = Vec::new();
        let video_name = track_name(
            info.video.as_ref().map(|video| video.name.as_str()),
            "video",
        );
        let audio_name = track_name(
            info.audio.as_ref().map(|audio| audio.name.as_str()),
            "audio",
        );
        let transcoded = info.enable_transcoding.unwrap_or(true);
        for spec in [
            TrackSpec {
                name: audio_name,
                ..TrackSpec::microphone()
            },
            TrackSpec {
                name: video_name,
                mime_type: "video/H264".to_owned(),
                // Transcoding produces the simulcast layers; a passed-through stream has one.
                simulcast: transcoded,
                ..TrackSpec::camera()
            },
        ] {
            if let Ok(track) = self.publish(&room, &identity, &spec) {
                tracks.push(track);
            }
        }
        let room_id = self.room_view(&room).map(|r| r.sid).unwrap_or_default();
        let record = &mut self.ingress.records[index];
        record.publishing_as = Some((room, identity));
        record.publish_at_ms = None;
        if let Some(state) = &mut record.info.state {
            state.status = Status::EndpointPublishing as i32;
            state.updated_at = nanos(now_ms);
            state.room_id = room_id;
            state.tracks = tracks;
            state.video = Some(proto::InputVideoState {
                mime_type: "video/H264".to_owned(),
                average_bitrate: 4_500_000,
                width: 1920,
                height: 1080,
                framerate: 30.0,
            });
            state.audio = Some(proto::InputAudioState {
                mime_type: "audio/aac".to_owned(),
                average_bitrate: 128_000,
                channels: 2,
                sample_rate: 48_000,
            });
        }
        let info = record.info.clone();
        self.notify_ingress("ingress_started", &info, now_ms);
    }

    fn notify_ingress(&mut self, event: &str, info: &proto::IngressInfo, now_ms: i64) {
        let room = self.room_view(&info.room_name).ok();
        self.notify_event(
            proto::WebhookEvent {
                event: event.to_owned(),
                ingress_info: Some(info.clone()),
                room,
                ..proto::WebhookEvent::default()
            },
            now_ms,
        );
    }
}
