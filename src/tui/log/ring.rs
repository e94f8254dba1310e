//! The log's storage: a ring of the newest [`LOG_CAPACITY`] entries in `seq` order, where a
//! repeat collapses into the entry it repeats.
//!
//! **Collapsing.** A note with a [`CollapseKey`](super::CollapseKey) repeats an earlier entry
//! when that entry has the same key, level and server and is still recent: among the newest
//! [`COLLAPSE_WINDOW`] entries, with no state change of its server (down, back up,
//! unauthenticated) logged since. The entry then takes the note's words and time, counts one
//! more, and moves to the newest position with a new `seq`, so the bottom of the log is always
//! the newest state of things. A state change ends every run of its server, so the poll
//! failures of two outages are two lines, each after its own `down`.
//!
//! **Freezing.** A frozen view shows the entries up to a `seq`. An entry it shows that moves
//! would vanish from it (its new `seq` is past the freeze), so while the view is frozen
//! ([`EventLog::hold`]) a moving entry leaves a copy of itself as it was for that view.

use std::collections::VecDeque;

use crate::events::{EngineEvent, EventKind};

use super::memory::Memory;
use super::note::{Level, LogEntry, Note};
use super::wording;

/// Entries kept; older ones are dropped.
pub(crate) const LOG_CAPACITY: usize = 2000;

/// How far back (in entries) a repeat looks for the entry it repeats: a tenth of the ring.
/// A repeat that comes later starts a new line, so an old count is never revived far away
/// from what happened since.
pub(crate) const COLLAPSE_WINDOW: usize = 200;

/// An entry as a frozen view saw it before it moved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LeftBehind {
    /// The `seq` it moved to: views from there on see the moved entry instead.
    moved_at: u64,
    entry: LogEntry,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLog {
    /// In `seq` order, newest last.
    entries: VecDeque<LogEntry>,
    seq: u64,
    /// The `seq` a frozen view shows, while one does.
    held: Option<u64>,
    left_behind: Vec<LeftBehind>,
    memory: Memory,
}

impl EventLog {
    /// The sequence number of the newest entry (0 before the first).
    #[must_use]
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries up to `seq` (all while live, those before the freeze while frozen), newest
    /// last; for a frozen view, entries that moved since appear where and as they were.
    #[must_use = "iterators are lazy"]
    pub fn up_to(
        &self,
        seq: u64,
    ) -> impl DoubleEndedIterator<Item = &LogEntry> + ExactSizeIterator {
        let hidden = self
            .entries
            .iter()
            .rev()
            .take_while(|e| e.seq > seq)
            .count();
        let mut shown: Vec<&LogEntry> = self.entries.range(..self.entries.len() - hidden).collect();
        let before = shown.len();
        shown.extend(
            self.left_behind
                .iter()
                .filter(|left| left.entry.seq <= seq && left.moved_at > seq)
                .map(|left| &left.entry),
        );
        if shown.len() > before {
            shown.sort_by_key(|entry| entry.seq);
        }
        shown.into_iter()
    }

    /// The entry named `id` as a view up to `seq` shows it.
    #[must_use]
    pub fn find(&self, id: u64, seq: u64) -> Option<&LogEntry> {
        self.up_to(seq).rev().find(|entry| entry.id == id)
    }

    /// A frozen view shows the entries up to `seq` from now on (`None`: it thawed); entries
    /// it shows keep their place in it when they repeat.
    pub(crate) fn hold(&mut self, seq: Option<u64>) {
        self.held = seq;
        self.left_behind.clear();
    }

    /// Adds a plain entry of the dashboard's own (never collapsed).
    pub(crate) fn push(&mut self, at_ms: i64, level: Level, server: Option<&str>, text: String) {
        self.add(at_ms, Note::new(level, server, text));
    }

    /// Adds the entries an engine event deserves (none for routine statuses and snapshots).
    pub(crate) fn record(&mut self, event: &EngineEvent) {
        if let EventKind::Started { .. } = event.kind {
            // A new session: grades, violations and states are learned again.
            self.memory = Memory::default();
        }
        for note in wording::notes(event, &mut self.memory) {
            self.add(event.at_ms, note);
        }
    }

