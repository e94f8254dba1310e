//! What went wrong with a `RoomService` call, classified so that callers can decide between
//! retrying, asking the operator for new credentials, and showing the server's complaint.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

/// Why a `RoomService` call failed.
///
/// Transport kinds come first (the request may not have reached the server), then the kinds
/// the server chose (Twirp error codes), then answers lktop could not understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiErrorKind {
    /// No complete answer within the request timeout (`after`), or the server reported
    /// `deadline_exceeded` (`after` is `None`: the deadline was the server's own).
    Timeout { after: Option<Duration> },
    /// Nothing listens on the server's port.
    ConnectionRefused,
    /// The connection broke while the request or the answer was in flight, including a
    /// connection closed before the answer was complete.
    ConnectionReset,
    /// The server could not be reached at all: DNS failure, TLS failure, other connect errors.
    Unreachable,
    /// The server rejected the credentials (bad key or secret, expired token, missing grant).
    Unauthenticated,
    /// The credentials are valid but may not do this.
    PermissionDenied,
    /// The room or participant does not exist.
    NotFound,
    /// The server refused this request as asked (invalid argument, already exists, ...).
    Rejected,
    /// The server, or a proxy in front of it, failed (Twirp 5xx codes, non-Twirp error pages).
    Server,
    /// A 200 answer lktop cannot use: it does not decode, or a required field is missing.
    Malformed,
}

impl ApiErrorKind {
    /// The kind a Twirp error code maps to, or `None` for a code the Twirp spec does not define.
    #[must_use]
    pub(crate) fn from_twirp_code(code: &str) -> Option<Self> {
        let kind = match code {
            "deadline_exceeded" => Self::Timeout { after: None },
            "unauthenticated" => Self::Unauthenticated,
            "permission_denied" => Self::PermissionDenied,
            "not_found" => Self::NotFound,
            "invalid_argument"
            | "malformed"
            | "already_exists"
            | "resource_exhausted"
            | "failed_precondition"
            | "bad_route"
            | "out_of_range"
            | "aborted"
            | "canceled" => Self::Rejected,
            "internal" | "unknown" | "unavailable" | "dataloss" | "unimplemented" => Self::Server,
            _ => return None,
        };
        Some(kind)
    }

    /// Worth retrying later: the failure says nothing about the request itself.
    #[must_use]
    pub(crate) fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Timeout { .. }
                | Self::ConnectionRefused
                | Self::ConnectionReset
                | Self::Unreachable
                | Self::Server
        )
    }

    /// A `snake_case` name for metric labels and logs.
    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::ConnectionRefused => "connection_refused",
            Self::ConnectionReset => "connection_reset",
            Self::Unreachable => "unreachable",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::Rejected => "rejected",
            Self::Server => "server_error",
            Self::Malformed => "malformed",
        }
    }

    /// Retrying will not help until the operator fixes the API key, secret or grants.
    #[must_use]
    pub(crate) fn is_auth(self) -> bool {
        matches!(self, Self::Unauthenticated | Self::PermissionDenied)
    }
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout { after: Some(after) } => {
                write!(f, "timed out after {}", humantime::format_duration(*after))
            }
            Self::Timeout { after: None } => f.write_str("timed out"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::ConnectionReset => f.write_str("connection reset"),
            Self::Unreachable => f.write_str("server unreachable"),
            Self::Unauthenticated => f.write_str("authentication failed"),
            Self::PermissionDenied => f.write_str("permission denied"),
            Self::NotFound => f.write_str("not found"),
            Self::Rejected => f.write_str("request rejected"),
            Self::Server => f.write_str("server error"),
            Self::Malformed => f.write_str("malformed answer"),
        }
    }
}

/// HTTP status a Twirp server sends with an error code, per the Twirp spec.
#[must_use]
pub(crate) fn twirp_code_status(code: &str) -> Option<u16> {
    let status = match code {
        "invalid_argument" | "malformed" | "out_of_range" => 400,
        "unauthenticated" => 401,
        "permission_denied" => 403,
        "not_found" | "bad_route" => 404,
        "canceled" | "deadline_exceeded" => 408,
        "already_exists" | "aborted" => 409,
        "failed_precondition" => 412,
        "resource_exhausted" => 429,
        "internal" | "unknown" | "dataloss" => 500,
        "unimplemented" => 501,
        "unavailable" => 503,
        _ => return None,
    };
    Some(status)
}

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

/// Classifies a failed HTTP exchange (no usable answer) and describes it for an operator.
pub(crate) fn describe_transport(
    err: reqwest::Error,
    request_timeout: Duration,
) -> (ApiErrorKind, String) {
    // The URL is already in ApiError's Display; keeping it here would print it twice.
    let err = err.without_url();
    let mut detail = chain_text(&err);
    let kind = classify_transport(&err, request_timeout, &detail);
    if answered_in_plain_http(&err) {
        detail.push_str("; ");
        detail.push_str(PLAIN_HTTP_HINT);
    }
    (kind, detail)
}

