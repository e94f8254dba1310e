//! The `livekit.AgentDispatchService` methods: decode the request, check `roomAdmin` for its
//! room (as livekit-server's `EnsureAdminPermission`), act on the dispatches, encode the
//! answer.

use bytes::Bytes;
use livekit_protocol as proto;

use crate::auth::{Grant, require};
use crate::service::Call;
use crate::twirp_error::{TwirpCode, TwirpError};

/// Every method of `livekit.AgentDispatchService`, as named in the URL path (the
/// routing test's list).
#[cfg(test)]
pub(crate) const METHODS: [&str; 3] = ["CreateDispatch", "DeleteDispatch", "ListDispatch"];

/// Runs the AgentDispatchService `method`.
///
/// # Errors
/// `bad_route` for an unknown method, `malformed` for a body that does not decode,
/// `unauthenticated` without `roomAdmin` for the room, and what the dispatches refuse.
pub fn handle(method: &str, call: &Call<'_>) -> Result<Bytes, TwirpError> {
    match method {
        "CreateDispatch" => {
            let request: proto::CreateAgentDispatchRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let dispatch = call.with_store(|store, now| store.create_dispatch(&request, now))?;
            Ok(call.answer(&dispatch))
        }
        "DeleteDispatch" => {
            let request: proto::DeleteAgentDispatchRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let dispatch = call.with_store(|store, now| store.delete_dispatch(&request, now))?;
            Ok(call.answer(&dispatch))
        }
        "ListDispatch" => {
            let request: proto::ListAgentDispatchRequest = call.decode()?;
            require(call.claims, &Grant::RoomAdmin(&request.room))?;
            let agent_dispatches = call.with_store(|store, _| store.list_dispatch(&request))?;
            Ok(call.answer(&proto::ListAgentDispatchResponse { agent_dispatches }))
        }
        _ => Err(TwirpError::new(
            TwirpCode::BadRoute,
            format!("no handler for path \"/twirp/livekit.AgentDispatchService/{method}\""),
        )),
    }
}
