//! An egress from start to end: started for a room (or a web page), moved along by simulated
//! time, stopped, failed, or ended with its room; listed and updated.

use livekit_protocol as proto;

use super::outputs::{Outputs, mark_ended, mark_started, redact_request};
use super::{ENDING_MS, EgressRecord, STARTING_MS, is_active};
use crate::rooms::RoomStore;
use crate::twirp_error::{TwirpCode, TwirpError};

/// How an egress ends by itself, when a scenario says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Stopped, as by StopEgress: ENDING, then COMPLETE.
    Stop,
    /// FAILED with this error (and `error_code` 500), as when the pipeline breaks.
    Fail(String),
}

/// What the egress service reports when the source of a recording went away.
const SOURCE_CLOSED: &str = "End reason: Source closed";
/// The egress service's error when it is torn down before it ever started.
const START_NOT_RECEIVED: &str = "Start signal not received";

fn not_found() -> TwirpError {
    TwirpError::new(TwirpCode::NotFound, "egress does not exist")
}

fn status_name(status: i32) -> &'static str {
    proto::EgressStatus::try_from(status).map_or("EGRESS_UNKNOWN", |s| s.as_str_name())
}

fn nanos(ms: i64) -> i64 {
    ms.saturating_mul(1_000_000)
}

impl RoomStore {
    /// Starts an egress for `request` (its room must exist, unless it records a web page).
    ///
    /// # Errors
    /// `not_found` for a missing room, `invalid_argument` for a request without outputs.
    pub(crate) fn start_egress(
        &mut self,
        mut request: proto::egress_info::Request,
        now_ms: i64,
    ) -> Result<proto::EgressInfo, TwirpError> {
        use proto::egress_info::Request;
        let (room_name, outputs) = match &request {
            Request::RoomComposite(r) => (r.room_name.clone(), Outputs::of_room_composite(r)),
            Request::Web(r) => (String::new(), Outputs::of_web(r)),
            Request::Participant(r) => (r.room_name.clone(), Outputs::of_participant(r)),
            Request::TrackComposite(r) => (r.room_name.clone(), Outputs::of_track_composite(r)),
            Request::Track(r) => (r.room_name.clone(), Outputs::of_track(r)),
            Request::Egress(_) | Request::Replay(_) => {
                return Err(TwirpError::new(
                    TwirpCode::Unimplemented,
                    "the sandbox starts egress through the per-source methods \
                     (StartRoomCompositeEgress, StartTrackEgress, …)",
                ));
            }
        };
        // A page rendered by a browser (the composite's layout or a web page) or the room's
        // tracks as published.
        let source_type = if matches!(request, Request::RoomComposite(_) | Request::Web(_)) {
            proto::EgressSourceType::Web
        } else {
            proto::EgressSourceType::Sdk
        };
        if let Request::RoomComposite(r) = &request
            && r.room_name.is_empty()
        {
            return Err(TwirpError::invalid("no room name"));
        }
        let room_id = if room_name.is_empty() {
            String::new()
        } else {
            self.room_view(&room_name)?.sid
        };
        if outputs.is_empty() {
            return Err(TwirpError::invalid(
                "request has missing or invalid field: output",
            ));
        }
        redact_request(&mut request);
        let mut info = proto::EgressInfo {
            egress_id: self.sid("EG"),
            room_id,
            room_name,
            source_type: source_type as i32,
            status: proto::EgressStatus::EgressStarting as i32,
            updated_at: nanos(now_ms),
            request: Some(request),
            ..proto::EgressInfo::default()
        };
        outputs.results(&mut info, now_ms);
        self.egress.records.push(EgressRecord {
            info: info.clone(),
            next_at_ms: Some(now_ms + STARTING_MS),
            ending: None,
            audio_only: outputs.audio_only(),
        });
        self.notify_egress("egress_started", &info, now_ms);
        Ok(info)
    }

    /// Sets how an egress ends by itself, `after_ms` after it became active.
    pub(crate) fn end_egress_after(&mut self, egress_id: &str, after_ms: i64, ending: Ending) {
        if let Some(record) = self.egress.get_mut(egress_id) {
            record.ending = Some((after_ms, ending));
        }
    }

