//! Statistics over a sliding window of recent requests: success rate, p50/p95/p99 from an HDR
//! histogram, mean and standard deviation (Welford) and jitter (RFC 3550). The window is two
//! rotating halves, so it slides without keeping every sample.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Length of the statistics window by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Latencies are recorded in microseconds, clamped into `HISTOGRAM_LOWEST_US..=HISTOGRAM_HIGHEST_US`.
pub(crate) const HISTOGRAM_LOWEST_US: u64 = 1;
/// 60 s: far beyond any client timeout (the SDKs use 10 s), so clamping never hides a real value.
pub(crate) const HISTOGRAM_HIGHEST_US: u64 = 60_000_000;
/// Three significant digits: percentiles are exact to 0.1 %.
pub(crate) const HISTOGRAM_SIGNIFICANT_DIGITS: u8 = 3;

/// RFC 3550 §6.4.1: the jitter estimate moves by 1/16 of each new difference.
const JITTER_GAIN: f64 = 1.0 / 16.0;

/// Running mean and sum of squared deviations (Welford), in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Moments {
    count: u64,
    mean: f64,
    squared_deviations: f64,
}

impl Moments {
    fn add(&mut self, value: f64) {
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / count_as_f64(self.count);
        self.squared_deviations += delta * (value - self.mean);
    }

    /// Chan et al.'s pairwise combination: the moments of both sample sets together.
    fn combined(self, other: Self) -> Self {
        if self.count == 0 {
            return other;
        }
        if other.count == 0 {
            return self;
        }
        let count = self.count + other.count;
        let (own_weight, other_weight, total) = (
            count_as_f64(self.count),
            count_as_f64(other.count),
            count_as_f64(count),
        );
        let delta = other.mean - self.mean;
        Self {
            count,
            mean: self.mean + delta * other_weight / total,
            squared_deviations: self.squared_deviations
                + other.squared_deviations
                + delta * delta * own_weight * other_weight / total,
        }
    }

    /// Sample variance (n − 1), defined from two samples on.
    fn variance(self) -> Option<f64> {
        (self.count >= 2).then(|| self.squared_deviations / count_as_f64(self.count - 1))
    }
}

/// The samples of one half of the window.
#[derive(Debug, Clone)]
struct HalfWindow {
    successes: Histogram<u64>,
    moments: Moments,
    failures: u64,
}

impl HalfWindow {
    fn new() -> Self {
        Self {
            successes: empty_histogram(),
            moments: Moments::default(),
            failures: 0,
        }
    }

    fn clear(&mut self) {
        self.successes.reset();
        self.moments = Moments::default();
        self.failures = 0;
    }
}

/// RFC 3550 interarrival jitter, applied to the latencies of consecutive successful requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Jitter {
    last_latency_us: Option<f64>,
    estimate_us: f64,
}

impl Jitter {
    fn observe(&mut self, latency_us: f64) {
        if let Some(last) = self.last_latency_us {
            let difference = (latency_us - last).abs();
            self.estimate_us += (difference - self.estimate_us) * JITTER_GAIN;
        }
        self.last_latency_us = Some(latency_us);
    }
}

/// Statistics over a sliding window of recent requests.
///
/// The window is two half-windows, each with its own HDR histogram, failure count and Welford
/// moments. Samples go into the current half; once it is `window / 2` old it becomes the previous
/// half and the old previous half is dropped. The statistics therefore always cover between
/// `window / 2` and `window` of history, and memory is fixed — two histograms of 136 KiB each
/// (1 µs..60 s at 3 significant digits) and a few counters — however long lktop runs. This was chosen over keeping the last N samples
/// because the window is then a time span whatever the request rate, and percentiles cost a
/// histogram lookup rather than a sort.
///
/// Jitter is RFC 3550's running estimate over consecutive successful latencies (gain 1/16, so
/// it effectively remembers the last few dozen requests); it is reset only when the whole
/// window expires.
#[derive(Debug, Clone)]
pub(crate) struct QualityWindow {
    half: Duration,
    current: HalfWindow,
    previous: HalfWindow,
    current_started: Option<Instant>,
    jitter: Jitter,
}

impl QualityWindow {
    /// An empty window covering about `window` of history.
    ///
    /// # Panics
    /// When `window` is shorter than 2 ns (it cannot be halved).
    #[must_use]
    pub(crate) fn new(window: Duration) -> Self {
        let half = window / 2;
        assert!(!half.is_zero(), "a quality window must be longer than zero");
        Self {
            half,
            current: HalfWindow::new(),
            previous: HalfWindow::new(),
            current_started: None,
            jitter: Jitter::default(),
        }
    }

