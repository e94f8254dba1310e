//! The rooms poller: one ListRooms, then ListParticipants for the rooms the polling budget
//! picks (every room without one), concurrently, turned into a [`Snapshot`], the update that
//! turns the previous one into it, and the changes in words (who joined, which track was
//! muted).
//!
//! ListRooms has no pagination and participants need one call per room, so at thousands of
//! rooms the poll is as fast as the calls that run side by side: `concurrency` of them, which
//! the engine sets to the pool's maximum size so every pooled connection is kept busy.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use livekit_protocol as proto;

use crate::api::{ApiError, RoomApi};
use crate::read_plan::{Listing, Listings, ReadPolicy, rooms_to_read};
use crate::rooms_update::{ParticipantsRead, RoomsUpdate};
use crate::snapshot::{RoomChange, RoomSummary, Snapshot, diff};
use crate::webhooks::Applied;

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

/// Remembers the last snapshot of one server so each poll can report what changed, and takes
/// webhooks into it between polls.
#[derive(Debug, Default)]
pub struct RoomsPoller {
    server: String,
    concurrency: usize,
    last: Option<Snapshot>,
    /// The previous ListRooms: a room whose sid or counts moved since is read first.
    listings: Arc<Listings>,
    /// Rooms a webhook changed, with the webhook's number: read first at the next poll, and a
    /// read that started before the webhook does not undo it.
    touched: HashMap<String, u64>,
    /// Webhooks applied so far.
    webhooks: u64,
}

/// What a poll reads, taken apart from the poller so webhooks can be applied while it runs.
#[derive(Debug)]
pub struct Reader {
    held: Option<Arc<Snapshot>>,
    listings: Arc<Listings>,
    touched: HashSet<String>,
    concurrency: usize,
    /// The webhooks applied when the reads began.
    webhooks_before: u64,
    started: Instant,
}

/// What a poll read: the listing, and the participants of the rooms it picked.
#[derive(Debug)]
pub struct Readings {
    listed: Vec<proto::Room>,
    participants: HashMap<String, Result<Vec<proto::ParticipantInfo>, ApiError>>,
    webhooks_before: u64,
    started: Instant,
}

/// A webhook's change to the held rooms: the update for consumers and the change in words.
#[derive(Debug, Clone)]
pub struct WebhookChange {
    pub update: RoomsUpdate,
    pub changes: Vec<RoomChange>,
}

