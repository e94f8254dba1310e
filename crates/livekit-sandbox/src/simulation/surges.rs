//! Surge schedules: where a repeating surge stands at a given simulated time, and the head
//! count it asks of a room at that point.

use std::time::Duration;

use yaml_located::ConfigDuration;

use super::millis;
use crate::scenario::{RoomsSurge, Surge};

/// Where a repeating schedule (a surge) stands at some time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SurgePhase {
    /// Climbing; the fraction of the ramp done.
    Climb(f64),
    Hold,
    /// Falling back; the fraction of the ramp done.
    Fall(f64),
    /// This occurrence is over.
    Done,
}

/// Which occurrence of a surge `elapsed` falls in, and where in it; `None` before the first.
pub(super) fn surge_phase(surge: &Surge, elapsed: Duration) -> Option<(u64, SurgePhase)> {
    let (occurrence, within) = occurrence(surge.at, surge.every.map(ConfigDuration::get), elapsed)?;
    let ramp = surge.ramp.get();
    let phase = if within < ramp {
        SurgePhase::Climb(within.as_secs_f64() / ramp.as_secs_f64())
    } else if within < ramp + surge.duration.get() {
        SurgePhase::Hold
    } else if within < surge.span() {
        let falling = within.saturating_sub(ramp + surge.duration.get());
        SurgePhase::Fall(falling.as_secs_f64() / ramp.as_secs_f64())
    } else {
        SurgePhase::Done
    };
    Some((occurrence, phase))
}

/// The occurrence of a rooms surge under way at `elapsed` and when it ends (simulated Unix ms).
pub(super) fn rooms_surge_window(
    surge: &RoomsSurge,
    elapsed: Duration,
    now_ms: i64,
) -> Option<(u64, i64)> {
    let (occurrence, within) = occurrence(surge.at, surge.every.map(ConfigDuration::get), elapsed)?;
    let left = surge.duration.get().checked_sub(within)?;
    (!left.is_zero()).then(|| (occurrence, now_ms + millis(left)))
}

/// The occurrence index of a schedule starting at `at` and repeating `every`, and the time
/// into that occurrence.
fn occurrence(at: Duration, every: Option<Duration>, elapsed: Duration) -> Option<(u64, Duration)> {
    let since = elapsed.checked_sub(at)?;
    match every {
        Some(period) if !period.is_zero() => {
            let index = since.as_nanos() / period.as_nanos();
            let index = u64::try_from(index).unwrap_or(u64::MAX);
            let start = period.saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
            Some((index, since.saturating_sub(start)))
        }
        _ => Some((0, since)),
    }
}

/// The participant target of a surge phase: from `base` (the head count when it began, never
/// above the room's normal `max`) up to `target`, and back to `base`.
pub(super) fn surge_target(phase: SurgePhase, base: u32, target: u32, normal_max: u32) -> u32 {
    let base = base.min(normal_max);
    let between = |from: u32, to: u32, progress: f64| {
        let value = f64::from(from) + (f64::from(to) - f64::from(from)) * progress.clamp(0.0, 1.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a value between two u32 head counts"
        )]
        let rounded = value.round() as u32;
        rounded
    };
    match phase {
        SurgePhase::Climb(progress) => between(base, target, progress),
        SurgePhase::Hold => target,
        SurgePhase::Fall(progress) => between(target, base.min(target), progress),
        SurgePhase::Done => base.min(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surge(at: u64, ramp: u64, duration: u64, every: Option<u64>) -> Surge {
        Surge {
            at: Duration::from_secs(at),
            participants: 60,
            duration: ConfigDuration::from_secs(duration),
            ramp: ConfigDuration::from_secs(ramp),
            every: every.map(ConfigDuration::from_secs),
            publish: None,
        }
    }

    #[test]
    fn surge_phases_follow_the_schedule_and_repeat() {
        let surge = surge(60, 10, 30, Some(100));
        let at = |secs: u64| surge_phase(&surge, Duration::from_secs(secs));
        assert_eq!(at(59), None);
        assert_eq!(at(60), Some((0, SurgePhase::Climb(0.0))));
        assert_eq!(at(65), Some((0, SurgePhase::Climb(0.5))));
        assert_eq!(at(70), Some((0, SurgePhase::Hold)));
        assert_eq!(at(105), Some((0, SurgePhase::Fall(0.5))));
        assert_eq!(at(110), Some((0, SurgePhase::Done)));
        assert_eq!(at(165), Some((1, SurgePhase::Climb(0.5))));
    }

    #[test]
    fn surge_targets_interpolate_between_counts() {
        assert_eq!(surge_target(SurgePhase::Climb(0.5), 20, 60, 40), 40);
        assert_eq!(surge_target(SurgePhase::Hold, 20, 60, 40), 60);
        assert_eq!(surge_target(SurgePhase::Fall(0.25), 20, 60, 40), 50);
        assert_eq!(surge_target(SurgePhase::Done, 20, 60, 40), 20);
        assert_eq!(
            surge_target(SurgePhase::Done, 50, 60, 40),
            40,
            "never above max"
        );
    }
}
