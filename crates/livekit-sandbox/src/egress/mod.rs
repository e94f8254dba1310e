//! Egress: recordings and streams of the rooms, as livekit-server and the egress service
//! report them through `livekit.Egress`.
//!
//! There is no media to record, so an egress is its [`proto::EgressInfo`] moved along by
//! simulated time: `EGRESS_STARTING`, `EGRESS_ACTIVE` once the recorder is up
//! ([`STARTING_MS`]), `EGRESS_ENDING` when stopped, `EGRESS_COMPLETE` once the upload is done
//! ([`ENDING_MS`]); or `EGRESS_FAILED` with an `error` and `error_code` when it was set to
//! fail, and `EGRESS_ABORTED` when its room went away before it was active. Each change goes
//! out as the `egress_started`, `egress_updated` or `egress_ended` webhook.
//!
//! The files: `outputs` (what the request asks for, as the results the info reports, stream
//! keys redacted), `lifecycle` (starting, stopping, the state machine) and `service` (the
//! Twirp methods).

mod lifecycle;
mod outputs;
pub(crate) mod service;

use livekit_protocol as proto;

pub(crate) use lifecycle::Ending;

/// How long an egress takes to become active (the recorder joining the room).
pub(crate) const STARTING_MS: i64 = 2_000;
/// How long an egress takes from stopped to complete (the last segment uploaded).
pub(crate) const ENDING_MS: i64 = 2_000;

/// One egress: its info and what moves it on.
#[derive(Debug, Clone)]
pub(crate) struct EgressRecord {
    info: proto::EgressInfo,
    /// When the current state moves on by itself (to ACTIVE, or to COMPLETE).
    next_at_ms: Option<i64>,
    /// When it ends by itself: stopped, or failed with an error (set by a scenario). Before
    /// it is active, the time counts from becoming active; after, it is simulated Unix ms.
    ending: Option<(i64, Ending)>,
    /// Recorded without video: decides the files' sizes.
    audio_only: bool,
}

/// Every egress the sandbox started, oldest first; ended ones stay listed, as the egress
/// store keeps them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Egresses {
    records: Vec<EgressRecord>,
}

impl Egresses {
    fn get_mut(&mut self, egress_id: &str) -> Option<&mut EgressRecord> {
        self.records
            .iter_mut()
            .find(|record| record.info.egress_id == egress_id)
    }

    /// Whether any egress of `room` is recording: `Room.active_recording`.
    fn recording(&self, room: &str) -> bool {
        self.records
            .iter()
            .any(|record| record.info.room_name == room && is_active(record.info.status))
    }
}

/// STARTING, ACTIVE and ENDING: what ListEgress's `active` keeps.
fn is_active(status: i32) -> bool {
    status <= proto::EgressStatus::EgressEnding as i32
}
