//! Where webhooks and polling disagree. When webhooks work, a poll finds nothing new: every
//! change was applied when its webhook came. So each change a poll does find is a webhook
//! still owed; when it has not come within `webhooks.drift_after`, that is drift (livekit/livekit
//! #2399, #4227, #3376: webhooks arrive late, out of order, or not at all). A participant a
//! webhook added whom a later read does not list is drift the other way round.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use livekit_protocol as proto;

use crate::snapshot::{RoomChange, Snapshot};
use crate::webhooks::DriftKind;

/// Changes waiting longer than this many are not tracked (a server that sends no webhooks at
/// all says so with the ones tracked).
const MAX_PENDING: usize = 50_000;

/// The webhook a change is owed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Owed {
    webhook: OwedWebhook,
    room: String,
    /// The identity, or the track sid; empty for a room's own webhooks.
    subject: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum OwedWebhook {
    RoomStarted,
    RoomFinished,
    Joined,
    Left,
    Published,
    Unpublished,
}

#[derive(Debug, Clone)]
struct Waiting {
    since_ms: i64,
    kind: DriftKind,
    identity: Option<String>,
}

/// A disagreement that lasted, as the tracker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lasted {
    pub(crate) room: String,
    pub(crate) identity: Option<String>,
    pub(crate) kind: DriftKind,
    pub(crate) for_ms: u64,
}

#[derive(Debug, Default)]
pub(crate) struct DriftTracker {
    owed: HashMap<Owed, Waiting>,
    /// Participants a webhook added that no read has listed yet.
    per_webhook_only: HashSet<(String, String)>,
}

impl DriftTracker {
    /// The changes a poll found at `now_ms`: each owes a webhook from now.
    pub(crate) fn polled(&mut self, changes: &[RoomChange], now_ms: i64) {
        for change in changes {
            let (webhook, room, subject, kind, identity) = match change {
                RoomChange::RoomStarted { room } => (
                    OwedWebhook::RoomStarted,
                    room,
                    "",
                    DriftKind::RoomWithoutStartWebhook,
                    None,
                ),
                RoomChange::RoomFinished { room } => (
                    OwedWebhook::RoomFinished,
                    room,
                    "",
                    DriftKind::RoomGoneWithoutFinishWebhook,
                    None,
                ),
                RoomChange::ParticipantJoined { room, identity } => (
                    OwedWebhook::Joined,
                    room,
                    identity.as_str(),
                    DriftKind::PresentWithoutJoinWebhook,
                    Some(identity),
                ),
                RoomChange::ParticipantLeft { room, identity } => {
                    let per_webhook = self
                        .per_webhook_only
                        .remove(&(room.clone(), identity.clone()));
                    (
                        OwedWebhook::Left,
                        room,
                        identity.as_str(),
                        if per_webhook {
                            DriftKind::JoinedPerWebhookAbsent
                        } else {
                            DriftKind::LeftWithoutLeaveWebhook
                        },
                        Some(identity),
                    )
                }
                RoomChange::TrackPublished {
                    room,
                    identity,
                    track_sid,
                    ..
                } => (
                    OwedWebhook::Published,
                    room,
                    track_sid.as_str(),
                    DriftKind::TrackWithoutPublishWebhook,
                    Some(identity),
                ),
                RoomChange::TrackUnpublished {
                    room,
                    identity,
                    track_sid,
                    ..
                } => (
                    OwedWebhook::Unpublished,
                    room,
                    track_sid.as_str(),
                    DriftKind::TrackGoneWithoutUnpublishWebhook,
                    Some(identity),
                ),
                // livekit-server sends no webhook for a mute.
                RoomChange::TrackMuted { .. } | RoomChange::TrackUnmuted { .. } => continue,
            };
            if self.owed.len() >= MAX_PENDING {
                break;
            }
            self.owed
                .entry(Owed {
                    webhook,
                    room: room.clone(),
                    subject: subject.to_owned(),
                })
                .or_insert(Waiting {
                    since_ms: now_ms,
                    kind,
                    identity: identity.cloned(),
                });
        }
    }

