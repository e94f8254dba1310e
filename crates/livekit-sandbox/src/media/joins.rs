//! Participant joins, counted through livekit-server's states as the rooms gain participants.

use std::collections::{BTreeMap, HashSet};

use rand::Rng;

/// `livekit_participant_join_total` by `{state, warp}`, and the participants already counted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Joins {
    seen: HashSet<String>,
    counts: BTreeMap<(&'static str, &'static str), u64>,
}

/// The states a join that succeeds goes through, with its `warp` label (livekit-server gives
/// the RTC states after init a `warp` of `"false"` unless the client used WARP).
const SUCCESS: [(&str, &str); 5] = [
    ("signal_connected", ""),
    ("rtc_init", ""),
    ("rtc_connected", ""),
    ("rtc_active", "false"),
    ("rtc_success", "false"),
];
/// A failed attempt before the signal connection was up.
const SIGNAL_FAILURE: [(&str, &str); 1] = [("signal_failed", "")];
/// A failed attempt whose media transport never came up.
const RTC_FAILURE: [(&str, &str); 3] = [
    ("signal_connected", ""),
    ("rtc_init", ""),
    ("rtc_failure", "false"),
];

impl Joins {
    /// Counts the participants not seen before; each succeeded, after a failed attempt with
    /// probability `failure_rate` (half of them failing at signalling, half at RTC).
    pub(crate) fn observe<'a>(
        &mut self,
        participants: impl Iterator<Item = &'a str>,
        failure_rate: f64,
        rng: &mut impl Rng,
    ) {
        let present: HashSet<String> = participants.map(str::to_owned).collect();
        let newcomers = present.difference(&self.seen).count();
        for _ in 0..newcomers {
            if failure_rate > 0.0 && rng.random_bool(failure_rate.min(1.0)) {
                let states: &[(&str, &str)] = if rng.random_bool(0.5) {
                    &SIGNAL_FAILURE
                } else {
                    &RTC_FAILURE
                };
                self.count(states);
            }
            self.count(&SUCCESS);
        }
        // Those who left are forgotten, so the set stays as large as the rooms.
        self.seen = present;
    }

    fn count(&mut self, states: &[(&'static str, &'static str)]) {
        for state in states {
            *self.counts.entry(*state).or_default() += 1;
        }
    }

    /// `(state, warp) -> count`.
    #[must_use]
    pub(crate) fn counts(&self) -> &BTreeMap<(&'static str, &'static str), u64> {
        &self.counts
    }

    /// Joins that reached `state`.
    #[must_use]
    pub(crate) fn reached(&self, state: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((name, _), _)| *name == state)
            .map(|(_, count)| count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn each_newcomer_counts_once_and_failures_only_under_a_fault() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut joins = Joins::default();
        joins.observe(["a", "b"].into_iter(), 0.0, &mut rng);
        joins.observe(["a", "b", "c"].into_iter(), 0.0, &mut rng);
        assert_eq!(joins.reached("rtc_success"), 3);
        assert_eq!(
            joins.reached("signal_failed") + joins.reached("rtc_failure"),
            0
        );

        let many: Vec<String> = (0..200).map(|index| format!("PA_{index}")).collect();
        joins.observe(many.iter().map(String::as_str), 0.5, &mut rng);
        let failed = joins.reached("signal_failed") + joins.reached("rtc_failure");
        assert!((60..=140).contains(&failed), "{failed}");
        assert_eq!(joins.reached("rtc_success"), 203);
    }
}
