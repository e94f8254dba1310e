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

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::config::{QualityConfig, QualityThresholds};

/// Samples kept for sparklines by default: ten minutes at one request a second.
pub const DEFAULT_HISTORY_CAPACITY: usize = 600;

/// Length of the statistics window by default.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Latencies are recorded in microseconds, clamped into `HISTOGRAM_LOWEST_US..=HISTOGRAM_HIGHEST_US`.
pub const HISTOGRAM_LOWEST_US: u64 = 1;
/// 60 s: far beyond any client timeout (the SDKs use 10 s), so clamping never hides a real value.
pub const HISTOGRAM_HIGHEST_US: u64 = 60_000_000;
/// Three significant digits: percentiles are exact to 0.1 %.
pub const HISTOGRAM_SIGNIFICANT_DIGITS: u8 = 3;

/// RFC 3550 §6.4.1: the jitter estimate moves by 1/16 of each new difference.
const JITTER_GAIN: f64 = 1.0 / 16.0;

// --------------------------------------------------------------------------------------------
// LatencyRing

/// The most recent request latencies, oldest first, in a fixed-capacity ring.
///
/// `None` is a failed request, so a sparkline draws a gap there, not a zero. Pushing is O(1) and
/// never allocates; once full, each push overwrites the oldest sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyRing {
    slots: Box<[Option<Duration>]>,
    /// Where the next sample goes; once the ring is full this is also the oldest sample.
    next: usize,
    len: usize,
}

impl LatencyRing {
    /// An empty ring holding at most `capacity` samples.
    ///
    /// # Panics
    /// When `capacity` is zero: a history that can hold nothing is a programming error.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "a latency ring needs room for at least one sample"
        );
        Self {
            slots: vec![None; capacity].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a sample (`None` for a failed request), dropping the oldest when full.
    pub fn push(&mut self, sample: Option<Duration>) {
        self.slots[self.next] = sample;
        self.next = (self.next + 1) % self.slots.len();
        self.len = (self.len + 1).min(self.slots.len());
    }

    /// The newest sample: `None` when the ring is empty, `Some(None)` when the last request failed.
    #[must_use]
    pub fn latest(&self) -> Option<Option<Duration>> {
        if self.is_empty() {
            return None;
        }
        let capacity = self.slots.len();
        Some(self.slots[(self.next + capacity - 1) % capacity])
    }

    /// Every sample, oldest first.
    #[must_use = "iterators are lazy"]
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = Option<Duration>> + ExactSizeIterator + '_ {
        self.newest(self.len)
    }

    /// The newest `count` samples (fewer when the ring holds fewer), oldest first: what a
    /// sparkline `count` cells wide draws.
    #[must_use = "iterators are lazy"]
    pub fn newest(
        &self,
        count: usize,
    ) -> impl DoubleEndedIterator<Item = Option<Duration>> + ExactSizeIterator + '_ {
        let capacity = self.slots.len();
        let count = count.min(self.len);
        let first = (self.next + capacity - count) % capacity;
        (0..count).map(move |offset| self.slots[(first + offset) % capacity])
    }

    pub fn clear(&mut self) {
        self.slots.fill(None);
        self.next = 0;
        self.len = 0;
    }
}

