//! Twirp errors as the sandbox answers them: a code, a message, and the HTTP status the Twirp
//! spec ties to the code.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwirpCode {
    InvalidArgument,
    Malformed,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    BadRoute,
    AlreadyExists,
    ResourceExhausted,
    FailedPrecondition,
    Internal,
    Unimplemented,
    Unavailable,
    DeadlineExceeded,
}

impl TwirpCode {
    pub const ALL: [Self; 13] = [
        Self::InvalidArgument,
        Self::Malformed,
        Self::Unauthenticated,
        Self::PermissionDenied,
        Self::NotFound,
        Self::BadRoute,
        Self::AlreadyExists,
        Self::ResourceExhausted,
        Self::FailedPrecondition,
        Self::Internal,
        Self::Unimplemented,
        Self::Unavailable,
        Self::DeadlineExceeded,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::Malformed => "malformed",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::BadRoute => "bad_route",
            Self::AlreadyExists => "already_exists",
            Self::ResourceExhausted => "resource_exhausted",
            Self::FailedPrecondition => "failed_precondition",
            Self::Internal => "internal",
            Self::Unimplemented => "unimplemented",
            Self::Unavailable => "unavailable",
            Self::DeadlineExceeded => "deadline_exceeded",
        }
    }

    /// The HTTP status of the code, from the Twirp specification.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument | Self::Malformed => 400,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::NotFound | Self::BadRoute => 404,
            Self::DeadlineExceeded => 408,
            Self::AlreadyExists => 409,
            Self::FailedPrecondition => 412,
            Self::ResourceExhausted => 429,
            Self::Internal => 500,
            Self::Unimplemented => 501,
            Self::Unavailable => 503,
        }
    }
}

impl std::str::FromStr for TwirpCode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|code| code.as_str()).collect();
                format!(
                    "`{text}` is not a Twirp error code; use one of {}",
                    names.join(", ")
                )
            })
    }
}

impl serde::Serialize for TwirpCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TwirpCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwirpError {
    pub code: TwirpCode,
    pub msg: String,
}

impl TwirpError {
    pub(crate) fn new(code: TwirpCode, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
        }
    }

    /// livekit-server's words for a missing room.
    #[must_use]
    pub(crate) fn room_not_found() -> Self {
        Self::new(TwirpCode::NotFound, "requested room does not exist")
    }

    /// livekit-server's words for a missing participant.
    #[must_use]
    pub(crate) fn participant_not_found() -> Self {
        Self::new(TwirpCode::NotFound, "participant does not exist")
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::new(TwirpCode::InvalidArgument, msg)
    }

    /// The body of the error answer: `{"code":"...","msg":"..."}`.
    #[must_use]
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({ "code": self.code.as_str(), "msg": self.msg }).to_string()
    }
}

impl fmt::Display for TwirpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.msg)
    }
}

impl std::error::Error for TwirpError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// That each code's status is the one the Twirp spec ties to it is checked against lktop's
    /// own table of the spec, in lktop's `api::error` tests.
    #[test]
    fn codes_round_trip() {
        for code in TwirpCode::ALL {
            assert_eq!(code.as_str().parse::<TwirpCode>().unwrap(), code);
        }
        assert!(
            "nope"
                .parse::<TwirpCode>()
                .unwrap_err()
                .contains("not_found")
        );
    }

    #[test]
    fn error_json_is_exactly_code_and_msg() {
        let json = TwirpError::room_not_found().to_json();
        assert_eq!(
            json,
            r#"{"code":"not_found","msg":"requested room does not exist"}"#
        );
    }
}
