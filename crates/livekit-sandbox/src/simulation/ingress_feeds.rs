//! The scenario's ingress: created at the start, inactive until its encoder sends (from
//! `at`, for `duration`, every `every`), or breaking `fail_after` it began.

use livekit_protocol as proto;

use super::events::SimEvent;
use super::schedule::next_due;
use super::{Simulation, millis};
use crate::rooms::RoomStore;
use crate::scenario::{IngressInputKind, ScheduledIngress};

/// What the simulation remembers about a scenario's ingress.
#[derive(Debug, Clone, Default)]
pub(super) struct Feed {
    /// Its id once created.
    ingress_id: Option<String>,
    /// When the encoder next starts sending, in ms from the start.
    next_due: Option<i64>,
    /// When the stream in progress stops (or breaks), simulated Unix ms.
    ends_at_ms: Option<i64>,
}

impl Feed {
    pub(super) fn new(ingress: &ScheduledIngress) -> Self {
        Self {
            next_due: Some(millis(ingress.at)),
            ..Self::default()
        }
    }
}

impl Simulation {
    pub(super) fn feed_ingress(
        &mut self,
        store: &mut RoomStore,
        elapsed_ms: i64,
        now_ms: i64,
        events: &mut Vec<SimEvent>,
    ) {
        for (ingress, feed) in self.scenario.ingress.iter().zip(&mut self.feeds) {
            let Some(ingress_id) = feed.ingress_id.clone().or_else(|| create(store, ingress))
            else {
                continue;
            };
            feed.ingress_id = Some(ingress_id.clone());
            if let Some(ends_at) = feed.ends_at_ms
                && now_ms >= ends_at
            {
                feed.ends_at_ms = None;
                match ingress.fail_after {
                    Some(_) => store.fail_ingress(
                        &ingress_id,
                        "stream interrupted: no data received",
                        now_ms,
                    ),
                    None => store.feed_ingress(&ingress_id, false),
                }
                events.push(SimEvent::IngressReceiving {
                    room: ingress.room.clone(),
                    ingress_id: ingress_id.clone(),
                    receiving: false,
                });
            }
            if let Some(due) = feed.next_due
                && elapsed_ms >= due
            {
                feed.next_due = next_due(millis(ingress.at), ingress.every, elapsed_ms);
                let lasts = ingress.fail_after.unwrap_or(ingress.duration);
                feed.ends_at_ms = Some(now_ms + millis(lasts.get()));
                // A failed ingress is reset by an update, as an operator would.
                let reset = proto::UpdateIngressRequest {
                    ingress_id: ingress_id.clone(),
                    ..proto::UpdateIngressRequest::default()
                };
                let _reset = store.update_ingress(&reset);
                store.feed_ingress(&ingress_id, true);
                events.push(SimEvent::IngressReceiving {
                    room: ingress.room.clone(),
                    ingress_id,
                    receiving: true,
                });
            }
        }
    }
}

fn create(store: &mut RoomStore, ingress: &ScheduledIngress) -> Option<String> {
    let input = match ingress.input {
        IngressInputKind::Rtmp => proto::IngressInput::RtmpInput,
        IngressInputKind::Whip => proto::IngressInput::WhipInput,
    };
    let request = proto::CreateIngressRequest {
        input_type: input as i32,
        name: ingress.name.clone(),
        room_name: ingress.room.clone(),
        participant_identity: ingress.identity.clone(),
        participant_name: ingress.name.clone(),
        ..proto::CreateIngressRequest::default()
    };
    match store.create_ingress(&request, false) {
        Ok(info) => Some(info.ingress_id),
        Err(err) => {
            tracing::warn!(name = %ingress.name, %err, "the scenario's ingress was refused");
            None
        }
    }
}
