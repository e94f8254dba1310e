//! Who may call what: HS256 JWTs signed with one of the sandbox's API secrets, and the grants
//! each RoomService method needs, as livekit-server checks them.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use livekit_api::access_token::Claims;
use secrecy::{ExposeSecret, SecretString};

use super::twirp_error::{TwirpCode, TwirpError};

/// How far a token's `nbf` and `exp` may be off the server's clock: livekit-server checks them
/// with go-jose's `jwt.DefaultLeeway`, one minute (`auth.APIKeyTokenVerifier.Verify` in
/// livekit/protocol calls `jwt.Claims.Validate`, which applies it).
pub const LEEWAY: Duration = Duration::from_secs(60);

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

    /// Verifies the `Authorization` header's token against the machine's clock, as
    /// [`ApiKeys::verify_at`].
    ///
    /// # Errors
    /// `unauthenticated` with the reason; the token itself is never part of it.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Claims, TwirpError> {
        self.verify_at(authorization, SystemTime::now())
    }

    /// Verifies the `Authorization` header's token: signature and `iss`, then `nbf` and `exp`
    /// against `now`, the server's clock, with [`LEEWAY`] for clock skew.
    ///
    /// # Errors
    /// `unauthenticated` with the reason; the token itself is never part of it.
    pub fn verify_at(
        &self,
        authorization: Option<&str>,
        now: SystemTime,
    ) -> Result<Claims, TwirpError> {
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
        // The times are checked below, against the server's clock rather than the machine's:
        // jsonwebtoken would read the machine's, and the sandbox's may be set off from it.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[&unverified.iss]);
        let refused =
            |reason: &str| unauthenticated(&format!("invalid authorization token: {reason}"));
        let claims = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            &validation,
        )
        .map_err(|err| match err.kind() {
            JwtErrorKind::InvalidSignature => refused("signature is invalid"),
            _ => refused("token could not be verified"),
        })?
        .claims;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let (exp, nbf) = (claims.exp as u64, claims.nbf as u64);
        // In the order and with the comparisons of go-jose's `ValidateWithLeeway`.
        if nbf > now + LEEWAY.as_secs() {
            return Err(refused("token is not valid yet"));
        }
        if now.saturating_sub(LEEWAY.as_secs()) > exp {
            return Err(refused("token is expired"));
        }
        Ok(claims)
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
    fn the_servers_clock_decides_with_a_minute_of_leeway() {
        let keys = keys();
        // Signed now on this machine: `nbf` now, `exp` ten minutes on.
        let header = Some(format!(
            "Bearer {}",
            AccessToken::with_api_key("devkey", SECRET)
                .with_ttl(Duration::from_secs(600))
                .to_jwt()
                .unwrap()
        ));
        let server_at = |offset: i64| {
            let now = SystemTime::now();
            let by = Duration::from_secs(offset.unsigned_abs());
            if offset < 0 { now - by } else { now + by }
        };
        for within in [-50, -1, 0, 1, 600, 650] {
            assert!(
                keys.verify_at(header.as_deref(), server_at(within)).is_ok(),
                "a server {within} s off accepts it"
            );
        }
        for (beyond, reason) in [
            (-75, "token is not valid yet"),
            (-300, "token is not valid yet"),
            (675, "token is expired"),
            (900, "token is expired"),
        ] {
            let err = keys
                .verify_at(header.as_deref(), server_at(beyond))
                .unwrap_err();
            assert!(err.msg.ends_with(reason), "{beyond} s: {}", err.msg);
        }
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
