//! The kinds of failure, what each means for a caller (retry, fix the credentials), and the
//! Twirp error codes: the kind each maps to and the HTTP status a Twirp server sends with it.

use std::fmt;
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

/// livekit-server's `ErrPermissionDenied`, the message of every missing grant.
const MISSING_GRANT_MESSAGE: &str = "permissions denied";

impl ApiErrorKind {
    /// The kind a Twirp error code maps to, or `None` for a code the Twirp spec does not define.
    #[must_use]
    fn from_twirp_code(code: &str) -> Option<Self> {
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

    /// The kind of a Twirp error, by its code and message. livekit-server answers a token
    /// without the grant a method needs with `unauthenticated` "permissions denied"
    /// (`twirpAuthError(ErrPermissionDenied)` in its `pkg/service/auth.go`): the credentials
    /// are good, only this call is not allowed, so it is not a rejection of the key.
    #[must_use]
    pub(crate) fn from_twirp(code: &str, msg: &str) -> Option<Self> {
        if code == "unauthenticated" && msg.trim() == MISSING_GRANT_MESSAGE {
            return Some(Self::PermissionDenied);
        }
        Self::from_twirp_code(code)
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
    fn livekits_missing_grant_is_not_a_rejected_key() {
        assert_eq!(
            ApiErrorKind::from_twirp("unauthenticated", "permissions denied"),
            Some(ApiErrorKind::PermissionDenied)
        );
        assert_eq!(
            ApiErrorKind::from_twirp("unauthenticated", "invalid token"),
            Some(ApiErrorKind::Unauthenticated)
        );
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
}
