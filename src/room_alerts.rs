//! Alerts about rooms (`room_limits.alerts`), from one poll to the next: a room recreated under
//! the same name (its previous instance's state was wiped while clients may still think they
//! are in it, livekit/livekit#4316), and a participant count that collapses at once, in a room
//! or on the whole server. They are said once, when seen; lktop never acts on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::RoomAlertsConfig;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub enum RoomAlert {
    /// The room's sid changed under the same name between two polls.
    RoomRecreated {
        room: String,
        sid_before: String,
        sid_after: String,
        participants_before: u32,
        participants_after: u32,
    },
    /// The participant count fell by more than `count_collapse_fraction` between two polls:
    /// in `room`, or on the whole server when `room` is `None`.
    CountCollapsed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<String>,
        before: u64,
        after: u64,
        /// The `count_collapse_fraction` it was judged by.
        fraction: f64,
    },
}

impl RoomAlert {
    /// The room it is about; `None` for the server's total.
    #[must_use]
    pub fn room(&self) -> Option<&str> {
        match self {
            Self::RoomRecreated { room, .. } => Some(room),
            Self::CountCollapsed { room, .. } => room.as_deref(),
        }
    }
}

/// `room all-hands recreated (RM_1 → RM_2): 435 participants before, 3 after`; `room big:
/// participants fell from 40 to 19 between two polls (more than 50 %)`.
impl std::fmt::Display for RoomAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RoomRecreated {
                room,
                sid_before,
                sid_after,
                participants_before,
                participants_after,
            } => write!(
                f,
                "room {room} recreated ({sid_before} → {sid_after}): {participants_before} \
                 participants before, {participants_after} after"
            ),
            Self::CountCollapsed {
                room,
                before,
                after,
                fraction,
            } => {
                if let Some(room) = room {
                    write!(f, "room {room}: ")?;
                }
                write!(
                    f,
                    "participants fell from {before} to {after} between two polls (more than {} %)",
                    (fraction * 100.0).round()
                )
            }
        }
    }
}

/// A room as the previous poll listed it.
#[derive(Debug, Clone)]
struct Listed {
    sid: String,
    participants: u32,
}

/// The previous poll's rooms and total, to compare the next one with.
#[derive(Debug, Default)]
pub(crate) struct RoomAlerts {
    /// `None` before the first poll: nothing to compare with.
    previous: Option<(BTreeMap<String, Listed>, u64)>,
}

impl RoomAlerts {
    /// The alerts a poll raises against the previous one.
    pub(crate) fn observe(
        &mut self,
        snapshot: &Snapshot,
        config: &RoomAlertsConfig,
    ) -> Vec<RoomAlert> {
        let rooms: BTreeMap<String, Listed> = snapshot
            .rooms
            .values()
            .map(|room| {
                (
                    room.name.clone(),
                    Listed {
                        sid: room.sid.clone(),
                        participants: room.num_participants,
                    },
                )
            })
            .collect();
        let total = snapshot.participant_count();
        let alerts = match &self.previous {
            Some((before, total_before)) => compare(config, before, *total_before, &rooms, total),
            None => Vec::new(),
        };
        self.previous = Some((rooms, total));
        alerts
    }
}

/// Recreated rooms first, then the rooms whose count collapsed (by name), then the total.
fn compare(
    config: &RoomAlertsConfig,
    before: &BTreeMap<String, Listed>,
    total_before: u64,
    now: &BTreeMap<String, Listed>,
    total: u64,
) -> Vec<RoomAlert> {
    let mut alerts = Vec::new();
    let mut collapsed = Vec::new();
    for (name, was) in before {
        let Some(is) = now.get(name) else {
            continue;
        };
        if is.sid != was.sid {
            // Its counts are said here: a drop across two instances is no collapse.
            if config.room_recreated && !was.sid.is_empty() && !is.sid.is_empty() {
                alerts.push(RoomAlert::RoomRecreated {
                    room: name.clone(),
                    sid_before: was.sid.clone(),
                    sid_after: is.sid.clone(),
                    participants_before: was.participants,
                    participants_after: is.participants,
                });
            }
            continue;
        }
        collapsed.extend(collapse(
            config,
            Some(name),
            u64::from(was.participants),
            u64::from(is.participants),
        ));
    }
    alerts.extend(collapsed);
    alerts.extend(collapse(config, None, total_before, total));
    alerts
}

