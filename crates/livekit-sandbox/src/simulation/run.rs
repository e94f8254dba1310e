//! The simulation as the sandbox runs it: a task that steps it every `tick` of simulated time
//! and forwards the scheduled faults that became due to the server.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::Simulation;
use super::events::{ScheduledDisruption, SimEvent};
use crate::rooms::RoomStore;

impl Simulation {
    /// Runs the simulation until `shutdown`: every `tick` of simulated time it locks the store
    /// for one [`Simulation::step`] and forwards the disruptions that became due as written,
    /// their durations in simulated time (the server converts them with the same clock, as it
    /// does for the admin endpoint's). The lock is never held across an await.
    pub async fn run(
        mut self,
        store: Arc<Mutex<RoomStore>>,
        disruptions: mpsc::Sender<ScheduledDisruption>,
        shutdown: CancellationToken,
    ) {
        // A panic elsewhere while holding the lock leaves the rooms as they were; carrying on
        // with them beats stopping the simulation.
        let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
        let events = {
            let mut rooms = lock();
            self.setup(&mut rooms, self.clock.now_ms())
        };
        report(events, &disruptions);
        let pause = self.clock.real(self.scenario.tick.get());
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
            let events = {
                let mut rooms = lock();
                self.step(&mut rooms, self.clock.now_ms())
            };
            report(events, &disruptions);
        }
        tracing::debug!("simulation stopped");
    }
}

/// Logs a step's events and sends the disruptions that became due to the server.
fn report(events: Vec<SimEvent>, disruptions: &mpsc::Sender<ScheduledDisruption>) {
    for event in events {
        if event.is_notable() {
            tracing::info!(event = ?event, "simulation");
        } else {
            tracing::debug!(event = ?event, "simulation");
        }
        let SimEvent::DisruptionDue { name, disruption } = event else {
            continue;
        };
        match disruptions.try_send(ScheduledDisruption {
            name: name.clone(),
            disruption,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => tracing::warn!(
                name = name.as_deref().unwrap_or("unnamed"),
                "a scheduled disruption was dropped: the sandbox has not taken the previous ones"
            ),
            Err(TrySendError::Closed(_)) => {
                tracing::debug!("no one applies disruptions any more");
            }
        }
    }
}
