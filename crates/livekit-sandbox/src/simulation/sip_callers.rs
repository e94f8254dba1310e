//! Phone callers: participants of kind SIP joining a room through a trunk at the scenario's
//! rate, with the attributes LiveKit SIP gives them, and hanging up (or being dropped by
//! the trunk) when their call's length is up.

use std::collections::HashMap;

use livekit_protocol as proto;
use rand::Rng;

use super::events::SimEvent;
use super::odds::poisson;
use super::{Simulation, StepTime, millis};
use crate::rooms::{Joining, RoomStore, TrackSpec};
use crate::scenario::SipCallers;

/// A call in progress.
#[derive(Debug, Clone)]
pub(super) struct Call {
    identity: String,
    ends_at_ms: i64,
    /// The trunk drops it (`SIP_TRUNK_FAILURE`) rather than the caller hanging up.
    trunk_fails: bool,
}

impl Simulation {
    pub(super) fn step_sip_callers(
        &mut self,
        store: &mut RoomStore,
        step: StepTime,
        events: &mut Vec<SimEvent>,
    ) {
        for (index, callers) in self.scenario.sip_callers.iter().enumerate() {
            let calls = &mut self.calls[index];
            calls.retain(|call| {
                if step.now_ms < call.ends_at_ms {
                    return store.get_participant(&callers.room, &call.identity).is_ok();
                }
                let reason = if call.trunk_fails {
                    proto::DisconnectReason::SipTrunkFailure
                } else {
                    proto::DisconnectReason::ClientInitiated
                };
                if store
                    .remove_participant(&callers.room, &call.identity, reason, step.now_ms)
                    .is_ok()
                {
                    events.push(SimEvent::SipCallEnded {
                        room: callers.room.clone(),
                        identity: call.identity.clone(),
                        trunk_failure: call.trunk_fails,
                    });
                }
                false
            });
            if !store.has_room(&callers.room) {
                continue;
            }
            let rng = &mut self.service_rng;
            for _ in 0..poisson(rng, callers.call_rate * step.minutes) {
                if calls.len() >= callers.max as usize {
                    break;
                }
                let Some(call) = place_call(store, callers, rng, step.now_ms) else {
                    break;
                };
                events.push(SimEvent::SipCallJoined {
                    room: callers.room.clone(),
                    identity: call.identity.clone(),
                });
                calls.push(call);
            }
        }
    }
}

/// A caller from a random number joins, as LiveKit SIP puts one in a room: identity
/// `sip_+1…`, kind SIP, the `sip.*` attributes, one audio track.
fn place_call(
    store: &mut RoomStore,
    callers: &SipCallers,
    rng: &mut rand_chacha::ChaCha8Rng,
    now_ms: i64,
) -> Option<Call> {
    let number = format!("+1{}", rng.random_range(2_000_000_000_u64..9_999_999_999));
    let call_id = format!("SCL_{}", store.sid("").trim_start_matches('_'));
    let identity = format!("sip_{number}");
    let attributes = HashMap::from([
        ("sip.callID".to_owned(), call_id),
        ("sip.phoneNumber".to_owned(), number.clone()),
        (
            "sip.trunkPhoneNumber".to_owned(),
            callers.trunk_number.clone(),
        ),
        ("sip.callStatus".to_owned(), "active".to_owned()),
    ]);
    let joining = Joining {
        identity: identity.clone(),
        name: format!("Phone {number}"),
        kind: proto::participant_info::Kind::Sip,
        metadata: String::new(),
        attributes,
    };
    if let Err(err) = store.join_as(&callers.room, joining, now_ms) {
        tracing::debug!(room = %callers.room, %err, "a simulated call was refused");
        return None;
    }
    let voice = TrackSpec {
        name: "phone".to_owned(),
        ..TrackSpec::microphone()
    };
    let _track = store.publish(&callers.room, &identity, &voice);
    let (min, max) = (
        millis(callers.call_length.min.get()),
        millis(callers.call_length.max.get()),
    );
    let length = if max <= min {
        min
    } else {
        rng.random_range(min..=max)
    };
    Some(Call {
        identity,
        ends_at_ms: now_ms + length,
        trunk_fails: rng.random::<f64>() < callers.trunk_failure,
    })
}
