//! The `livekit.Ingress` methods: decode the request, check `ingressAdmin`, act on the
//! ingress, encode the answer.

use bytes::Bytes;
use livekit_protocol as proto;

use crate::auth::{Grant, require};
use crate::service::Call;
use crate::twirp_error::{TwirpCode, TwirpError};

/// Every method of `livekit.Ingress`, as named in the URL path (the
/// routing test's list).
#[cfg(test)]
pub(crate) const METHODS: [&str; 4] = [
    "CreateIngress",
    "UpdateIngress",
    "ListIngress",
    "DeleteIngress",
];

/// Runs the Ingress `method`. An ingress created here starts receiving at once: the sandbox
/// has no encoder to wait for.
///
/// # Errors
/// `bad_route` for an unknown method, `malformed` for a body that does not decode,
/// `unauthenticated` without `ingressAdmin`, and what the ingress refuses.
pub fn handle(method: &str, call: &Call<'_>) -> Result<Bytes, TwirpError> {
    match method {
        "CreateIngress" => {
            let request: proto::CreateIngressRequest = call.decode()?;
            require(call.claims, &Grant::IngressAdmin)?;
            let info = call.with_store(|store, _| store.create_ingress(&request, true))?;
            Ok(call.answer(&info))
        }
        "UpdateIngress" => {
            let request: proto::UpdateIngressRequest = call.decode()?;
            require(call.claims, &Grant::IngressAdmin)?;
            let info = call.with_store(|store, _| store.update_ingress(&request))?;
            Ok(call.answer(&info))
        }
        "ListIngress" => {
            let request: proto::ListIngressRequest = call.decode()?;
            require(call.claims, &Grant::IngressAdmin)?;
            let items = call.with_store(|store, _| store.list_ingress(&request))?;
            Ok(call.answer(&proto::ListIngressResponse {
                items,
                next_page_token: None,
            }))
        }
        "DeleteIngress" => {
            let request: proto::DeleteIngressRequest = call.decode()?;
            require(call.claims, &Grant::IngressAdmin)?;
            let info =
                call.with_store(|store, now| store.delete_ingress(&request.ingress_id, now))?;
            Ok(call.answer(&info))
        }
        _ => Err(TwirpError::new(
            TwirpCode::BadRoute,
            format!("no handler for path \"/twirp/livekit.Ingress/{method}\""),
        )),
    }
}
