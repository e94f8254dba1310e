//! A token refused for its times, not its signature: the server's clock and this machine's
//! disagree by more than the server allows.
//!
//! lktop signs every token itself, `nbf` now and `exp` ten minutes on, and sends it for at most
//! five minutes. livekit-server checks both with go-jose's default leeway of one minute
//! (`jwt.Claims.Validate`, called by `auth.APIKeyTokenVerifier.Verify` in livekit/protocol), so
//! a fresh token of lktop's is refused as "not valid yet" only when the server's clock is more
//! than a minute behind, and as "expired" only when it is more than five minutes ahead. Either
//! way the key and secret are fine and retrying will not help until a clock is set right.

use std::fmt;
use std::time::{Duration, SystemTime};

/// Which way the server's clock is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerClock {
    /// The server found lktop's fresh token expired: its clock runs ahead.
    Ahead,
    /// The server found lktop's token not valid yet: its clock runs behind.
    Behind,
}

/// The server refused lktop's token because the two clocks differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockSkew {
    /// Which way the server's clock is off, by its own words.
    pub server: ServerClock,
    /// How far, from the answer's `Date` header (to the second, plus the request's time), when
    /// the answer had one.
    pub by: Option<Duration>,
}

/// The server's leeway on `nbf` and `exp`: go-jose's `DefaultLeeway`, which livekit-server
/// uses, and jsonwebtoken's default, which the sandbox uses.
pub const SERVER_LEEWAY: Duration = Duration::from_secs(60);

impl ClockSkew {
    /// The skew a refusal shows, if the server's words say the token's times were wrong:
    /// livekit-server's go-jose says "token is expired (exp)", "token not valid yet (nbf)" or
    /// "token issued in the future (iat)"; the sandbox says "token is expired" and "token is
    /// not valid yet". `server_date` is the answer's `Date`, `now` this machine's clock.
    #[must_use]
    pub(crate) fn recognise(
        server_words: &str,
        server_date: Option<SystemTime>,
        now: SystemTime,
    ) -> Option<Self> {
        let words = server_words.to_lowercase();
        // The token's times only: a key that expired is a credentials problem, not a clock's.
        let server = if words.contains("token is expired") {
            ServerClock::Ahead
        } else if words.contains("token not valid yet")
            || words.contains("token is not valid yet")
            || words.contains("token issued in the future")
        {
            ServerClock::Behind
        } else {
            return None;
        };
        let by = server_date.map(|date| match date.duration_since(now) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        });
        Some(Self { server, by })
    }
}

impl fmt::Display for ClockSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (refused_as, direction) = match self.server {
            ServerClock::Ahead => ("expired", "ahead of"),
            ServerClock::Behind => ("not valid yet", "behind"),
        };
        write!(
            f,
            "clock skew: the server refused lktop's fresh token as {refused_as}, so its clock is "
        )?;
        match self.by {
            Some(by) => write!(
                f,
                "about {} {direction} this machine's (by its Date header)",
                humantime::format_duration(Duration::from_secs(by.as_secs()))
            )?,
            None => write!(
                f,
                "{direction} this machine's by more than it allows (its leeway is {})",
                humantime::format_duration(SERVER_LEEWAY)
            )?,
        }
        f.write_str(
            "; the key and secret are not at fault: set both clocks right (NTP) and lktop \
             recovers by itself",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn livekit_servers_and_the_sandboxs_words_are_recognised() {
        let now = SystemTime::now();
        let cases = [
            (
                "invalid token: …, error: go-jose/go-jose/jwt: validation failed, token is expired (exp)",
                Some(ServerClock::Ahead),
            ),
            (
                "go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)",
                Some(ServerClock::Behind),
            ),
            (
                "go-jose/go-jose/jwt: validation failed, token issued in the future (iat)",
                Some(ServerClock::Behind),
            ),
            (
                "unauthenticated: invalid authorization token: token is expired",
                Some(ServerClock::Ahead),
            ),
            (
                "unauthenticated: invalid authorization token: token is not valid yet",
                Some(ServerClock::Behind),
            ),
            (
                "unauthenticated: invalid authorization token: signature is invalid",
                None,
            ),
            ("invalid API key: devkey", None),
            ("unauthenticated: API key expired", None),
        ];
        for (words, expected) in cases {
            assert_eq!(
                ClockSkew::recognise(words, None, now).map(|skew| skew.server),
                expected,
                "{words}"
            );
        }
    }

    #[test]
    fn the_date_header_tells_by_how_much() {
        let now = SystemTime::now();
        let ahead = ClockSkew::recognise(
            "token is expired",
            Some(now + Duration::from_secs(900)),
            now,
        )
        .unwrap();
        assert_eq!(ahead.by, Some(Duration::from_secs(900)));
        let shown = ahead.to_string();
        assert!(
            shown.contains("about 15m ahead of this machine's"),
            "{shown}"
        );
        assert!(
            shown.contains("NTP") && !shown.contains("signature"),
            "{shown}"
        );
        let behind = ClockSkew::recognise(
            "token is not valid yet",
            Some(now - Duration::from_secs(300)),
            now,
        )
        .unwrap();
        assert!(
            behind
                .to_string()
                .contains("about 5m behind this machine's"),
            "{behind}"
        );
        let unmeasured = ClockSkew::recognise("token is not valid yet", None, now).unwrap();
        assert!(
            unmeasured
                .to_string()
                .contains("behind this machine's by more than it allows"),
            "{unmeasured}"
        );
    }
}
