//! Signed access tokens reused across calls and across a server's connections.
//!
//! livekit-api's `RoomClient` signs a fresh JWT for every call (HMAC-SHA256 plus JSON and
//! base64: tens of microseconds). lktop polls the same few grant sets again and again — the
//! `roomList` token of `ListRooms`, one `roomAdmin` token per room for `ListParticipants` — so
//! each is signed once, sent for [`TOKEN_REUSE`] of its [`TOKEN_TTL`] life, and signed again
//! after. One cache serves every connection of a server (the pool's factory hands the same
//! cache to each), so 10,000 rooms cost 10,000 tokens per server, not per connection.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use livekit_api::access_token::VideoGrants;
use reqwest::header::HeaderValue;

/// Short-lived on purpose: a token only has to outlive its last request.
pub(super) const TOKEN_TTL: Duration = Duration::from_secs(600);
/// How long a reusable token is sent before a new one is signed: any request it goes out with
/// still has half of [`TOKEN_TTL`] left, far more than a request takes and than clocks drift.
pub(super) const TOKEN_REUSE: Duration = Duration::from_secs(300);
/// Above this many tokens the expired ones are dropped; if none is, the cache starts over.
/// Far above the rooms of any one server lktop polls, and a bound on a server that creates
/// and ends rooms faster than tokens expire.
const MAX_TOKENS: usize = 50_000;

/// What a reusable token grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum TokenScope {
    /// `roomList`: every room, for `ListRooms`.
    RoomList,
    /// `roomAdmin` of one room, for the calls on that room (`ListParticipants`,
    /// `ListDispatch`).
    RoomAdmin(String),
    /// `roomRecord`: every egress job, for `ListEgress`.
    Recording,
    /// `ingressAdmin`: every ingress, for `ListIngress`.
    IngressAdmin,
}

impl TokenScope {
    /// The grants its token carries, as livekit-api's `RoomClient` asks for them.
    pub(super) fn grants(&self) -> VideoGrants {
        match self {
            TokenScope::RoomList => VideoGrants {
                room_list: true,
                ..VideoGrants::default()
            },
            TokenScope::RoomAdmin(room) => VideoGrants {
                room_admin: true,
                room: room.clone(),
                ..VideoGrants::default()
            },
            TokenScope::Recording => VideoGrants {
                room_record: true,
                ..VideoGrants::default()
            },
            TokenScope::IngressAdmin => VideoGrants {
                ingress_admin: true,
                ..VideoGrants::default()
            },
        }
    }
}

/// A signed `Authorization` header and until when it is sent.
struct ReusableToken {
    header: HeaderValue,
    reuse_until: Instant,
}

/// The reusable tokens of one server, by scope.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<TokenScope, ReusableToken>>,
}

impl std::fmt::Debug for TokenCache {
    /// The count only: the headers are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("tokens", &self.lock().len())
            .finish()
    }
}

impl TokenCache {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenScope, ReusableToken>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token of `scope` while it is young enough, else the one `sign` makes (kept for
    /// [`TOKEN_REUSE`]). Signing happens outside the lock, so other connections are not held
    /// up by it; two connections signing the same scope at once both succeed, the later kept.
    pub(super) fn get_or_sign<E>(
        &self,
        scope: &TokenScope,
        sign: impl FnOnce() -> Result<HeaderValue, E>,
    ) -> Result<HeaderValue, E> {
        let now = Instant::now();
        if let Some(token) = self.lock().get(scope)
            && now < token.reuse_until
        {
            return Ok(token.header.clone());
        }
        let header = sign()?;
        let mut tokens = self.lock();
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, token| now < token.reuse_until);
            if tokens.len() >= MAX_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(
            scope.clone(),
            ReusableToken {
                header: header.clone(),
                reuse_until: now + TOKEN_REUSE,
            },
        );
        Ok(header)
    }

    /// The server refused a call made with `scope`'s token: whatever it holds against it, the
    /// next call gets a freshly signed one.
    pub(super) fn forget(&self, scope: &TokenScope) {
        self.lock().remove(scope);
    }

    /// Until when `scope`'s token is sent, if one is kept.
    #[cfg(test)]
    pub(super) fn reused_until(&self, scope: &TokenScope) -> Option<Instant> {
        self.lock().get(scope).map(|token| token.reuse_until)
    }

    /// Makes `scope`'s token as old as one that must be signed again.
    #[cfg(test)]
    pub(super) fn age(&self, scope: &TokenScope) {
        if let Some(token) = self.lock().get_mut(scope) {
            token.reuse_until = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signer that always succeeds with `text`.
    fn signs(text: &'static str) -> impl FnOnce() -> Result<HeaderValue, ()> {
        move || Ok(HeaderValue::from_static(text))
    }

    #[test]
    fn a_scope_is_signed_once_and_reused_until_forgotten() {
        let cache = TokenCache::new();
        let room = TokenScope::RoomAdmin("standup".into());
        assert_eq!(cache.get_or_sign(&room, signs("first")).unwrap(), "first");
        assert_eq!(cache.get_or_sign(&room, signs("second")).unwrap(), "first");
        // Another scope has a token of its own.
        let list = TokenScope::RoomList;
        assert_eq!(cache.get_or_sign(&list, signs("list")).unwrap(), "list");
        cache.forget(&room);
        assert_eq!(cache.get_or_sign(&room, signs("third")).unwrap(), "third");
        assert_eq!(cache.get_or_sign(&list, signs("other")).unwrap(), "list");
    }

    #[test]
    fn a_failed_signature_is_not_kept() {
        let cache = TokenCache::new();
        let scope = TokenScope::RoomList;
        assert!(
            cache
                .get_or_sign(&scope, || Err::<HeaderValue, _>("no key"))
                .is_err()
        );
        assert_eq!(
            cache.get_or_sign(&scope, signs("signed")).unwrap(),
            "signed"
        );
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let cache = TokenCache::new();
        for room in 0..=MAX_TOKENS {
            let scope = TokenScope::RoomAdmin(format!("room-{room}"));
            cache.get_or_sign(&scope, signs("t")).unwrap();
        }
        // All were young, so reaching the bound started the cache over.
        assert!(cache.lock().len() <= MAX_TOKENS);
        assert_eq!(cache.lock().len(), 1);
    }

    #[test]
    fn debug_output_shows_no_token() {
        let cache = TokenCache::new();
        cache
            .get_or_sign(&TokenScope::RoomList, signs("Bearer secret.jwt"))
            .unwrap();
        let shown = format!("{cache:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("tokens: 1"), "{shown}");
    }
}