// --------------------------------------------------------------------------------------------
// QualityWindow

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
pub struct QualityWindow {
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
    pub fn new(window: Duration) -> Self {
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

    /// The window length this was built with (rounded down to an even number of nanoseconds).
    #[must_use]
    pub fn window(&self) -> Duration {
        self.half * 2
    }

    /// Records one request: `Some(latency)` when it succeeded, `None` when it failed.
    pub fn record(&mut self, latency: Option<Duration>, at: Instant) {
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
    pub fn advance(&mut self, now: Instant) {
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
    pub fn clear(&mut self) {
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
    pub fn stats(&self) -> WindowStats {
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
/// the window succeeded; `std_dev` needs two successes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStats {
    pub successes: u64,
    pub failures: u64,
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    pub mean: Option<Duration>,
    pub std_dev: Option<Duration>,
    pub jitter: Option<Duration>,
}

impl WindowStats {
    #[must_use]
    pub fn samples(&self) -> u64 {
        self.successes + self.failures
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples() == 0
    }

    /// Successful requests over all requests; `None` for an empty window.
    #[must_use]
    pub fn success_rate(&self) -> Option<f64> {
        let samples = self.samples();
        (samples > 0).then(|| count_as_f64(self.successes) / count_as_f64(samples))
    }
}

// --------------------------------------------------------------------------------------------
// Score and grade

/// A quality score, always within 0..=1 (1 is perfect). Serialized as a bare number; a number
/// read back is clamped like any other.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(from = "f64", into = "f64")]
pub struct QualityScore(f64);

impl From<f64> for QualityScore {
    fn from(value: f64) -> Self {
        Self::new(value)
    }
}

impl From<QualityScore> for f64 {
    fn from(score: QualityScore) -> Self {
        score.0
    }
}

impl QualityScore {
    /// Clamps `value` into 0..=1; NaN becomes 0 so a broken input can never look good.
    #[must_use]
    pub fn new(value: f64) -> Self {
        if value.is_nan() {
            Self(0.0)
        } else {
            Self(value.clamp(0.0, 1.0))
        }
    }

    #[must_use]
    pub fn value(self) -> f64 {
        self.0
    }
}

/// Quality grades, worst first so that `Ord` ranks them (`Poor < Excellent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Poor,
    Fair,
    Good,
    Excellent,
}

impl Grade {
    /// The grade of `score` by the configured thresholds alone (no success-rate cap).
    #[must_use]
    pub fn for_score(score: QualityScore, thresholds: &QualityThresholds) -> Self {
        let score = score.value();
        if score >= thresholds.excellent {
            Self::Excellent
        } else if score >= thresholds.good {
            Self::Good
        } else if score >= thresholds.fair {
            Self::Fair
        } else {
            Self::Poor
        }
    }

    /// The grade of `score`, never better than fair while `success_rate` is below the
    /// configured `min_success_rate`.
    #[must_use]
    pub fn assess(score: QualityScore, success_rate: f64, config: &QualityConfig) -> Self {
        let grade = Self::for_score(score, &config.thresholds);
        if success_rate < config.min_success_rate {
            grade.min(Self::Fair)
        } else {
            grade
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Poor => "poor",
            Self::Fair => "fair",
            Self::Good => "good",
            Self::Excellent => "excellent",
        }
    }
}

impl std::fmt::Display for Grade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters of the score formula (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreModel {
    /// The latency an API call should meet; meeting it exactly costs `penalty_at_target`.
    pub target_latency: Duration,
    /// Weight of jitter in the effective latency (`p95 + jitter_weight × jitter`).
    pub jitter_weight: f64,
    /// Delay penalty at exactly the target latency; it grows linearly from 0 up to there.
    pub penalty_at_target: f64,
    /// Extra delay penalty per target-length beyond the target (the steeper slope).
    pub penalty_per_target_beyond: f64,
    /// Penalty per unit of failure rate (4 → each percent of failures costs 0.04).
    pub loss_weight: f64,
    /// Share of the gap a falling score closes per evaluation.
    pub fall_factor: f64,
    /// Share of the gap a rising score closes per evaluation.
    pub rise_factor: f64,
}

impl Default for ScoreModel {
    fn default() -> Self {
        Self {
            target_latency: Duration::from_millis(200),
            jitter_weight: 2.0,
            penalty_at_target: 0.1,
            penalty_per_target_beyond: 0.5,
            loss_weight: 4.0,
            fall_factor: 0.8,
            rise_factor: 0.4,
        }
    }
}

impl ScoreModel {
    /// The default model with another target latency.
    #[must_use]
    pub fn with_target_latency(target_latency: Duration) -> Self {
        Self {
            target_latency,
            ..Self::default()
        }
    }

    /// The unsmoothed score of a window; `None` when the window is empty.
    #[must_use]
    pub fn raw_score(&self, stats: &WindowStats) -> Option<QualityScore> {
        let success_rate = stats.success_rate()?;
        let delay_penalty = match stats.p95 {
            Some(p95) => {
                let jitter = stats.jitter.unwrap_or_default();
                let effective = p95.as_secs_f64() + self.jitter_weight * jitter.as_secs_f64();
                self.delay_penalty(effective)
            }
            // Nothing succeeded: there is no latency to judge, the loss penalty says it all.
            None => 0.0,
        };
        let loss_penalty = self.loss_weight * (1.0 - success_rate);
        Some(QualityScore::new(1.0 - delay_penalty - loss_penalty))
    }

    /// Penalty for an effective latency in seconds: gentle up to the target, steep beyond.
    fn delay_penalty(&self, effective_secs: f64) -> f64 {
        let target = self.target_latency.as_secs_f64().max(f64::EPSILON);
        let relative = effective_secs / target;
        if relative <= 1.0 {
            self.penalty_at_target * relative
        } else {
            self.penalty_at_target + self.penalty_per_target_beyond * (relative - 1.0)
        }
    }

    /// Moves `previous` toward `raw`: fast when falling, slowly when recovering.
    #[must_use]
    pub fn smooth(&self, previous: Option<QualityScore>, raw: QualityScore) -> QualityScore {
        let Some(previous) = previous else {
            return raw;
        };
        let factor = if raw < previous {
            self.fall_factor
        } else {
            self.rise_factor
        };
        let (previous, raw) = (previous.value(), raw.value());
        QualityScore::new(previous + factor * (raw - previous))
    }
}

// --------------------------------------------------------------------------------------------
// QualityMonitor and its report

/// The engine's requests to one server over an interval: what the latency sparkline draws.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestTally {
    /// Requests the server answered (error answers included).
    pub answered: u64,
    /// Requests that got no answer.
    pub failed: u64,
    /// Sum of the answered requests' latencies, without the wait for a pooled connection.
    #[serde(
        rename = "answered_latency_total_ms",
        with = "crate::serde_time::millis"
    )]
    pub answered_latency_total: Duration,
}

impl RequestTally {
    /// The mean latency of the answered requests; `None` when none was answered.
    #[must_use]
    pub fn mean(&self) -> Option<Duration> {
        let answered = u32::try_from(self.answered).ok().filter(|n| *n > 0)?;
        Some(self.answered_latency_total / answered)
    }
}

/// Quality of one connection (or one server, fed with all its connections' requests): sparkline
/// history, windowed statistics and the smoothed score.
#[derive(Debug, Clone)]
pub struct QualityMonitor {
    config: QualityConfig,
    model: ScoreModel,
    history: LatencyRing,
    window: QualityWindow,
    score: Option<QualityScore>,
    last_report: Option<QualityReport>,
    /// Requests since the last [`QualityMonitor::take_tally`].
    tally: RequestTally,
}

impl QualityMonitor {
    /// # Panics
    /// When `window` is zero or `history_capacity` is zero.
    #[must_use]
    pub fn new(
        config: QualityConfig,
        model: ScoreModel,
        window: Duration,
        history_capacity: usize,
    ) -> Self {
        Self {
            config,
            model,
            history: LatencyRing::new(history_capacity),
            window: QualityWindow::new(window),
            score: None,
            last_report: None,
            tally: RequestTally::default(),
        }
    }

    /// Records one request: `Some(latency)` when it succeeded, `None` when it failed.
    pub fn record(&mut self, latency: Option<Duration>, at: Instant) {
        self.history.push(latency);
        self.window.record(latency, at);
        match latency {
            Some(latency) => {
                self.tally.answered += 1;
                self.tally.answered_latency_total += latency;
            }
            None => self.tally.failed += 1,
        }
    }

    /// The requests recorded since the previous call.
    pub fn take_tally(&mut self) -> RequestTally {
        std::mem::take(&mut self.tally)
    }

    /// One monitoring tick: ages the window to `now`, scores it, smooths the score against the
    /// previous evaluation and grades it. Call once per `monitoring_interval`: the smoothing
    /// factors are per evaluation.
    pub fn evaluate(&mut self, now: Instant) -> QualityReport {
        self.window.advance(now);
        let stats = self.window.stats();
        let raw = self.model.raw_score(&stats);
        self.score = raw.map(|raw| self.model.smooth(self.score, raw));
        let grade = self
            .score
            .zip(stats.success_rate())
            .map(|(score, success_rate)| Grade::assess(score, success_rate, &self.config));
        let report = QualityReport {
            samples: stats.samples(),
            failures: stats.failures,
            success_rate: stats.success_rate(),
            p50: stats.p50,
            p95: stats.p95,
            p99: stats.p99,
            mean: stats.mean,
            std_dev: stats.std_dev,
            jitter: stats.jitter,
            raw_score: raw,
            score: self.score,
            grade,
        };
        self.last_report = Some(report.clone());
        report
    }

    /// The smoothed score of the last evaluation; `None` before the first one or when the
    /// window was empty then.
    #[must_use]
    pub fn score(&self) -> Option<QualityScore> {
        self.score
    }

    #[must_use]
    pub fn last_report(&self) -> Option<&QualityReport> {
        self.last_report.as_ref()
    }

    /// Latency history for sparklines, `None` for failed requests.
    #[must_use]
    pub fn history(&self) -> &LatencyRing {
        &self.history
    }

    #[must_use]
    pub fn window(&self) -> &QualityWindow {
        &self.window
    }

    #[must_use]
    pub fn config(&self) -> &QualityConfig {
        &self.config
    }

    /// Applies new thresholds or `min_success_rate` from a configuration reload; takes effect
    /// at the next evaluation.
    pub fn set_config(&mut self, config: QualityConfig) {
        self.config = config;
    }

    pub fn set_model(&mut self, model: ScoreModel) {
        self.model = model;
    }
}

/// One evaluation of a [`QualityMonitor`], for events and metrics. Durations serialize as
/// milliseconds (`f64`); absent values as `null`. Deserializable so recorded sessions replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Requests in the window, successful or not.
    pub samples: u64,
    pub failures: u64,
    /// `None` when the window is empty.
    pub success_rate: Option<f64>,
    #[serde(with = "optional_millis")]
    pub p50: Option<Duration>,
    #[serde(with = "optional_millis")]
    pub p95: Option<Duration>,
    #[serde(with = "optional_millis")]
    pub p99: Option<Duration>,
    #[serde(with = "optional_millis")]
    pub mean: Option<Duration>,
    #[serde(with = "optional_millis")]
    pub std_dev: Option<Duration>,
    #[serde(with = "optional_millis")]
    pub jitter: Option<Duration>,
    /// This evaluation's score before smoothing.
    pub raw_score: Option<QualityScore>,
    /// The smoothed score the grade is taken from.
    pub score: Option<QualityScore>,
    pub grade: Option<Grade>,
}

/// `Option<Duration>` as milliseconds in an `f64`, `null` when absent.
mod optional_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de};

    #[expect(clippy::ref_option, reason = "serde's `with` hands over &Option<T>")]
    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&(duration.as_secs_f64() * 1000.0)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(deserializer)?
            .map(|millis| {
                Duration::try_from_secs_f64(millis / 1000.0).map_err(|_| {
                    de::Error::custom(format!("{millis} is not a duration in milliseconds"))
                })
            })
            .transpose()
    }
}

