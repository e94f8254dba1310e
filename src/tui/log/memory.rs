//! What the log remembers between engine events, per server, so that it says when something
//! changed rather than what every event repeats: the server's state, its quality grade and
//! the limits it exceeds. The engine sends full states (every grading, the whole set of
//! violations whenever any count changes); these are the differences.

use std::collections::HashMap;

use crate::events::ServerState;
use crate::limits::{LimitKind, Violation};
use crate::quality::Grade;

/// One exceeded limit: the room (`None`: the server-wide limit) and which limit. Its counts
/// are not part of it: a count that changes is the same violation going on.
pub(crate) type ViolationKey = (Option<String>, LimitKind);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Memory {
    servers: HashMap<String, ServerMemory>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ServerMemory {
    state: Option<ServerState>,
    grade: Option<Grade>,
    violations: HashMap<ViolationKey, Violation>,
    /// The media limits past, by node and limit.
    media_violations: HashMap<(String, String), crate::nodes::MediaViolation>,
}

/// A grade that is news: the server's first, or another than before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GradeNews {
    First,
    ChangedFrom(Grade),
}

/// How a new set of violations differs from the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ViolationChanges {
    /// Limits exceeded now that were not before, as reported now.
    pub(crate) started: Vec<Violation>,
    /// Limits exceeded before that are not now, as last reported.
    pub(crate) ended: Vec<Violation>,
}

impl Memory {
    fn server(&mut self, server: &str) -> &mut ServerMemory {
        self.servers.entry(server.to_owned()).or_default()
    }

    /// Records the server's state; returns the one before (`None` before the first).
    pub(crate) fn state(&mut self, server: &str, state: ServerState) -> Option<ServerState> {
        self.server(server).state.replace(state)
    }

    /// Whether the server is known to be down or refusing the credentials.
    pub(crate) fn is_out(&mut self, server: &str) -> bool {
        matches!(
            self.server(server).state,
            Some(ServerState::Down | ServerState::Unauthenticated)
        )
    }

    /// Records the server's grade; says so when it is news (`None` while it stays).
    pub(crate) fn grade(&mut self, server: &str, grade: Grade) -> Option<GradeNews> {
        match self.server(server).grade.replace(grade) {
            None => Some(GradeNews::First),
            Some(previous) if previous != grade => Some(GradeNews::ChangedFrom(previous)),
            Some(_) => None,
        }
    }

    /// Records the server's current violations; returns which started and which ended, each
    /// in a stable order (the server-wide limit first, then by room and limit).
    pub(crate) fn violations(&mut self, server: &str, now: &[Violation]) -> ViolationChanges {
        let current: HashMap<ViolationKey, Violation> = now
            .iter()
            .map(|violation| ((violation.room.clone(), violation.kind), violation.clone()))
            .collect();
        let (mut started, mut ended) =
            replace_and_compare(&mut self.server(server).violations, current);
        let order = |violation: &Violation| (violation.room.clone(), violation.kind.as_str());
        started.sort_by_key(order);
        ended.sort_by_key(order);
        ViolationChanges { started, ended }
    }
}

/// Puts `current` in `held`; returns the values whose keys are new (started) and those whose
/// keys are gone (ended), unordered.
fn replace_and_compare<K: Eq + std::hash::Hash, V: Clone>(
    held: &mut HashMap<K, V>,
    current: HashMap<K, V>,
) -> (Vec<V>, Vec<V>) {
    let before = std::mem::replace(held, current);
    let started = held
        .iter()
        .filter(|(key, _)| !before.contains_key(*key))
        .map(|(_, value)| value.clone())
        .collect();
    let ended = before
        .into_iter()
        .filter(|(key, _)| !held.contains_key(key))
        .map(|(_, value)| value)
        .collect();
    (started, ended)
}

impl Memory {
    /// The media limits that began (`.0`) and ceased (`.1`) to be exceeded since the server's
    /// last set, each ordered by node and limit.
    pub(crate) fn media_violations(
        &mut self,
        server: &str,
        now: &[crate::nodes::MediaViolation],
    ) -> (
        Vec<crate::nodes::MediaViolation>,
        Vec<crate::nodes::MediaViolation>,
    ) {
        let current: HashMap<(String, String), crate::nodes::MediaViolation> = now
            .iter()
            .map(|v| ((v.node_id.clone(), v.limit.clone()), v.clone()))
            .collect();
        let (mut started, mut ended) =
            replace_and_compare(&mut self.server(server).media_violations, current);
        let order = |v: &crate::nodes::MediaViolation| (v.node_id.clone(), v.limit.clone());
        started.sort_by_key(order);
        ended.sort_by_key(order);
        (started, ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(room: Option<&str>, kind: LimitKind, actual: u32) -> Violation {
        Violation {
            kind,
            room: room.map(str::to_owned),
            limit: 10,
            actual,
            since_ms: None,
        }
    }

    #[test]
    fn a_grade_is_news_only_when_it_changes() {
        let mut memory = Memory::default();
        assert_eq!(memory.grade("eu", Grade::Good), Some(GradeNews::First));
        assert_eq!(memory.grade("eu", Grade::Good), None);
        assert_eq!(memory.grade("us", Grade::Poor), Some(GradeNews::First));
        assert_eq!(
            memory.grade("eu", Grade::Poor),
            Some(GradeNews::ChangedFrom(Grade::Good))
        );
        assert_eq!(memory.grade("eu", Grade::Poor), None);
    }

    #[test]
    fn violations_start_and_end_by_room_and_limit_not_by_count() {
        let mut memory = Memory::default();
        let hall = |actual| violation(Some("town-hall"), LimitKind::Participants, actual);
        let rooms = |actual| violation(None, LimitKind::ConcurrentRooms, actual);
        let changes = memory.violations("eu", &[hall(12), rooms(11)]);
        assert_eq!(changes.started, [rooms(11), hall(12)]);
        assert!(changes.ended.is_empty());
        // Only counts changed: nothing started or ended.
        assert_eq!(
            memory.violations("eu", &[hall(14), rooms(12)]),
            ViolationChanges::default()
        );
        let video = violation(Some("town-hall"), LimitKind::VideoTracks, 11);
        let changes = memory.violations("eu", std::slice::from_ref(&video));
        assert_eq!(changes.started, [video]);
        assert_eq!(changes.ended, [rooms(12), hall(14)], "as last reported");
        // Another server has its own set.
        assert_eq!(memory.violations("us", &[hall(11)]).started, [hall(11)]);
    }

    #[test]
    fn the_state_before_is_returned() {
        let mut memory = Memory::default();
        assert_eq!(memory.state("eu", ServerState::Up), None);
        assert_eq!(memory.state("eu", ServerState::Down), Some(ServerState::Up));
    }
}