/// Said when a `https://` or `wss://` URL reaches a server without TLS.
const PLAIN_HTTP_HINT: &str = "the server speaks plain HTTP; use http:// or ws://";

/// True when the TLS handshake got bytes that are not TLS at all: a plain HTTP server
/// answering the `ClientHello` with an HTTP error, which rustls reports only as a corrupt message
/// of type `InvalidContentType` (an `H` where a record type belongs).
fn answered_in_plain_http(err: &(dyn StdError + 'static)) -> bool {
    // io::Error's source() skips the error it wraps (and that one may be an io::Error
    // wrapping rustls's), so the wrapped errors are followed as well as the sources.
    let mut pending = vec![err];
    while let Some(err) = pending.pop() {
        if let Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) =
            err.downcast_ref::<rustls::Error>()
        {
            return true;
        }
        if let Some(wrapped) = err.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            pending.push(wrapped);
        }
        pending.extend(err.source());
    }
    false
}

/// True when reqwest got a whole body but it was not the JSON asked for. reqwest 0.13 reports a
/// body that broke off part way as a decode error too, so the kind alone cannot tell a
/// non-Twirp error page from a dropped connection; the JSON parser's error in the chain can.
pub(crate) fn is_undecodable_json(err: &reqwest::Error) -> bool {
    if !err.is_decode() {
        return false;
    }
    let mut current = err.source();
    while let Some(err) = current {
        if err.is::<serde_json::Error>() {
            return true;
        }
        current = err.source();
    }
    false
}

fn classify_transport(
    err: &reqwest::Error,
    request_timeout: Duration,
    detail: &str,
) -> ApiErrorKind {
    if err.is_timeout() {
        return ApiErrorKind::Timeout {
            after: Some(request_timeout),
        };
    }
    if let Some(kind) = kind_from_source_chain(err, request_timeout) {
        return kind;
    }
    if err.is_connect() || err.is_dns() {
        return ApiErrorKind::Unreachable;
    }
    kind_from_text(detail, request_timeout).unwrap_or(ApiErrorKind::Unreachable)
}

/// Looks through the wrapped errors for an I/O or hyper error whose kind says what happened.
fn kind_from_source_chain(
    err: &(dyn StdError + 'static),
    request_timeout: Duration,
) -> Option<ApiErrorKind> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(io_err) = err.downcast_ref::<io::Error>() {
            match io_err.kind() {
                io::ErrorKind::ConnectionRefused => return Some(ApiErrorKind::ConnectionRefused),
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::BrokenPipe => return Some(ApiErrorKind::ConnectionReset),
                io::ErrorKind::TimedOut => {
                    return Some(ApiErrorKind::Timeout {
                        after: Some(request_timeout),
                    });
                }
                _ => {}
            }
        }
        if let Some(hyper_err) = err.downcast_ref::<hyper::Error>() {
            if hyper_err.is_timeout() {
                return Some(ApiErrorKind::Timeout {
                    after: Some(request_timeout),
                });
            }
            if hyper_err.is_incomplete_message()
                || hyper_err.is_canceled()
                || hyper_err.is_closed()
                || hyper_err.is_body_write_aborted()
            {
                return Some(ApiErrorKind::ConnectionReset);
            }
        }
        current = err.source();
    }
    None
}

/// Last resort for errors whose types lktop cannot see (a TLS library's private error wrapping
/// an I/O failure, say): the words are stable enough to be worth a guess.
fn kind_from_text(detail: &str, request_timeout: Duration) -> Option<ApiErrorKind> {
    let lower = detail.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if says(&["connection refused"]) {
        Some(ApiErrorKind::ConnectionRefused)
    } else if says(&[
        "connection reset",
        "connection closed",
        "connection aborted",
        "broken pipe",
        "incomplete message",
        "unexpected eof",
    ]) {
        Some(ApiErrorKind::ConnectionReset)
    } else if says(&["timed out", "timeout"]) {
        Some(ApiErrorKind::Timeout {
            after: Some(request_timeout),
        })
    } else {
        None
    }
}

/// Every message in the source chain, skipping ones an outer error already printed.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(err) = current {
        let message = err.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        current = err.source();
    }
    text
}

/// Kind for a non-200 answer that carries no Twirp error: only the status is left to go on.
pub(crate) fn kind_for_non_twirp_status(status: u16) -> ApiErrorKind {
    match status {
        401 => ApiErrorKind::Unauthenticated,
        403 => ApiErrorKind::PermissionDenied,
        _ => ApiErrorKind::Server,
    }
}

