//! One server's (or connection's) quality: requests recorded into a window, evaluated once per
//! monitoring tick into a smoothed score and a grade, and reported.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::score::{Grade, QualityScore, ScoreModel};
use super::window::QualityWindow;
use crate::config::QualityConfig;

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

/// Quality of one connection (or one server, fed with all its connections' requests): windowed
/// statistics and the smoothed score.
#[derive(Debug, Clone)]
pub(crate) struct QualityMonitor {
    config: QualityConfig,
    model: ScoreModel,
    window: QualityWindow,
    score: Option<QualityScore>,
    /// Requests since the last [`QualityMonitor::take_tally`].
    tally: RequestTally,
}

impl QualityMonitor {
    /// # Panics
    /// When `window` is zero.
    #[must_use]
    pub(crate) fn new(config: QualityConfig, model: ScoreModel, window: Duration) -> Self {
        Self {
            config,
            model,
            window: QualityWindow::new(window),
            score: None,
            tally: RequestTally::default(),
        }
    }

    /// Records one request: `Some(latency)` when it succeeded, `None` when it failed.
    pub(crate) fn record(&mut self, latency: Option<Duration>, at: Instant) {
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
    pub(crate) fn take_tally(&mut self) -> RequestTally {
        std::mem::take(&mut self.tally)
    }

    /// One monitoring tick: ages the window to `now`, scores it, smooths the score against the
    /// previous evaluation and grades it. Call once per `monitoring_interval`: the smoothing
    /// factors are per evaluation.
    pub(crate) fn evaluate(&mut self, now: Instant) -> QualityReport {
        self.window.advance(now);
        let stats = self.window.stats();
        let raw = self.model.raw_score(&stats);
        self.score = raw.map(|raw| self.model.smooth(self.score, raw));
        let grade = self
            .score
            .zip(stats.success_rate())
            .map(|(score, success_rate)| Grade::assess(score, success_rate, &self.config));
        QualityReport {
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
        }
    }

    /// The smoothed score of the last evaluation; `None` before the first one or when the
    /// window was empty then.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn score(&self) -> Option<QualityScore> {
        self.score
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn config(&self) -> &QualityConfig {
        &self.config
    }

    /// Applies new thresholds or `min_success_rate` from a configuration reload; takes effect
    /// at the next evaluation.
    pub(crate) fn set_config(&mut self, config: QualityConfig) {
        self.config = config;
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
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&(duration.as_secs_f64() * 1000.0)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::quality::tests::{assert_close, ms};

    fn monitor() -> QualityMonitor {
        QualityMonitor::new(
            QualityConfig::default(),
            ScoreModel::default(),
            Duration::from_secs(10),
        )
    }

    #[test]
    fn monitor_memory_is_bounded_after_a_million_records() {
        let mut monitor = monitor();
        let start = Instant::now();
        for index in 0..1_000_000_u64 {
            let latency = (index % 10 != 0).then(|| ms(20 + index % 50));
            monitor.record(latency, start + Duration::from_millis(index));
        }
        let report = monitor.evaluate(start + Duration::from_secs(1_000));
        // One sample a millisecond, a 10 s window: between 5 000 and 10 000 samples remain.
        assert!(
            (5_000..=10_000).contains(&report.samples),
            "{} samples in the window",
            report.samples
        );
        assert_close(report.success_rate.expect("samples"), 0.9, 0.01);
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
        }

    }
}
