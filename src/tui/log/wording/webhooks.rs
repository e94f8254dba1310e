//! Webhooks in an operator's words: each one taken (`webhook participant_joined: ann in
//! standup`), drift (`webhook drift ×3: ann in standup joined per webhook, absent from
//! ListParticipants for 6s`), and the listener refusing a cause for the first time.

use crate::tui::log::human;
use crate::tui::log::note::{CollapseKey, Level, Note};
use crate::webhooks::{Drift, WebhookNote};

/// `webhook participant_joined: ann in standup`.
pub(super) fn webhook(server: &str, note: &WebhookNote) -> Note {
    let about = match (&note.identity, &note.track_sid, &note.job_id) {
        (Some(identity), Some(track), _) => format!(": {identity}'s {track} in {}", note.room),
        (Some(identity), None, _) => format!(": {identity} in {}", note.room),
        (None, _, Some(job)) => format!(": {job} of {}", note.room),
        _ => format!(": {}", note.room),
    };
    Note::new(Level::Info, Some(server), format!("webhook {}", note.event))
        .detail(about)
        .about(&note.room)
}

/// `webhook drift: ann in standup joined per webhook, absent from ListParticipants for 6s`,
/// collapsed per kind of disagreement.
pub(super) fn drift(server: &str, drift: &Drift) -> Note {
    let who = drift.identity.as_ref().map_or_else(
        || format!("room {}", drift.room),
        |identity| format!("{identity} in {}", drift.room),
    );
    Note::new(Level::Warn, Some(server), "webhook drift")
        .detail(format!(
            ": {who} {} for {} ({} so far)",
            drift.kind.describe(),
            human::span_ms(drift.for_ms),
            drift.totals.drift
        ))
        .about(&drift.room)
        .collapsing(CollapseKey::WebhookDrift { kind: drift.kind })
}

/// `webhook refused (401 bad_signature): …`; said once per cause.
pub(super) fn refused(cause: &str, status: u16, reason: &str) -> Note {
    Note::new(
        Level::Warn,
        None,
        format!("webhook refused ({status} {cause})"),
    )
    .detail(format!(
        ": {reason}; later ones of this cause are only counted"
    ))
}