/// Kind and status to report for a call whose non-Twirp error answer lost its status, judged
/// from the status of the diagnostic probe that followed it.
///
/// Only statuses that mean the same for any call (auth failures, server failures) are carried
/// over: another status belonged to the probe, not to the failed call.
pub(crate) fn classify_probe_answer(probe_status: u16) -> (ApiErrorKind, Option<u16>) {
    match probe_status {
        401 | 403 | 500..=599 => (kind_for_non_twirp_status(probe_status), Some(probe_status)),
        _ => (ApiErrorKind::Server, None),
    }
}

/// Makes server-provided text safe to show in a terminal and free of credentials: HTML tags
/// stripped, control characters (escape sequences) dropped, JWTs redacted, length bounded.
pub(crate) fn sanitize_server_text(text: &str, max_chars: usize) -> String {
    let without_tags = if text.trim_start().starts_with('<') {
        strip_html_tags(text)
    } else {
        text.to_owned()
    };
    let redacted = redact_jwts(&without_tags);
    let mut clean = String::with_capacity(redacted.len().min(max_chars));
    let mut count = 0;
    for word in redacted
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !clean.is_empty() {
            clean.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= max_chars {
                clean.push('…');
                return clean;
            }
            clean.push(c);
            count += 1;
        }
    }
    clean
}

