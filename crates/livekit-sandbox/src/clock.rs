//! The sandbox's simulated clock: real time by default, sped up for demos and tests.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Maps real elapsed time to simulated time: `sim = start + elapsed * speed`.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    origin: Instant,
    origin_unix_ms: i64,
    speed: f64,
}

impl SimClock {
    /// # Panics
    /// When `speed` is not a positive finite number.
    #[must_use]
    pub fn new(speed: f64) -> Self {
        assert!(
            speed.is_finite() && speed > 0.0,
            "clock speed must be positive"
        );
        let origin_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            origin: Instant::now(),
            origin_unix_ms,
            speed,
        }
    }

    #[must_use]
    pub(crate) fn speed(&self) -> f64 {
        self.speed
    }

    /// Simulated time since the clock started.
    #[must_use]
    pub(crate) fn elapsed(&self) -> Duration {
        self.origin.elapsed().mul_f64(self.speed)
    }

    /// Simulated wall-clock time in Unix milliseconds, for room and participant timestamps.
    #[must_use]
    pub fn now_ms(&self) -> i64 {
        self.origin_unix_ms + i64::try_from(self.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// How long to sleep in real time for `simulated` to pass.
    #[must_use]
    pub(crate) fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.speed)
    }
}
