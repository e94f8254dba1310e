//! Which of the planned enforcement actions to carry out now: a failed action waits out a
//! cooldown, and a participant who rejoins after being removed is removed again only after a
//! backoff that doubles each time, so a client that reconnects on its own does not turn
//! enforcement into a removal every poll; a room deleted is not deleted again while a listing
//! may still show it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::limits::Enforcement;

/// A failed enforcement is not tried again for this long, so a room the server will not let
/// lktop fix does not flood the event log every poll.
pub(crate) const FAILURE_COOLDOWN: Duration = Duration::from_secs(30);
/// The first hold on a participant who came back after a removal; doubled each time.
pub(crate) const REJOIN_BACKOFF: Duration = Duration::from_secs(30);
pub(crate) const MAX_REJOIN_BACKOFF: Duration = Duration::from_secs(600);
/// A removal this long ago no longer counts toward the backoff.
const REMOVAL_MEMORY: Duration = Duration::from_secs(1800);

/// What an action is about, without the counts its reason mentions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ActionKey {
    room: String,
    identity: String,
    track_sid: Option<String>,
}

impl ActionKey {
    fn of(action: &Enforcement) -> Self {
        match action {
            Enforcement::MuteTrack {
                room,
                identity,
                track_sid,
                ..
            } => Self {
                room: room.clone(),
                identity: identity.clone(),
                track_sid: Some(track_sid.clone()),
            },
            Enforcement::RemoveParticipant { room, identity, .. } => Self {
                room: room.clone(),
                identity: identity.clone(),
                track_sid: None,
            },
            // The room as a whole, whichever rule: one cooldown per room.
            Enforcement::DeleteRoom { room, .. } => Self {
                room: room.clone(),
                identity: String::new(),
                track_sid: None,
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Removal {
    /// Removals within `REMOVAL_MEMORY` of each other.
    times: u32,
    last: Instant,
    /// The participant came back: not removed again before this.
    held_until: Option<Instant>,
}

/// What to do with one planned action now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Act,
    /// Waiting (a cooldown or a hold already announced): nothing to do or say.
    Wait,
    /// A removed participant is back: held until then. Said once per hold.
    Hold {
        until: Instant,
        removals: u32,
    },
}

#[derive(Debug, Default)]
pub(crate) struct EnforcementTracker {
    failed: HashMap<ActionKey, Instant>,
    removals: HashMap<(String, String), Removal>,
    /// Rooms deleted, by sid: a listing taken while the deletion spread through the cluster
    /// may still show one, and it is not deleted twice.
    deleted: HashMap<String, Instant>,
}

impl EnforcementTracker {
    pub(crate) fn decide(&mut self, action: &Enforcement, now: Instant) -> Verdict {
        let key = ActionKey::of(action);
        self.failed
            .retain(|_, at| now.duration_since(*at) < FAILURE_COOLDOWN);
        self.removals
            .retain(|_, removal| now.duration_since(removal.last) < REMOVAL_MEMORY);
        self.deleted
            .retain(|_, at| now.duration_since(*at) < FAILURE_COOLDOWN);
        if self.failed.contains_key(&key) {
            return Verdict::Wait;
        }
        if let Enforcement::DeleteRoom { sid, .. } = action
            && self.deleted.contains_key(sid)
        {
            return Verdict::Wait;
        }
        let Enforcement::RemoveParticipant { .. } = action else {
            return Verdict::Act;
        };
        let Some(removal) = self.removals.get_mut(&(key.room, key.identity)) else {
            return Verdict::Act;
        };
        match removal.held_until {
            Some(until) if now < until => Verdict::Wait,
            Some(_) => Verdict::Act,
            None => {
                let until = now + rejoin_backoff(removal.times);
                removal.held_until = Some(until);
                Verdict::Hold {
                    until,
                    removals: removal.times,
                }
            }
        }
    }

    /// Records the outcome of an action carried out.
    pub(crate) fn record(&mut self, action: &Enforcement, done: bool, now: Instant) {
        let key = ActionKey::of(action);
        if !done {
            self.failed.insert(key, now);
            return;
        }
        if let Enforcement::DeleteRoom { sid, .. } = action {
            self.deleted.insert(sid.clone(), now);
        }
        if let Enforcement::RemoveParticipant { .. } = action {
            let removal = self
                .removals
                .entry((key.room, key.identity))
                .or_insert(Removal {
                    times: 0,
                    last: now,
                    held_until: None,
                });
            removal.times += 1;
            removal.last = now;
            removal.held_until = None;
        }
    }
}

/// 30 s after the first removal, doubling with each one, at most 10 minutes.
fn rejoin_backoff(removals: u32) -> Duration {
    let doublings = removals.saturating_sub(1).min(16);
    REJOIN_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_REJOIN_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::TrackKind;

    fn remove(room: &str, identity: &str, participants: u32) -> Enforcement {
        Enforcement::RemoveParticipant {
            room: room.into(),
            identity: identity.into(),
            reason: format!("room {room} has {participants} participants, limit 2"),
        }
    }

    fn mute(track: &str, live: u32) -> Enforcement {
        Enforcement::MuteTrack {
            room: "r".into(),
            identity: "p".into(),
            track_sid: track.into(),
            kind: TrackKind::Audio,
            reason: format!("room r has {live} live audio tracks"),
        }
    }

    #[test]
    fn a_failure_holds_the_same_target_back_whatever_the_counts_in_its_reason() {
        let mut tracker = EnforcementTracker::default();
        let now = Instant::now();
        assert_eq!(tracker.decide(&mute("TR_a", 5), now), Verdict::Act);
        tracker.record(&mute("TR_a", 5), false, now);
        let later = now + Duration::from_secs(2);
        assert_eq!(tracker.decide(&mute("TR_a", 6), later), Verdict::Wait);
        assert_eq!(tracker.decide(&mute("TR_b", 6), later), Verdict::Act);
        let after = now + FAILURE_COOLDOWN;
        assert_eq!(tracker.decide(&mute("TR_a", 6), after), Verdict::Act);
    }

    fn delete(sid: &str) -> Enforcement {
        Enforcement::DeleteRoom {
            room: "lobby".into(),
            sid: sid.into(),
            rule: crate::limits::LimitKind::SoloTimeout,
            reason: "room lobby had one participant for 6m".into(),
        }
    }

    #[test]
    fn a_room_whose_deletion_failed_waits_and_one_deleted_is_not_deleted_again() {
        let mut tracker = EnforcementTracker::default();
        let now = Instant::now();
        assert_eq!(tracker.decide(&delete("RM_1"), now), Verdict::Act);
        tracker.record(&delete("RM_1"), false, now);
        let soon = now + Duration::from_secs(2);
        assert_eq!(tracker.decide(&delete("RM_1"), soon), Verdict::Wait);
        let after = now + FAILURE_COOLDOWN;
        assert_eq!(tracker.decide(&delete("RM_1"), after), Verdict::Act);
        tracker.record(&delete("RM_1"), true, after);
        let listed_again = after + Duration::from_secs(2);
        assert_eq!(tracker.decide(&delete("RM_1"), listed_again), Verdict::Wait);
        assert_eq!(
            tracker.decide(&delete("RM_2"), listed_again),
            Verdict::Act,
            "the room recreated under the same name is another room"
        );
    }

    #[test]
    fn a_participant_who_keeps_rejoining_is_held_back_longer_each_time() {
        let mut tracker = EnforcementTracker::default();
        let mut now = Instant::now();
        let mut holds = Vec::new();
        for round in 0..4 {
            assert_eq!(
                tracker.decide(&remove("r", "bob", 3), now),
                Verdict::Act,
                "{round}"
            );
            tracker.record(&remove("r", "bob", 3), true, now);
            // Back two seconds later.
            now += Duration::from_secs(2);
            let Verdict::Hold { until, removals } = tracker.decide(&remove("r", "bob", 4), now)
            else {
                panic!("round {round}: a rejoin after a removal is held");
            };
            assert_eq!(removals, round + 1);
            holds.push(until - now);
            // Held quietly until the hold ends.
            now += Duration::from_secs(1);
            assert_eq!(tracker.decide(&remove("r", "bob", 4), now), Verdict::Wait);
            now = until;
        }
        assert_eq!(holds, [30, 60, 120, 240].map(Duration::from_secs).to_vec());
        assert_eq!(tracker.decide(&remove("r", "alice", 4), now), Verdict::Act);
    }
}