fn strip_html_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A JWT starts with the base64url of `{"`, which is `eyJ`; a server that echoes request
/// headers (a debugging proxy, say) would otherwise put a live token on screen.
fn redact_jwts(text: &str) -> String {
    const MIN_TOKEN_LEN: usize = 16;
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        let candidate = &rest[start..];
        let len = candidate
            .find(|c: char| !is_token_char(c))
            .unwrap_or(candidate.len());
        let preceded_by_token_char = rest[..start].chars().next_back().is_some_and(is_token_char);
        out.push_str(&rest[..start]);
        if len >= MIN_TOKEN_LEN && !preceded_by_token_char {
            out.push_str("<redacted token>");
        } else {
            out.push_str(&candidate[..len]);
        }
        rest = &candidate[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_TWIRP_CODES: [&str; 18] = [
        "canceled",
        "unknown",
        "invalid_argument",
        "malformed",
        "deadline_exceeded",
        "not_found",
        "bad_route",
        "already_exists",
        "permission_denied",
        "unauthenticated",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "dataloss",
    ];

    #[test]
    fn every_twirp_code_has_a_kind_and_a_status() {
        for code in ALL_TWIRP_CODES {
            assert!(ApiErrorKind::from_twirp_code(code).is_some(), "{code}");
            assert!(twirp_code_status(code).is_some(), "{code}");
        }
        assert_eq!(ApiErrorKind::from_twirp_code("no_such_code"), None);
        assert_eq!(twirp_code_status("no_such_code"), None);
    }

    #[test]
    fn twirp_codes_map_to_kind_and_status() {
        use ApiErrorKind as K;
        let expected: [(&str, ApiErrorKind, u16); 18] = [
            ("invalid_argument", K::Rejected, 400),
            ("malformed", K::Rejected, 400),
            ("out_of_range", K::Rejected, 400),
            ("unauthenticated", K::Unauthenticated, 401),
            ("permission_denied", K::PermissionDenied, 403),
            ("not_found", K::NotFound, 404),
            ("bad_route", K::Rejected, 404),
            ("canceled", K::Rejected, 408),
            ("deadline_exceeded", K::Timeout { after: None }, 408),
            ("already_exists", K::Rejected, 409),
            ("aborted", K::Rejected, 409),
            ("failed_precondition", K::Rejected, 412),
            ("resource_exhausted", K::Rejected, 429),
            ("internal", K::Server, 500),
            ("unknown", K::Server, 500),
            ("dataloss", K::Server, 500),
            ("unimplemented", K::Server, 501),
            ("unavailable", K::Server, 503),
        ];
        for (code, kind, status) in expected {
            assert_eq!(ApiErrorKind::from_twirp_code(code), Some(kind), "{code}");
            assert_eq!(twirp_code_status(code), Some(status), "{code}");
        }
    }

    #[test]
    fn the_sandbox_answers_each_twirp_code_with_the_status_lktop_expects() {
        use livekit_sandbox::twirp_error::TwirpCode;
        for code in TwirpCode::ALL {
            assert_eq!(
                Some(code.http_status()),
                twirp_code_status(code.as_str()),
                "{code:?}"
            );
        }
    }

    #[test]
    fn transient_and_auth_helpers() {
        use ApiErrorKind as K;
        for kind in [
            K::Timeout { after: None },
            K::ConnectionRefused,
            K::ConnectionReset,
            K::Unreachable,
            K::Server,
        ] {
            assert!(kind.is_transient(), "{kind:?}");
            assert!(!kind.is_auth(), "{kind:?}");
        }
        for kind in [K::Unauthenticated, K::PermissionDenied] {
            assert!(kind.is_auth(), "{kind:?}");
            assert!(!kind.is_transient(), "{kind:?}");
        }
        for kind in [K::NotFound, K::Rejected, K::Malformed] {
            assert!(!kind.is_auth() && !kind.is_transient(), "{kind:?}");
        }
    }

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

    #[derive(Debug)]
    struct Wrapper(io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn io_kinds_deep_in_the_chain_classify() {
        let timeout = Duration::from_secs(1);
        let cases = [
            (
                io::ErrorKind::ConnectionRefused,
                Some(ApiErrorKind::ConnectionRefused),
            ),
            (
                io::ErrorKind::ConnectionReset,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::ConnectionAborted,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::UnexpectedEof,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::BrokenPipe,
                Some(ApiErrorKind::ConnectionReset),
            ),
            (
                io::ErrorKind::TimedOut,
                Some(ApiErrorKind::Timeout {
                    after: Some(timeout),
                }),
            ),
            (io::ErrorKind::PermissionDenied, None),
        ];
        for (io_kind, expected) in cases {
            let err = Wrapper(io::Error::new(io_kind, "boom"));
            assert_eq!(
                kind_from_source_chain(&err, timeout),
                expected,
                "{io_kind:?}"
            );
        }
    }

    #[test]
    fn text_fallback_recognises_common_wording() {
        let timeout = Duration::from_secs(1);
        assert_eq!(
            kind_from_text(
                "client error (SendRequest): connection closed before message completed",
                timeout
            ),
            Some(ApiErrorKind::ConnectionReset)
        );
        assert_eq!(
            kind_from_text(
                "tcp connect error: Connection refused (os error 111)",
                timeout
            ),
            Some(ApiErrorKind::ConnectionRefused)
        );
        assert_eq!(kind_from_text("invalid peer certificate", timeout), None);
    }

    #[test]
    fn a_tls_handshake_answered_in_plain_http_is_recognised_through_io_errors() {
        let not_tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        // As hyper-rustls hands it over: an io::Error wrapping an io::Error wrapping rustls's.
        let inner = io::Error::new(io::ErrorKind::InvalidData, not_tls);
        let wrapped = Wrapper(io::Error::other(inner));
        assert!(answered_in_plain_http(&wrapped));
        let other_tls = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidCcs);
        let wrapped = Wrapper(io::Error::new(io::ErrorKind::InvalidData, other_tls));
        assert!(!answered_in_plain_http(&wrapped));
        let refused = Wrapper(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert!(!answered_in_plain_http(&refused));
    }

    #[test]
    fn chain_text_skips_repeated_messages() {
        let err = Wrapper(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(chain_text(&err), "client error: refused");
    }

    #[test]
    fn non_twirp_statuses_classify() {
        assert_eq!(
            kind_for_non_twirp_status(401),
            ApiErrorKind::Unauthenticated
        );
        assert_eq!(
            kind_for_non_twirp_status(403),
            ApiErrorKind::PermissionDenied
        );
        assert_eq!(kind_for_non_twirp_status(502), ApiErrorKind::Server);
        assert_eq!(kind_for_non_twirp_status(404), ApiErrorKind::Server);
    }

    #[test]
    fn probe_answers_carry_only_call_independent_statuses() {
        assert_eq!(
            classify_probe_answer(401),
            (ApiErrorKind::Unauthenticated, Some(401))
        );
        assert_eq!(
            classify_probe_answer(403),
            (ApiErrorKind::PermissionDenied, Some(403))
        );
        assert_eq!(
            classify_probe_answer(502),
            (ApiErrorKind::Server, Some(502))
        );
        assert_eq!(
            classify_probe_answer(503),
            (ApiErrorKind::Server, Some(503))
        );
        assert_eq!(classify_probe_answer(200), (ApiErrorKind::Server, None));
        assert_eq!(classify_probe_answer(404), (ApiErrorKind::Server, None));
    }

    #[test]
    fn server_text_is_made_safe() {
        let html = "<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";
        assert_eq!(
            sanitize_server_text(html, 200),
            "502 Bad Gateway 502 Bad Gateway nginx"
        );
        assert_eq!(
            sanitize_server_text("bad\x1b[31m red\ttext\r\n", 200),
            "bad [31m red text"
        );
        assert_eq!(sanitize_server_text("abcdefgh", 4), "abcd…");
        let echoed = "header was Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrZXkifQ.c2lnbmF0dXJl ok";
        assert_eq!(
            sanitize_server_text(echoed, 200),
            "header was Bearer <redacted token> ok"
        );
        assert_eq!(sanitize_server_text("keyJump", 200), "keyJump");
    }
}