// --------------------------------------------------------------------------------------------
// Helpers

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
    use proptest::prelude::*;

    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// Within the histogram's 0.1 % precision.
    fn assert_duration_close(actual: Option<Duration>, expected: Duration) {
        let actual = actual.expect("a value");
        assert_close(
            actual.as_secs_f64(),
            expected.as_secs_f64(),
            expected.as_secs_f64() * 1e-3,
        );
    }

    fn all_successful(p95: Duration, jitter: Duration) -> WindowStats {
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

    fn monitor() -> QualityMonitor {
        QualityMonitor::new(
            QualityConfig::default(),
            ScoreModel::default(),
            Duration::from_secs(10),
            DEFAULT_HISTORY_CAPACITY,
        )
    }

    // ---- LatencyRing

    #[test]
    fn ring_wraps_and_keeps_order() {
        let mut ring = LatencyRing::new(3);
        for millis in 1..=5 {
            ring.push(Some(ms(millis)));
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(
            ring.iter().collect::<Vec<_>>(),
            [Some(ms(3)), Some(ms(4)), Some(ms(5))]
        );
        assert_eq!(
            ring.newest(2).collect::<Vec<_>>(),
            [Some(ms(4)), Some(ms(5))]
        );
        assert_eq!(ring.newest(10).len(), 3);
        assert_eq!(ring.latest(), Some(Some(ms(5))));
        assert_eq!(ring.iter().next_back(), Some(Some(ms(5))));
    }

    #[test]
    fn ring_before_it_fills_holds_only_what_was_pushed() {
        let mut ring = LatencyRing::new(5);
        assert!(ring.is_empty());
        assert_eq!(ring.latest(), None);
        ring.push(Some(ms(1)));
        ring.push(Some(ms(2)));
        assert_eq!(ring.iter().collect::<Vec<_>>(), [Some(ms(1)), Some(ms(2))]);
        assert_eq!(ring.newest(1).collect::<Vec<_>>(), [Some(ms(2))]);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.iter().len(), 0);
    }

    #[test]
    fn ring_keeps_failures_as_gaps() {
        let mut ring = LatencyRing::new(4);
        ring.push(Some(ms(10)));
        ring.push(None);
        ring.push(Some(ms(30)));
        assert_eq!(
            ring.iter().collect::<Vec<_>>(),
            [Some(ms(10)), None, Some(ms(30))]
        );
        ring.push(None);
        assert_eq!(ring.latest(), Some(None));
    }

    #[test]
    fn ring_memory_is_bounded_after_a_million_samples() {
        let mut ring = LatencyRing::new(600);
        for index in 0..1_000_000_u64 {
            // Every index ending in 3 is a failed request.
            ring.push((index % 10 != 3).then(|| Duration::from_micros(index)));
        }
        assert_eq!(ring.len(), 600);
        assert_eq!(ring.capacity(), 600);
        assert_eq!(ring.latest(), Some(Some(Duration::from_micros(999_999))));
        assert_eq!(
            ring.iter().next(),
            Some(Some(Duration::from_micros(999_400)))
        );
        assert_eq!(ring.iter().nth(3), Some(None));
    }

    #[test]
    fn monitor_memory_is_bounded_after_a_million_records() {
        let mut monitor = monitor();
        let start = Instant::now();
        for index in 0..1_000_000_u64 {
            let latency = (index % 10 != 0).then(|| ms(20 + index % 50));
            monitor.record(latency, start + Duration::from_millis(index));
        }
        assert_eq!(monitor.history().len(), DEFAULT_HISTORY_CAPACITY);
        assert_eq!(monitor.history().capacity(), DEFAULT_HISTORY_CAPACITY);
        let report = monitor.evaluate(start + Duration::from_secs(1_000));
        // One sample a millisecond, a 10 s window: between 5 000 and 10 000 samples remain.
        assert!(
            (5_000..=10_000).contains(&report.samples),
            "{} samples in the window",
            report.samples
        );
        assert_close(report.success_rate.expect("samples"), 0.9, 0.01);
    }

    // ---- QualityWindow

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

    // ---- Score and grade

    #[test]
    fn score_landmarks_of_the_formula() {
        let model = ScoreModel::default();
        let score = |p95, jitter| {
            model
                .raw_score(&all_successful(p95, jitter))
                .expect("not empty")
                .value()
        };
        assert_close(score(ms(0), ms(0)), 1.0, 1e-12);
        assert_close(score(ms(100), ms(0)), 0.95, 1e-12);
        assert_close(score(ms(200), ms(0)), 0.90, 1e-12);
        assert_close(score(ms(280), ms(0)), 0.70, 1e-12);
        assert_close(score(ms(360), ms(0)), 0.50, 1e-12);
        assert_close(score(ms(400), ms(0)), 0.40, 1e-12);
        // Jitter counts twice: 160 ms + 2 × 20 ms is the target.
        assert_close(score(ms(160), ms(20)), 0.90, 1e-12);
        assert_close(score(ms(5000), ms(0)), 0.0, 0.0);
    }

    #[test]
    fn failures_cost_in_proportion() {
        let model = ScoreModel::default();
        let stats = WindowStats {
            successes: 95,
            failures: 5,
            ..all_successful(ms(0), ms(0))
        };
        assert_close(
            model.raw_score(&stats).expect("samples").value(),
            0.8,
            1e-12,
        );
        let all_failed = WindowStats {
            successes: 0,
            failures: 3,
            p50: None,
            p95: None,
            p99: None,
            mean: None,
            std_dev: None,
            jitter: None,
        };
        assert_eq!(model.raw_score(&all_failed), Some(QualityScore::new(0.0)));
    }

    #[test]
    fn target_latency_is_a_parameter() {
        let model = ScoreModel::with_target_latency(ms(50));
        let score = model
            .raw_score(&all_successful(ms(50), ms(0)))
            .expect("not empty");
        assert_close(score.value(), 0.9, 1e-12);
    }

    #[test]
    fn grades_at_the_thresholds() {
        let thresholds = QualityThresholds::default(); // 0.9 / 0.7 / 0.5
        let grade = |score| Grade::for_score(QualityScore::new(score), &thresholds);
        assert_eq!(grade(1.0), Grade::Excellent);
        assert_eq!(grade(0.9), Grade::Excellent);
        assert_eq!(grade(0.899_999), Grade::Good);
        assert_eq!(grade(0.7), Grade::Good);
        assert_eq!(grade(0.699_999), Grade::Fair);
        assert_eq!(grade(0.5), Grade::Fair);
        assert_eq!(grade(0.499_999), Grade::Poor);
        assert_eq!(grade(0.0), Grade::Poor);
    }

    #[test]
    fn low_success_rate_caps_the_grade_at_fair() {
        let config = QualityConfig::default(); // min_success_rate 0.95
        let perfect = QualityScore::new(1.0);
        assert_eq!(Grade::assess(perfect, 0.95, &config), Grade::Excellent);
        assert_eq!(Grade::assess(perfect, 0.949, &config), Grade::Fair);
        assert_eq!(
            Grade::assess(QualityScore::new(0.1), 0.5, &config),
            Grade::Poor
        );
    }

    #[test]
    fn score_is_clamped_and_nan_is_zero() {
        assert_eq!(QualityScore::new(1.7), QualityScore::new(1.0));
        assert_eq!(QualityScore::new(-0.3), QualityScore::new(0.0));
        assert_eq!(QualityScore::new(f64::NAN), QualityScore::new(0.0));
        assert_close(QualityScore::new(1.7).value(), 1.0, 0.0);
    }

    #[test]
    fn smoothing_falls_fast_and_recovers_slowly() {
        let model = ScoreModel::default();
        let (high, low) = (QualityScore::new(1.0), QualityScore::new(0.0));
        assert_close(model.smooth(Some(high), low).value(), 0.2, 1e-12);
        assert_close(model.smooth(Some(low), high).value(), 0.4, 1e-12);
        assert_eq!(model.smooth(None, low), low);
    }

    #[test]
    fn monitor_grade_drops_fast_and_recovers_slowly() {
        let mut monitor = monitor(); // 10 s window, evaluated every 5 s below
        let start = Instant::now();
        let mut now = start;
        let mut tick = |monitor: &mut QualityMonitor, latency: Duration| {
            for _ in 0..50 {
                now += Duration::from_millis(100);
                monitor.record(Some(latency), now);
            }
            monitor.evaluate(now)
        };
        for _ in 0..3 {
            assert_eq!(tick(&mut monitor, ms(20)).grade, Some(Grade::Excellent));
        }
        let mut ticks_to_drop = 0;
        while tick(&mut monitor, ms(1000)).grade != Some(Grade::Poor) {
            ticks_to_drop += 1;
        }
        let mut ticks_to_recover = 0;
        while tick(&mut monitor, ms(20)).grade != Some(Grade::Excellent) {
            ticks_to_recover += 1;
        }
        assert!(
            ticks_to_recover > ticks_to_drop,
            "dropped in {ticks_to_drop} ticks, recovered in {ticks_to_recover}"
        );
    }

    #[test]
    fn empty_window_has_no_score_and_no_grade() {
        let mut monitor = monitor();
        let start = Instant::now();
        let report = monitor.evaluate(start);
        assert_eq!(report.samples, 0);
        assert_eq!(
            (report.success_rate, report.score, report.grade),
            (None, None, None)
        );
        monitor.record(Some(ms(20)), start);
        assert!(monitor.evaluate(start).score.is_some());
        // A whole window later with no request the monitor knows nothing again.
        let report = monitor.evaluate(start + Duration::from_secs(30));
        assert_eq!((report.score, report.grade), (None, None));
        assert_eq!(monitor.score(), None);
    }

    #[test]
    fn report_serializes_durations_as_milliseconds() {
        let mut monitor = monitor();
        let at = Instant::now();
        monitor.record(Some(ms(40)), at);
        monitor.record(None, at);
        let report = monitor.evaluate(at);
        let json = serde_json::to_value(&report).expect("serializes");
        assert_eq!(json["samples"], 2);
        assert_eq!(json["success_rate"], 0.5);
        assert_close(json["p50"].as_f64().expect("number"), 40.0, 0.04);
        assert_eq!(json["std_dev"], serde_json::Value::Null);
        assert_eq!(json["grade"], "poor");
        let empty = serde_json::to_value(monitor.evaluate(at + Duration::from_secs(60)))
            .expect("serializes");
        assert_eq!(empty["score"], serde_json::Value::Null);
        let read_back: QualityReport = serde_json::from_value(json).expect("deserializes");
        assert_eq!(read_back.grade, Some(Grade::Poor));
        assert_eq!(read_back.samples, 2);
        assert_close(
            read_back.p50.expect("p50").as_secs_f64(),
            report.p50.expect("p50").as_secs_f64(),
            1e-9,
        );
        assert_eq!(empty["p95"], serde_json::Value::Null);
    }

    proptest! {
        #[test]
        fn score_stays_in_unit_range_and_grade_follows_thresholds(
            requests in proptest::collection::vec(
                (proptest::option::weighted(0.8, 0_u64..30_000), 0_u64..3_000),
                1..150,
            ),
            evaluate_every in 1_usize..20,
            target_ms in 1_u64..2_000,
        ) {
            let mut monitor = QualityMonitor::new(
                QualityConfig::default(),
                ScoreModel::with_target_latency(ms(target_ms)),
                Duration::from_secs(10),
                64,
            );
            let mut now = Instant::now();
            for (index, (latency, gap)) in requests.into_iter().enumerate() {
                now += ms(gap);
                monitor.record(latency.map(ms), now);
                if index % evaluate_every == 0 {
                    let report = monitor.evaluate(now);
                    let score = report.score.expect("a sample was just recorded");
                    let raw = report.raw_score.expect("a sample was just recorded");
                    prop_assert!((0.0..=1.0).contains(&score.value()));
                    prop_assert!((0.0..=1.0).contains(&raw.value()));
                    let success_rate = report.success_rate.expect("not empty");
                    let config = monitor.config();
                    prop_assert_eq!(
                        report.grade,
                        Some(Grade::assess(score, success_rate, config))
                    );
                    if success_rate < config.min_success_rate {
                        prop_assert!(report.grade <= Some(Grade::Fair));
                    }
                }
            }
            prop_assert!(monitor.history().len() <= 64);
        }

        #[test]
        fn grade_is_consistent_with_any_ordered_thresholds(
            score in -1.0_f64..2.0,
            mut bounds in proptest::array::uniform3(0.0_f64..=1.0),
        ) {
            bounds.sort_by(f64::total_cmp);
            let thresholds = QualityThresholds { fair: bounds[0], good: bounds[1], excellent: bounds[2] };
            let score = QualityScore::new(score);
            let value = score.value();
            let expected = if value >= thresholds.excellent {
                Grade::Excellent
            } else if value >= thresholds.good {
                Grade::Good
            } else if value >= thresholds.fair {
                Grade::Fair
            } else {
                Grade::Poor
            };
            prop_assert_eq!(Grade::for_score(score, &thresholds), expected);
        }
    }
}
