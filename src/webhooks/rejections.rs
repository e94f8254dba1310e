//! Webhooks refused, by cause: each counted, and each cause said once (the first time), so a
//! misconfigured sender cannot flood the event log with a line per request.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use http::StatusCode;

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    NotPost,
    NoToken,
    UnknownKey { key: String },
    BadToken { detail: String },
    BadSignature { server: String, detail: String },
    BodyChanged { server: String },
    Expired { server: String },
    TooLarge,
    Malformed { detail: String },
}

impl Rejection {
    /// The cause's name in metrics and events.
    #[must_use]
    pub fn cause(&self) -> &'static str {
        match self {
            Self::NotPost => "not_post",
            Self::NoToken => "no_token",
            Self::UnknownKey { .. } => "unknown_key",
            Self::BadToken { .. } => "bad_token",
            Self::BadSignature { .. } => "bad_signature",
            Self::BodyChanged { .. } => "body_changed",
            Self::Expired { .. } => "expired",
            Self::TooLarge => "too_large",
            Self::Malformed { .. } => "malformed",
        }
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotPost => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Malformed { .. } => StatusCode::BAD_REQUEST,
            Self::NoToken
            | Self::UnknownKey { .. }
            | Self::BadToken { .. }
            | Self::BadSignature { .. }
            | Self::BodyChanged { .. }
            | Self::Expired { .. } => StatusCode::UNAUTHORIZED,
        }
    }
}

/// What the sender gets back, and the log says: the problem and what fixes it.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPost => write!(f, "webhooks are POSTed; nothing else is served here"),
            Self::NoToken => write!(
                f,
                "no Authorization header: livekit-server signs every webhook; is this a LiveKit \
                 webhook?"
            ),
            Self::UnknownKey { key } => write!(
                f,
                "signed with API key {key:?}, which no configured server has: add the server, \
                 or set livekit-server's webhook.api_key to the key lktop has"
            ),
            Self::BadToken { detail } => write!(f, "the token cannot be read: {detail}"),
            Self::BadSignature { server, detail } => write!(
                f,
                "the token does not verify with {server}'s api_secret ({detail}): the secrets \
                 differ"
            ),
            Self::BodyChanged { server } => write!(
                f,
                "the body does not match the token's sha256 (from {server}): changed on the way"
            ),
            Self::Expired { server } => write!(
                f,
                "the token (from {server}) has expired: the webhook is old, or the clocks differ"
            ),
            Self::TooLarge => write!(
                f,
                "the body is over {} KiB",
                super::listener::MAX_BODY / 1024
            ),
            Self::Malformed { detail } => write!(f, "not a LiveKit webhook event: {detail}"),
        }
    }
}

type OnRejection = Box<dyn Fn(&Rejection, StatusCode, bool) + Send + Sync>;

/// The count of every cause so far; each refusal is handed to `on_rejection` with whether it
/// is the first of its cause.
pub struct Rejections {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    on_rejection: OnRejection,
}

impl Rejections {
    #[must_use]
    pub fn new(
        on_rejection: impl Fn(&Rejection, StatusCode, bool) + Send + Sync + 'static,
    ) -> Self {
        Self {
            counts: Mutex::new(BTreeMap::new()),
            on_rejection: Box::new(on_rejection),
        }
    }

    pub(crate) fn count(&self, rejection: &Rejection) {
        let first = {
            let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            let count = counts.entry(rejection.cause()).or_default();
            *count += 1;
            *count == 1
        };
        (self.on_rejection)(rejection, rejection.status(), first);
    }

    /// Every cause seen so far with its count.
    #[must_use]
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejections")
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn each_cause_is_said_once_and_counted_every_time() {
        let said = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&said);
        let rejections = Rejections::new(move |_, _, first| {
            if first {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        });
        for _ in 0..3 {
            rejections.count(&Rejection::NoToken);
        }
        rejections.count(&Rejection::TooLarge);
        assert_eq!(said.load(Ordering::Relaxed), 2);
        assert_eq!(
            rejections.counts(),
            BTreeMap::from([("no_token", 3), ("too_large", 1)])
        );
        assert_eq!(Rejection::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            Rejection::Malformed {
                detail: String::new()
            }
            .status(),
            StatusCode::BAD_REQUEST
        );
    }
}
