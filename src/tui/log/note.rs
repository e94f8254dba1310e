//! A log line before and after it is placed: the [`Note`] the wording writes for an event, its
//! [`Level`] and [`CollapseKey`], and the [`LogEntry`] the ring keeps and the screen draws.

use crate::limits::LimitKind;
use crate::quality::Grade;
use crate::reconnect::ConnectionState;
use crate::tui::render::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    /// Something the user did, or its outcome.
    Action,
    Warn,
    Error,
}

impl Level {
    pub(crate) const ALL: [Level; 4] = [Level::Info, Level::Action, Level::Warn, Level::Error];

    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Action => "action",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// What makes a note the same thing happening again, per kind of event: the parts that say
/// *what* happened, never the ones that change from one repeat to the next (counts, delays,
/// attempt numbers), which the collapsed entry shows as of the latest repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CollapseKey {
    /// The same error text from a poll.
    PollFailed {
        error: String,
    },
    /// Connections of the server reaching the same state (the connection and the attempt
    /// differ).
    ConnectionsTo(ConnectionState),
    /// The grade moving the same way again (a grade that flaps).
    GradeChange {
        from: Grade,
        to: Grade,
    },
    /// The same limit of the same room (`None`: the server's) exceeded again, or met again.
    LimitExceeded {
        room: Option<String>,
        kind: LimitKind,
    },
    LimitMet {
        room: Option<String>,
        kind: LimitKind,
    },
    /// The same enforcement on the same participant or track, and the same outcome.
    Enforced {
        target: EnforcementTarget,
        done: bool,
    },
    /// The same participant held back again.
    EnforcementHeld {
        room: String,
        identity: String,
    },
    CredentialsRejected {
        reason: String,
    },
    CredentialsAccepted,
    ConfigRejected {
        error: String,
    },
    EventsDropped,
    /// The same node source failing the same way again.
    NodeSourceDown {
        target: String,
        cause: Option<String>,
    },
    /// The same media limit of the same node exceeded again, or met again.
    MediaLimit {
        node: String,
        limit: String,
        exceeded: bool,
    },
    /// Webhooks and polling disagreeing the same way again.
    WebhookDrift {
        kind: crate::webhooks::DriftKind,
    },
    /// The same alert about the same room (`None`: the server's total) again.
    RoomAlert {
        room: Option<String>,
        alert: &'static str,
    },
}

/// What an enforcement acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnforcementTarget {
    Participant {
        room: String,
        identity: String,
    },
    Track {
        room: String,
        identity: String,
        track_sid: String,
    },
    Room {
        room: String,
    },
}

/// One entry the wording wants in the log, before the ring gives it a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) level: Level,
    pub(crate) server: Option<String>,
    /// The rooms it is about, for the `room:` filter.
    pub(crate) rooms: Vec<String>,
    /// The words before the repeat counter (`poll failed`).
    pub(crate) head: String,
    /// The words after it, with their own leading separator (`: connection refused`); may
    /// hold line breaks.
    pub(crate) detail: String,
    /// Set when a repeat of it collapses into one entry.
    pub(crate) key: Option<CollapseKey>,
    /// A change of its server's state (down, back up, unauthenticated): repeats of the
    /// server's entries on either side of it are told apart.
    pub(crate) state_change: bool,
}

impl Note {
    #[must_use]
    pub(crate) fn new(level: Level, server: Option<&str>, head: impl Into<String>) -> Self {
        Self {
            level,
            server: server.map(str::to_owned),
            rooms: Vec::new(),
            head: head.into(),
            detail: String::new(),
            key: None,
            state_change: false,
        }
    }

    #[must_use]
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    #[must_use]
    pub(crate) fn collapsing(mut self, key: CollapseKey) -> Self {
        self.key = Some(key);
        self
    }

    #[must_use]
    pub(crate) fn about(mut self, room: &str) -> Self {
        self.rooms.push(room.to_owned());
        self
    }

    #[must_use]
    pub(crate) fn about_all<'a>(mut self, rooms: impl IntoIterator<Item = &'a str>) -> Self {
        self.rooms.extend(rooms.into_iter().map(str::to_owned));
        self
    }

    #[must_use]
    pub(crate) fn state_change(mut self) -> Self {
        self.state_change = true;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Its place in the log: increases by one per entry or repeat over the whole session, so
    /// an entry that repeats gets a new one and moves past newer entries.
    pub(crate) seq: u64,
    /// Names the entry for its whole life (its first `seq`): a selection or a detail view
    /// follows it when it moves.
    pub(crate) id: u64,
    /// When it happened; for a collapsed entry, the latest repeat.
    pub(crate) at_ms: i64,
    /// When the first of its repeats happened.
    pub(crate) first_at_ms: i64,
    /// How many times it happened.
    pub(crate) count: u64,
    pub level: Level,
    pub(crate) server: Option<String>,
    /// The rooms it is about.
    pub(crate) rooms: Vec<String>,
    pub(crate) head: String,
    pub(crate) detail: String,
    pub(crate) key: Option<CollapseKey>,
    pub(crate) state_change: bool,
}

impl LogEntry {
    /// The whole entry as the list shows it: with `×N since HH:MM:SS` after the head when it
    /// was collapsed. Line breaks are kept.
    #[must_use]
    pub fn text(&self) -> String {
        if self.count > 1 {
            format!(
                "{} ×{} since {}{}",
                self.head,
                self.count,
                format::clock(self.first_at_ms),
                self.detail
            )
        } else {
            self.message()
        }
    }

    /// The words without the repeat counter (the detail view shows count and time apart).
    #[must_use]
    pub(crate) fn message(&self) -> String {
        format!("{}{}", self.head, self.detail)
    }

    /// [`LogEntry::text`] on one line: each line break becomes ` · `.
    #[must_use]
    pub(crate) fn one_line(&self) -> String {
        let text = self.text();
        if !text.contains('\n') {
            return text;
        }
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(count: u64, head: &str, detail: &str) -> LogEntry {
        LogEntry {
            seq: 9,
            id: 3,
            at_ms: 1_764_000_000_000,
            first_at_ms: 1_764_000_000_000 - 472_000,
            count,
            level: Level::Error,
            server: Some("eu-west".into()),
            rooms: Vec::new(),
            head: head.into(),
            detail: detail.into(),
            key: None,
            state_change: false,
        }
    }

    #[test]
    fn a_collapsed_entry_says_how_often_and_since_when() {
        let single = entry(1, "poll failed", ": ListRooms: connection refused");
        assert_eq!(single.text(), "poll failed: ListRooms: connection refused");
        let repeated = entry(30, "poll failed", ": ListRooms: connection refused");
        assert_eq!(
            repeated.text(),
            "poll failed ×30 since 15:52:08: ListRooms: connection refused"
        );
        assert_eq!(
            repeated.message(),
            "poll failed: ListRooms: connection refused"
        );
    }

    #[test]
    fn line_breaks_become_separators_on_one_line() {
        let applied = entry(
            1,
            "configuration applied from lktop.yaml",
            ": 2 changes\npolling.interval: 2s → 5s\n  room_limits.enforcement: observe → enforce",
        );
        assert_eq!(
            applied.one_line(),
            "configuration applied from lktop.yaml: 2 changes · polling.interval: 2s → 5s · \
             room_limits.enforcement: observe → enforce"
        );
        assert!(applied.text().contains('\n'));
    }
}
