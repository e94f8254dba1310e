//! Who may call what: HS256 JWTs signed with one of the sandbox's API secrets, and the grants
//! each RoomService method needs, as livekit-server checks them.

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use livekit_api::access_token::{AccessTokenError, Claims, TokenVerifier};
use secrecy::{ExposeSecret, SecretString};

use super::twirp_error::{TwirpCode, TwirpError};

/// The API keys the sandbox accepts, each with its secret.
#[derive(Clone, Default)]
pub struct ApiKeys(HashMap<String, SecretString>);

impl ApiKeys {
    #[must_use]
    pub fn new(keys: impl IntoIterator<Item = (String, SecretString)>) -> Self {
        Self(keys.into_iter().collect())
    }

    pub(crate) fn insert(&mut self, key: impl Into<String>, secret: SecretString) {
        self.0.insert(key.into(), secret);
    }

    /// Verifies the `Authorization` header's token: signature, `iss`, `nbf` and `exp` (with
    /// jsonwebtoken's 60 s leeway for clock skew).
    ///
    /// # Errors
    /// `unauthenticated` with the reason; the token itself is never part of it.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Claims, TwirpError> {
        let unauthenticated = |msg: &str| TwirpError::new(TwirpCode::Unauthenticated, msg);
        let header = authorization.ok_or_else(|| unauthenticated("permissions denied"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                unauthenticated("invalid authorization header: expected `Bearer <token>`")
            })?;
        // The issuer picks the secret; nothing in these claims is trusted until verified.
        let unverified = Claims::from_unverified(token)
            .map_err(|_| unauthenticated("invalid authorization token: not a JWT"))?;
        let secret = self
            .0
            .get(&unverified.iss)
            .ok_or_else(|| unauthenticated("invalid authorization token: unknown API key"))?;
        TokenVerifier::with_api_key(&unverified.iss, secret.expose_secret())
            .verify(token)
            .map_err(|err| {
                let reason = match err {
                    AccessTokenError::Encoding(inner) => match inner.kind() {
                        JwtErrorKind::ExpiredSignature => "token is expired",
                        JwtErrorKind::ImmatureSignature => "token is not valid yet",
                        JwtErrorKind::InvalidSignature => "signature is invalid",
                        _ => "token could not be verified",
                    },
                    _ => "token could not be verified",
                };
                unauthenticated(&format!("invalid authorization token: {reason}"))
            })
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        f.debug_struct("ApiKeys")
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

/// The grant a method needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant<'a> {
    /// ListRooms.
    RoomList,
    /// CreateRoom, DeleteRoom.
    RoomCreate,
    /// Every call on one room: `roomAdmin` with `room` equal to the request's room.
    RoomAdmin(&'a str),
    /// Every EgressService call.
    RoomRecord,
    /// Every IngressService call.
    IngressAdmin,
}

/// # Errors
/// `unauthenticated` "permissions denied", the real server's answer to a missing grant.
pub(crate) fn require(claims: &Claims, grant: &Grant<'_>) -> Result<(), TwirpError> {
    let video = &claims.video;
    let allowed = match grant {
        Grant::RoomList => video.room_list,
        Grant::RoomCreate => video.room_create,
        Grant::RoomAdmin(room) => video.room_admin && video.room == *room,
        Grant::RoomRecord => video.room_record,
        Grant::IngressAdmin => video.ingress_admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(TwirpError::new(
            TwirpCode::Unauthenticated,
            "permissions denied",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use livekit_api::access_token::{AccessToken, VideoGrants};

    use super::*;

    const SECRET: &str = "sandbox-test-secret-that-is-long-enough";

    fn keys() -> ApiKeys {
        ApiKeys::new([
            ("devkey".to_owned(), SecretString::from(SECRET)),
            (
                "second".to_owned(),
                SecretString::from("another-secret-value-xyz"),
            ),
        ])
    }

    fn token(key: &str, secret: &str, grants: VideoGrants) -> String {
        let jwt = AccessToken::with_api_key(key, secret)
            .with_grants(grants)
            .to_jwt()
            .unwrap();
        format!("Bearer {jwt}")
    }

    #[test]
    fn accepts_tokens_of_every_configured_key() {
        let grants = VideoGrants {
            room_list: true,
            ..Default::default()
        };
        let claims = keys()
            .verify(Some(&token("devkey", SECRET, grants.clone())))
            .unwrap();
        require(&claims, &Grant::RoomList).unwrap();
        keys()
            .verify(Some(&token("second", "another-secret-value-xyz", grants)))
            .unwrap();
    }

    #[test]
    fn refuses_bad_tokens_with_the_reason() {
        let keys = keys();
        let cases = [
            (None, "permissions denied"),
            (Some("Basic abc".to_owned()), "expected `Bearer <token>`"),
            (Some("Bearer not.a.jwt".to_owned()), "not a JWT"),
            (
                Some(token(
                    "devkey",
                    "wrong-secret-wrong-secret",
                    VideoGrants::default(),
                )),
                "signature is invalid",
            ),
            (
                Some(token("nobody", SECRET, VideoGrants::default())),
                "unknown API key",
            ),
        ];
        for (header, reason) in cases {
            let err = keys.verify(header.as_deref()).unwrap_err();
            assert_eq!(err.code, TwirpCode::Unauthenticated);
            assert!(err.msg.contains(reason), "{header:?}: {}", err.msg);
            if let Some(header) = header {
                let token = header.trim_start_matches("Bearer ");
                assert!(!err.msg.contains(token), "the token is never echoed");
            }
        }
    }

    #[test]
    fn refuses_expired_tokens() {
        let jwt = AccessToken::with_api_key("devkey", SECRET)
            .with_ttl(Duration::from_secs(1))
            .to_jwt()
            .unwrap();
        // Claims an hour in the past, signed the way AccessToken signs (HS256).
        let mut claims = Claims::from_unverified(&jwt).unwrap();
        claims.exp = claims.nbf.saturating_sub(3_600);
        claims.nbf = claims.exp.saturating_sub(10);
        let expired = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let err = keys()
            .verify(Some(&format!("Bearer {expired}")))
            .unwrap_err();
        assert!(err.msg.contains("expired"), "{}", err.msg);
    }

    #[test]
    fn room_admin_must_name_the_room() {
        let claims = Claims {
            video: VideoGrants {
                room_admin: true,
                room: "a".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        require(&claims, &Grant::RoomAdmin("a")).unwrap();
        let err = require(&claims, &Grant::RoomAdmin("b")).unwrap_err();
        assert_eq!(
            err.to_json(),
            r#"{"code":"unauthenticated","msg":"permissions denied"}"#
        );
        assert!(require(&claims, &Grant::RoomCreate).is_err());
        assert!(require(&claims, &Grant::RoomList).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let debug = format!("{:?}", keys());
        assert!(debug.contains("devkey") && !debug.contains(SECRET));
    }
}