    /// A webhook came: whatever it pays is no longer owed, and a participant it added waits to
    /// be listed by a read.
    pub(crate) fn webhook(&mut self, event: &proto::WebhookEvent, applied: bool) {
        let Some(room) = event.room.as_ref().map(|room| room.name.clone()) else {
            return;
        };
        let identity = event
            .participant
            .as_ref()
            .map(|participant| participant.identity.clone())
            .unwrap_or_default();
        let track = event
            .track
            .as_ref()
            .map(|track| track.sid.clone())
            .unwrap_or_default();
        let (webhook, subject) = match event.event.as_str() {
            "room_started" => (OwedWebhook::RoomStarted, String::new()),
            "room_finished" => (OwedWebhook::RoomFinished, String::new()),
            "participant_joined" => (OwedWebhook::Joined, identity.clone()),
            "participant_left" | "participant_connection_aborted" => {
                self.per_webhook_only
                    .remove(&(room.clone(), identity.clone()));
                (OwedWebhook::Left, identity.clone())
            }
            "track_published" => (OwedWebhook::Published, track),
            "track_unpublished" => (OwedWebhook::Unpublished, track),
            _ => return,
        };
        let paid = self
            .owed
            .remove(&Owed {
                webhook,
                room: room.clone(),
                subject,
            })
            .is_some();
        if webhook == OwedWebhook::Joined && applied && !paid {
            self.per_webhook_only.insert((room, identity));
        }
    }

    /// The participants a read in this poll listed are confirmed.
    pub(crate) fn confirm(&mut self, snapshot: &Snapshot) {
        self.per_webhook_only.retain(|(room, identity)| {
            let listed = snapshot.read_in_this_poll(room)
                && snapshot.rooms.get(room).is_some_and(|summary| {
                    summary
                        .participants
                        .iter()
                        .flatten()
                        .any(|p| &p.identity == identity)
                });
            // A room gone takes its participants with it.
            !listed && snapshot.rooms.contains_key(room)
        });
    }

    /// The disagreements older than `after` at `now_ms`, each reported once.
    pub(crate) fn lasted(&mut self, now_ms: i64, after: Duration) -> Vec<Lasted> {
        let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        let mut lasted = Vec::new();
        self.owed.retain(|owed, waiting| {
            let age = now_ms - waiting.since_ms;
            if age < after_ms {
                return true;
            }
            lasted.push(Lasted {
                room: owed.room.clone(),
                identity: waiting.identity.clone(),
                kind: waiting.kind,
                for_ms: u64::try_from(age).unwrap_or(0),
            });
            false
        });
        lasted.sort_by(|a, b| (&a.room, &a.identity).cmp(&(&b.room, &b.identity)));
        lasted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined_webhook(room: &str, identity: &str) -> proto::WebhookEvent {
        proto::WebhookEvent {
            event: "participant_joined".into(),
            room: Some(proto::Room {
                name: room.into(),
                ..Default::default()
            }),
            participant: Some(proto::ParticipantInfo {
                identity: identity.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_change_polling_found_is_drift_only_when_its_webhook_stays_away() {
        let mut tracker = DriftTracker::default();
        let joined = |identity: &str| RoomChange::ParticipantJoined {
            room: "standup".into(),
            identity: identity.into(),
        };
        tracker.polled(&[joined("ann"), joined("ben")], 1_000);
        // ann's webhook was late, not missing.
        tracker.webhook(&joined_webhook("standup", "ann"), false);
        assert_eq!(tracker.lasted(2_000, Duration::from_secs(4)), []);
        let lasted = tracker.lasted(5_000, Duration::from_secs(4));
        assert_eq!(
            lasted,
            [Lasted {
                room: "standup".into(),
                identity: Some("ben".into()),
                kind: DriftKind::PresentWithoutJoinWebhook,
                for_ms: 4_000,
            }]
        );
        assert_eq!(
            tracker.lasted(9_000, Duration::from_secs(4)),
            [],
            "said once"
        );
    }

    #[test]
    fn a_participant_joined_per_webhook_whom_a_read_does_not_list_drifts() {
        let mut tracker = DriftTracker::default();
        tracker.webhook(&joined_webhook("standup", "ghost"), true);
        tracker.polled(
            &[RoomChange::ParticipantLeft {
                room: "standup".into(),
                identity: "ghost".into(),
            }],
            2_000,
        );
        let lasted = tracker.lasted(6_000, Duration::from_secs(4));
        assert_eq!(lasted.len(), 1);
        assert_eq!(lasted[0].kind, DriftKind::JoinedPerWebhookAbsent);
    }
}