    /// Records one request: `Some(latency)` when it succeeded, `None` when it failed.
    pub(crate) fn record(&mut self, latency: Option<Duration>, at: Instant) {
        self.advance(at);
        self.current_started.get_or_insert(at);
        match latency {
            Some(latency) => {
                let micros = clamped_micros(latency);
                self.current.successes.saturating_record(micros);
                #[expect(clippy::cast_precision_loss, reason = "at most 6e7, exact in f64")]
                let micros = micros as f64;
                self.current.moments.add(micros);
                self.jitter.observe(micros);
            }
            None => self.current.failures += 1,
        }
    }

    /// Ages the window to `now`: halves older than the window are dropped. `record` does this
    /// itself; call it before reading when no request was made for a while.
    pub(crate) fn advance(&mut self, now: Instant) {
        let Some(started) = self.current_started else {
            return;
        };
        let elapsed = now.saturating_duration_since(started);
        if elapsed < self.half {
            return;
        }
        if elapsed < self.half * 2 {
            self.rotate();
            self.current_started = Some(started + self.half);
        } else {
            self.clear();
        }
    }

    /// The current half becomes the previous one; the old previous half is dropped.
    fn rotate(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
    }

    /// Forgets every sample, as if just created.
    pub(crate) fn clear(&mut self) {
        self.current.clear();
        self.previous.clear();
        self.current_started = None;
        self.jitter = Jitter::default();
    }

    /// Both halves' successful latencies in one histogram. Merged on demand rather than kept up
    /// to date: a third 136 KiB histogram per monitor would cost more memory than this copy
    /// costs time once per monitoring tick.
    fn combined_successes(&self) -> Histogram<u64> {
        let mut combined = self.previous.successes.clone();
        combined
            .add(&self.current.successes)
            .expect("histograms built with the same bounds always add up");
        combined
    }

    /// The statistics of the samples currently in the window.
    #[must_use]
    pub(crate) fn stats(&self) -> WindowStats {
        let combined = self.combined_successes();
        let successes = combined.len();
        let failures = self.previous.failures + self.current.failures;
        let moments = self.previous.moments.combined(self.current.moments);
        let quantile =
            |q: f64| (successes > 0).then(|| Duration::from_micros(combined.value_at_quantile(q)));
        WindowStats {
            successes,
            failures,
            p50: quantile(0.50),
            p95: quantile(0.95),
            p99: quantile(0.99),
            mean: (moments.count > 0).then(|| micros_to_duration(moments.mean)),
            std_dev: moments
                .variance()
                .map(|variance| micros_to_duration(variance.sqrt())),
            jitter: (successes > 0).then(|| micros_to_duration(self.jitter.estimate_us)),
        }
    }
}

/// What a [`QualityWindow`] holds at one moment. Latency figures are `None` when no request in
/// the window succeeded; `std_dev` needs two successes. The default is an empty window's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WindowStats {
    pub(crate) successes: u64,
    pub(crate) failures: u64,
    pub(crate) p50: Option<Duration>,
    pub(crate) p95: Option<Duration>,
    pub(crate) p99: Option<Duration>,
    pub(crate) mean: Option<Duration>,
    pub(crate) std_dev: Option<Duration>,
    pub(crate) jitter: Option<Duration>,
}

impl WindowStats {
    #[must_use]
    pub(crate) fn samples(&self) -> u64 {
        self.successes + self.failures
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.samples() == 0
    }

    /// Successful requests over all requests; `None` for an empty window.
    #[must_use]
    pub(crate) fn success_rate(&self) -> Option<f64> {
        let samples = self.samples();
        (samples > 0).then(|| count_as_f64(self.successes) / count_as_f64(samples))
    }
}

fn empty_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(
        HISTOGRAM_LOWEST_US,
        HISTOGRAM_HIGHEST_US,
        HISTOGRAM_SIGNIFICANT_DIGITS,
    )
    .expect("constant histogram bounds are valid")
}

fn clamped_micros(latency: Duration) -> u64 {
    u64::try_from(latency.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US)
}

fn micros_to_duration(micros: f64) -> Duration {
    Duration::from_secs_f64(micros.max(0.0) / 1e6)
}

