//! The rooms poller: one ListRooms, then ListParticipants for every room concurrently, turned
//! into a [`Snapshot`], the update that turns the previous one into it, and the changes in
//! words (who joined, which track was muted).
//!
//! ListRooms has no pagination and participants need one call per room, so at thousands of
//! rooms the poll is as fast as the calls that run side by side: `concurrency` of them, which
//! the engine sets to the pool's maximum size so every pooled connection is kept busy.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, RoomApi};
use crate::rooms_update::RoomsUpdate;
use crate::snapshot::{RoomChange, RoomSummary, Snapshot, diff};

/// One poll's result.
#[derive(Debug, Clone)]
pub struct Poll {
    pub snapshot: Arc<Snapshot>,
    /// The rooms changed since the previous poll; full on the first.
    pub update: RoomsUpdate,
    pub changes: Vec<RoomChange>,
    pub stats: PollStats,
}

/// How a poll went: how long it took and which rooms' participants could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollStats {
    pub rooms: usize,
    pub participant_calls: usize,
    pub failed_rooms: Vec<FailedRoom>,
    #[serde(with = "crate::serde_time::millis")]
    pub took: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRoom {
    pub room: String,
    pub error: String,
}

/// Remembers the last snapshot of one server so each poll can report what changed.
#[derive(Debug, Default)]
pub struct RoomsPoller {
    server: String,
    concurrency: usize,
    last: Option<Arc<Snapshot>>,
}

impl RoomsPoller {
    #[must_use]
    pub fn new(server: impl Into<String>, concurrency: usize) -> Self {
        Self {
            server: server.into(),
            concurrency: concurrency.max(1),
            last: None,
        }
    }

    #[must_use]
    pub fn last(&self) -> Option<&Snapshot> {
        self.last.as_deref()
    }

    /// Takes a snapshot. A room whose participants cannot be read keeps its ListRooms counts
    /// and is listed in `stats.failed_rooms`; only a failed ListRooms fails the poll.
    ///
    /// # Errors
    /// ListRooms failed; the previous snapshot is kept.
    pub async fn poll<A: RoomApi>(&mut self, api: &A, now_ms: i64) -> Result<Poll, ApiError> {
        let started = Instant::now();
        let rooms = api.list_rooms(Vec::new()).await?;
        let participant_calls = rooms.len();
        // Each room's answer becomes its summary as soon as it arrives: the protobuf
        // participants (several times the size of their summaries) never all live at once.
        let results: Vec<(RoomSummary, Option<FailedRoom>)> = stream::iter(rooms)
            .map(|room| async move {
                match api.list_participants(&room.name).await {
                    Ok(list) => (RoomSummary::new(&room, Some(&list)), None),
                    Err(err) => (
                        RoomSummary::new(&room, None),
                        Some(FailedRoom {
                            room: room.name.clone(),
                            error: err.to_string(),
                        }),
                    ),
                }
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;

        let mut summaries = BTreeMap::new();
        let mut failed_rooms = Vec::new();
        for (summary, failed) in results {
            failed_rooms.extend(failed);
            // A room as it was keeps the allocation every consumer already holds.
            let kept = self
                .last
                .as_ref()
                .and_then(|last| last.rooms.get(&summary.name))
                .filter(|before| ***before == summary)
                .map(Arc::clone);
            summaries.insert(
                summary.name.clone(),
                kept.unwrap_or_else(|| Arc::new(summary)),
            );
        }
        failed_rooms.sort_by(|a, b| a.room.cmp(&b.room));

        let snapshot = Snapshot {
            server: self.server.clone(),
            taken_at_ms: now_ms,
            rooms: summaries,
        };
        let (changes, update) = match self.last.as_deref() {
            Some(last) => (diff(last, &snapshot), RoomsUpdate::between(last, &snapshot)),
            None => (Vec::new(), RoomsUpdate::full(&snapshot)),
        };
        let snapshot = Arc::new(snapshot);
        self.last = Some(Arc::clone(&snapshot));
        Ok(Poll {
            stats: PollStats {
                rooms: snapshot.rooms.len(),
                participant_calls,
                failed_rooms,
                took: started.elapsed(),
            },
            snapshot,
            update,
            changes,
        })
    }
}
