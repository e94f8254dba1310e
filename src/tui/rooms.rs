//! The rooms table's order: a sort column, a direction, and a filter with a small query
//! language, applied in `update` whenever a snapshot, the limits or the query change.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::config::RoomLimitsConfig;
use crate::jobs::JobCounts;
use crate::limits::limit_for;
use crate::snapshot::{ParticipantKind, RoomSummary};

use super::cursor::Cursor;
use super::server_view::ServerView;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortColumn {
    #[default]
    Name,
    Participants,
    Audio,
    Video,
    Age,
    /// Rooms over a limit first, then by how far over.
    Violations,
}

impl SortColumn {
    pub(crate) const ALL: [SortColumn; 6] = [
        SortColumn::Name,
        SortColumn::Participants,
        SortColumn::Audio,
        SortColumn::Video,
        SortColumn::Age,
        SortColumn::Violations,
    ];

    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Participants => "participants",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Age => "age",
            Self::Violations => "violations",
        }
    }

    #[must_use]
    pub(crate) fn next(self) -> Self {
        let index = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Self::ALL[(index + 1) % Self::ALL.len()]
    }

    /// The direction a column starts in: names A→Z, numbers and ages largest first.
    #[must_use]
    pub(crate) fn default_descending(self) -> bool {
        !matches!(self, Self::Name)
    }
}

/// One condition of a filter query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    /// The room name contains this (case-insensitive).
    Name(String),
    /// Only rooms over one of their limits (`!`).
    Violating,
    /// A count compared with a number: `p>10`, `a>=2`, `v=0`, `p<5`, `agents>0`.
    Count(Counted, Comparison, u32),
    /// A recording running (`rec`).
    Recording,
    /// A stream running (`stream`).
    Streaming,
    /// An egress job of the room failed lately (`failed`).
    EgressFailed,
    /// At least one participant of this kind (`kind=sip`).
    HasKind(ParticipantKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    Participants,
    Audio,
    Video,
    /// Agents in the room plus dispatches no agent took yet.
    Agents,
    /// Ingress endpoints of the room.
    Ingress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

/// A parsed filter: every term must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Query {
    pub(crate) terms: Vec<Term>,
}

/// A word of a filter that cannot be read, and why: `p>: a number must follow >`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The word as read (spaces around its operator removed).
    pub(crate) word: String,
    pub(crate) problem: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.word, self.problem)
    }
}

impl std::error::Error for FilterError {}

/// What a comparison's field letter may be, as the filter's problems list it.
const FIELDS: &str =
    "use p (participants), a (live audio), v (live video), agents, ingress, kind=…, name=…";
/// The comparisons, longest first so that `<=` is not read as `<`.
const COMPARISONS: [(&str, Comparison); 5] = [
    ("<=", Comparison::LessOrEqual),
    (">=", Comparison::GreaterOrEqual),
    ("<", Comparison::Less),
    (">", Comparison::Greater),
    ("=", Comparison::Equal),
];

