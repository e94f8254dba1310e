//! What one listener allows a client.

use std::time::Duration;

/// The limits of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// The whole request head must arrive within this long after the server starts waiting
    /// for it; a kept-alive connection may also sit idle between requests this long.
    pub header_read_timeout: Duration,
    /// Headers in one request head; a head with more is answered `431`.
    pub max_headers: usize,
    /// Bytes of one request body; a larger one is answered `413`.
    pub max_body_bytes: usize,
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
}

impl ListenerLimits {
    /// Long enough for a client on a slow mobile link to send a head of a few KiB; short
    /// enough that a slowloris client holds a connection for seconds, not hyper's 30 s.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// hyper's own default, written down so every listener states it: real clients send a
    /// dozen or two.
    pub const DEFAULT_MAX_HEADERS: usize = 100;

    /// The defaults for the header timeout and count, with this listener's body limit and cap.
    #[must_use]
    pub const fn new(max_body_bytes: usize, max_connections: usize) -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_body_bytes,
            max_connections,
        }
    }

    #[must_use]
    pub const fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    #[must_use]
    pub const fn with_max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }
}
