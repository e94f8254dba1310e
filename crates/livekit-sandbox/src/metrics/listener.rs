//! The metrics listener: every path answers with the exposition (promhttp's handler is
//! livekit's whole metrics server), behind basic auth when credentials are set, with
//! livekit's answer to a missing or wrong one.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use guarded_listener::{ConnectionCap, GuardedBody, ListenerLimits, accept_until};
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use super::text::CONTENT_TYPE;
use crate::server::Shared;

/// A scrape is a GET: a body is never read, and one this large is not a scraper's.
const MAX_BODY: usize = 64 * 1024;

/// Accepts scrapes until the sandbox shuts down, with the API listener's header timeout and
/// connection cap.
pub(crate) fn serve(
    shared: &Arc<Shared>,
    listener: TcpListener,
    auth: Option<(String, SecretString)>,
    limits: ListenerLimits,
    tasks: &TaskTracker,
) {
    let limits = ListenerLimits {
        max_body_bytes: MAX_BODY,
        ..limits
    };
    let cap = Arc::new(ConnectionCap::new(
        "sandbox metrics",
        limits.max_connections,
    ));
    let stop = shared.shutdown.clone();
    let shared = Arc::clone(shared);
    let auth = Arc::new(auth);
    let handler = move |request| {
        let answer = answer(&shared, auth.as_ref().as_ref(), &request);
        async move { answer }
    };
    let connections = tasks.clone();
    tasks.spawn(async move {
        accept_until(&listener, &cap, limits, handler, stop, &connections).await;
    });
}

fn answer(
    shared: &Shared,
    auth: Option<&(String, SecretString)>,
    request: &Request<GuardedBody>,
) -> Response<Full<Bytes>> {
    if request.body().declared_over_limit() {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return response;
    }
    if let Some((username, password)) = auth
        && !authorized(request, username, password)
    {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"Protected Area\""),
        );
        return response;
    }
    let body = super::exposition(shared);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

/// Whether the request's basic credentials are these.
fn authorized(request: &Request<impl Sized>, username: &str, password: &SecretString) -> bool {
    let Some(given) = basic_credentials(request) else {
        return false;
    };
    // As Go's `Request.BasicAuth`: the user name ends at the first colon.
    let Some((given_username, given_password)) = given.split_once(':') else {
        return false;
    };
    // Both compared in full, so the time does not tell which one was wrong.
    same(given_username, username) & same(given_password, password.expose_secret())
}

/// Equal, compared without stopping at the first different byte.
fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `user:password` of an `Authorization: Basic …` header.
fn basic_credentials(request: &Request<impl Sized>) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(decoded).ok()
}
