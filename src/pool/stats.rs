//! What one connection's requests looked like: counts and latencies, the raw material of the
//! quality score.

use std::time::{Duration, SystemTime};

/// Requests carried by one connection: callers' requests and the pool's health checks alike,
/// since both say how the connection performs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RequestStats {
    pub(crate) total: u64,
    pub(crate) failed: u64,
    /// The latency of the last request that got an answer.
    pub(crate) current_latency: Option<Duration>,
    /// Sum of the latencies of requests that got an answer, for the average.
    pub(crate) latency_sum: Duration,
    pub(crate) answered: u64,
    /// When a caller last had the connection (health checks do not count: they keep idle
    /// connections alive, and shrinking is about callers' use).
    pub(crate) last_used: Option<SystemTime>,
}

impl RequestStats {
    /// `answered` is false for requests that got no answer (timeouts, refused, reset): their
    /// "latency" is the time spent failing, which would bend the average toward the timeout.
    pub(crate) fn record(&mut self, latency: Duration, failed: bool, answered: bool) {
        self.total += 1;
        if failed {
            self.failed += 1;
        }
        if answered {
            self.current_latency = Some(latency);
            self.latency_sum = self.latency_sum.saturating_add(latency);
            self.answered += 1;
        }
    }

    pub(crate) fn average_latency(&self) -> Option<Duration> {
        if self.answered == 0 {
            return None;
        }
        let mean = self.latency_sum.as_nanos() / u128::from(self.answered);
        Some(Duration::from_nanos(
            u64::try_from(mean).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanswered_requests_count_but_do_not_bend_the_latency() {
        let mut stats = RequestStats::default();
        assert_eq!(stats.average_latency(), None);
        stats.record(Duration::from_millis(10), false, true);
        stats.record(Duration::from_millis(30), true, true);
        stats.record(Duration::from_secs(5), true, false);
        assert_eq!((stats.total, stats.failed), (3, 2));
        assert_eq!(stats.current_latency, Some(Duration::from_millis(30)));
        assert_eq!(stats.average_latency(), Some(Duration::from_millis(20)));
    }
}
