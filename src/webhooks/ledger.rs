//! Which webhooks to apply: livekit-server may send one twice (same id) and they may arrive out
//! of order, so each is checked against the ids already taken and against the newest event
//! already applied about the same room, participant or track (by `created_at`, whole seconds:
//! at the same second an ending event wins over a beginning one).

use std::collections::{HashMap, HashSet, VecDeque};

use livekit_protocol as proto;

/// Ids remembered for duplicates; livekit-server repeats within seconds, not hours.
const REMEMBERED_IDS: usize = 20_000;
/// Things remembered for ordering, beyond which the oldest half is forgotten.
const REMEMBERED_THINGS: usize = 100_000;

/// What to do with one webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Apply,
    /// Its id was taken before.
    Duplicate,
    /// Something newer about the same room, participant or track was applied already.
    Stale,
}

/// The newest event applied about one thing.
#[derive(Debug, Clone, Copy)]
struct Newest {
    created_at: i64,
    ended: bool,
}

#[derive(Debug, Default)]
pub struct Ledger {
    ids: HashSet<String>,
    id_order: VecDeque<String>,
    newest: HashMap<String, Newest>,
}

impl Ledger {
    /// Decides about `event` and, when it is to be applied, remembers it.
    pub fn admit(&mut self, event: &proto::WebhookEvent) -> Admission {
        if !event.id.is_empty() && self.ids.contains(&event.id) {
            return Admission::Duplicate;
        }
        let things = things_of(event);
        let ended = ends(&event.event);
        let stale = things.iter().any(|(thing, own)| {
            self.newest.get(thing).is_some_and(|newest| {
                // The room's end also makes every later-dated event about what was in it
                // stale, but a room's own start after its end is a new room only with a new
                // sid, which is another thing.
                let ended_before = newest.ended && newest.created_at >= event.created_at;
                let newer = newest.created_at > event.created_at
                    || (newest.created_at == event.created_at && newest.ended && !ended);
                if *own {
                    newer || ended_before
                } else {
                    ended_before
                }
            })
        });
        if stale {
            return Admission::Stale;
        }
        if !event.id.is_empty() {
            self.ids.insert(event.id.clone());
            self.id_order.push_back(event.id.clone());
            if self.id_order.len() > REMEMBERED_IDS
                && let Some(oldest) = self.id_order.pop_front()
            {
                self.ids.remove(&oldest);
            }
        }
        for (thing, own) in things {
            if own {
                self.newest.insert(
                    thing,
                    Newest {
                        created_at: event.created_at,
                        ended,
                    },
                );
            }
        }
        if self.newest.len() > REMEMBERED_THINGS {
            let mut ages: Vec<i64> = self.newest.values().map(|n| n.created_at).collect();
            let middle = ages.len() / 2;
            let (_, cut, _) = ages.select_nth_unstable(middle);
            let cut = *cut;
            self.newest.retain(|_, newest| newest.created_at > cut);
        }
        Admission::Apply
    }
}

/// Whether the event ends the thing it is about.
fn ends(kind: &str) -> bool {
    matches!(
        kind,
        "room_finished"
            | "participant_left"
            | "participant_connection_aborted"
            | "track_unpublished"
            | "egress_ended"
            | "ingress_ended"
    )
}

/// The things an event is about, each with whether it is the event's own subject (ordered by
/// it) or only what it happens within (the room of a participant event: checked, not set).
fn things_of(event: &proto::WebhookEvent) -> Vec<(String, bool)> {
    let room = event
        .room
        .as_ref()
        .filter(|room| !room.sid.is_empty())
        .map(|room| format!("room {}", room.sid));
    let participant = event
        .participant
        .as_ref()
        .filter(|p| !p.sid.is_empty())
        .map(|p| format!("participant {}", p.sid));
    let track = event
        .track
        .as_ref()
        .filter(|t| !t.sid.is_empty())
        .map(|t| format!("track {}", t.sid));
    let egress = event
        .egress_info
        .as_ref()
        .map(|egress| format!("egress {}", egress.egress_id));
    let ingress = event
        .ingress_info
        .as_ref()
        .map(|ingress| format!("ingress {}", ingress.ingress_id));
    let own = match event.event.as_str() {
        "room_started" | "room_finished" => room.clone(),
        "participant_joined" | "participant_left" | "participant_connection_aborted" => {
            participant.clone()
        }
        "track_published" | "track_unpublished" => track,
        kind if kind.starts_with("egress_") => egress,
        kind if kind.starts_with("ingress_") => ingress,
        _ => None,
    };
    let mut things = Vec::new();
    if let Some(own) = own {
        things.push((own, true));
    }
    if let Some(room) = room
        && !matches!(event.event.as_str(), "room_started" | "room_finished")
    {
        things.push((room, false));
    }
    if let Some(participant) = participant
        && event.event.starts_with("track_")
    {
        things.push((participant, false));
    }
    things
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, id: &str, at: i64) -> proto::WebhookEvent {
        proto::WebhookEvent {
            event: kind.into(),
            id: id.into(),
            created_at: at,
            room: Some(proto::Room {
                sid: "RM_1".into(),
                name: "r".into(),
                ..Default::default()
            }),
            participant: kind
                .starts_with("participant")
                .then(|| proto::ParticipantInfo {
                    sid: "PA_1".into(),
                    identity: "ann".into(),
                    ..Default::default()
                }),
            ..Default::default()
        }
    }

    #[test]
    fn a_repeated_id_is_a_duplicate() {
        let mut ledger = Ledger::default();
        assert_eq!(
            ledger.admit(&event("room_started", "EV_1", 10)),
            Admission::Apply
        );
        assert_eq!(
            ledger.admit(&event("room_started", "EV_1", 10)),
            Admission::Duplicate
        );
    }

    #[test]
    fn an_older_event_about_the_same_thing_is_stale_and_an_end_wins_a_tie() {
        let mut ledger = Ledger::default();
        assert_eq!(
            ledger.admit(&event("participant_left", "EV_2", 20)),
            Admission::Apply
        );
        assert_eq!(
            ledger.admit(&event("participant_joined", "EV_1", 19)),
            Admission::Stale,
            "the join arrived after the leave it preceded"
        );
        assert_eq!(
            ledger.admit(&event("participant_joined", "EV_3", 20)),
            Admission::Stale,
            "same second: the leave stands"
        );
    }

    #[test]
    fn nothing_is_applied_to_a_room_after_its_end() {
        let mut ledger = Ledger::default();
        assert_eq!(
            ledger.admit(&event("room_started", "EV_1", 10)),
            Admission::Apply
        );
        assert_eq!(
            ledger.admit(&event("participant_joined", "EV_2", 11)),
            Admission::Apply
        );
        assert_eq!(
            ledger.admit(&event("room_finished", "EV_4", 30)),
            Admission::Apply
        );
        assert_eq!(
            ledger.admit(&event("participant_left", "EV_3", 29)),
            Admission::Stale,
            "the room is gone already"
        );
    }
}
