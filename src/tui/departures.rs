//! How participants left, counted per room and per server: from the `participant_left`
//! webhooks (with livekit's reason) and, for the departures only polling saw, as "not told".
//! A finished room's counts leave with it (the History screen keeps them).

use std::collections::BTreeMap;

use crate::snapshot::RoomChange;
use crate::webhooks::WebhookNote;

/// A departure a poll found and no webhook explained.
pub const NOT_TOLD: &str = "not told (no webhook)";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Departures {
    /// Per live room: reason → count.
    pub by_room: BTreeMap<String, BTreeMap<String, u32>>,
    /// Every departure since lktop started: reason → count.
    pub total: BTreeMap<String, u32>,
}

impl Departures {
    fn count(&mut self, room: &str, reason: &str) {
        *self
            .by_room
            .entry(room.to_owned())
            .or_default()
            .entry(reason.to_owned())
            .or_default() += 1;
        *self.total.entry(reason.to_owned()).or_default() += 1;
    }

    pub(crate) fn absorb_changes(&mut self, changes: &[RoomChange]) {
        for change in changes {
            match change {
                RoomChange::ParticipantLeft { room, .. } => self.count(room, NOT_TOLD),
                RoomChange::RoomFinished { room } => {
                    self.by_room.remove(room);
                }
                _ => {}
            }
        }
    }

    pub(crate) fn absorb_webhook(&mut self, webhook: &WebhookNote) {
        if let Some(reason) = &webhook.disconnect_reason {
            self.count(&webhook.room, reason);
        }
        if webhook.event == "room_finished" {
            self.by_room.remove(&webhook.room);
        }
    }

    /// `12 client initiated, 2 connection timeout, 1 not told (no webhook)`: commonest first.
    #[must_use]
    pub fn describe(reasons: &BTreeMap<String, u32>) -> String {
        let mut sorted: Vec<(&String, &u32)> = reasons.iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        sorted
            .iter()
            .map(|(reason, count)| format!("{count} {}", reason.to_lowercase().replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_count_per_room_and_server_and_leave_with_the_room() {
        let mut departures = Departures::default();
        departures.absorb_changes(&[
            RoomChange::ParticipantLeft {
                room: "a".into(),
                identity: "x".into(),
            },
            RoomChange::ParticipantLeft {
                room: "b".into(),
                identity: "y".into(),
            },
        ]);
        departures.absorb_webhook(&WebhookNote {
            id: "WH_1".into(),
            event: "participant_left".into(),
            room: "a".into(),
            identity: Some("z".into()),
            track_sid: None,
            job_id: None,
            disconnect_reason: Some("SIP_TRUNK_FAILURE".into()),
            created_at: 0,
            received_at_ms: 0,
            totals: crate::webhooks::WebhookTotals::default(),
        });
        assert_eq!(
            Departures::describe(&departures.by_room["a"]),
            "1 sip trunk failure, 1 not told (no webhook)"
        );
        assert_eq!(departures.total[NOT_TOLD], 2);
        departures.absorb_changes(&[RoomChange::RoomFinished { room: "a".into() }]);
        assert!(!departures.by_room.contains_key("a"));
        assert_eq!(departures.total.values().sum::<u32>(), 3);
    }
}
