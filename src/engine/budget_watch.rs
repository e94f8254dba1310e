//! Whether the polling budget covers a server's rooms within `polling.max_staleness`, said
//! once when that changes rather than at every poll.

use crate::config::PollingConfig;
use crate::events::EventKind;
use crate::read_plan::BudgetCoverage;

/// What was last said about one server's budget.
#[derive(Debug, Default)]
pub(crate) struct BudgetWatch {
    /// `None` until the budget first falls short: a budget that suffices is not news.
    said: Option<Said>,
}

#[derive(Debug, Clone, Copy)]
struct Said {
    enough: bool,
    needed_per_second: u32,
}

impl BudgetWatch {
    /// The event to send after a poll that listed `rooms` rooms, if any.
    pub(crate) fn check(
        &mut self,
        server: &str,
        rooms: usize,
        polling: &PollingConfig,
    ) -> Option<EventKind> {
        let coverage = BudgetCoverage::of(rooms, polling);
        let (enough, needed_per_second) = (coverage.enough, coverage.needed_per_second);
        let news = match self.said {
            None => !enough,
            Some(said) if said.enough != enough => true,
            // Still short, but the figure that would do moved a lot (the rooms grew or shrank).
            Some(said) if !enough => {
                let (was, now) = (
                    u64::from(said.needed_per_second),
                    u64::from(needed_per_second),
                );
                now * 4 >= was * 5 || now * 4 <= was * 3
            }
            Some(_) => false,
        };
        if !news {
            return None;
        }
        self.said = Some(Said {
            enough,
            needed_per_second,
        });
        Some(EventKind::PollBudget {
            server: server.to_owned(),
            coverage,
        })
    }
}

#[cfg(test)]
mod tests {
    use yaml_located::ConfigDuration;

    use super::*;

    fn polling(per_second: u32) -> PollingConfig {
        PollingConfig {
            interval: ConfigDuration::from_secs(2),
            max_requests_per_second: per_second,
            max_staleness: ConfigDuration::from_secs(30),
            ..PollingConfig::default()
        }
    }

    fn enough(event: Option<EventKind>) -> Option<(bool, u32)> {
        event.map(|event| match event {
            EventKind::PollBudget { coverage, .. } => (coverage.enough, coverage.needed_per_second),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn a_shortfall_is_said_once_with_the_rate_that_would_do_then_its_end() {
        let mut watch = BudgetWatch::default();
        let budget = polling(50);
        assert_eq!(
            enough(watch.check("s", 500, &budget)),
            None,
            "99 × 15 ≥ 500"
        );
        assert_eq!(
            enough(watch.check("s", 10_000, &budget)),
            Some((false, 334))
        );
        assert_eq!(enough(watch.check("s", 10_000, &budget)), None);
        assert_eq!(
            enough(watch.check("s", 10_100, &budget)),
            None,
            "moved < 25 %"
        );
        assert_eq!(
            enough(watch.check("s", 20_000, &budget)),
            Some((false, 668))
        );
        assert_eq!(enough(watch.check("s", 800, &budget)), Some((true, 28)));
        assert_eq!(enough(watch.check("s", 900, &budget)), None);
        assert_eq!(
            enough(watch.check("s", 20_000, &polling(0))),
            None,
            "no budget always suffices"
        );
    }
}
