//! Egress, ingress and agent dispatches in an operator's words: a recording or stream
//! starting, ending or failing (with the error), an ingress going live or failing, and a
//! service the key may not read (once).

use crate::events::EventKind;
use crate::jobs::{EgressStatus, JobTransition, JobsService};
use crate::tui::log::note::{Level, Note};

pub(super) fn notes(kind: &EventKind) -> Vec<Note> {
    match kind {
        EventKind::Egress { server, update } => update
            .transitions
            .iter()
            .filter_map(|transition| egress(server, transition))
            .collect(),
        EventKind::Ingress { server, update } => update
            .transitions
            .iter()
            .filter_map(|transition| ingress(server, transition))
            .collect(),
        EventKind::JobsAccess {
            server,
            service,
            allowed,
            cause,
        } => vec![access(server, *service, *allowed, cause.as_deref())],
        _ => Vec::new(),
    }
}

/// `egress EG_abc of standup failed: upload failed`; a job first seen already running (at
/// start, or opened) is news only when it failed.
fn egress(server: &str, transition: &JobTransition) -> Option<Note> {
    let head = format!("egress {} of {}", transition.id, transition.room);
    let failed = EgressStatus::from_label(&transition.to).is_some_and(EgressStatus::is_failure);
    let note = match (transition.from.as_deref(), transition.to.as_str()) {
        _ if failed => Note::new(
            Level::Error,
            Some(server),
            format!("{head} {}", transition.to),
        )
        .detail(
            transition
                .error
                .as_ref()
                .map(|error| format!(": {error}"))
                .unwrap_or_default(),
        ),
        (None, "starting" | "active") => Note::new(
            Level::Info,
            Some(server),
            format!("{head} {}", transition.to),
        ),
        (None, _) => return None,
        (Some(from), to) => Note::new(Level::Info, Some(server), format!("{head} {from} → {to}")),
    };
    Some(note.about(&transition.room))
}

fn ingress(server: &str, transition: &JobTransition) -> Option<Note> {
    let head = format!("ingress {} into {}", transition.id, transition.room);
    let note = match (transition.from.as_deref(), transition.to.as_str()) {
        (_, "error") => Note::new(Level::Error, Some(server), format!("{head} error")).detail(
            transition
                .error
                .as_ref()
                .map(|error| format!(": {error}"))
                .unwrap_or_default(),
        ),
        (None, _) => return None,
        (Some(from), to) => Note::new(Level::Info, Some(server), format!("{head} {from} → {to}")),
    };
    Some(note.about(&transition.room))
}

/// `no permission to read egress (grant roomRecord)`, once; `egress readable again`.
fn access(server: &str, service: JobsService, allowed: bool, cause: Option<&str>) -> Note {
    if allowed {
        return Note::new(
            Level::Info,
            Some(server),
            format!("{} readable again", service.what()),
        );
    }
    Note::new(
        Level::Warn,
        Some(server),
        format!(
            "no permission to read {} (the key's tokens need the {} grant)",
            service.what(),
            service.grant()
        ),
    )
    .detail(cause.map(|c| format!(": {c}")).unwrap_or_default())
}
