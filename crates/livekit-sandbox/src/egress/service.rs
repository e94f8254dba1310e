//! The `livekit.Egress` methods: decode the request, check `roomRecord`, act on the egress,
//! encode the answer.

use bytes::Bytes;
use livekit_protocol as proto;

use crate::auth::{Grant, require};
use crate::service::Call;
use crate::twirp_error::{TwirpCode, TwirpError};

/// Every method of `livekit.Egress`, as named in the URL path (the
/// routing test's list).
#[cfg(test)]
pub(crate) const METHODS: [&str; 10] = [
    "StartRoomCompositeEgress",
    "StartWebEgress",
    "StartParticipantEgress",
    "StartTrackCompositeEgress",
    "StartTrackEgress",
    "StartEgress",
    "UpdateLayout",
    "UpdateStream",
    "ListEgress",
    "StopEgress",
];

/// Runs the Egress `method`.
///
/// # Errors
/// `bad_route` for an unknown method, `malformed` for a body that does not decode,
/// `unauthenticated` without `roomRecord`, and what the egress refuses.
pub fn handle(method: &str, call: &Call<'_>) -> Result<Bytes, TwirpError> {
    use proto::egress_info::Request;
    let request = match method {
        "StartRoomCompositeEgress" => Request::RoomComposite(call.decode()?),
        "StartWebEgress" => Request::Web(call.decode()?),
        "StartParticipantEgress" => Request::Participant(call.decode()?),
        "StartTrackCompositeEgress" => Request::TrackComposite(call.decode()?),
        "StartTrackEgress" => Request::Track(call.decode()?),
        "StartEgress" => {
            let _: proto::StartEgressRequest = call.decode()?;
            require(call.claims, &Grant::RoomRecord)?;
            return Err(TwirpError::new(
                TwirpCode::Unimplemented,
                "the sandbox starts egress through the per-source methods \
                 (StartRoomCompositeEgress, StartTrackEgress, …)",
            ));
        }
        "UpdateLayout" => {
            let request: proto::UpdateLayoutRequest = call.decode()?;
            require(call.claims, &Grant::RoomRecord)?;
            let info = call.with_store(|store, now| {
                store.update_egress_layout(&request.egress_id, &request.layout, now)
            })?;
            return Ok(call.answer(&info));
        }
        "UpdateStream" => {
            let request: proto::UpdateStreamRequest = call.decode()?;
            require(call.claims, &Grant::RoomRecord)?;
            let info = call.with_store(|store, now| store.update_egress_stream(&request, now))?;
            return Ok(call.answer(&info));
        }
        "ListEgress" => {
            let request: proto::ListEgressRequest = call.decode()?;
            require(call.claims, &Grant::RoomRecord)?;
            let items = call.with_store(|store, _| store.list_egress(&request))?;
            return Ok(call.answer(&proto::ListEgressResponse {
                items,
                next_page_token: None,
            }));
        }
        "StopEgress" => {
            let request: proto::StopEgressRequest = call.decode()?;
            require(call.claims, &Grant::RoomRecord)?;
            let info = call.with_store(|store, now| store.stop_egress(&request.egress_id, now))?;
            return Ok(call.answer(&info));
        }
        _ => {
            return Err(TwirpError::new(
                TwirpCode::BadRoute,
                format!("no handler for path \"/twirp/livekit.Egress/{method}\""),
            ));
        }
    };
    require(call.claims, &Grant::RoomRecord)?;
    let info = call.with_store(|store, now| store.start_egress(request, now))?;
    Ok(call.answer(&info))
}
