//! The scenario's scheduled faults: which became due since the last step, and when each is
//! due next.

use super::events::SimEvent;
use super::{Simulation, millis};

impl Simulation {
    /// A [`SimEvent::DisruptionDue`] for each fault due by `elapsed_ms` (from the start).
    pub(super) fn due_disruptions(&mut self, elapsed_ms: i64, events: &mut Vec<SimEvent>) {
        for (fault, next_due) in self.scenario.faults.iter().zip(&mut self.next_due) {
            let Some(due) = *next_due else { continue };
            if elapsed_ms < due {
                continue;
            }
            events.push(SimEvent::DisruptionDue {
                name: fault.name.clone(),
                disruption: fault.apply.clone(),
            });
            // One event however late the step is; the next occurrence is the first one after
            // now, so a stalled simulation does not fire a backlog.
            *next_due = fault.every.map(|every| {
                let (period, at) = (millis(every.get()).max(1), millis(fault.at));
                at + ((elapsed_ms - at) / period + 1) * period
            });
        }
    }
}
