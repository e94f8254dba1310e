//! Room lifecycle rules (`room_limits.lifecycle`): a room solo or empty for too long, or too
//! old, is in violation, and with `lifecycle.enforcement: enforce` it is deleted.
//!
//! "For too long" needs memory across polls: [`RoomLifecycles`] keeps, per room sid, who was
//! in the room at the last poll that read its participants and since when. The time is the
//! polls' own (`Snapshot::taken_at_ms`), so the rules are tested with snapshots made at chosen
//! times, and a room first seen solo counts from that first poll: lktop never deletes earlier
//! than the rule says, only later.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::config::{EnforcementMode, LifecycleLimit, RoomLimitsConfig};
use crate::limits::{Enforcement, LimitKind, Violation, seconds_text};
use crate::snapshot::{ParticipantKind, RoomSummary, Snapshot};

/// The lifecycle rules of one room: the global ones with its overrides on top; `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LifecycleRules {
    pub solo_timeout: Option<Duration>,
    pub empty_timeout: Option<Duration>,
    pub max_duration: Option<Duration>,
}

#[must_use]
pub fn rules_for(config: &RoomLimitsConfig, room: &str) -> LifecycleRules {
    let overrides = config.overrides.get(room).copied().unwrap_or_default();
    let global = &config.lifecycle;
    let pick =
        |own: Option<LifecycleLimit>, global: LifecycleLimit| own.unwrap_or(global).duration();
    LifecycleRules {
        solo_timeout: pick(overrides.solo_timeout, global.solo_timeout),
        empty_timeout: pick(overrides.empty_timeout, global.empty_timeout),
        max_duration: pick(overrides.max_duration, global.max_duration),
    }
}

/// Who is in a room, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occupancy {
    Empty,
    /// Exactly one participant, or agents and nobody else: no conversation between people.
    Solo,
    Company,
}

impl Occupancy {
    /// `None` when the room's participants are unknown.
    fn of(room: &RoomSummary) -> Option<Self> {
        let participants = room.participants.as_ref()?;
        Some(match participants.as_slice() {
            [] => Self::Empty,
            [_] => Self::Solo,
            many if many.iter().all(|p| p.kind == ParticipantKind::Agent) => Self::Solo,
            _ => Self::Company,
        })
    }
}

/// A room's occupancy since a poll.
#[derive(Debug, Clone, Copy)]
struct Phase {
    occupancy: Occupancy,
    /// Unix ms of the poll that first found it.
    since_ms: i64,
    /// The participant count then: a later listing that counts otherwise means the room
    /// changed while its participants were not read.
    participants: u32,
}

/// When each live room became solo, empty or neither, by room sid (a room recreated under
/// the same name starts again); a room gone from the listing is forgotten.
#[derive(Debug, Default)]
pub(crate) struct RoomLifecycles {
    phases: HashMap<String, Phase>,
}

impl RoomLifecycles {
    /// Folds in a poll. A room whose participants this poll read takes its occupancy (the
    /// earlier `since` kept when it did not change). A room not read keeps what it had unless
    /// the listing's count moved since, in which case nobody knows who is in it until the
    /// next read: its phase is dropped rather than guessed.
    pub(crate) fn observe(&mut self, snapshot: &Snapshot) {
        let listed: HashSet<&str> = snapshot.rooms.values().map(|r| r.sid.as_str()).collect();
        self.phases.retain(|sid, _| listed.contains(sid.as_str()));
        for room in snapshot.rooms.values() {
            if !snapshot.read_in_this_poll(&room.name) {
                if self
                    .phases
                    .get(&room.sid)
                    .is_some_and(|phase| phase.participants != room.num_participants)
                {
                    self.phases.remove(&room.sid);
                }
                continue;
            }
            let Some(occupancy) = Occupancy::of(room) else {
                self.phases.remove(&room.sid);
                continue;
            };
            let phase = self.phases.entry(room.sid.clone()).or_insert(Phase {
                occupancy,
                since_ms: snapshot.taken_at_ms,
                participants: room.num_participants,
            });
            if phase.occupancy != occupancy {
                phase.occupancy = occupancy;
                phase.since_ms = snapshot.taken_at_ms;
            }
            phase.participants = room.num_participants;
        }
    }