    /// StopEgress: a STARTING or ACTIVE egress goes ENDING, and COMPLETE shortly after.
    ///
    /// # Errors
    /// `not_found` "egress does not exist"; `failed_precondition` "egress with status … cannot
    /// be stopped" once it is ending or ended (livekit-server's `StopEgress`).
    pub(crate) fn stop_egress(
        &mut self,
        egress_id: &str,
        now_ms: i64,
    ) -> Result<proto::EgressInfo, TwirpError> {
        let record = self.egress.get_mut(egress_id).ok_or_else(not_found)?;
        let status = record.info.status;
        if status != proto::EgressStatus::EgressStarting as i32
            && status != proto::EgressStatus::EgressActive as i32
        {
            return Err(TwirpError::new(
                TwirpCode::FailedPrecondition,
                format!(
                    "egress with status {} cannot be stopped",
                    status_name(status)
                ),
            ));
        }
        record.info.status = proto::EgressStatus::EgressEnding as i32;
        record.info.updated_at = nanos(now_ms);
        record.next_at_ms = Some(now_ms + ENDING_MS);
        record.ending = None;
        let info = record.info.clone();
        self.notify_egress("egress_updated", &info, now_ms);
        Ok(info)
    }

    /// ListEgress: every egress, or those of a room, or one; `active` keeps those not ended.
    ///
    /// # Errors
    /// `not_found` for an `egress_id` that names none.
    pub(crate) fn list_egress(
        &self,
        request: &proto::ListEgressRequest,
    ) -> Result<Vec<proto::EgressInfo>, TwirpError> {
        let items: Vec<proto::EgressInfo> = self
            .egress
            .records
            .iter()
            .map(|record| &record.info)
            .filter(|info| request.room_name.is_empty() || info.room_name == request.room_name)
            .filter(|info| request.egress_id.is_empty() || info.egress_id == request.egress_id)
            .filter(|info| !request.active || is_active(info.status))
            .cloned()
            .collect();
        if !request.egress_id.is_empty()
            && !self
                .egress
                .records
                .iter()
                .any(|record| record.info.egress_id == request.egress_id)
        {
            return Err(not_found());
        }
        Ok(items)
    }

    /// UpdateLayout: the room composite's layout changes (the recorder's page would follow).
    ///
    /// # Errors
    /// `not_found` "egress does not exist".
    pub(crate) fn update_egress_layout(
        &mut self,
        egress_id: &str,
        layout: &str,
        now_ms: i64,
    ) -> Result<proto::EgressInfo, TwirpError> {
        let record = self.egress.get_mut(egress_id).ok_or_else(not_found)?;
        if let Some(proto::egress_info::Request::RoomComposite(request)) = &mut record.info.request
        {
            layout.clone_into(&mut request.layout);
        }
        record.info.updated_at = nanos(now_ms);
        Ok(record.info.clone())
    }

    /// UpdateStream: stream URLs added to or removed from a running egress.
    ///
    /// # Errors
    /// `not_found`, or `failed_precondition` for an egress that is no longer running.
    pub(crate) fn update_egress_stream(
        &mut self,
        request: &proto::UpdateStreamRequest,
        now_ms: i64,
    ) -> Result<proto::EgressInfo, TwirpError> {
        let record = self
            .egress
            .get_mut(&request.egress_id)
            .ok_or_else(not_found)?;
        let status = record.info.status;
        if !is_active(status) || status == proto::EgressStatus::EgressEnding as i32 {
            return Err(TwirpError::new(
                TwirpCode::FailedPrecondition,
                format!(
                    "egress with status {} cannot be updated",
                    status_name(status)
                ),
            ));
        }
        let removed: Vec<String> = request
            .remove_output_urls
            .iter()
            .map(|url| super::outputs::redact_stream_key(url))
            .collect();
        let ended_ns = nanos(now_ms);
        for stream in &mut record.info.stream_results {
            if removed.contains(&stream.url) {
                stream.status = proto::stream_info::Status::Finished as i32;
                stream.ended_at = ended_ns;
            }
        }
        let started_at = if status == proto::EgressStatus::EgressActive as i32 {
            ended_ns
        } else {
            0
        };
        for url in &request.add_output_urls {
            record.info.stream_results.push(proto::StreamInfo {
                url: super::outputs::redact_stream_key(url),
                started_at,
                status: proto::stream_info::Status::Active as i32,
                ..proto::StreamInfo::default()
            });
        }
        record.info.updated_at = ended_ns;
        let info = record.info.clone();
        self.notify_egress("egress_updated", &info, now_ms);
        Ok(info)
    }

