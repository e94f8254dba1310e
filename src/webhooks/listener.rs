//! The HTTP listener at `webhooks.listen`: takes LiveKit webhooks as livekit-server sends them,
//! has the [`WebhookVerifier`] check each against the key of the server it comes from (the
//! token's issuer), and hands it to that server's worker. A webhook that cannot be trusted or
//! read changes nothing: it gets 401 (no token, an unknown key, a bad signature, a body
//! changed after signing, an expired token), 413 (a body over 1 MiB), 400 (not a webhook
//! event) or 405 (not a POST), and is counted by cause.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use guarded_listener::{BodyError, GuardedBody, ListenerLimits, read_body};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use livekit_protocol as proto;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::rejections::{Rejection, Rejections};
use super::verifier::WebhookVerifier;

/// The largest webhook body taken; livekit-server's are a few KiB.
pub const MAX_BODY: usize = 1024 * 1024;

/// A verified webhook on its way to its server's worker.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub event: proto::WebhookEvent,
    /// When the listener took it (Unix ms).
    pub received_at_ms: i64,
}

/// One server's key, and where the webhooks it signs go.
pub struct Route {
    pub server: String,
    pub api_key: String,
    pub api_secret: SecretString,
    pub arrivals: mpsc::Sender<Arrival>,
}

/// The verifier, and where each server's webhooks go.
struct Routes {
    verifier: WebhookVerifier,
    arrivals: HashMap<String, mpsc::Sender<Arrival>>,
    rejections: Arc<Rejections>,
}

/// Binds `listen` and serves until `shutdown`, within `limits` (whose body limit is
/// [`MAX_BODY`] whatever it was); returns the bound address.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(
    listen: SocketAddr,
    limits: ListenerLimits,
    routes: Vec<Route>,
    rejections: Arc<Rejections>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let mut verifier = WebhookVerifier::default();
    let mut arrivals = HashMap::new();
    for route in routes {
        verifier.trust(&route.server, &route.api_key, &route.api_secret);
        arrivals.insert(route.server, route.arrivals);
    }
    let routes = Arc::new(Routes {
        verifier,
        arrivals,
        rejections,
    });
    let limits = ListenerLimits {
        max_body_bytes: MAX_BODY,
        ..limits
    };
    crate::http_server::serve(
        listen,
        "webhook listener",
        limits,
        shutdown,
        move |request| {
            let routes = Arc::clone(&routes);
            async move { routes.take(request).await }
        },
    )
    .await
}

impl Routes {
    /// One request: the webhook goes to its server, or the answer says why not.
    async fn take(&self, request: Request<GuardedBody>) -> Response<Full<Bytes>> {
        match self.verify(request).await {
            Ok((arrivals, arrival)) => {
                // Waits while the worker is behind rather than lose a webhook; livekit-server
                // retries a request that takes long.
                if arrivals.send(arrival).await.is_err() {
                    return answer(StatusCode::SERVICE_UNAVAILABLE, "lktop is stopping\n");
                }
                answer(StatusCode::OK, "")
            }
            Err(rejection) => {
                let status = rejection.status();
                let text = format!("{rejection}\n");
                self.rejections.count(&rejection);
                answer(status, &text)
            }
        }
    }

    async fn verify(
        &self,
        request: Request<GuardedBody>,
    ) -> Result<(mpsc::Sender<Arrival>, Arrival), Rejection> {
        if request.method() != Method::POST {
            return Err(Rejection::NotPost);
        }
        let (head, body) = request.into_parts();
        let authorization = head
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        if authorization.is_none_or(|value| value.trim().is_empty()) {
            // Refused before the body is read.
            return Err(Rejection::NoToken);
        }
        let body = read_body(body).await.map_err(|err| match err {
            BodyError::TooLarge => Rejection::TooLarge,
            BodyError::Unreadable(detail) => Rejection::Malformed { detail },
        })?;
        let (server, event) = self.verifier.verify(authorization, &body)?;
        let arrivals = self
            .arrivals
            .get(server)
            .cloned()
            .ok_or_else(|| Rejection::UnknownKey {
                key: server.to_owned(),
            })?;
        Ok((
            arrivals,
            Arrival {
                event,
                received_at_ms: crate::serde_time::now_ms(),
            },
        ))
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