    /// The rooms past a rule at the snapshot's time, by room name.
    #[must_use]
    pub(crate) fn violations(
        &self,
        snapshot: &Snapshot,
        config: &RoomLimitsConfig,
    ) -> Vec<Violation> {
        let now_ms = snapshot.taken_at_ms;
        let mut violations = Vec::new();
        for room in snapshot.rooms.values() {
            let rules = rules_for(config, &room.name);
            if let Some(phase) = self.phases.get(&room.sid) {
                let rule = match phase.occupancy {
                    Occupancy::Solo => rules.solo_timeout.map(|t| (LimitKind::SoloTimeout, t)),
                    Occupancy::Empty => rules.empty_timeout.map(|t| (LimitKind::EmptyTimeout, t)),
                    Occupancy::Company => None,
                };
                if let Some((kind, limit)) = rule {
                    violations.extend(past(kind, &room.name, limit, phase.since_ms, now_ms));
                }
            }
            if let Some(limit) = rules.max_duration
                && room.created_at > 0
            {
                let created_ms = room.created_at.saturating_mul(1000);
                violations.extend(past(
                    LimitKind::MaxDuration,
                    &room.name,
                    limit,
                    created_ms,
                    now_ms,
                ));
            }
        }
        violations
    }

    /// What `lifecycle.enforcement: enforce` does with the snapshot: delete each room past a
    /// rule, once. A room past `solo_timeout` or `empty_timeout` only when this very poll read
    /// its participants (a list an earlier poll read may no longer be solo); one past
    /// `max_duration` whenever it is listed, since its age needs no participant list.
    #[must_use]
    pub(crate) fn plan(&self, snapshot: &Snapshot, config: &RoomLimitsConfig) -> Vec<Enforcement> {
        if config.lifecycle.enforcement != EnforcementMode::Enforce {
            return Vec::new();
        }
        let mut deleted: HashSet<String> = HashSet::new();
        let mut actions = Vec::new();
        for violation in self.violations(snapshot, config) {
            let Some(room_name) = violation.room.as_deref() else {
                continue;
            };
            let current =
                violation.kind == LimitKind::MaxDuration || snapshot.read_in_this_poll(room_name);
            let Some(room) = snapshot.rooms.get(room_name) else {
                continue;
            };
            if !current || !deleted.insert(room_name.to_owned()) {
                continue;
            }
            actions.push(Enforcement::DeleteRoom {
                room: room_name.to_owned(),
                sid: room.sid.clone(),
                rule: violation.kind,
                reason: reason(&violation, snapshot.taken_at_ms),
            });
        }
        actions
    }
}

/// A violation of `kind` when the state that began at `since_ms` lasted longer than `limit`.
fn past(
    kind: LimitKind,
    room: &str,
    limit: Duration,
    since_ms: i64,
    now_ms: i64,
) -> Option<Violation> {
    let lasted_ms = u64::try_from(now_ms.saturating_sub(since_ms)).unwrap_or(0);
    let lasted = Duration::from_millis(lasted_ms);
    (lasted > limit).then(|| Violation {
        kind,
        room: Some(room.to_owned()),
        limit: seconds(limit),
        actual: seconds(lasted),
        since_ms: Some(since_ms),
    })
}

fn seconds(duration: Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}

