//! Whether a webhook can be trusted: its token names a known key (the issuer), is signed with
//! that key's secret and has not expired, and its `sha256` claim is the body's. Pure: the
//! listener hands it what arrived, the fuzz target any bytes.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use livekit_api::access_token::{AccessTokenError, Claims, TokenVerifier};
use livekit_api::webhooks::{WebhookError, WebhookReceiver};
use livekit_protocol as proto;
use secrecy::{ExposeSecret, SecretString};

use super::rejections::Rejection;

/// The keys webhooks may be signed with, each with the server it belongs to.
#[derive(Default)]
pub struct WebhookVerifier {
    by_key: HashMap<String, (String, WebhookReceiver)>,
}

impl WebhookVerifier {
    /// Trusts webhooks signed with `api_key` and `api_secret` as coming from `server`.
    pub fn trust(&mut self, server: &str, api_key: &str, api_secret: &SecretString) {
        let verifier = TokenVerifier::with_api_key(api_key, api_secret.expose_secret());
        self.by_key.insert(
            api_key.to_owned(),
            (server.to_owned(), WebhookReceiver::new(verifier)),
        );
    }

    /// The server a webhook comes from and its event, from the request's `Authorization`
    /// header (`Bearer` optional, as livekit-server sends none) and its body.
    ///
    /// # Errors
    /// The [`Rejection`] that says why the webhook cannot be trusted or read.
    pub fn verify(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(&str, proto::WebhookEvent), Rejection> {
        let token = authorization
            .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim())
            .filter(|token| !token.is_empty())
            .ok_or(Rejection::NoToken)?;
        let body = std::str::from_utf8(body).map_err(|_| Rejection::Malformed {
            detail: "the body is not UTF-8".to_owned(),
        })?;
        let issuer = Claims::from_unverified(token)
            .map_err(|err| Rejection::BadToken {
                detail: err.to_string(),
            })?
            .iss;
        let (server, receiver) = self
            .by_key
            .get(&issuer)
            .ok_or_else(|| Rejection::UnknownKey {
                key: issuer.clone(),
            })?;
        let event = receiver
            .receive(body, token)
            .map_err(|err| rejection(server, err))?;
        Ok((server, event))
    }
}

/// What livekit-api's refusal means for the sender.
fn rejection(server: &str, err: WebhookError) -> Rejection {
    let server = server.to_owned();
    match err {
        WebhookError::InvalidSignature => Rejection::BodyChanged { server },
        WebhookError::InvalidBase64(err) => Rejection::BadToken {
            detail: format!("its sha256 claim is not base64: {err}"),
        },
        WebhookError::InvalidAuth(AccessTokenError::Encoding(jwt))
            if *jwt.kind() == JwtErrorKind::ExpiredSignature =>
        {
            Rejection::Expired { server }
        }
        WebhookError::InvalidAuth(AccessTokenError::Encoding(jwt)) => Rejection::BadSignature {
            server,
            detail: format!("{:?}", jwt.kind()),
        },
        WebhookError::InvalidAuth(err) => Rejection::BadSignature {
            server,
            detail: err.to_string(),
        },
        WebhookError::InvalidData(err) => Rejection::Malformed {
            detail: err.to_string(),
        },
    }
}
