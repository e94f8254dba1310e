//! The quality score of a window's statistics, its smoothing between evaluations, and the
//! grade it earns.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::window::WindowStats;
use crate::config::{QualityConfig, QualityThresholds};

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
    pub(crate) fn for_score(score: QualityScore, thresholds: &QualityThresholds) -> Self {
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
    pub(crate) fn assess(score: QualityScore, success_rate: f64, config: &QualityConfig) -> Self {
        let grade = Self::for_score(score, &config.thresholds);
        if success_rate < config.min_success_rate {
            grade.min(Self::Fair)
        } else {
            grade
        }
    }

    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
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
pub(crate) struct ScoreModel {
    /// The latency an API call should meet; meeting it exactly costs `penalty_at_target`.
    pub(crate) target_latency: Duration,
    /// Weight of jitter in the effective latency (`p95 + jitter_weight × jitter`).
    pub(crate) jitter_weight: f64,
    /// Delay penalty at exactly the target latency; it grows linearly from 0 up to there.
    pub(crate) penalty_at_target: f64,
    /// Extra delay penalty per target-length beyond the target (the steeper slope).
    pub(crate) penalty_per_target_beyond: f64,
    /// Penalty per unit of failure rate (4 → each percent of failures costs 0.04).
    pub(crate) loss_weight: f64,
    /// Share of the gap a falling score closes per evaluation.
    pub(crate) fall_factor: f64,
    /// Share of the gap a rising score closes per evaluation.
    pub(crate) rise_factor: f64,
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
    #[cfg(test)]
    pub(crate) fn with_target_latency(target_latency: Duration) -> Self {
        Self {
            target_latency,
            ..Self::default()
        }
    }

    /// The unsmoothed score of a window; `None` when the window is empty.
    #[must_use]
    pub(crate) fn raw_score(&self, stats: &WindowStats) -> Option<QualityScore> {
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
    pub(crate) fn smooth(&self, previous: Option<QualityScore>, raw: QualityScore) -> QualityScore {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::quality::tests::{all_successful, assert_close, ms};

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
            failures: 3,
            ..WindowStats::default()
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

    proptest! {
        #[test]
        fn grade_is_consistent_with_any_ordered_thresholds(
            score in -1.0_f64..2.0,
            mut bounds in proptest::array::uniform3(0.0_f64..=1.0),
        ) {
            bounds.sort_by(f64::total_cmp);
            let thresholds = QualityThresholds { fair: bounds[0], good: bounds[1], excellent: bounds[2], poor: None };
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
