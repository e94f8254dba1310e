//! What went wrong with a `RoomService` call, classified so that callers can decide between
//! retrying, asking the operator for new credentials, and showing the server's complaint.
//!
//! Here the error itself; its classification is in `kind` (the kinds and the Twirp codes),
//! `transport` (failed exchanges with no usable answer) and `status` (answers without a Twirp
//! error), and `sanitize` makes the server's own words safe to show.

mod kind;
mod sanitize;
mod status;
mod transport;

pub use kind::ApiErrorKind;
pub(crate) use kind::twirp_code_status;
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
        }
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
    use std::time::Duration;

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