impl Query {
    /// Parses `text`: words separated by spaces; `!` keeps rooms over a limit; `p`, `a`, `v`
    /// followed by `<`, `<=`, `=`, `>=` or `>` and a number compare participants, live audio
    /// or live video tracks (spaces around the operator are allowed: `p > 5`); any other word
    /// must appear in the room name.
    ///
    /// # Errors
    /// The first word with a comparison operator that is not a comparison lktop can make: an
    /// unknown field (`q>3`), a missing or malformed number (`p>`, `p>x`), an unknown operator
    /// (`p>>3`). Such a word is never taken for a name search.
    pub(crate) fn parse(text: &str) -> Result<Self, FilterError> {
        let terms = join_operators(text)
            .split_whitespace()
            .map(|word| {
                let lower = word.to_lowercase();
                if word == "!" {
                    Ok(Term::Violating)
                } else if lower == "rec" {
                    Ok(Term::Recording)
                } else if lower == "stream" {
                    Ok(Term::Streaming)
                } else if lower == "failed" {
                    Ok(Term::EgressFailed)
                } else if let Some(name) = lower.strip_prefix("name=") {
                    Ok(Term::Name(name.to_owned()))
                } else if let Some(kind) = lower.strip_prefix("kind=") {
                    ParticipantKind::parse(kind)
                        .map(Term::HasKind)
                        .ok_or_else(|| FilterError {
                            word: word.to_owned(),
                            problem: format!(
                                "unknown kind {kind}; use standard, agent, sip, ingress or egress"
                            ),
                        })
                } else if word.contains(is_operator) {
                    parse_count(word)
                } else {
                    Ok(Term::Name(word.to_lowercase()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { terms })
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    #[must_use]
    pub(crate) fn matches(&self, room: &RoomSummary, violating: bool, jobs: &JobCounts) -> bool {
        let count_kind = |kind: ParticipantKind| {
            room.participants.as_ref().map_or(0, |participants| {
                u32::try_from(participants.iter().filter(|p| p.kind == kind).count())
                    .unwrap_or(u32::MAX)
            })
        };
        self.terms.iter().all(|term| match term {
            Term::Name(part) => room.name.to_lowercase().contains(part.as_str()),
            Term::Violating => violating,
            Term::Recording => jobs.recording > 0,
            Term::Streaming => jobs.streaming > 0,
            Term::EgressFailed => jobs.failed > 0,
            Term::HasKind(kind) => count_kind(*kind) > 0,
            Term::Count(counted, comparison, value) => {
                let actual = match counted {
                    Counted::Participants => room.num_participants,
                    Counted::Audio => room.tracks.live_audio(),
                    Counted::Video => room.tracks.live_video(),
                    Counted::Agents => count_kind(ParticipantKind::Agent) + jobs.pending_dispatches,
                    Counted::Ingress => jobs.ingress,
                };
                match comparison {
                    Comparison::Less => actual < *value,
                    Comparison::LessOrEqual => actual <= *value,
                    Comparison::Equal => actual == *value,
                    Comparison::GreaterOrEqual => actual >= *value,
                    Comparison::Greater => actual > *value,
                }
            }
        })
    }
}

fn is_operator(c: char) -> bool {
    matches!(c, '<' | '>' | '=')
}

/// `p > 5` as `p>5`: spaces next to an operator are dropped, so a comparison is one word.
fn join_operators(text: &str) -> String {
    let mut joined = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            let next_is_operator = loop {
                match chars.peek() {
                    Some(next) if next.is_whitespace() => _ = chars.next(),
                    Some(&next) => break is_operator(next),
                    None => break false,
                }
            };
            let after_operator = joined.ends_with(is_operator);
            if !next_is_operator && !after_operator {
                joined.push(' ');
            }
        } else {
            joined.push(c);
        }
    }
    joined
}

/// A word holding an operator: a field letter, a comparison, a whole number.
fn parse_count(word: &str) -> Result<Term, FilterError> {
    let fail = |problem: String| FilterError {
        word: word.to_owned(),
        problem,
    };
    let start = word.find(is_operator).unwrap_or(word.len());
    let (field, rest) = word.split_at(start);
    let counted = match field.to_ascii_lowercase().as_str() {
        "p" => Counted::Participants,
        "a" => Counted::Audio,
        "v" => Counted::Video,
        "agents" | "agent" => Counted::Agents,
        "ingress" => Counted::Ingress,
        "" => {
            return Err(fail(format!(
                "a field must come before the comparison; {FIELDS}"
            )));
        }
        other => return Err(fail(format!("unknown field {other}; {FIELDS}"))),
    };
    let operator_len = rest.find(|c| !is_operator(c)).unwrap_or(rest.len());
    let (operator, number) = rest.split_at(operator_len);
    let Some((_, comparison)) = COMPARISONS.iter().find(|(symbol, _)| *symbol == operator) else {
        return Err(fail(format!(
            "{operator} is not a comparison; use <, <=, =, >= or >"
        )));
    };
    if number.is_empty() {
        return Err(fail(format!("a number must follow {operator}")));
    }
    let value = number.parse().map_err(|_| {
        fail(format!(
            "{number} is not a whole number; write e.g. {field}{operator}10"
        ))
    })?;
    Ok(Term::Count(counted, *comparison, value))
}

/// The rooms table's settings and cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomsView {
    pub(crate) sort: SortColumn,
    pub(crate) descending: bool,
    /// The filter as typed.
    pub filter: String,
    /// The filter applied: `filter` parsed, or while `filter` cannot be parsed, the last one
    /// that could.
    pub(crate) query: Query,
    /// Why `filter` cannot be parsed, shown on the filter's line.
    pub filter_problem: Option<FilterError>,
    /// While the user types a filter: the text before editing began, restored by `esc`.
    pub editing_from: Option<String>,
    pub cursor: Cursor,
}

impl RoomsView {
    /// Takes `text` as the filter; a text that cannot be parsed keeps the last query that
    /// could applied, and says why in `filter_problem`.
    pub(crate) fn set_filter(&mut self, text: String) {
        match Query::parse(&text) {
            Ok(query) => {
                self.query = query;
                self.filter_problem = None;
            }
            Err(problem) => self.filter_problem = Some(problem),
        }
        self.filter = text;
    }

    /// The names of `server`'s rooms that pass the filter, in table order.
    #[must_use]
    pub(crate) fn order(&self, server: &ServerView, limits: &RoomLimitsConfig) -> Vec<String> {
        let Some(snapshot) = &server.snapshot else {
            return Vec::new();
        };
        let mut rooms: Vec<&RoomSummary> = snapshot
            .rooms
            .values()
            .map(|room| &**room)
            .filter(|room| self.shows(room, server))
            .collect();
        rooms.sort_by(|a, b| self.compare(a, b, server, limits));
        rooms.into_iter().map(|room| room.name.clone()).collect()
    }

    /// Brings `order` (this view's order of `server`'s rooms before an update) up to date
    /// after the rooms named in `touched` changed, appeared or went: they leave the order and
    /// those still there and shown are merged back in at their places. The rest keep their
    /// relative order, so an update of a few rooms costs a pass over the order, not a sort.
    pub(crate) fn reorder(
        &self,
        order: &mut Vec<String>,
        touched: &[String],
        server: &ServerView,
        limits: &RoomLimitsConfig,
    ) {
        let Some(snapshot) = &server.snapshot else {
            order.clear();
            return;
        };
        let touched: HashSet<&str> = touched.iter().map(String::as_str).collect();
        order.retain(|name| !touched.contains(name.as_str()));
        let mut arrived: Vec<&RoomSummary> = touched
            .iter()
            .filter_map(|name| snapshot.rooms.get(*name).map(|room| &**room))
            .filter(|room| self.shows(room, server))
            .collect();
        if arrived.is_empty() {
            return;
        }
        arrived.sort_by(|a, b| self.compare(a, b, server, limits));
        let kept = std::mem::take(order);
        order.reserve(kept.len() + arrived.len());
        let mut arrived = arrived.into_iter().peekable();
        for name in kept {
            let Some(room) = snapshot.rooms.get(&name) else {
                continue;
            };
            while let Some(next) =
                arrived.next_if(|next| self.compare(next, room, server, limits) == Ordering::Less)
            {
                order.push(next.name.clone());
            }
            order.push(name);
        }
        order.extend(arrived.map(|room| room.name.clone()));
    }

    fn shows(&self, room: &RoomSummary, server: &ServerView) -> bool {
        self.query.matches(
            room,
            server.violating_rooms.contains_key(&room.name),
            &server.jobs.room_jobs(&room.name),
        )
    }

    /// The table's order of two rooms: the sort column, then the name.
    fn compare(
        &self,
        a: &RoomSummary,
        b: &RoomSummary,
        server: &ServerView,
        limits: &RoomLimitsConfig,
    ) -> Ordering {
        let key = |room: &RoomSummary| -> u64 {
            match self.sort {
                SortColumn::Name => 0,
                SortColumn::Participants => u64::from(room.num_participants),
                SortColumn::Audio => u64::from(room.tracks.audio),
                SortColumn::Video => u64::from(room.tracks.video),
                // Older rooms have smaller creation times; "largest first" means oldest first.
                SortColumn::Age => u64::MAX - u64::try_from(room.created_at).unwrap_or(0),
                SortColumn::Violations => {
                    let limit = limit_for(limits, &room.name);
                    let over = |actual: u32, limit: u32| u64::from(actual.saturating_sub(limit));
                    let overshoot = over(room.num_participants, limit.max_participants)
                        + over(room.tracks.live_audio(), limit.max_audio_tracks)
                        + over(room.tracks.live_video(), limit.max_video_tracks);
                    let flagged = u64::from(server.violating_rooms.contains_key(&room.name));
                    (flagged << 32) + overshoot
                }
            }
        };
        let ordering = key(a).cmp(&key(b));
        let ordering = if self.descending {
            ordering.reverse()
        } else {
            ordering
        };
        // Ties (and the name column) go by name A→Z whatever the direction, so the order is
        // stable from one snapshot to the next.
        match (self.sort, ordering) {
            (SortColumn::Name, _) if self.descending => b.name.cmp(&a.name),
            (_, Ordering::Equal) => a.name.cmp(&b.name),
            (_, ordering) => ordering,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_names_counts_and_the_violation_flag() {
        let query = Query::parse("Town p>10 !  a<=2 v=0 P>=1").unwrap();
        assert_eq!(
            query.terms,
            vec![
                Term::Name("town".into()),
                Term::Count(Counted::Participants, Comparison::Greater, 10),
                Term::Violating,
                Term::Count(Counted::Audio, Comparison::LessOrEqual, 2),
                Term::Count(Counted::Video, Comparison::Equal, 0),
                Term::Count(Counted::Participants, Comparison::GreaterOrEqual, 1),
            ]
        );
        assert!(Query::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn rooms_are_found_by_their_jobs_and_kinds_of_participant() {
        let query = Query::parse("rec stream failed agents>0 kind=SIP ingress=1 name=rec").unwrap();
        assert_eq!(
            query.terms,
            vec![
                Term::Recording,
                Term::Streaming,
                Term::EgressFailed,
                Term::Count(Counted::Agents, Comparison::Greater, 0),
                Term::HasKind(ParticipantKind::Sip),
                Term::Count(Counted::Ingress, Comparison::Equal, 1),
                Term::Name("rec".into()),
            ]
        );
        assert!(
            Query::parse("kind=robot")
                .unwrap_err()
                .to_string()
                .contains("unknown kind robot")
        );
        let room = RoomSummary {
            name: "support".into(),
            sid: "RM_1".into(),
            created_at: 0,
            max_participants: 0,
            metadata: String::new(),
            num_participants: 0,
            num_publishers: 0,
            tracks: crate::snapshot::TrackCounts::default(),
            participants: Some(Vec::new()),
        };
        let recording = JobCounts {
            recording: 1,
            pending_dispatches: 1,
            ..JobCounts::default()
        };
        assert!(
            Query::parse("rec agents>0")
                .unwrap()
                .matches(&room, false, &recording)
        );
        assert!(
            !Query::parse("stream")
                .unwrap()
                .matches(&room, false, &recording)
        );
        assert!(
            !Query::parse("kind=agent")
                .unwrap()
                .matches(&room, false, &recording)
        );
    }

    #[test]
    fn spaces_around_an_operator_make_one_comparison() {
        let spaced = Query::parse("town  p > 5 a >=2 v=  0 !").unwrap();
        assert_eq!(spaced, Query::parse("town p>5 a>=2 v=0 !").unwrap());
    }

    #[test]
    fn a_comparison_that_cannot_be_read_is_a_problem_not_a_name_search() {
        let problem = |text: &str| Query::parse(text).unwrap_err().to_string();
        assert_eq!(problem("p>"), "p>: a number must follow >");
        assert_eq!(problem("town p >"), "p>: a number must follow >");
        assert_eq!(
            problem("q>3"),
            "q>3: unknown field q; use p (participants), a (live audio), v (live video), agents, \
             ingress, kind=…, name=…"
        );
        assert_eq!(
            problem("p>>3"),
            "p>>3: >> is not a comparison; use <, <=, =, >= or >"
        );
        assert_eq!(
            problem("p=>3"),
            "p=>3: => is not a comparison; use <, <=, =, >= or >"
        );
        assert_eq!(
            problem("p>x"),
            "p>x: x is not a whole number; write e.g. p>10"
        );
        assert_eq!(
            problem("p>-1"),
            "p>-1: -1 is not a whole number; write e.g. p>10"
        );
        assert!(problem(">3").starts_with(">3: a field must come before the comparison"));
        assert!(problem("x>y").starts_with("x>y: unknown field x"));
    }

    #[test]
    fn an_unreadable_filter_keeps_the_last_one_that_was_read() {
        let mut view = RoomsView::default();
        view.set_filter("p>1".to_owned());
        let applied = view.query.clone();
        view.set_filter("p>1 q".to_owned());
        assert_eq!(view.filter_problem, None);
        view.set_filter("p>1 q>".to_owned());
        assert_eq!(view.filter, "p>1 q>", "the text stays as typed");
        assert_eq!(
            view.filter_problem
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some(
                "q>: unknown field q; use p (participants), a (live audio), v (live video), \
                 agents, ingress, kind=…, name=…"
            )
        );
        assert_ne!(view.query, applied, "the last readable filter: p>1 q");
        assert_eq!(view.query, Query::parse("p>1 q").unwrap());
        view.set_filter("p>1".to_owned());
        assert_eq!(view.filter_problem, None);
        assert_eq!(view.query, applied);
    }

    fn room(name: &str, participants: u32, audio: u32) -> RoomSummary {
        RoomSummary {
            name: name.into(),
            sid: format!("RM_{name}"),
            created_at: 1_764_000_000 - i64::from(participants),
            max_participants: 0,
            metadata: String::new(),
            num_participants: participants,
            num_publishers: 0,
            tracks: crate::snapshot::TrackCounts {
                audio,
                ..Default::default()
            },
            participants: None,
        }
    }

    /// Whatever the sort, direction and filter, an order brought up to date room by room is
    /// the order sorted from scratch.
    #[test]
    fn reordering_the_touched_rooms_matches_sorting_them_all() {
        use rand::{Rng, SeedableRng};

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let limits = RoomLimitsConfig::default();
        for (sort, descending, filter) in [
            (SortColumn::Name, false, ""),
            (SortColumn::Name, true, "room-1"),
            (SortColumn::Participants, true, ""),
            (SortColumn::Participants, false, "p>3"),
            (SortColumn::Audio, true, "a<5"),
            (SortColumn::Age, false, ""),
        ] {
            let mut view = RoomsView {
                sort,
                descending,
                ..RoomsView::default()
            };
            view.set_filter(filter.to_owned());
            let mut server = ServerView::new("local".into());
            let mut snapshot = crate::snapshot::Snapshot::default();
            for index in 0..200 {
                let name = format!("room-{index:03}");
                snapshot.rooms.insert(
                    name.clone(),
                    std::sync::Arc::new(room(
                        &name,
                        rng.random_range(0..8),
                        rng.random_range(0..8),
                    )),
                );
            }
            server.snapshot = Some(std::sync::Arc::new(snapshot));
            let mut order = view.order(&server, &limits);
            for _ in 0..50 {
                let held = std::sync::Arc::make_mut(server.snapshot.as_mut().unwrap());
                let mut touched = Vec::new();
                for _ in 0..rng.random_range(1..6) {
                    let name = format!("room-{:03}", rng.random_range(0..260));
                    if rng.random_bool(0.2) {
                        held.rooms.remove(&name);
                    } else {
                        let changed = room(&name, rng.random_range(0..8), rng.random_range(0..8));
                        held.rooms
                            .insert(name.clone(), std::sync::Arc::new(changed));
                    }
                    touched.push(name);
                }
                view.reorder(&mut order, &touched, &server, &limits);
                assert_eq!(
                    order,
                    view.order(&server, &limits),
                    "{sort:?} descending={descending} filter={filter:?} after {touched:?}"
                );
            }
        }
    }
}
