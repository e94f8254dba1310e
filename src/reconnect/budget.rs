//! One budget for reconnection attempts across every server and connection of the process.
//!
//! Backoff paces each connection on its own; it does not stop fifty servers failing at once
//! (a data centre's network blip, a bad deploy) from turning into hundreds of attempts a
//! second against servers that are struggling to come back, and against lktop's own machine.
//! The budget is tower's retry budget (`tower::retry::budget::TpsBudget`), the model the
//! industry's clients share with Finagle: each second allows `reconnect_budget` attempts,
//! plus one for every ten requests that got an answer in the last second, so a single broken
//! server among healthy ones is never held back while a storm is. An attempt the budget
//! refuses is deferred by a jittered fraction of a second, not dropped.
//!
//! tower remembers the last second in ten slots and turns one slot for every tenth of a
//! second begun, so what it remembers is between half a second and a second: one second may
//! see up to twice the budget, and a storm runs at about one and a half times it (measured in
//! `tests/reconnect_storm.rs`: budget 20, peak 40, about 30 a second sustained).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use tower::retry::budget::{Budget, TpsBudget};

/// How long the budget remembers attempts and answers.
const WINDOW: Duration = Duration::from_secs(1);
/// Attempts earned per answered request.
const EARNED_PER_ANSWER: f32 = 0.1;
/// A refused attempt waits this long at most (and at least a tenth of it): the budget frees
/// room every tenth of its window.
const LONGEST_DEFERRAL: Duration = WINDOW;

pub struct ReconnectBudget {
    per_second: u32,
    budget: TpsBudget,
    deferred: AtomicU64,
}

impl ReconnectBudget {
    /// A budget of `per_second` attempts (at least one) across everything that shares it. Its
    /// clock is tokio's, so paused time in tests drives it too.
    #[must_use]
    pub fn new(per_second: u32) -> Self {
        let per_second = per_second.max(1);
        Self {
            per_second,
            budget: TpsBudget::new(WINDOW, per_second, EARNED_PER_ANSWER),
            deferred: AtomicU64::new(0),
        }
    }

    #[must_use]
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// A request got an answer: the server works, and earns a little room for attempts.
    pub(crate) fn answered(&self) {
        self.budget.deposit();
    }

    /// Takes one attempt from the budget; `false` means wait for [`Self::deferral`].
    pub(crate) fn try_attempt(&self) -> bool {
        let allowed = self.budget.withdraw();
        if !allowed {
            self.deferred.fetch_add(1, Ordering::Relaxed);
        }
        allowed
    }

    /// How long a refused attempt waits: jittered, so the deferred do not come back together.
    pub(crate) fn deferral(rng: &mut impl Rng) -> Duration {
        let longest = u64::try_from(LONGEST_DEFERRAL.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rng.random_range(longest / 10..=longest))
    }

    /// Attempts refused so far (each was deferred).
    #[must_use]
    pub fn deferred(&self) -> u64 {
        self.deferred.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for ReconnectBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectBudget")
            .field("per_second", &self.per_second)
            .field("deferred", &self.deferred())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn allows_its_rate_per_second_and_no_more_while_nothing_answers() {
        let budget = ReconnectBudget::new(20);
        let mut allowed_per_second = Vec::new();
        for _ in 0..10 {
            let mut allowed = 0;
            // 1,000 attempts asked for in each second, spread over it.
            for _ in 0..100 {
                for _ in 0..10 {
                    if budget.try_attempt() {
                        allowed += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            allowed_per_second.push(allowed);
        }
        assert!(
            allowed_per_second.iter().all(|&n| n <= 2 * 20),
            "{allowed_per_second:?}"
        );
        let total: u32 = allowed_per_second.iter().sum();
        assert!((150..=220).contains(&total), "{allowed_per_second:?}");
        assert_eq!(budget.deferred(), 10_000 - u64::from(total));
    }

    #[tokio::test(start_paused = true)]
    async fn answers_earn_room_for_more_attempts() {
        let budget = ReconnectBudget::new(1);
        for _ in 0..1_000 {
            budget.answered();
        }
        let allowed = (0..1_000).filter(|_| budget.try_attempt()).count();
        assert!((100..=102).contains(&allowed), "{allowed}");
    }
}
