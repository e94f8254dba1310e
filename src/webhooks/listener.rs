//! The HTTP listener at `webhooks.listen`: takes LiveKit webhooks as livekit-server sends them,
//! verifies each with livekit-api's `WebhookReceiver` against the key of the server it comes
//! from (the token's issuer), and hands it to that server's worker. A webhook that cannot be
//! trusted or read changes nothing: it gets 401 (no token, an unknown key, a bad signature, a
//! body changed after signing, an expired token), 413 (a body over 1 MiB), 400 (not a webhook
//! event) or 405 (not a POST), and is counted by cause.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use livekit_api::access_token::{AccessTokenError, Claims, TokenVerifier};
use livekit_api::webhooks::{WebhookError, WebhookReceiver};
use livekit_protocol as proto;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::rejections::{Rejection, Rejections};

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

/// The routes by API key, with the verifier of each.
struct Routes {
    by_key: HashMap<String, (String, WebhookReceiver, mpsc::Sender<Arrival>)>,
    rejections: Arc<Rejections>,
}

/// Binds `listen` and serves until `shutdown`; returns the bound address.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(
    listen: SocketAddr,
    routes: Vec<Route>,
    rejections: Arc<Rejections>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let routes = Arc::new(Routes {
        by_key: routes
            .into_iter()
            .map(|route| {
                let verifier =
                    TokenVerifier::with_api_key(&route.api_key, route.api_secret.expose_secret());
                (
                    route.api_key,
                    (route.server, WebhookReceiver::new(verifier), route.arrivals),
                )
            })
            .collect(),
        rejections,
    });
    crate::http_server::serve(listen, "webhook listener", shutdown, move |request| {
        let routes = Arc::clone(&routes);
        async move { routes.take(request).await }
    })
    .await
}

impl Routes {
    /// One request: the webhook goes to its server, or the answer says why not.
    async fn take(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
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
        request: Request<Incoming>,
    ) -> Result<(mpsc::Sender<Arrival>, Arrival), Rejection> {
        if request.method() != Method::POST {
            return Err(Rejection::NotPost);
        }
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .strip_prefix("Bearer ")
                    .unwrap_or(value)
                    .trim()
                    .to_owned()
            })
            .filter(|token| !token.is_empty())
            .ok_or(Rejection::NoToken)?;
        let body = Limited::new(request.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|_| Rejection::TooLarge)?
            .to_bytes();
        let body = std::str::from_utf8(&body).map_err(|_| Rejection::Malformed {
            detail: "the body is not UTF-8".to_owned(),
        })?;
        let issuer = Claims::from_unverified(&token)
            .map_err(|err| Rejection::BadToken {
                detail: err.to_string(),
            })?
            .iss;
        let (server, receiver, arrivals) =
            self.by_key
                .get(&issuer)
                .ok_or_else(|| Rejection::UnknownKey {
                    key: issuer.clone(),
                })?;
        let event = receiver.receive(body, &token).map_err(|err| match err {
            WebhookError::InvalidSignature => Rejection::BodyChanged {
                server: server.clone(),
            },
            WebhookError::InvalidBase64(err) => Rejection::BadToken {
                detail: format!("its sha256 claim is not base64: {err}"),
            },
            WebhookError::InvalidAuth(AccessTokenError::Encoding(jwt))
                if *jwt.kind() == JwtErrorKind::ExpiredSignature =>
            {
                Rejection::Expired {
                    server: server.clone(),
                }
            }
            WebhookError::InvalidAuth(AccessTokenError::Encoding(jwt)) => Rejection::BadSignature {
                server: server.clone(),
                detail: format!("{:?}", jwt.kind()),
            },
            WebhookError::InvalidAuth(err) => Rejection::BadSignature {
                server: server.clone(),
                detail: err.to_string(),
            },
            WebhookError::InvalidData(err) => Rejection::Malformed {
                detail: err.to_string(),
            },
        })?;
        Ok((
            arrivals.clone(),
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
