//! Connection quality: latency history for sparklines, sliding-window statistics and a quality
//! score graded excellent / good / fair / poor.
//!
//! Everything here is pure and deterministic: no clock is read inside. Callers pass the
//! `Instant` of each sample and of each evaluation, so tests drive time by hand.
//!
//! Three layers, usable apart:
//! - [`LatencyRing`]: the last N request latencies (a failed request is `None`), for sparklines.
//! - [`QualityWindow`]: statistics over a sliding window of recent samples — success rate,
//!   p50/p95/p99 (HDR histogram), mean and standard deviation (Welford), jitter (RFC 3550).
//! - [`ScoreModel`] and [`QualityMonitor`]: the score formula, its smoothing and the grade.
//!
//! # The quality score
//!
//! A simplified E-model after livekit-server's connection-quality scorer
//! (`pkg/sfu/connectionquality/scorer.go`), adapted from media packets to API requests. With the
//! defaults of [`ScoreModel`] (`T` = `target_latency`, 200 ms; latencies in milliseconds):
//!
//! ```text
//! d      = p95 + 2 × jitter                     effective latency (0 when no request succeeded)
//! delay  = 0.1 × d / T                          when d ≤ T
//!        = 0.1 + 0.5 × (d − T) / T              when d > T
//! loss   = 4 × (1 − success_rate)
//! raw    = clamp(1 − delay − loss, 0, 1)
//!
//! score  = raw                                  first evaluation (or after the window emptied)
//!        = prev + 0.8 × (raw − prev)            when raw < prev: a falling score moves fast
//!        = prev + 0.4 × (raw − prev)            when raw ≥ prev: a recovering score moves slowly
//!
//! grade  = excellent if score ≥ thresholds.excellent, good if ≥ thresholds.good,
//!          fair if ≥ thresholds.fair, else poor;
//!          never better than fair while success_rate < min_success_rate
//! ```
//!
//! With the default thresholds (0.9 / 0.7 / 0.5) and no failures: every request at the target
//! latency scores 0.90 (excellent), at 1.4 × T 0.70 (good), at 1.8 × T 0.50 (fair), at 2 × T 0.40
//! (poor). Each percent of failed requests costs 0.04; at 25 % failures the score is 0. The
//! smoothing applies once per evaluation (one monitoring tick), so a grade does not flap on one
//! slow tick and does not claim recovery after one good one.
//!
//! An empty window — no sample yet, or none within the window — has no score and no grade:
//! never a made-up number.

mod monitor;
mod ring;
mod score;
mod window;

pub(crate) use monitor::QualityMonitor;
pub use monitor::{QualityReport, RequestTally};
pub use ring::LatencyRing;
pub(crate) use score::ScoreModel;
pub use score::{Grade, QualityScore};
pub use window::DEFAULT_WINDOW;
pub(crate) use window::{QualityWindow, WindowStats};

/// Helpers shared by the tests of the parts.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::WindowStats;

    pub(super) fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    pub(super) fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// Within the histogram's 0.1 % precision.
    pub(super) fn assert_duration_close(actual: Option<Duration>, expected: Duration) {
        let actual = actual.expect("a value");
        assert_close(
            actual.as_secs_f64(),
            expected.as_secs_f64(),
            expected.as_secs_f64() * 1e-3,
        );
    }

    pub(super) fn all_successful(p95: Duration, jitter: Duration) -> WindowStats {
        WindowStats {
            successes: 100,
            failures: 0,
            p50: Some(p95),
            p95: Some(p95),
            p99: Some(p95),
            mean: Some(p95),
            std_dev: None,
            jitter: Some(jitter),
        }
    }
}
