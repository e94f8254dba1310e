//! Which rooms' participants a poll reads when the polling budget cannot cover them all.
//!
//! ListRooms is one request whatever the number of rooms; participants need one request per
//! room. At 10,000 rooms reading every room every interval is 5,000 requests per second sent to
//! the server lktop watches, so a poll reads at most the budget's share, spent in this order:
//!
//! 1. rooms new in the listing or whose sid or counts moved since the previous listing, and
//!    rooms a webhook changed (the rooms where something happened);
//! 2. the room open on screen;
//! 3. rooms at or near a limit (90 % or more), so enforcement always acts on a list read in
//!    the same poll;
//! 4. the rest, stalest first (never read before anything read).
//!
//! Ties go by name, so a plan is the same every time for the same input.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use livekit_protocol as proto;

use serde::{Deserialize, Serialize};

use crate::config::{PollingConfig, RoomLimitsConfig};
use crate::limits::limit_for;
use crate::snapshot::Snapshot;

/// A room as the previous ListRooms gave it: what tells that something happened in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listing {
    sid: String,
    participants: u32,
    publishers: u32,
}

impl Listing {
    pub(crate) fn of(room: &proto::Room) -> Self {
        Self {
            sid: room.sid.clone(),
            participants: room.num_participants,
            publishers: room.num_publishers,
        }
    }
}

/// The previous poll's listing by room name.
pub(crate) type Listings = HashMap<String, Listing>;

/// What besides the listing decides which rooms are read.
#[derive(Debug, Clone, Copy)]
pub struct ReadPolicy<'a> {
    /// ListParticipants calls this poll may make; `None` reads every room.
    pub reads: Option<usize>,
    /// The room open on screen, read every poll while the budget allows.
    pub focused: Option<&'a str>,
    pub limits: &'a RoomLimitsConfig,
}

impl<'a> ReadPolicy<'a> {
    /// Every room, every poll: no budget.
    #[must_use]
    pub fn every_room(limits: &'a RoomLimitsConfig) -> Self {
        Self {
            reads: None,
            focused: None,
            limits,
        }
    }
}

/// Why a room is read, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
/// Within a level, the room read longest ago comes first (never read first of all), so rooms
/// of one level take turns when the budget cannot read them all.
enum Urgency {
    Changed(Option<i64>),
    Focused,
    NearLimit(Option<i64>),
    Stale(Option<i64>),
}

/// Which of `listed` to read: `true` at the index of each room to read.
pub(crate) fn rooms_to_read(
    listed: &[proto::Room],
    previous: &Listings,
    held: Option<&Snapshot>,
    touched: &HashSet<String>,
    policy: &ReadPolicy<'_>,
) -> Vec<bool> {
    let Some(reads) = policy.reads.filter(|reads| *reads < listed.len()) else {
        return vec![true; listed.len()];
    };
    let mut ranked: Vec<(Urgency, &str, usize)> = listed
        .iter()
        .enumerate()
        .map(|(index, room)| {
            (
                urgency(room, previous, held, touched, policy),
                room.name.as_str(),
                index,
            )
        })
        .collect();
    // Only the first `reads` need to be in order.
    if reads > 0 {
        ranked.select_nth_unstable(reads - 1);
    }
    let mut chosen = vec![false; listed.len()];
    for (_, _, index) in ranked.iter().take(reads) {
        chosen[*index] = true;
    }
    chosen
}

fn urgency(
    room: &proto::Room,
    previous: &Listings,
    held: Option<&Snapshot>,
    touched: &HashSet<String>,
    policy: &ReadPolicy<'_>,
) -> Urgency {
    let held_room = held.and_then(|held| held.rooms.get(&room.name));
    let read_at = held.and_then(|held| held.participants_read_at(&room.name));
    let moved = previous.get(&room.name) != Some(&Listing::of(room));
    let unknown = held_room.is_none_or(|held| held.sid != room.sid);
    if moved || unknown || touched.contains(&room.name) {
        return Urgency::Changed(read_at);
    }
    if policy.focused == Some(room.name.as_str()) {
        return Urgency::Focused;
    }
    if let Some(held_room) = held_room {
        let limit = limit_for(policy.limits, &room.name);
        let near = |actual: u32, max: u32| u64::from(actual) * 10 >= u64::from(max) * 9;
        if near(room.num_participants, limit.max_participants)
            || near(held_room.tracks.live_audio(), limit.max_audio_tracks)
            || near(held_room.tracks.live_video(), limit.max_video_tracks)
        {
            return Urgency::NearLimit(read_at);
        }
    }
    Urgency::Stale(read_at)
}

