//! What went wrong with a `RoomService` call, classified so that callers can decide between
//! retrying, asking the operator for new credentials, and showing the server's complaint.
//!
//! Here the error itself; its classification is in `kind` (the kinds and the Twirp codes),
//! `transport` (failed exchanges with no usable answer) and `status` (answers without a Twirp
//! error), `sanitize` makes the server's own words safe to show, and what an answer's headers
//! add is in `retry_after` (how long the server asks to be left alone) and `clock_skew` (a
//! token refused for its times).

mod clock_skew;
mod kind;
mod retry_after;
mod sanitize;
mod status;
mod transport;

use std::time::Duration;

pub use clock_skew::{ClockSkew, SERVER_LEEWAY, ServerClock};
pub use kind::ApiErrorKind;
pub(crate) use kind::twirp_code_status;
pub(crate) use retry_after::{retry_after, server_date};
pub(crate) use sanitize::sanitize_server_text;
pub(crate) use status::{classify_probe_answer, kind_for_non_twirp_status};
pub(crate) use transport::{describe_direct_transport, describe_transport, is_undecodable_json};

/// A failed `RoomService` call.
///
/// The message is built from what lktop and the server said; it never contains the API
/// secret, a token or an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{method}: {kind} ({endpoint}): {message}")]
pub struct ApiError {
    method: &'static str,
    kind: ApiErrorKind,
    status: Option<u16>,
    endpoint: String,
    message: String,
    /// The server (not a proxy, not the network) answered with a Twirp error.
    twirp_answer: bool,
    /// The request was never sent: lktop's own pool had no free connection in time.
    busy_pool: bool,
    /// What the answer's headers added; boxed, as few errors have any and every `Result`
    /// of the API carries the error's size.
    hints: Option<Box<AnswerHints>>,
}

/// What an error answer's headers add to its status and body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AnswerHints {
    /// The wait the answer's `Retry-After` asked for.
    retry_after: Option<Duration>,
    /// The token was refused for its times: the clocks differ.
    clock_skew: Option<ClockSkew>,
}

impl ApiError {
    /// `method` is the `RoomService` method (`"ListRooms"`), `endpoint` the server's base URL,
    /// `status` the HTTP status of the answer when one is known.
    pub fn new(
        method: &'static str,
        kind: ApiErrorKind,
        status: Option<u16>,
        endpoint: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            method,
            kind,
            status,
            endpoint: endpoint.into(),
            message: message.into(),
            twirp_answer: false,
            busy_pool: false,
            hints: None,
        }
    }

    /// Keeps the wait the answer's `Retry-After` asked for.
    #[must_use]
    pub(crate) fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        if wait.is_some() {
            self.hints.get_or_insert_default().retry_after = wait;
        }
        self
    }

    /// A refused token whose server said its times were wrong: the message becomes the
    /// explanation (the clocks differ, by how much, the fix), followed by the server's words.
    #[must_use]
    pub(crate) fn with_clock_skew(mut self, skew: Option<ClockSkew>) -> Self {
        if let Some(skew) = skew {
            self.message = format!("{skew} (the server said: {})", self.message);
            self.hints.get_or_insert_default().clock_skew = Some(skew);
        }
        self
    }

    /// Marks the error as the server's own Twirp answer.
    #[must_use]
    pub(crate) fn answered_by_server(mut self) -> Self {
        self.twirp_answer = true;
        self
    }

    /// Whether the server itself answered (with a Twirp error): it is running, even if it
    /// fails this request. False for every failure to get an answer, a proxy's error page and
    /// a 200 that does not decode.
    #[must_use]
    pub(crate) fn is_server_answer(&self) -> bool {
        self.twirp_answer
    }

    /// Marks the error as lktop's own: no pooled connection became free within
    /// `connection_timeout`, so the request was never sent.
    #[must_use]
    pub(crate) fn into_busy_pool(mut self) -> Self {
        self.busy_pool = true;
        self
    }

    /// Whether the request waited for lktop's busy pool and was never sent: the error says
    /// nothing about the server.
    #[must_use]
    pub(crate) fn is_busy_pool(&self) -> bool {
        self.busy_pool
    }

    #[must_use]
    pub fn method(&self) -> &'static str {
        self.method
    }

    #[must_use]
    pub fn kind(&self) -> ApiErrorKind {
        self.kind
    }

    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The detail after the kind: the server's own words when it gave any.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How long the server asked to be left alone (`Retry-After` on a 429 or 503, as
    /// delta-seconds or an HTTP-date), if it did.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.hints.as_ref().and_then(|hints| hints.retry_after)
    }

    /// Set when the server refused lktop's token as expired or not valid yet: its clock and
    /// this machine's differ by more than it allows. The kind stays `Unauthenticated` (no
    /// request gets through until a clock is set right), but the key and secret are fine.
    #[must_use]
    pub fn clock_skew(&self) -> Option<ClockSkew> {
        self.hints.as_ref().and_then(|hints| hints.clock_skew)
    }

    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    #[must_use]
    pub fn is_auth(&self) -> bool {
        self.kind.is_auth()
    }
}

/// Why a [`LiveKitRoomApi`](super::LiveKitRoomApi) could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("invalid LiveKit URL: {0}")]
    InvalidUrl(String),
    #[error("the API key is empty")]
    EmptyApiKey,
    #[error("the API secret is empty")]
    EmptyApiSecret,
    #[error("the request timeout must be longer than zero")]
    ZeroTimeout,
    #[error("could not set up the HTTP client: {0}")]
    HttpClient(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_an_operator_message() {
        let err = ApiError::new(
            "ListRooms",
            ApiErrorKind::ConnectionRefused,
            None,
            "http://127.0.0.1:7880",
            "tcp connect error",
        );
        assert_eq!(
            err.to_string(),
            "ListRooms: connection refused (http://127.0.0.1:7880): tcp connect error"
        );
        let timeout = ApiErrorKind::Timeout {
            after: Some(Duration::from_secs(10)),
        };
        assert_eq!(timeout.to_string(), "timed out after 10s");
        let short = ApiErrorKind::Timeout {
            after: Some(Duration::from_millis(300)),
        };
        assert_eq!(short.to_string(), "timed out after 300ms");
    }
}
