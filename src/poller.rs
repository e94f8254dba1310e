//! The rooms poller: one ListRooms, then ListParticipants for the rooms the polling budget
//! picks (every room without one), concurrently, turned into a [`Snapshot`], the update that
//! turns the previous one into it, and the changes in words (who joined, which track was
//! muted).
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
use crate::read_plan::{Listing, Listings, ReadPolicy, rooms_to_read};
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

/// How a poll went: how long it took, how many rooms it read and which rooms' participants
/// could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollStats {
    pub rooms: usize,
    pub participant_calls: usize,
    /// Rooms whose participants the polling budget left for a later poll.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unread_rooms: usize,
    pub failed_rooms: Vec<FailedRoom>,
    #[serde(with = "crate::serde_time::millis")]
    pub took: Duration,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if hands over a reference"
)]
fn is_zero(count: &usize) -> bool {
    *count == 0
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
    /// The previous ListRooms: a room whose sid or counts moved since is read first.
    listings: Listings,
}

impl RoomsPoller {
    #[must_use]
    pub fn new(server: impl Into<String>, concurrency: usize) -> Self {
        Self {
            server: server.into(),
            concurrency: concurrency.max(1),
            last: None,
            listings: Listings::new(),
        }
    }

    #[must_use]
    pub fn last(&self) -> Option<&Snapshot> {
        self.last.as_deref()
    }

    /// Takes a snapshot, reading the participants of the rooms `policy` picks; the others
    /// keep the participants last read. A room whose participants cannot be read keeps its
    /// ListRooms counts and is listed in `stats.failed_rooms`; only a failed ListRooms fails
    /// the poll.
    ///
    /// # Errors
    /// ListRooms failed; the previous snapshot is kept.
    pub async fn poll<A: RoomApi>(
        &mut self,
        api: &A,
        now_ms: i64,
        policy: &ReadPolicy<'_>,
    ) -> Result<Poll, ApiError> {
        let started = Instant::now();
        let rooms = api.list_rooms(Vec::new()).await?;
        let held = self.last.as_deref();
        let to_read = rooms_to_read(&rooms, &self.listings, held, policy);
        let mut listings = Listings::with_capacity(rooms.len());
        let mut summaries = BTreeMap::new();
        let mut read_at = BTreeMap::new();
        let mut reading = Vec::new();
        for (room, read) in rooms.into_iter().zip(to_read) {
            let listing = Listing::of(&room);
            let moved = self.listings.get(&room.name) != Some(&listing);
            listings.insert(room.name.clone(), listing);
            if read {
                reading.push(room);
                continue;
            }
            let summary = match held.and_then(|held| held.rooms.get(&room.name)) {
                Some(before) if before.sid == room.sid => {
                    if let Some(at) = held.and_then(|held| held.participants_read_at(&room.name)) {
                        read_at.insert(room.name.clone(), at);
                    }
                    RoomSummary::carried(&room, before, moved)
                }
                _ => RoomSummary::new(&room, None),
            };
            summaries.insert(room.name.clone(), summary);
        }
        let participant_calls = reading.len();
        let unread_rooms = summaries.len();
        // Each room's answer becomes its summary as soon as it arrives: the protobuf
        // participants (several times the size of their summaries) never all live at once.
        let results: Vec<(RoomSummary, Option<FailedRoom>)> = stream::iter(reading)
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
        let mut failed_rooms = Vec::new();
        for (summary, failed) in results {
            match failed {
                Some(failed) => failed_rooms.push(failed),
                None => {
                    read_at.insert(summary.name.clone(), now_ms);
                }
            }
            summaries.insert(summary.name.clone(), summary);
        }
        failed_rooms.sort_by(|a, b| a.room.cmp(&b.room));

        // A room as it was keeps the allocation every consumer already holds.
        let rooms: BTreeMap<String, Arc<RoomSummary>> = summaries
            .into_iter()
            .map(|(name, summary)| {
                let kept = held
                    .and_then(|held| held.rooms.get(&name))
                    .filter(|before| ***before == summary)
                    .map(Arc::clone);
                (name, kept.unwrap_or_else(|| Arc::new(summary)))
            })
            .collect();
        let snapshot = Snapshot {
            server: self.server.clone(),
            taken_at_ms: now_ms,
            rooms,
            participants_read_at_ms: read_at,
        };
        let (changes, update) = match held {
            Some(last) => (diff(last, &snapshot), RoomsUpdate::between(last, &snapshot)),
            None => (Vec::new(), RoomsUpdate::full(&snapshot)),
        };
        let snapshot = Arc::new(snapshot);
        self.last = Some(Arc::clone(&snapshot));
        self.listings = listings;
        Ok(Poll {
            stats: PollStats {
                rooms: snapshot.rooms.len(),
                participant_calls,
                unread_rooms,
                failed_rooms,
                took: started.elapsed(),
            },
            snapshot,
            update,
            changes,
        })
    }
}
