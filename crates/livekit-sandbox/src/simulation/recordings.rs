//! The scenario's egress: a room composite recording or stream started when due, set to
//! stop after its duration or to fail.

use livekit_protocol as proto;

use super::events::SimEvent;
use super::schedule::next_due;
use super::{Simulation, millis};
use crate::egress::Ending;
use crate::rooms::RoomStore;
use crate::scenario::ScheduledEgress;

impl Simulation {
    /// Starts each scheduled egress that became due by `elapsed_ms`.
    pub(super) fn start_due_egress(
        &mut self,
        store: &mut RoomStore,
        elapsed_ms: i64,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        for (egress, due) in self.scenario.egress.iter().zip(&mut self.egress_due) {
            let Some(at) = *due else { continue };
            if elapsed_ms < at {
                continue;
            }
            *due = next_due(millis(egress.at), egress.every, elapsed_ms);
            match store.start_egress(request(egress), now_ms) {
                Ok(info) => {
                    let ending = match egress.fail_after {
                        Some(after) => (millis(after.get()), Ending::Fail(egress.error.clone())),
                        None => (millis(egress.duration.get()), Ending::Stop),
                    };
                    store.end_egress_after(&info.egress_id, ending.0, ending.1);
                    events.push(SimEvent::EgressStarted {
                        room: egress.room.clone(),
                        egress_id: info.egress_id,
                    });
                }
                Err(err) => {
                    tracing::debug!(room = %egress.room, %err, "a scheduled egress did not start");
                }
            }
        }
    }
}

/// The room composite request a scheduled egress makes.
fn request(egress: &ScheduledEgress) -> proto::egress_info::Request {
    let mut request = proto::RoomCompositeEgressRequest {
        room_name: egress.room.clone(),
        layout: "grid".to_owned(),
        ..proto::RoomCompositeEgressRequest::default()
    };
    if let Some(file) = &egress.file {
        request.file_outputs.push(proto::EncodedFileOutput {
            file_type: proto::EncodedFileType::Mp4 as i32,
            filepath: file.clone(),
            ..proto::EncodedFileOutput::default()
        });
    }
    if let Some(url) = &egress.stream {
        request.stream_outputs.push(proto::StreamOutput {
            protocol: proto::StreamProtocol::Rtmp as i32,
            urls: vec![url.clone()],
        });
    }
    proto::egress_info::Request::RoomComposite(request)
}
