//! The metrics listener: every path answers with the exposition (promhttp's handler is
//! livekit's whole metrics server), behind basic auth when credentials are set, with
//! livekit's answer to a missing or wrong one.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use super::text::CONTENT_TYPE;
use crate::server::Shared;

/// Accepts scrapes until the sandbox shuts down.
pub(crate) fn serve(
    shared: &Arc<Shared>,
    listener: TcpListener,
    auth: Option<(String, SecretString)>,
    tasks: &TaskTracker,
) {
    let shared = Arc::clone(shared);
    let auth = Arc::new(auth);
    let connections = tasks.clone();
    tasks.spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shared.shutdown.cancelled() => return,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(%err, "sandbox metrics accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = Arc::clone(&shared);
            let auth = Arc::clone(&auth);
            connections.spawn(async move {
                let shutdown = shared.shutdown.clone();
                let service = service_fn(move |request| {
                    let answer = answer(&shared, auth.as_ref().as_ref(), &request);
                    async move { Ok::<_, Infallible>(answer) }
                });
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    result = connection => {
                        if let Err(err) = result {
                            tracing::debug!(%err, "sandbox metrics connection ended with an error");
                        }
                    }
                    () = shutdown.cancelled() => {}
                }
            });
        }
    });
}

fn answer(
    shared: &Shared,
    auth: Option<&(String, SecretString)>,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
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
fn authorized(request: &Request<Incoming>, username: &str, password: &SecretString) -> bool {
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
fn basic_credentials(request: &Request<Incoming>) -> Option<String> {
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