impl RoomsPoller {
    #[must_use]
    pub fn new(server: impl Into<String>, concurrency: usize) -> Self {
        Self {
            server: server.into(),
            concurrency: concurrency.max(1),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn last(&self) -> Option<&Snapshot> {
        self.last.as_ref()
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
        let readings = self.reader().read(api, policy).await?;
        Ok(self.finish(readings, now_ms))
    }

    /// The reads of the next poll, to run while the poller takes webhooks.
    #[must_use]
    pub fn reader(&self) -> Reader {
        Reader {
            held: self.last.as_ref().map(|last| Arc::new(last.clone())),
            listings: Arc::clone(&self.listings),
            touched: self.touched.keys().cloned().collect(),
            concurrency: self.concurrency,
            webhooks_before: self.webhooks,
            started: Instant::now(),
        }
    }

    /// Turns what a poll read into the next snapshot. A room a webhook changed after the
    /// reads began keeps what the webhook made of it (present or gone): the read is older.
    pub fn finish(&mut self, readings: Readings, now_ms: i64) -> Poll {
        let Readings {
            listed,
            mut participants,
            webhooks_before,
            started,
        } = readings;
        let held = self.last.take();
        let newer = |room: &str| {
            self.touched
                .get(room)
                .is_some_and(|number| *number > webhooks_before)
        };
        let mut listings = Listings::with_capacity(listed.len());
        let mut rooms: BTreeMap<String, Arc<RoomSummary>> = BTreeMap::new();
        let mut read_at = BTreeMap::new();
        let mut failed_rooms = Vec::new();
        let participant_calls = participants.len();
        let listed_rooms = listed.len();
        for room in listed {
            let listing = Listing::of(&room);
            let moved = self.listings.get(&room.name) != Some(&listing);
            listings.insert(room.name.clone(), listing);
            let before = held.as_ref().and_then(|held| held.rooms.get(&room.name));
            let before_read = held
                .as_ref()
                .and_then(|held| held.participants_read_at(&room.name));
            if newer(&room.name) {
                if let Some(before) = before {
                    rooms.insert(room.name.clone(), Arc::clone(before));
                    if let Some(at) = before_read {
                        read_at.insert(room.name.clone(), at);
                    }
                }
                participants.remove(&room.name);
                continue;
            }
            let summary = match participants.remove(&room.name) {
                Some(Ok(list)) => {
                    read_at.insert(room.name.clone(), now_ms);
                    RoomSummary::new(&room, Some(&list))
                }
                Some(Err(err)) => {
                    failed_rooms.push(FailedRoom {
                        room: room.name.clone(),
                        error: err.to_string(),
                    });
                    RoomSummary::new(&room, None)
                }
                None => match before {
                    Some(before) if before.sid == room.sid => {
                        if let Some(at) = before_read {
                            read_at.insert(room.name.clone(), at);
                        }
                        RoomSummary::carried(&room, before, moved)
                    }
                    _ => RoomSummary::new(&room, None),
                },
            };
            // A room as it was keeps the allocation every consumer already holds.
            let kept = before.filter(|before| ***before == summary).map(Arc::clone);
            rooms.insert(room.name.clone(), kept.unwrap_or_else(|| Arc::new(summary)));
        }
        // A room a webhook started after the listing was taken is kept too.
        if let Some(held) = &held {
            for (name, room) in &held.rooms {
                if !rooms.contains_key(name) && newer(name) && !listings.contains_key(name) {
                    rooms.insert(name.clone(), Arc::clone(room));
                }
            }
        }
        failed_rooms.sort_by(|a, b| a.room.cmp(&b.room));
        // A room read after its last webhook is no longer ahead of the reads, nor is a room
        // gone (else every room a webhook ever touched would be remembered).
        self.touched.retain(|room, number| {
            *number > webhooks_before
                || (rooms.contains_key(room) && read_at.get(room).is_none_or(|at| *at != now_ms))
        });

        let unread_rooms = listed_rooms.saturating_sub(participant_calls);
        let snapshot = Snapshot {
            server: self.server.clone(),
            taken_at_ms: now_ms,
            rooms,
            participants_read_at_ms: read_at,
        };
        let (changes, update) = match &held {
            Some(last) => (diff(last, &snapshot), RoomsUpdate::between(last, &snapshot)),
            None => (Vec::new(), RoomsUpdate::full(&snapshot)),
        };
        let shared = Arc::new(snapshot.clone());
        self.last = Some(snapshot);
        self.listings = Arc::new(listings);
        Poll {
            stats: PollStats {
                rooms: shared.rooms.len(),
                participant_calls,
                unread_rooms,
                failed_rooms,
                took: started.elapsed(),
            },
            snapshot: shared,
            update,
            changes,
        }
    }

    /// Applies a webhook to the rooms held (none before the first poll): the room it changed
    /// as an update for consumers, and the change in words; `None` when it changed nothing.
    pub fn apply_webhook(&mut self, event: &proto::WebhookEvent) -> Option<WebhookChange> {
        let last = self.last.as_mut()?;
        let name = event.room.as_ref()?.name.clone();
        let before = last.rooms.get(&name).cloned();
        let applied = crate::webhooks::apply(last, event);
        self.webhooks += 1;
        let (upserted, removed) = match applied {
            Applied::Nothing => return None,
            Applied::Upserted(room) => (last.rooms.get(&room).cloned(), None),
            Applied::Removed(room) => (None, Some(room)),
        };
        self.touched.insert(name.clone(), self.webhooks);
        let one_room = |room: Option<Arc<RoomSummary>>| Snapshot {
            server: last.server.clone(),
            taken_at_ms: last.taken_at_ms,
            rooms: room
                .map(|room| (room.name.clone(), room))
                .into_iter()
                .collect(),
            participants_read_at_ms: BTreeMap::new(),
        };
        let changes = diff(&one_room(before), &one_room(upserted.clone()));
        Some(WebhookChange {
            update: RoomsUpdate {
                server: last.server.clone(),
                taken_at_ms: last.taken_at_ms,
                full: false,
                upserted: upserted.into_iter().collect(),
                removed: removed.into_iter().collect(),
                participants_read: ParticipantsRead::Rooms(BTreeMap::new()),
            },
            changes,
        })
    }
}

impl Reader {
    /// ListRooms, then the participants of the rooms `policy` picks, concurrently.
    ///
    /// # Errors
    /// ListRooms failed.
    pub async fn read<A: RoomApi>(
        self,
        api: &A,
        policy: &ReadPolicy<'_>,
    ) -> Result<Readings, ApiError> {
        let listed = api.list_rooms(Vec::new()).await?;
        let to_read = rooms_to_read(
            &listed,
            &self.listings,
            self.held.as_deref(),
            &self.touched,
            policy,
        );
        let names: Vec<String> = listed
            .iter()
            .zip(&to_read)
            .filter(|(_, read)| **read)
            .map(|(room, _)| room.name.clone())
            .collect();
        // Each room's answer is kept as it comes; the poller turns it into a summary.
        let participants: HashMap<String, Result<Vec<proto::ParticipantInfo>, ApiError>> =
            stream::iter(names)
                .map(|name| async move {
                    let answer = api.list_participants(&name).await;
                    (name, answer)
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
        Ok(Readings {
            listed,
            participants,
            webhooks_before: self.webhooks_before,
            started: self.started,
        })
    }
}
