//! A server's state by the rules documented on [`ServerState`]: each poll's outcome (or, while
//! polling is paused, each pool status) is an observation; a change of state is an event.

use crate::api::{ApiError, ApiErrorKind};
use crate::events::{EventKind, ServerState};
use crate::pool::PoolStatus;
use crate::reconnect::ConnectionState;

/// What one poll, or one pool status, says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Observation {
    Answered,
    NoAnswer(String),
    Rejected(String),
}

impl Observation {
    /// A failed poll's error: the server answered it (a Twirp error), did not answer, or
    /// refused the credentials. `None` when the request was never sent because lktop's own
    /// pool stayed busy: that says nothing about the server.
    #[must_use]
    pub(crate) fn of_error(err: &ApiError) -> Option<Self> {
        if err.is_busy_pool() {
            None
        } else if err.is_auth() {
            Some(Self::Rejected(err.to_string()))
        } else if err.is_server_answer() || err.kind() == ApiErrorKind::Malformed {
            Some(Self::Answered)
        } else {
            Some(Self::NoAnswer(err.to_string()))
        }
    }

    /// While polling is paused: the pool's health checks speak for the server. `None` while
    /// they have not decided (connections still opening).
    #[must_use]
    pub(crate) fn of_pool(status: &PoolStatus) -> Option<Self> {
        if let Some(reason) = &status.unauthenticated {
            return Some(Self::Rejected(reason.clone()));
        }
        if status.healthy > 0 {
            return Some(Self::Answered);
        }
        let all_broken = !status.connections.is_empty()
            && status.connections.iter().all(|c| {
                matches!(
                    c.state,
                    ConnectionState::Reconnecting | ConnectionState::Failed
                )
            });
        all_broken.then(|| {
            let cause = status
                .connections
                .iter()
                .find_map(|c| c.last_error.clone())
                .unwrap_or_else(|| "every connection failed its health check".to_owned());
            Self::NoAnswer(cause)
        })
    }
}

/// One server's state and since when.
#[derive(Debug, Clone, Default)]
pub(crate) struct StateTracker {
    current: Option<(ServerState, i64)>,
}

impl StateTracker {
    #[must_use]
    pub(crate) fn state(&self) -> Option<ServerState> {
        self.current.map(|(state, _)| state)
    }

    /// Folds one observation in; returns the event to emit when the state changed.
    pub(crate) fn observe(
        &mut self,
        server: &str,
        observation: Observation,
        at_ms: i64,
    ) -> Option<EventKind> {
        let (state, cause) = match observation {
            Observation::Answered => (ServerState::Up, None),
            Observation::NoAnswer(cause) => (ServerState::Down, Some(cause)),
            Observation::Rejected(cause) => (ServerState::Unauthenticated, Some(cause)),
        };
        let previous = self.current;
        if previous.is_some_and(|(was, _)| was == state) {
            return None;
        }
        self.current = Some((state, at_ms));
        let down_for_ms = match previous {
            Some((ServerState::Down | ServerState::Unauthenticated, since))
                if state == ServerState::Up =>
            {
                Some(u64::try_from(at_ms.saturating_sub(since)).unwrap_or(0))
            }
            _ => None,
        };
        Some(EventKind::ServerState {
            server: server.to_owned(),
            state,
            cause,
            down_for_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_of(event: Option<EventKind>) -> Option<(ServerState, Option<u64>)> {
        match event? {
            EventKind::ServerState {
                state, down_for_ms, ..
            } => Some((state, down_for_ms)),
            _ => None,
        }
    }

    #[test]
    fn a_change_is_reported_once_and_the_return_says_how_long_it_was_down() {
        let mut tracker = StateTracker::default();
        assert_eq!(
            state_of(tracker.observe("s", Observation::Answered, 1_000)),
            Some((ServerState::Up, None))
        );
        assert!(tracker.observe("s", Observation::Answered, 2_000).is_none());
        assert_eq!(
            state_of(tracker.observe("s", Observation::NoAnswer("refused".into()), 3_000)),
            Some((ServerState::Down, None))
        );
        assert!(
            tracker
                .observe("s", Observation::NoAnswer("reset".into()), 5_000)
                .is_none()
        );
        assert_eq!(
            state_of(tracker.observe("s", Observation::Answered, 40_000)),
            Some((ServerState::Up, Some(37_000)))
        );
    }

    #[test]
    fn a_twirp_error_is_an_answer_and_a_proxy_page_is_not() {
        let twirp = ApiError::new(
            "ListRooms",
            ApiErrorKind::Server,
            Some(503),
            "e",
            "unavailable",
        )
        .answered_by_server();
        assert_eq!(Observation::of_error(&twirp), Some(Observation::Answered));
        let proxy = ApiError::new(
            "ListRooms",
            ApiErrorKind::Server,
            Some(502),
            "e",
            "HTTP 502",
        );
        assert!(matches!(
            Observation::of_error(&proxy),
            Some(Observation::NoAnswer(_))
        ));
        let refused = ApiError::new("ListRooms", ApiErrorKind::ConnectionRefused, None, "e", "x");
        assert!(matches!(
            Observation::of_error(&refused),
            Some(Observation::NoAnswer(_))
        ));
        let auth = ApiError::new(
            "ListRooms",
            ApiErrorKind::Unauthenticated,
            Some(401),
            "e",
            "x",
        )
        .answered_by_server();
        assert!(matches!(
            Observation::of_error(&auth),
            Some(Observation::Rejected(_))
        ));
    }

    #[test]
    fn a_request_that_waited_out_lktops_busy_pool_says_nothing_about_the_server() {
        let busy = ApiError::new(
            "ListRooms",
            ApiErrorKind::Timeout {
                after: Some(std::time::Duration::from_secs(1)),
            },
            None,
            "e",
            "no connection to s became free within 1s",
        )
        .into_busy_pool();
        assert_eq!(Observation::of_error(&busy), None);
    }
}