    /// The room's egress ends with it: an active one completes (its source closed), one
    /// still starting is aborted.
    pub(crate) fn end_egress_of_room(&mut self, room: &str, now_ms: i64) {
        let mut changed = Vec::new();
        for record in &mut self.egress.records {
            if record.info.room_name != room {
                continue;
            }
            let status = record.info.status;
            if status == proto::EgressStatus::EgressStarting as i32 {
                record.info.status = proto::EgressStatus::EgressAborted as i32;
                START_NOT_RECEIVED.clone_into(&mut record.info.error);
                record.info.ended_at = nanos(now_ms);
                record.next_at_ms = None;
                mark_ended(&mut record.info, nanos(now_ms), true, record.audio_only);
                changed.push(("egress_ended", record.info.clone()));
            } else if status == proto::EgressStatus::EgressActive as i32 {
                record.info.status = proto::EgressStatus::EgressEnding as i32;
                SOURCE_CLOSED.clone_into(&mut record.info.details);
                record.next_at_ms = Some(now_ms + ENDING_MS);
                changed.push(("egress_updated", record.info.clone()));
            } else {
                continue;
            }
            record.info.updated_at = nanos(now_ms);
            record.ending = None;
        }
        for (event, info) in changed {
            self.notify_egress(event, &info, now_ms);
        }
    }

    /// Moves every egress whose time came on: STARTING to ACTIVE, ACTIVE to ENDING (when set
    /// to stop) or FAILED, ENDING to COMPLETE.
    pub(crate) fn advance_egress(&mut self, now_ms: i64) {
        use proto::EgressStatus as Status;
        let mut changed = Vec::new();
        for record in &mut self.egress.records {
            let status = record.info.status;
            if status == Status::EgressStarting as i32
                && record.next_at_ms.is_some_and(|at| now_ms >= at)
            {
                record.info.status = Status::EgressActive as i32;
                record.info.started_at = nanos(now_ms);
                mark_started(&mut record.info, nanos(now_ms));
                record.next_at_ms = None;
                if let Some((after, ending)) = record.ending.take() {
                    record.ending = Some((now_ms + after, ending));
                }
            } else if status == Status::EgressActive as i32
                && let Some((at, ending)) = record.ending.clone()
                && now_ms >= at
            {
                record.ending = None;
                match ending {
                    Ending::Stop => {
                        record.info.status = Status::EgressEnding as i32;
                        record.next_at_ms = Some(now_ms + ENDING_MS);
                    }
                    Ending::Fail(error) => {
                        record.info.status = Status::EgressFailed as i32;
                        record.info.error = error;
                        record.info.error_code = 500;
                        record.info.ended_at = nanos(now_ms);
                        mark_ended(&mut record.info, nanos(now_ms), true, record.audio_only);
                    }
                }
            } else if status == Status::EgressEnding as i32
                && record.next_at_ms.is_some_and(|at| now_ms >= at)
            {
                record.info.status = Status::EgressComplete as i32;
                record.info.ended_at = nanos(now_ms);
                mark_ended(&mut record.info, nanos(now_ms), false, record.audio_only);
                record.next_at_ms = None;
            } else {
                continue;
            }
            record.info.updated_at = nanos(now_ms);
            let event = if is_active(record.info.status) {
                "egress_updated"
            } else {
                "egress_ended"
            };
            changed.push((event, record.info.clone()));
        }
        for (event, info) in changed {
            self.notify_egress(event, &info, now_ms);
        }
    }

    /// An egress webhook, and `Room.active_recording` kept in step.
    fn notify_egress(&mut self, event: &str, info: &proto::EgressInfo, now_ms: i64) {
        if !info.room_name.is_empty() {
            let recording = self.egress.recording(&info.room_name);
            self.set_recording(&info.room_name, recording);
        }
        self.notify_event(
            proto::WebhookEvent {
                event: event.to_owned(),
                egress_info: Some(info.clone()),
                ..proto::WebhookEvent::default()
            },
            now_ms,
        );
    }
}