/// `room lobby had one participant (or only agents) for 5m 3s 250ms, longer than its
/// solo_timeout of 5m`: how long to the millisecond, from the poll's time, since whole seconds
/// would make a room just past its rule look as if it were not.
fn reason(violation: &Violation, now_ms: i64) -> String {
    let lasted_ms = violation
        .since_ms
        .map_or(0, |since_ms| now_ms.saturating_sub(since_ms));
    let lasted =
        humantime::format_duration(Duration::from_millis(u64::try_from(lasted_ms).unwrap_or(0)));
    let limit = seconds_text(violation.limit);
    let room = violation.room.as_deref().unwrap_or_default();
    let what = match violation.kind {
        LimitKind::SoloTimeout => format!("had one participant (or only agents) for {lasted}"),
        LimitKind::EmptyTimeout => format!("was empty for {lasted}"),
        _ => format!("was open for {lasted}"),
    };
    format!(
        "room {room} {what}, longer than its {} of {limit}",
        violation.kind.as_str()
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livekit_protocol as proto;

    use super::*;
    use crate::config::{ConfigDuration, RoomLimitOverride};

    const MINUTE_MS: i64 = 60_000;

    fn person(identity: &str, kind: proto::participant_info::Kind) -> proto::ParticipantInfo {
        proto::ParticipantInfo {
            identity: identity.into(),
            kind: kind as i32,
            ..Default::default()
        }
    }

    fn people(count: usize) -> Vec<proto::ParticipantInfo> {
        (0..count)
            .map(|n| person(&format!("p{n}"), proto::participant_info::Kind::Standard))
            .collect()
    }

    /// A poll at `at_ms` that read every room's participants; rooms are `(name, sid,
    /// created_at seconds, participants)`.
    fn poll_at(at_ms: i64, rooms: &[(&str, &str, i64, Vec<proto::ParticipantInfo>)]) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: at_ms,
            rooms: rooms
                .iter()
                .map(|(name, sid, created_at, participants)| {
                    let room = proto::Room {
                        name: (*name).into(),
                        sid: (*sid).into(),
                        creation_time: *created_at,
                        num_participants: u32::try_from(participants.len()).unwrap(),
                        ..Default::default()
                    };
                    (
                        (*name).to_owned(),
                        Arc::new(RoomSummary::new(&room, Some(participants))),
                    )
                })
                .collect(),
            participants_read_at_ms: rooms
                .iter()
                .map(|(name, ..)| ((*name).to_owned(), at_ms))
                .collect(),
        }
    }

    fn rules(solo: Option<u64>, empty: Option<u64>, max: Option<u64>) -> RoomLimitsConfig {
        let limit = |minutes: Option<u64>| {
            minutes.map_or(LifecycleLimit::Off, |m| {
                LifecycleLimit::After(ConfigDuration::from_secs(m * 60))
            })
        };
        let mut config = RoomLimitsConfig::default();
        config.lifecycle.solo_timeout = limit(solo);
        config.lifecycle.empty_timeout = limit(empty);
        config.lifecycle.max_duration = limit(max);
        config
    }

    fn kinds(violations: &[Violation]) -> Vec<(LimitKind, &str, u32)> {
        violations
            .iter()
            .map(|v| (v.kind, v.room.as_deref().unwrap(), v.actual))
            .collect()
    }

    #[test]
    fn a_room_solo_for_longer_than_the_timeout_is_reported_from_when_it_became_solo() {
        let config = rules(Some(5), Some(10), None);
        let mut rooms = RoomLifecycles::default();
        let pair = poll_at(0, &[("lobby", "RM_1", 0, people(2))]);
        rooms.observe(&pair);
        let solo_at = MINUTE_MS;
        for at in [solo_at, solo_at + 3 * MINUTE_MS, solo_at + 5 * MINUTE_MS] {
            let poll = poll_at(at, &[("lobby", "RM_1", 0, people(1))]);
            rooms.observe(&poll);
            assert_eq!(
                rooms.violations(&poll, &config),
                [],
                "at {at}: not longer yet"
            );
        }
        let late = poll_at(
            solo_at + 5 * MINUTE_MS + 1_000,
            &[("lobby", "RM_1", 0, people(1))],
        );
        rooms.observe(&late);
        let violations = rooms.violations(&late, &config);
        assert_eq!(kinds(&violations), [(LimitKind::SoloTimeout, "lobby", 301)]);
        assert_eq!(violations[0].since_ms, Some(solo_at));
        assert_eq!(violations[0].limit, 300);
        assert_eq!(
            violations[0].to_string(),
            "room lobby: one participant (or only agents) for longer than its solo_timeout of 5m"
        );

        // Someone joins: the clock stops; alone again, it starts over.
        let joined = poll_at(solo_at + 6 * MINUTE_MS, &[("lobby", "RM_1", 0, people(2))]);
        rooms.observe(&joined);
        assert_eq!(rooms.violations(&joined, &config), []);
        let alone = poll_at(solo_at + 7 * MINUTE_MS, &[("lobby", "RM_1", 0, people(1))]);
        rooms.observe(&alone);
        assert_eq!(rooms.violations(&alone, &config), []);
    }

    #[test]
    fn agents_alone_are_solo_and_an_agent_with_a_person_is_not() {
        use proto::participant_info::Kind;
        let config = rules(Some(1), None, None);
        let agents = vec![person("a1", Kind::Agent), person("a2", Kind::Agent)];
        let with_caller = vec![person("a1", Kind::Agent), person("caller", Kind::Sip)];
        let mut rooms = RoomLifecycles::default();
        let rooms_at = |at| {
            poll_at(
                at,
                &[
                    ("bots", "RM_b", 0, agents.clone()),
                    ("call", "RM_c", 0, with_caller.clone()),
                ],
            )
        };
        rooms.observe(&rooms_at(0));
        let later = rooms_at(2 * MINUTE_MS);
        rooms.observe(&later);
        assert_eq!(
            kinds(&rooms.violations(&later, &config)),
            [(LimitKind::SoloTimeout, "bots", 120)]
        );
    }

    #[test]
    fn empty_rooms_old_rooms_and_overrides() {
        let mut config = rules(None, Some(10), Some(60));
        config.overrides.insert(
            "town-hall".into(),
            RoomLimitOverride {
                max_duration: Some(LifecycleLimit::Off),
                empty_timeout: Some(LifecycleLimit::After(ConfigDuration::from_secs(60))),
                ..RoomLimitOverride::default()
            },
        );
        let mut rooms = RoomLifecycles::default();
        // Created 1 s after the epoch (0 is "unknown"); lktop first sees them at 55 minutes.
        let first = 55 * MINUTE_MS;
        let poll = |at| {
            poll_at(
                at,
                &[
                    ("standup", "RM_s", 1, people(0)),
                    ("town-hall", "RM_t", 1, people(0)),
                ],
            )
        };
        rooms.observe(&poll(first));
        let later = poll(first + 2 * MINUTE_MS);
        rooms.observe(&later);
        assert_eq!(
            kinds(&rooms.violations(&later, &config)),
            [
                (LimitKind::EmptyTimeout, "town-hall", 120),
                // Empty for 2 minutes only, by lktop's first sight; open for 57 < 60.
            ],
        );
        let hour = poll(first + 6 * MINUTE_MS);
        rooms.observe(&hour);
        assert_eq!(
            kinds(&rooms.violations(&hour, &config)),
            [
                (LimitKind::MaxDuration, "standup", 61 * 60 - 1),
                (LimitKind::EmptyTimeout, "town-hall", 6 * 60),
            ],
        );
    }

    #[test]
    fn a_recreated_room_starts_again_and_a_room_gone_is_forgotten() {
        let config = rules(Some(5), None, None);
        let mut rooms = RoomLifecycles::default();
        rooms.observe(&poll_at(0, &[("lobby", "RM_1", 0, people(1))]));
        let recreated = poll_at(6 * MINUTE_MS, &[("lobby", "RM_2", 0, people(1))]);
        rooms.observe(&recreated);
        assert_eq!(rooms.violations(&recreated, &config), []);
        assert_eq!(rooms.phases.len(), 1, "RM_1 forgotten");
        rooms.observe(&poll_at(7 * MINUTE_MS, &[]));
        assert!(rooms.phases.is_empty());
    }

    #[test]
    fn a_stale_list_is_shown_but_never_deleted_for_being_solo() {
        let mut config = rules(Some(5), None, Some(60));
        config.lifecycle.enforcement = EnforcementMode::Enforce;
        let mut rooms = RoomLifecycles::default();
        rooms.observe(&poll_at(0, &[("lobby", "RM_1", 0, people(1))]));
        let mut stale = poll_at(6 * MINUTE_MS, &[("lobby", "RM_1", 0, people(1))]);
        stale.participants_read_at_ms.insert("lobby".into(), 0);
        rooms.observe(&stale);
        assert_eq!(rooms.violations(&stale, &config).len(), 1, "still shown");
        assert_eq!(rooms.plan(&stale, &config), [], "never acted on");

        let read = poll_at(7 * MINUTE_MS, &[("lobby", "RM_1", 0, people(1))]);
        rooms.observe(&read);
        let plan = rooms.plan(&read, &config);
        let [
            Enforcement::DeleteRoom {
                room,
                sid,
                rule,
                reason,
            },
        ] = plan.as_slice()
        else {
            panic!("one deletion: {plan:?}");
        };
        assert_eq!((room.as_str(), sid.as_str()), ("lobby", "RM_1"));
        assert_eq!(*rule, LimitKind::SoloTimeout);
        assert_eq!(
            reason,
            "room lobby had one participant (or only agents) for 7m, longer than its \
             solo_timeout of 5m"
        );

        config.lifecycle.enforcement = EnforcementMode::Observe;
        assert_eq!(rooms.plan(&read, &config), [], "observe deletes nothing");
    }

    #[test]
    fn a_listing_that_counts_otherwise_drops_what_an_old_read_said() {
        let config = rules(Some(5), None, None);
        let mut rooms = RoomLifecycles::default();
        rooms.observe(&poll_at(0, &[("lobby", "RM_1", 0, people(1))]));
        // Not read again, but ListRooms now counts three.
        let mut moved = poll_at(6 * MINUTE_MS, &[("lobby", "RM_1", 0, people(3))]);
        moved.participants_read_at_ms.insert("lobby".into(), 0);
        rooms.observe(&moved);
        assert_eq!(rooms.violations(&moved, &config), []);
    }

    #[test]
    fn a_lifecycle_violation_is_news_when_it_starts_not_as_it_ages() {
        let config = rules(Some(1), None, None);
        let mut rooms = RoomLifecycles::default();
        rooms.observe(&poll_at(0, &[("lobby", "RM_1", 0, people(1))]));
        let mut at = |ms| {
            let poll = poll_at(ms, &[("lobby", "RM_1", 0, people(1))]);
            rooms.observe(&poll);
            rooms.violations(&poll, &config)
        };
        let first = at(2 * MINUTE_MS);
        let later = at(3 * MINUTE_MS);
        assert_ne!(first, later, "the age grows");
        assert!(crate::limits::same_news(&first, &later));
    }
}