/// Whether a polling budget reads every room within `polling.max_staleness`, with the figures
/// that say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetCoverage {
    pub rooms: usize,
    /// ListParticipants calls per poll the budget allows.
    pub reads_per_interval: usize,
    /// How long reading every room once takes at this budget.
    #[serde(rename = "rotation_ms", with = "crate::serde_time::millis")]
    pub rotation: Duration,
    #[serde(rename = "max_staleness_ms", with = "crate::serde_time::millis")]
    pub max_staleness: Duration,
    pub budget_per_second: u32,
    /// The `polling.max_requests_per_second` that would read every room within
    /// `max_staleness`.
    pub needed_per_second: u32,
    pub enough: bool,
}

impl BudgetCoverage {
    /// The coverage of `rooms` rooms under `polling`.
    #[must_use]
    pub fn of(rooms: usize, polling: &PollingConfig) -> Self {
        let interval = polling.interval.get();
        let max_staleness = polling.max_staleness.get();
        let reads = polling.reads_per_interval();
        let reads_per_interval = reads.unwrap_or(rooms);
        let rotation = rotation(rooms, reads_per_interval, interval);
        Self {
            rooms,
            reads_per_interval,
            rotation,
            max_staleness,
            budget_per_second: polling.max_requests_per_second,
            needed_per_second: requests_per_second_needed(rooms, interval, max_staleness),
            enough: reads.is_none() || rotation <= max_staleness,
        }
    }
}

/// How long the budget takes to read every room once, when it reads `reads` per `interval`
/// (rooms that changed or are near a limit come first, so the others may wait longer).
#[must_use]
pub fn rotation(rooms: usize, reads: usize, interval: Duration) -> Duration {
    let polls = rooms.div_ceil(reads.max(1));
    interval.saturating_mul(u32::try_from(polls).unwrap_or(u32::MAX))
}