    /// Adds `note` at `at_ms`: as a repeat of a recent entry when it is one, else as a new
    /// entry (dropping the oldest when the ring is full).
    pub(crate) fn add(&mut self, at_ms: i64, note: Note) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(index) = self.repeated(&note) {
            let Some(mut entry) = self.entries.remove(index) else {
                return;
            };
            if self.held.is_some_and(|held| entry.seq <= held) {
                self.left_behind.push(LeftBehind {
                    moved_at: seq,
                    entry: entry.clone(),
                });
            }
            entry.seq = seq;
            entry.at_ms = at_ms;
            entry.count = entry.count.saturating_add(1);
            entry.head = note.head;
            entry.detail = note.detail;
            for room in note.rooms {
                if !entry.rooms.contains(&room) {
                    entry.rooms.push(room);
                }
            }
            self.entries.push_back(entry);
            return;
        }
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(LogEntry {
            seq,
            id: seq,
            at_ms,
            first_at_ms: at_ms,
            count: 1,
            level: note.level,
            server: note.server,
            rooms: note.rooms,
            head: note.head,
            detail: note.detail,
            key: note.key,
            state_change: note.state_change,
        });
    }

    /// The index of the recent entry `note` repeats, if any (see the module documentation).
    fn repeated(&self, note: &Note) -> Option<usize> {
        let key = note.key.as_ref()?;
        let newest = self.entries.len().checked_sub(1)?;
        for (back, entry) in self.entries.iter().rev().take(COLLAPSE_WINDOW).enumerate() {
            if entry.key.as_ref() == Some(key)
                && entry.level == note.level
                && entry.server == note.server
            {
                return Some(newest - back);
            }
            if note.server.is_some() && entry.state_change && entry.server == note.server {
                return None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::note::CollapseKey;
    use super::*;

    const T0: i64 = 1_764_000_000_000;

    fn poll_failed(server: &str, error: &str) -> Note {
        Note::new(Level::Error, Some(server), "poll failed")
            .detail(format!(": {error}"))
            .collapsing(CollapseKey::PollFailed {
                error: error.to_owned(),
            })
    }

    fn texts(log: &EventLog, seq: u64) -> Vec<String> {
        log.up_to(seq).map(LogEntry::text).collect()
    }

    #[test]
    fn a_repeat_collapses_and_moves_to_the_newest_position() {
        let mut log = EventLog::default();
        log.add(T0, poll_failed("eu", "refused"));
        log.push(T0 + 1_000, Level::Info, None, "something else".into());
        log.add(T0 + 2_000, poll_failed("eu", "refused"));
        log.add(T0 + 4_000, poll_failed("eu", "refused"));
        assert_eq!(
            texts(&log, log.seq()),
            ["something else", "poll failed ×3 since 16:00:00: refused"]
        );
        let newest = log.up_to(log.seq()).last().unwrap();
        assert_eq!(
            (newest.seq, newest.id, newest.at_ms, newest.first_at_ms),
            (4, 1, T0 + 4_000, T0)
        );
        // Sequence numbers stay in order along the ring.
        let seqs: Vec<u64> = log.up_to(log.seq()).map(|e| e.seq).collect();
        assert!(seqs.is_sorted(), "{seqs:?}");
    }

    #[test]
    fn only_the_same_key_level_and_server_collapse() {
        let mut log = EventLog::default();
        log.add(T0, poll_failed("eu", "refused"));
        log.add(T0, poll_failed("eu", "timed out"));
        log.add(T0, poll_failed("us", "refused"));
        let mut warn = poll_failed("eu", "refused");
        warn.level = Level::Warn;
        log.add(T0, warn);
        // Same words without a key: never collapsed.
        log.push(T0, Level::Error, Some("eu"), "poll failed: refused".into());
        log.push(T0, Level::Error, Some("eu"), "poll failed: refused".into());
        assert_eq!(log.len(), 6);
        assert!(log.up_to(log.seq()).all(|e| e.count == 1));
    }

    #[test]
    fn a_state_change_of_the_server_ends_the_run() {
        let mut log = EventLog::default();
        let state = |text: &str| Note::new(Level::Error, Some("eu"), text).state_change();
        log.add(T0, state("down"));
        log.add(T0, poll_failed("eu", "refused"));
        log.add(T0, poll_failed("eu", "refused"));
        log.add(T0, state("back up after 4.0 s"));
        // Another server's state change does not end eu's run.
        log.add(
            T0,
            Note::new(Level::Error, Some("us"), "down").state_change(),
        );
        log.add(T0, state("down"));
        log.add(T0, poll_failed("eu", "refused"));
        log.add(T0, poll_failed("us", "refused"));
        log.add(T0, poll_failed("us", "refused"));
        assert_eq!(
            texts(&log, log.seq()),
            [
                "down",
                "poll failed ×2 since 16:00:00: refused",
                "back up after 4.0 s",
                "down",
                "down",
                "poll failed: refused",
                "poll failed ×2 since 16:00:00: refused",
            ]
        );
    }

    #[test]
    fn a_repeat_beyond_the_window_starts_a_new_line() {
        let mut log = EventLog::default();
        log.add(T0, poll_failed("eu", "refused"));
        for i in 0..COLLAPSE_WINDOW {
            log.push(T0, Level::Info, None, format!("filler {i}"));
        }
        log.add(T0, poll_failed("eu", "refused"));
        assert_eq!(log.len(), COLLAPSE_WINDOW + 2);
        assert!(log.up_to(log.seq()).all(|e| e.count == 1));
        // Just inside the window it collapses.
        for i in 0..COLLAPSE_WINDOW - 1 {
            log.push(T0, Level::Info, None, format!("more {i}"));
        }
        log.add(T0, poll_failed("eu", "refused"));
        assert_eq!(log.up_to(log.seq()).last().unwrap().count, 2);
    }

    #[test]
    fn the_ring_keeps_the_newest_entries() {
        let mut log = EventLog::default();
        for i in 0..LOG_CAPACITY + 5 {
            log.push(T0, Level::Info, None, format!("entry {i}"));
        }
        assert_eq!(log.len(), LOG_CAPACITY);
        assert_eq!(log.up_to(log.seq()).next().unwrap().text(), "entry 5");
        // A repeat replaces its entry: the ring does not lose one for it.
        log.add(T0, poll_failed("eu", "refused"));
        log.add(T0, poll_failed("eu", "refused"));
        assert_eq!(log.len(), LOG_CAPACITY);
        assert_eq!(log.up_to(log.seq()).next().unwrap().text(), "entry 6");
    }

    #[test]
    fn a_frozen_view_keeps_entries_that_move_after_the_freeze() {
        let mut log = EventLog::default();
        log.add(T0, poll_failed("eu", "refused"));
        log.push(T0, Level::Info, None, "before the freeze".into());
        let frozen = log.seq();
        log.hold(Some(frozen));
        log.add(T0 + 2_000, poll_failed("eu", "refused"));
        log.add(T0 + 4_000, poll_failed("eu", "refused"));
        log.push(T0, Level::Info, None, "after the freeze".into());
        assert_eq!(
            texts(&log, frozen),
            ["poll failed: refused", "before the freeze"],
            "the frozen view shows the entry where and as it was"
        );
        assert_eq!(
            texts(&log, log.seq()),
            [
                "before the freeze",
                "poll failed ×3 since 16:00:00: refused",
                "after the freeze"
            ]
        );
        assert_eq!(log.find(1, frozen).map(|e| e.count), Some(1));
        assert_eq!(log.find(1, log.seq()).map(|e| e.count), Some(3));
        log.hold(None);
        assert_eq!(log.up_to(frozen).count(), 1, "thawed: the copy is gone");
    }
}
