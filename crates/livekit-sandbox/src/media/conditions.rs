//! The network conditions a stream meets: a healthy baseline, or what a media fault forces,
//! each stream drawn around it; and the MOS score they give.

use rand::Rng;

use crate::faults::MediaFault;

/// Packets lost on a healthy network: 0.3 %.
const BASELINE_LOSS: f64 = 0.003;
const BASELINE_RTT_MS: (f64, f64) = (40.0, 80.0);
const BASELINE_JITTER_MS: (f64, f64) = (3.0, 15.0);
/// How far one stream's loss strays from the center, either way (a fraction of it).
const LOSS_SPREAD: f64 = 0.15;
/// How far one stream's RTT and jitter stray from a fault's center, either way.
const DELAY_SPREAD: f64 = 0.2;

/// The conditions in force: the baseline, with a media fault's values in its place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Conditions {
    fault: Option<MediaFault>,
}

/// What one stream meets during one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StreamConditions {
    /// Fraction of packets lost, 0..=1.
    pub loss: f64,
    pub rtt_ms: f64,
    pub jitter_ms: f64,
}

impl Conditions {
    #[must_use]
    pub(crate) fn new(fault: Option<MediaFault>) -> Self {
        Self {
            fault: fault.filter(|fault| !fault.is_clear()),
        }
    }

    /// The center of the loss fraction.
    #[must_use]
    pub(crate) fn loss(&self) -> f64 {
        self.fault
            .and_then(|fault| fault.loss_pct)
            .map_or(BASELINE_LOSS, |pct| pct / 100.0)
    }

    /// One stream's conditions, drawn around the centers.
    pub(crate) fn draw(&self, rng: &mut impl Rng) -> StreamConditions {
        let loss =
            (self.loss() * rng.random_range(1.0 - LOSS_SPREAD..=1.0 + LOSS_SPREAD)).clamp(0.0, 1.0);
        let fault = self.fault.unwrap_or_default();
        let around =
            |center: Option<f64>, baseline: (f64, f64), rng: &mut dyn rand::RngCore| match center {
                Some(center) => center * rng.random_range(1.0 - DELAY_SPREAD..=1.0 + DELAY_SPREAD),
                None => rng.random_range(baseline.0..=baseline.1),
            };
        StreamConditions {
            loss,
            rtt_ms: around(fault.rtt_ms, BASELINE_RTT_MS, rng),
            jitter_ms: around(fault.jitter_ms, BASELINE_JITTER_MS, rng),
        }
    }

    /// The share of joins that fail while a media fault is on (none otherwise): more with
    /// more loss and longer round trips.
    #[must_use]
    pub(crate) fn join_failure_rate(&self) -> f64 {
        let Some(fault) = self.fault else { return 0.0 };
        let slow = fault.rtt_ms.map_or(0.0, |rtt| (rtt / 5_000.0).min(0.2));
        (0.1 + 2.0 * self.loss() + slow).min(0.6)
    }
}

impl StreamConditions {
    /// The MOS (1..=4.5) of a call under these conditions, by the simplified E-model voice
    /// call monitors use: the delay and the loss each take from the rating R, which maps to MOS.
    #[must_use]
    pub(crate) fn mos(&self) -> f64 {
        let delay_ms = self.rtt_ms / 2.0 + 2.0 * self.jitter_ms + 10.0;
        let delay_penalty = if delay_ms < 160.0 {
            delay_ms / 40.0
        } else {
            (delay_ms - 120.0) / 10.0
        };
        let rating = (93.2 - delay_penalty - 2.5 * self.loss * 100.0).clamp(0.0, 100.0);
        let mos = 1.0 + 0.035 * rating + 7.0e-6 * rating * (rating - 60.0) * (100.0 - rating);
        mos.clamp(1.0, 4.5)
    }

    /// livekit's `ConnectionQuality` for the score: EXCELLENT (2), GOOD (1) or POOR (0).
    #[must_use]
    pub(crate) fn rating(mos: f64) -> f64 {
        if mos > 4.1 {
            2.0
        } else if mos > 3.5 {
            1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn a_fault_moves_the_centers_and_lowers_the_score() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let healthy = Conditions::new(None).draw(&mut rng);
        assert!(healthy.loss < 0.005, "{healthy:?}");
        assert!((40.0..=80.0).contains(&healthy.rtt_ms), "{healthy:?}");
        assert!((3.0..=15.0).contains(&healthy.jitter_ms), "{healthy:?}");
        assert!(healthy.mos() > 4.1, "{}", healthy.mos());

        let fault = MediaFault {
            loss_pct: Some(8.0),
            rtt_ms: Some(250.0),
            jitter_ms: Some(40.0),
        };
        let bad = Conditions::new(Some(fault)).draw(&mut rng);
        assert!((0.068..=0.092).contains(&bad.loss), "{bad:?}");
        assert!((200.0..=300.0).contains(&bad.rtt_ms), "{bad:?}");
        assert!((32.0..=48.0).contains(&bad.jitter_ms), "{bad:?}");
        assert!(bad.mos() < 3.6, "{}", bad.mos());
        assert!(Conditions::new(Some(fault)).join_failure_rate() > 0.2);
        assert!(Conditions::new(Some(MediaFault::default())).join_failure_rate() < f64::EPSILON);
    }

    #[test]
    fn the_score_stays_within_mos_bounds() {
        for (loss, rtt, jitter) in [(0.0, 0.0, 0.0), (1.0, 10_000.0, 1_000.0)] {
            let mos = StreamConditions {
                loss,
                rtt_ms: rtt,
                jitter_ms: jitter,
            }
            .mos();
            assert!((1.0..=4.5).contains(&mos), "{mos}");
        }
    }
}