/// Requests per second (ListRooms included) that would read `rooms` rooms within
/// `max_staleness` at one poll every `interval`.
#[must_use]
pub fn requests_per_second_needed(
    rooms: usize,
    interval: Duration,
    max_staleness: Duration,
) -> u32 {
    let polls = (max_staleness.as_secs_f64() / interval.as_secs_f64())
        .floor()
        .max(1.0);
    #[expect(clippy::cast_precision_loss, reason = "room counts are far below 2^52")]
    let reads_per_poll = (rooms as f64 / polls).ceil();
    let per_second = ((reads_per_poll + 1.0) / interval.as_secs_f64()).ceil();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive whole number, saturated by the cast"
    )]
    let per_second = per_second as u32;
    per_second
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::snapshot::{RoomSummary, TrackCounts};

    fn listed(name: &str, participants: u32) -> proto::Room {
        proto::Room {
            name: name.into(),
            sid: format!("RM_{name}"),
            num_participants: participants,
            ..Default::default()
        }
    }

    fn held(rooms: &[(&proto::Room, Option<i64>)]) -> Snapshot {
        let mut snapshot = Snapshot {
            server: "s".into(),
            taken_at_ms: 10_000,
            rooms: BTreeMap::new(),
            participants_read_at_ms: BTreeMap::new(),
        };
        for (room, read_at) in rooms {
            let summary = RoomSummary::new(room, read_at.map(|_| &[][..]));
            let summary = RoomSummary {
                num_participants: room.num_participants,
                tracks: TrackCounts::default(),
                ..summary
            };
            snapshot.rooms.insert(room.name.clone(), Arc::new(summary));
            if let Some(at) = read_at {
                snapshot
                    .participants_read_at_ms
                    .insert(room.name.clone(), *at);
            }
        }
        snapshot
    }

    fn chosen(listed: &[proto::Room], mask: &[bool]) -> Vec<String> {
        listed
            .iter()
            .zip(mask)
            .filter(|(_, read)| **read)
            .map(|(room, _)| room.name.clone())
            .collect()
    }

    #[test]
    fn without_a_budget_or_within_it_every_room_is_read() {
        let limits = RoomLimitsConfig::default();
        let rooms = vec![listed("a", 1), listed("b", 2)];
        let every = ReadPolicy::every_room(&limits);
        assert_eq!(
            rooms_to_read(&rooms, &Listings::new(), None, &HashSet::new(), &every),
            [true, true]
        );
        let within_budget = ReadPolicy {
            reads: Some(2),
            ..every
        };
        assert_eq!(
            rooms_to_read(
                &rooms,
                &Listings::new(),
                None,
                &HashSet::new(),
                &within_budget
            ),
            [true, true]
        );
    }

    #[test]
    fn the_budget_goes_to_changed_then_focused_then_near_limit_then_stalest() {
        let limits = RoomLimitsConfig {
            max_participants_per_room: 10,
            ..RoomLimitsConfig::default()
        };
        let quiet_old = listed("quiet-old", 1);
        let quiet_new = listed("quiet-new", 1);
        let crowded = listed("crowded", 9);
        let open = listed("open", 1);
        let busy = listed("busy", 3);
        let held = held(&[
            (&quiet_old, Some(1_000)),
            (&quiet_new, Some(9_000)),
            (&crowded, Some(9_000)),
            (&open, Some(9_000)),
            (&listed("busy", 2), Some(9_000)),
        ]);
        let mut previous = Listings::new();
        for room in [&quiet_old, &quiet_new, &crowded, &open] {
            previous.insert(room.name.clone(), Listing::of(room));
        }
        previous.insert("busy".into(), Listing::of(&listed("busy", 2)));
        let fresh = listed("fresh", 0);
        let now = vec![
            quiet_old.clone(),
            quiet_new.clone(),
            crowded.clone(),
            open.clone(),
            busy.clone(),
            fresh.clone(),
        ];
        let policy = |reads| ReadPolicy {
            reads: Some(reads),
            focused: Some("open"),
            limits: &limits,
        };
        let read = |reads| {
            let mut names = chosen(
                &now,
                &rooms_to_read(
                    &now,
                    &previous,
                    Some(&held),
                    &HashSet::new(),
                    &policy(reads),
                ),
            );
            names.sort();
            names
        };
        assert_eq!(read(2), ["busy", "fresh"], "changed and new rooms first");
        assert_eq!(read(3), ["busy", "fresh", "open"]);
        assert_eq!(read(4), ["busy", "crowded", "fresh", "open"]);
        assert_eq!(read(5), ["busy", "crowded", "fresh", "open", "quiet-old"]);
        assert_eq!(read(1).len(), 1, "never above the budget");
    }

    #[test]
    fn rooms_of_one_level_take_turns_when_the_budget_cannot_read_them_all() {
        let limits = RoomLimitsConfig {
            max_participants_per_room: 10,
            ..RoomLimitsConfig::default()
        };
        let rooms: Vec<proto::Room> = (0..6).map(|i| listed(&format!("full-{i}"), 10)).collect();
        let previous: Listings = rooms
            .iter()
            .map(|room| (room.name.clone(), Listing::of(room)))
            .collect();
        let entries: Vec<(&proto::Room, Option<i64>)> =
            rooms.iter().map(|r| (r, Some(0))).collect();
        let mut snapshot = held(&entries);
        let policy = ReadPolicy {
            reads: Some(2),
            focused: None,
            limits: &limits,
        };
        let mut seen = std::collections::BTreeSet::new();
        for poll in 1..=3_i64 {
            let mask = rooms_to_read(&rooms, &previous, Some(&snapshot), &HashSet::new(), &policy);
            for name in chosen(&rooms, &mask) {
                snapshot.participants_read_at_ms.insert(name.clone(), poll);
                seen.insert(name);
            }
        }
        assert_eq!(
            seen.len(),
            6,
            "every room at its limit read within 3 polls of 2"
        );
    }

    #[test]
    fn rooms_never_read_come_before_the_stalest_and_a_rotation_reaches_every_room() {
        let limits = RoomLimitsConfig::default();
        let rooms: Vec<proto::Room> = (0..10).map(|i| listed(&format!("r{i}"), 1)).collect();
        let previous: Listings = rooms
            .iter()
            .map(|room| (room.name.clone(), Listing::of(room)))
            .collect();
        let entries: Vec<(&proto::Room, Option<i64>)> = rooms.iter().map(|r| (r, None)).collect();
        let mut snapshot = held(&entries);
        // As the poller does: rooms read get this poll's time.
        let policy = ReadPolicy {
            reads: Some(3),
            focused: None,
            limits: &limits,
        };
        let mut seen = std::collections::BTreeSet::new();
        for poll in 0..4_i64 {
            let mask = rooms_to_read(&rooms, &previous, Some(&snapshot), &HashSet::new(), &policy);
            for name in chosen(&rooms, &mask) {
                snapshot.participants_read_at_ms.insert(name.clone(), poll);
                seen.insert(name);
            }
        }
        assert_eq!(seen.len(), 10, "ceil(10 / 3) = 4 polls reach every room");
    }

    #[test]
    fn the_figures_for_a_budget_too_small() {
        let interval = Duration::from_secs(2);
        assert_eq!(rotation(10_000, 99, interval), Duration::from_secs(204));
        assert_eq!(rotation(50, 99, interval), interval);
        // 15 polls in 30 s, 667 rooms each, plus ListRooms, every 2 s.
        assert_eq!(
            requests_per_second_needed(10_000, interval, Duration::from_secs(30)),
            334
        );
        assert_eq!(
            requests_per_second_needed(10, interval, Duration::from_secs(1)),
            6
        );
    }
}
