//! The rooms poller: one ListRooms, then ListParticipants for every room concurrently, turned
//! into a [`Snapshot`] and the changes since the previous one.
//!
//! ListRooms has no pagination and participants need one call per room, so at thousands of
//! rooms the poll is as fast as the calls that run side by side: `concurrency` of them, which
//! the engine sets to the pool's maximum size so every pooled connection is kept busy.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, RoomApi};
use crate::snapshot::{RoomChange, RoomSummary, Snapshot, diff};

/// One poll's result.
#[derive(Debug, Clone)]
pub struct Poll {
    pub snapshot: Snapshot,
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
    last: Option<Snapshot>,
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
        self.last.as_ref()
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
        let results: Vec<_> = stream::iter(rooms)
            .map(|room| async move {
                let participants = api.list_participants(&room.name).await;
                (room, participants)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;

        let mut summaries = BTreeMap::new();
        let mut failed_rooms = Vec::new();
        for (room, participants) in results {
            let summary = match &participants {
                Ok(list) => RoomSummary::new(&room, Some(list)),
                Err(err) => {
                    failed_rooms.push(FailedRoom {
                        room: room.name.clone(),
                        error: err.to_string(),
                    });
                    RoomSummary::new(&room, None)
                }
            };
            summaries.insert(room.name.clone(), summary);
        }
        failed_rooms.sort_by(|a, b| a.room.cmp(&b.room));

        let snapshot = Snapshot {
            server: self.server.clone(),
            taken_at_ms: now_ms,
            rooms: summaries,
        };
        let changes = self
            .last
            .as_ref()
            .map(|last| diff(last, &snapshot))
            .unwrap_or_default();
        self.last = Some(snapshot.clone());
        Ok(Poll {
            stats: PollStats {
                rooms: snapshot.rooms.len(),
                participant_calls,
                failed_rooms,
                took: started.elapsed(),
            },
            snapshot,
            changes,
        })
    }
}
