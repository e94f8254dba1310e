//! The events screen's filter: words separated by spaces, every one of which must match an
//! entry (any case):
//!
//! - `level:warn`: that level and above (`info`, `action`, `warn`, `error`; a prefix is
//!   enough, so the filter works while it is typed);
//! - `server:NAME`: entries of a server whose name contains NAME;
//! - `room:NAME`: entries about a room whose name contains NAME;
//! - any other word: in the entry's text or its server's name.
//!
//! A `level:`, `server:` or `room:` with nothing after it yet is left out.

use super::note::{Level, LogEntry};

/// The filter syntax for the help overlay: what to type, what it keeps.
pub(crate) const SYNTAX: [(&str, &str); 4] = [
    (
        "word",
        "entries whose text or server contains it (any case)",
    ),
    (
        "level:warn",
        "that level and above: info, action, warn, error",
    ),
    (
        "server:NAME",
        "entries of the servers whose name contains NAME",
    ),
    (
        "room:NAME",
        "entries about the rooms whose name contains NAME",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    AtLeast(Level),
    Server(String),
    Room(String),
    /// `level:` followed by no level's name: matches nothing, and says why.
    UnknownLevel(String),
}

/// A parsed filter; the empty one keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogQuery {
    terms: Vec<Term>,
}

impl LogQuery {
    #[must_use]
    pub(crate) fn parse(text: &str) -> Self {
        let terms = text
            .split_whitespace()
            .filter_map(|word| {
                let lower = word.to_lowercase();
                if let Some(level) = lower.strip_prefix("level:") {
                    return (!level.is_empty()).then(|| {
                        Level::ALL
                            .into_iter()
                            .find(|known| known.label().starts_with(level))
                            .map_or_else(|| Term::UnknownLevel(level.to_owned()), Term::AtLeast)
                    });
                }
                if let Some(server) = lower.strip_prefix("server:") {
                    return (!server.is_empty()).then(|| Term::Server(server.to_owned()));
                }
                if let Some(room) = lower.strip_prefix("room:") {
                    return (!room.is_empty()).then(|| Term::Room(room.to_owned()));
                }
                Some(Term::Word(lower))
            })
            .collect();
        Self { terms }
    }

    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// What is wrong with the filter, when a part of it can match nothing.
    #[must_use]
    pub(crate) fn problem(&self) -> Option<String> {
        self.terms.iter().find_map(|term| match term {
            Term::UnknownLevel(level) => Some(format!(
                "no level starts with \"{level}\" (info, action, warn, error)"
            )),
            _ => None,
        })
    }

    #[must_use]
    pub(crate) fn matches(&self, entry: &LogEntry) -> bool {
        let server = entry.server.as_deref().unwrap_or("").to_lowercase();
        let mut text: Option<String> = None;
        self.terms.iter().all(|term| match term {
            Term::Word(word) => {
                server.contains(word.as_str())
                    || text
                        .get_or_insert_with(|| entry.message().to_lowercase())
                        .contains(word.as_str())
            }
            Term::AtLeast(level) => entry.level >= *level,
            Term::Server(name) => entry.server.is_some() && server.contains(name.as_str()),
            Term::Room(name) => entry
                .rooms
                .iter()
                .any(|room| room.to_lowercase().contains(name.as_str())),
            Term::UnknownLevel(_) => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventLog;
    use super::super::note::Note;
    use super::*;

    fn log() -> EventLog {
        let mut log = EventLog::default();
        log.add(
            0,
            Note::new(Level::Error, Some("eu-west"), "poll failed").detail(": Connection refused"),
        );
        log.add(
            0,
            Note::new(
                Level::Warn,
                Some("us-east"),
                "town-hall over the participant limit",
            )
            .about("town-hall"),
        );
        log.add(
            0,
            Note::new(Level::Info, Some("eu-west"), "standup: 1 joined").about("standup"),
        );
        log.add(
            0,
            Note::new(Level::Action, None, "sent · #1 reload configuration"),
        );
        log
    }

    fn kept(filter: &str) -> Vec<String> {
        let query = LogQuery::parse(filter);
        log()
            .up_to(u64::MAX)
            .filter(|entry| query.matches(entry))
            .map(LogEntry::message)
            .collect()
    }

    #[test]
    fn words_match_text_or_server_in_any_case() {
        assert_eq!(kept("REFUSED"), ["poll failed: Connection refused"]);
        assert_eq!(kept("us-east").len(), 1);
        assert_eq!(kept("poll eu").len(), 1, "every word must match");
        assert_eq!(kept("poll east").len(), 0);
        assert_eq!(kept("").len(), 4);
        assert!(LogQuery::parse("  ").is_empty());
    }

    #[test]
    fn level_keeps_that_level_and_above() {
        assert_eq!(kept("level:warn").len(), 2);
        assert_eq!(kept("level:error"), ["poll failed: Connection refused"]);
        assert_eq!(kept("level:a").len(), 3, "a prefix is enough");
        assert_eq!(kept("level:").len(), 4, "nothing typed yet: no term");
        assert!(kept("level:loud").is_empty());
        assert!(
            LogQuery::parse("level:loud")
                .problem()
                .unwrap()
                .contains("\"loud\"")
        );
        assert_eq!(LogQuery::parse("level:w").problem(), None);
    }

    #[test]
    fn server_and_room_look_at_those_fields_only() {
        assert_eq!(kept("server:eu").len(), 2);
        assert_eq!(kept("server:EU level:error").len(), 1);
        assert!(kept("server:reload").is_empty(), "not the text");
        assert_eq!(kept("room:town"), ["town-hall over the participant limit"]);
        assert!(kept("room:poll").is_empty());
    }
}