/// A collapse from `before` to `after`, when `before` is at least `count_collapse_min` and
/// more than `count_collapse_fraction` of it went.
fn collapse(
    config: &RoomAlertsConfig,
    room: Option<&str>,
    before: u64,
    after: u64,
) -> Option<RoomAlert> {
    let fraction = config.count_collapse_fraction?;
    if before < u64::from(config.count_collapse_min) || after >= before {
        return None;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "participant counts are far below 2^52"
    )]
    let lost = (before - after) as f64 / before as f64;
    (lost > fraction).then(|| RoomAlert::CountCollapsed {
        room: room.map(str::to_owned),
        before,
        after,
        fraction,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use livekit_protocol as proto;

    use super::*;
    use crate::snapshot::RoomSummary;

    /// A poll listing `(name, sid, participants)`, counts from ListRooms.
    fn poll(rooms: &[(&str, &str, u32)]) -> Snapshot {
        Snapshot {
            server: "s".into(),
            taken_at_ms: 0,
            rooms: rooms
                .iter()
                .map(|(name, sid, participants)| {
                    let room = proto::Room {
                        name: (*name).into(),
                        sid: (*sid).into(),
                        num_participants: *participants,
                        ..Default::default()
                    };
                    ((*name).to_owned(), Arc::new(RoomSummary::new(&room, None)))
                })
                .collect(),
            participants_read_at_ms: BTreeMap::new(),
        }
    }

    fn watching_collapse() -> RoomAlertsConfig {
        RoomAlertsConfig {
            count_collapse_fraction: Some(0.5),
            ..RoomAlertsConfig::default()
        }
    }

    #[test]
    fn a_room_recreated_between_two_polls_is_said_once_with_both_instances() {
        let mut alerts = RoomAlerts::default();
        let config = RoomAlertsConfig::default();
        assert_eq!(
            alerts.observe(&poll(&[("all-hands", "RM_1", 435)]), &config),
            []
        );
        assert_eq!(
            alerts.observe(&poll(&[("all-hands", "RM_2", 3)]), &config),
            [RoomAlert::RoomRecreated {
                room: "all-hands".into(),
                sid_before: "RM_1".into(),
                sid_after: "RM_2".into(),
                participants_before: 435,
                participants_after: 3,
            }]
        );
        assert_eq!(
            alerts.observe(&poll(&[("all-hands", "RM_2", 3)]), &config),
            []
        );
        // Gone for a poll, then back: a room that ended and a new one, not a recreation.
        assert_eq!(alerts.observe(&poll(&[]), &config), []);
        assert_eq!(
            alerts.observe(&poll(&[("all-hands", "RM_3", 1)]), &config),
            []
        );
        let quiet = RoomAlertsConfig {
            room_recreated: false,
            ..config
        };
        assert_eq!(
            alerts.observe(&poll(&[("all-hands", "RM_4", 1)]), &quiet),
            []
        );
    }

    #[test]
    fn a_collapse_past_the_fraction_from_at_least_the_minimum_is_reported_per_room_and_in_total() {
        let mut alerts = RoomAlerts::default();
        let config = watching_collapse();
        alerts.observe(&poll(&[("big", "RM_b", 40), ("small", "RM_s", 9)]), &config);
        let found = alerts.observe(&poll(&[("big", "RM_b", 19), ("small", "RM_s", 1)]), &config);
        assert_eq!(
            found,
            [
                RoomAlert::CountCollapsed {
                    room: Some("big".into()),
                    before: 40,
                    after: 19,
                    fraction: 0.5,
                },
                // `small` lost more than half, but from fewer than count_collapse_min.
                RoomAlert::CountCollapsed {
                    room: None,
                    before: 49,
                    after: 20,
                    fraction: 0.5,
                },
            ]
        );
        // Exactly half is not more than half.
        assert_eq!(alerts.observe(&poll(&[("big", "RM_b", 10)]), &config), []);
        let off = RoomAlertsConfig::default();
        assert_eq!(alerts.observe(&poll(&[("big", "RM_b", 0)]), &off), []);
    }

    #[test]
    fn alerts_serialize_under_their_own_tag() {
        let alert = RoomAlert::CountCollapsed {
            room: None,
            before: 20,
            after: 2,
            fraction: 0.5,
        };
        assert_eq!(
            serde_json::to_string(&alert).unwrap(),
            r#"{"alert":"count_collapsed","before":20,"after":2,"fraction":0.5}"#
        );
    }
}
