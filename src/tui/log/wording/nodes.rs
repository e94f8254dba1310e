//! The nodes behind a server in an operator's words: a metrics endpoint or the registry
//! going down and coming back, a node joining, leaving, draining or going stale, a media
//! limit breached and met again, and the API's counts drifting from the nodes'.

use crate::events::EventKind;
use crate::nodes::{CountDrift, MediaViolation, NodeChange, NodeSource, SourceState};
use crate::tui::log::human;
use crate::tui::log::memory::Memory;
use crate::tui::log::note::{CollapseKey, Level, Note};

/// The notes a node event deserves.
pub(super) fn notes(kind: &EventKind, memory: &mut Memory) -> Vec<Note> {
    match kind {
        EventKind::NodeSourceState {
            server,
            source,
            target,
            state,
            cause,
            down_for_ms,
        } => vec![source_state(
            server,
            *source,
            target,
            *state,
            cause.as_deref(),
            *down_for_ms,
        )],
        EventKind::NodeChanged {
            server,
            node_id,
            change,
        } => vec![node_changed(server, node_id, change)],
        EventKind::MediaViolations { server, violations } => {
            media_violations(server, violations, memory)
        }
        EventKind::NodeCountDrift { server, drift } => {
            vec![count_drift(server, drift.as_ref())]
        }
        _ => Vec::new(),
    }
}

/// `metrics http://10.0.0.5:6789/metrics down: connection refused`, `… up again after 42s`.
pub(super) fn source_state(
    server: &str,
    source: NodeSource,
    target: &str,
    state: SourceState,
    cause: Option<&str>,
    down_for_ms: Option<u64>,
) -> Note {
    let head = format!("{} {target}", source.as_str());
    match state {
        SourceState::Up => {
            let after = down_for_ms
                .map(|ms| format!(" after {}", human::span_ms(ms)))
                .unwrap_or_default();
            Note::new(Level::Info, Some(server), format!("{head} up again{after}")).state_change()
        }
        SourceState::Down | SourceState::Unauthenticated => {
            let word = if state == SourceState::Down {
                "down"
            } else {
                "refused the credentials"
            };
            Note::new(Level::Error, Some(server), format!("{head} {word}"))
                .detail(cause.map(|c| format!(": {c}")).unwrap_or_default())
                .collapsing(CollapseKey::NodeSourceDown {
                    target: target.to_owned(),
                    cause: cause.map(str::to_owned),
                })
                .state_change()
        }
    }
}

/// `node ND_abc joined (SERVING)`, `node ND_abc draining (SERVING → SHUTTING_DOWN)`, …
pub(super) fn node_changed(server: &str, node_id: &str, change: &NodeChange) -> Note {
    let shown = |state: Option<&String>| state.map_or("unknown", String::as_str).to_owned();
    match change {
        NodeChange::Appeared { state } => {
            Note::new(Level::Info, Some(server), format!("node {node_id} joined")).detail(
                state
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
            )
        }
        NodeChange::Disappeared => {
            Note::new(Level::Warn, Some(server), format!("node {node_id} left"))
                .detail(": gone from every source")
        }
        NodeChange::State { from, to } => {
            let draining = to.as_deref() == Some("SHUTTING_DOWN");
            let head = if draining {
                format!("node {node_id} draining")
            } else {
                format!("node {node_id} {}", shown(to.as_ref()))
            };
            Note::new(
                if draining { Level::Warn } else { Level::Info },
                Some(server),
                head,
            )
            .detail(format!(
                " ({} → {})",
                shown(from.as_ref()),
                shown(to.as_ref())
            ))
            .state_change()
        }
        NodeChange::Stale { updated_ago_ms } => {
            Note::new(Level::Warn, Some(server), format!("node {node_id} stale")).detail(format!(
                ": its registry entry was last updated {} ago (hung, or gone without cleaning up)",
                human::span_ms(*updated_ago_ms)
            ))
        }
        NodeChange::Fresh => Note::new(
            Level::Info,
            Some(server),
            format!("node {node_id} updating again"),
        ),
    }
}

/// The media limits that began or ceased to be exceeded: those met again first.
pub(super) fn media_violations(
    server: &str,
    violations: &[MediaViolation],
    memory: &mut Memory,
) -> Vec<Note> {
    let (started, ended) = memory.media_violations(server, violations);
    let met = ended.into_iter().map(|v| {
        Note::new(
            Level::Info,
            Some(server),
            format!("node {} back within {}", v.node_id, v.limit),
        )
        .collapsing(CollapseKey::MediaLimit {
            node: v.node_id.clone(),
            limit: v.limit.clone(),
            exceeded: false,
        })
    });
    let past = started.into_iter().map(|v| {
        Note::new(
            Level::Warn,
            Some(server),
            format!("node {} past {}", v.node_id, v.limit),
        )
        .detail(format!(
            ": {} (limit {})",
            round(v.value),
            round(v.threshold)
        ))
        .collapsing(CollapseKey::MediaLimit {
            node: v.node_id.clone(),
            limit: v.limit.clone(),
            exceeded: true,
        })
    });
    met.chain(past).collect()
}

fn round(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// `API and nodes disagree for 45s: 12 rooms / 80 participants per the API, 11 / 74 per the
/// nodes`, or that they agree again.
pub(super) fn count_drift(server: &str, drift: Option<&CountDrift>) -> Note {
    match drift {
        Some(drift) => Note::new(
            Level::Warn,
            Some(server),
            format!(
                "API and nodes disagree for {}",
                human::span_ms(drift.for_ms)
            ),
        )
        .detail(format!(
            ": {} rooms / {} participants per the API, {} / {} per the nodes' metrics",
            drift.api_rooms, drift.api_participants, drift.node_rooms, drift.node_participants
        )),
        None => Note::new(
            Level::Info,
            Some(server),
            "API and nodes agree again on rooms and participants",
        ),
    }
}
