//! The media model of a running sandbox: advanced by the real time since its last step,
//! whenever someone reads it (a scrape, a registry update) and once a second meanwhile.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::task::TaskTracker;

use super::{MediaModel, RoomSnapshot};
use crate::server::Shared;

/// Steps at least this often, so histograms get their once-a-second observations even when
/// nobody reads them.
const TICK: Duration = Duration::from_secs(1);

/// The model and when it was last advanced.
#[derive(Debug)]
pub(crate) struct LiveMedia {
    model: MediaModel,
    advanced_at: Instant,
}

impl LiveMedia {
    #[must_use]
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            model: MediaModel::new(seed),
            advanced_at: Instant::now(),
        }
    }
}

impl Shared {
    /// Advances the media to now and hands it, with the rooms it was advanced by, to `read`.
    pub(crate) fn media_now<R>(&self, read: impl FnOnce(&MediaModel, &RoomSnapshot) -> R) -> R {
        // The rooms are read first and their lock let go: nothing holds both locks.
        let rooms = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            RoomSnapshot::of(&store)
        };
        let fault = self.faults().media_fault();
        let mut media = self.media.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let elapsed = now.duration_since(media.advanced_at);
        media.advanced_at = now;
        media.model.advance(&rooms, fault, elapsed);
        read(&media.model, &rooms)
    }
}

/// Steps the media once a second until the sandbox shuts down.
pub(crate) fn keep_advancing(shared: &Arc<Shared>, tasks: &TaskTracker) {
    let shared = Arc::clone(shared);
    tasks.spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => shared.media_now(|_, _| ()),
                () = shared.shutdown.cancelled() => return,
            }
        }
    });
}
