//! Why a pool could not give a caller a connection, or a call an answer.

use std::time::Duration;

use crate::api::ApiError;

/// Why no connection was handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Every connection stayed busy for the whole `connection_timeout`.
    #[error(
        "no connection to {server} became free within {}: {in_use} of {total} connections in use \
         (max {max}), {waiters} callers waiting",
        humantime::format_duration(*waited)
    )]
    Timeout {
        server: String,
        waited: Duration,
        total: usize,
        in_use: usize,
        max: usize,
        waiters: usize,
    },
    /// Every connection is Failed: the server has been unreachable through all attempts.
    #[error("{server} is unavailable: all {total} connections failed; last error: {reason}")]
    Unavailable {
        server: String,
        total: usize,
        reason: String,
    },
    /// The server rejects lktop's credentials; fix the key or secret.
    #[error("{server} rejected the credentials: {reason}")]
    Unauthenticated { server: String, reason: String },
    /// The server asked for no request before a time (`Retry-After` on a 429 or 503); lktop
    /// sends none until then, or until the operator says retry now.
    #[error(
        "{server} asked lktop to wait {} more before its next request: {reason}",
        humantime::format_duration(Duration::from_secs(left.as_secs().max(1)))
    )]
    AskedToWait {
        server: String,
        left: Duration,
        reason: String,
    },
    /// The connection factory could not build a connection (bad URL, empty key, ...).
    #[error("could not open a connection to {server}: {reason}")]
    Connect { server: String, reason: String },
    #[error("the pool for {server} is shut down")]
    ShutDown { server: String },
}

/// Why [`Pool::call`](super::Pool::call) failed: no connection, or the request itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl CallError {
    /// The request's own error, when it was sent.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(err) => Some(err),
            Self::Pool(_) => None,
        }
    }

    #[must_use]
    pub fn pool(&self) -> Option<&PoolError> {
        match self {
            Self::Pool(err) => Some(err),
            Self::Api(_) => None,
        }
    }
}
