//! When something scheduled at `at` and repeated `every` is next due.

use yaml_located::ConfigDuration;

use super::millis;

/// The first occurrence after `elapsed_ms` of what began at `at_ms` and repeats `every`;
/// `None` when it does not repeat. One occurrence however late a step is: a stalled
/// simulation does not fire a backlog.
pub(super) fn next_due(at_ms: i64, every: Option<ConfigDuration>, elapsed_ms: i64) -> Option<i64> {
    every.map(|every| {
        let period = millis(every.get()).max(1);
        at_ms + ((elapsed_ms - at_ms) / period + 1) * period
    })
}