/// Counts stay far below 2^53, where `f64` is still exact.
#[expect(
    clippy::cast_precision_loss,
    reason = "request counts stay far below 2^53"
)]
fn count_as_f64(count: u64) -> f64 {
    count as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::tests::{assert_close, assert_duration_close, ms};

    #[test]
    fn percentiles_mean_and_deviation_on_known_data() {
        let mut window = QualityWindow::new(Duration::from_secs(60));
        let at = Instant::now();
        for millis in 1..=100 {
            window.record(Some(ms(millis)), at);
        }
        let stats = window.stats();
        assert_eq!(stats.successes, 100);
        assert_duration_close(stats.p50, ms(50));
        assert_duration_close(stats.p95, ms(95));
        assert_duration_close(stats.p99, ms(99));
        assert_duration_close(stats.mean, Duration::from_micros(50_500));
        // Sample standard deviation of 1..=100: sqrt(841.666…) = 29.011 ms.
        assert_close(
            stats.std_dev.expect("two or more samples").as_secs_f64() * 1e3,
            (100.0_f64 * 101.0 / 12.0).sqrt(),
            1e-6,
        );
    }

    #[test]
    fn latencies_are_clamped_into_the_histogram_range() {
        let mut window = QualityWindow::new(Duration::from_secs(60));
        let at = Instant::now();
        window.record(Some(Duration::ZERO), at);
        window.record(Some(Duration::from_secs(3600)), at);
        let stats = window.stats();
        assert_eq!(stats.successes, 2);
        assert_duration_close(stats.p99, Duration::from_secs(60));
    }

    #[test]
    fn jitter_follows_rfc_3550() {
        let mut window = QualityWindow::new(Duration::from_secs(60));
        let at = Instant::now();
        // A failure between two successes does not break the pair: D is taken between
        // consecutive *successful* latencies.
        for latency in [Some(100), Some(120), None, Some(110), Some(150)] {
            window.record(latency.map(ms), at);
        }
        // J1 = 20/16; J2 = J1 + (10 − J1)/16; J3 = J2 + (40 − J2)/16 (milliseconds).
        let j1 = 20.0 / 16.0;
        let j2 = j1 + (10.0 - j1) / 16.0;
        let j3 = j2 + (40.0 - j2) / 16.0;
        let jitter = window.stats().jitter.expect("successes").as_secs_f64() * 1e3;
        assert_close(jitter, j3, 1e-6);
    }

    #[test]
    fn success_rate_counts_failures() {
        let mut window = QualityWindow::new(Duration::from_secs(60));
        let at = Instant::now();
        assert_eq!(window.stats().success_rate(), None);
        for latency in [Some(ms(10)), None, Some(ms(10)), Some(ms(10))] {
            window.record(latency, at);
        }
        let stats = window.stats();
        assert_eq!(
            (stats.successes, stats.failures, stats.samples()),
            (3, 1, 4)
        );
        assert_eq!(stats.success_rate(), Some(0.75));
    }

    #[test]
    fn only_failures_give_a_rate_but_no_latency() {
        let mut window = QualityWindow::new(Duration::from_secs(60));
        let at = Instant::now();
        window.record(None, at);
        let stats = window.stats();
        assert_eq!(stats.success_rate(), Some(0.0));
        assert_eq!((stats.p50, stats.mean, stats.jitter), (None, None, None));
    }

    #[test]
    fn window_slides_by_halves_and_expires() {
        let mut window = QualityWindow::new(Duration::from_secs(10));
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        window.record(Some(ms(100)), at(0));
        window.record(Some(ms(200)), at(6)); // first half closed at 5 s
        assert_eq!(window.stats().samples(), 2);
        window.record(None, at(11)); // second half closed at 10 s: the 0 s sample is gone
        let stats = window.stats();
        assert_eq!((stats.successes, stats.failures), (1, 1));
        assert_duration_close(stats.p50, ms(200));
        window.advance(at(25)); // more than a whole window without a sample
        assert!(window.stats().is_empty());
        assert_eq!(window.stats().jitter, None);
    }

    #[test]
    fn moments_combined_across_halves_equal_one_pass() {
        let values = [3.0, 8.0, 1.0, 9.0, 4.0, 4.0, 12.0];
        let mut one_pass = Moments::default();
        let (mut first, mut second) = (Moments::default(), Moments::default());
        for (index, value) in values.into_iter().enumerate() {
            one_pass.add(value);
            if index < 3 {
                first.add(value);
            } else {
                second.add(value);
            }
        }
        let combined = first.combined(second);
        assert_eq!(combined.count, one_pass.count);
        assert_close(combined.mean, one_pass.mean, 1e-12);
        assert_close(
            combined.variance().expect("n ≥ 2"),
            one_pass.variance().expect("n ≥ 2"),
            1e-12,
        );
    }
}
