//! The rooms table's order: a sort column, a direction, and a filter with a small query
//! language, applied in `update` whenever a snapshot, the limits or the query change.

use std::cmp::Ordering;

use crate::config::RoomLimitsConfig;
use crate::limits::limit_for;
use crate::snapshot::RoomSummary;

use super::app::{Cursor, ServerView};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
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
    pub const ALL: [SortColumn; 6] = [
        SortColumn::Name,
        SortColumn::Participants,
        SortColumn::Audio,
        SortColumn::Video,
        SortColumn::Age,
        SortColumn::Violations,
    ];

    #[must_use]
    pub fn label(self) -> &'static str {
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
    pub fn next(self) -> Self {
        let index = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Self::ALL[(index + 1) % Self::ALL.len()]
    }

    /// The direction a column starts in: names A→Z, numbers and ages largest first.
    #[must_use]
    pub fn default_descending(self) -> bool {
        !matches!(self, Self::Name)
    }
}

/// One condition of a filter query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// The room name contains this (case-insensitive).
    Name(String),
    /// Only rooms over one of their limits (`!`).
    Violating,
    /// A count compared with a number: `p>10`, `a>=2`, `v=0`, `p<5`.
    Count(Counted, Comparison, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Participants,
    Audio,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

/// A parsed filter: every term must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub terms: Vec<Term>,
}

impl Query {
    /// Parses `text`: words separated by spaces; `!` keeps rooms over a limit; `p`, `a`, `v`
    /// followed by `<`, `<=`, `=`, `>=` or `>` and a number compare participants, live audio
    /// or live video tracks; any other word must appear in the room name.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let terms = text
            .split_whitespace()
            .map(|word| {
                if word == "!" {
                    return Term::Violating;
                }
                parse_count(word).unwrap_or_else(|| Term::Name(word.to_lowercase()))
            })
            .collect();
        Self { terms }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    #[must_use]
    pub fn matches(&self, room: &RoomSummary, violating: bool) -> bool {
        self.terms.iter().all(|term| match term {
            Term::Name(part) => room.name.to_lowercase().contains(part.as_str()),
            Term::Violating => violating,
            Term::Count(counted, comparison, value) => {
                let actual = match counted {
                    Counted::Participants => room.num_participants,
                    Counted::Audio => room.tracks.live_audio(),
                    Counted::Video => room.tracks.live_video(),
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

fn parse_count(word: &str) -> Option<Term> {
    let mut chars = word.chars();
    let counted = match chars.next()?.to_ascii_lowercase() {
        'p' => Counted::Participants,
        'a' => Counted::Audio,
        'v' => Counted::Video,
        _ => return None,
    };
    let rest = chars.as_str();
    let (comparison, number) = [
        ("<=", Comparison::LessOrEqual),
        (">=", Comparison::GreaterOrEqual),
        ("<", Comparison::Less),
        (">", Comparison::Greater),
        ("=", Comparison::Equal),
    ]
    .into_iter()
    .find_map(|(symbol, comparison)| {
        rest.strip_prefix(symbol).map(|number| (comparison, number))
    })?;
    Some(Term::Count(counted, comparison, number.parse().ok()?))
}

/// The rooms table's settings and cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomsView {
    pub sort: SortColumn,
    pub descending: bool,
    /// The filter as typed, and parsed.
    pub filter: String,
    pub query: Query,
    /// While the user types a filter: the text before editing began, restored by `esc`.
    pub editing_from: Option<String>,
    pub cursor: Cursor,
}

impl RoomsView {
    pub fn set_filter(&mut self, text: String) {
        self.query = Query::parse(&text);
        self.filter = text;
    }

    /// The names of `server`'s rooms that pass the filter, in table order.
    #[must_use]
    pub fn order(&self, server: &ServerView, limits: &RoomLimitsConfig) -> Vec<String> {
        let Some(snapshot) = &server.snapshot else {
            return Vec::new();
        };
        let mut rooms: Vec<&RoomSummary> = snapshot
            .rooms
            .values()
            .filter(|room| {
                self.query
                    .matches(room, server.violating_rooms.contains_key(&room.name))
            })
            .collect();
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
        rooms.sort_by(|a, b| {
            let ordering = key(a).cmp(&key(b));
            let ordering = if self.descending {
                ordering.reverse()
            } else {
                ordering
            };
            // Ties (and the name column) go by name A→Z whatever the direction, so the
            // order is stable from one snapshot to the next.
            match (self.sort, ordering) {
                (SortColumn::Name, _) if self.descending => b.name.cmp(&a.name),
                (_, Ordering::Equal) => a.name.cmp(&b.name),
                (_, ordering) => ordering,
            }
        });
        rooms.into_iter().map(|room| room.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_names_counts_and_the_violation_flag() {
        let query = Query::parse("Town p>10 !  a<=2 v=0 x>y");
        assert_eq!(
            query.terms,
            vec![
                Term::Name("town".into()),
                Term::Count(Counted::Participants, Comparison::Greater, 10),
                Term::Violating,
                Term::Count(Counted::Audio, Comparison::LessOrEqual, 2),
                Term::Count(Counted::Video, Comparison::Equal, 0),
                Term::Name("x>y".into()),
            ]
        );
        assert!(Query::parse("   ").is_empty());
    }
}
