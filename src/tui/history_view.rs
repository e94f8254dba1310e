//! The History screen's state: the finished rooms kept (at most `history.max_rooms`, the oldest
//! dropped first), how they are sorted and filtered, the selection, and whether the selected
//! room's detail is open.

use std::collections::VecDeque;

use super::cursor::Cursor;
use super::text_filter::TextFilter;
use crate::history::FinishedRoom;

/// One finished room and the server it was on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub server: String,
    pub room: FinishedRoom,
}

/// What the History table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistorySort {
    #[default]
    Finished,
    Duration,
    Peak,
    Seen,
    Room,
}

impl HistorySort {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::Duration => "duration",
            Self::Peak => "peak",
            Self::Seen => "participants seen",
            Self::Room => "room",
        }
    }

    #[must_use]
    fn next(self) -> Self {
        match self {
            Self::Finished => Self::Duration,
            Self::Duration => Self::Peak,
            Self::Peak => Self::Seen,
            Self::Seen => Self::Room,
            Self::Room => Self::Finished,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HistoryView {
    entries: VecDeque<HistoryEntry>,
    max: usize,
    pub sort: HistorySort,
    /// Newest, longest, largest first unless reversed (the room name: A to Z first).
    pub descending: bool,
    /// Keeps the rooms whose name or server contains it.
    pub filter: TextFilter,
    pub(crate) cursor: Cursor,
    /// The selected room's detail is shown under the table.
    pub detail: bool,
}

impl Default for HistoryView {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
            max: crate::config::HistoryConfig::default().max_rooms as usize,
            sort: HistorySort::default(),
            descending: true,
            filter: TextFilter::default(),
            cursor: Cursor::default(),
            detail: false,
        }
    }
}

impl HistoryView {
    pub(crate) fn push(&mut self, server: String, room: FinishedRoom) {
        self.entries.push_back(HistoryEntry { server, room });
        self.trim();
    }

    pub(crate) fn set_max(&mut self, max: u32) {
        self.max = (max as usize).max(1);
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > self.max {
            self.entries.pop_front();
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries shown, in table order: those whose room or server contains the filter
    /// (case-insensitive), sorted.
    #[must_use]
    pub fn shown(&self) -> Vec<&HistoryEntry> {
        let mut shown: Vec<&HistoryEntry> = self
            .entries
            .iter()
            .filter(|entry| {
                self.filter
                    .matches([entry.room.room.as_str(), entry.server.as_str()])
            })
            .collect();
        shown.sort_by(|a, b| {
            let (a, b) = (&a.room, &b.room);
            let order = match self.sort {
                HistorySort::Finished => a.finished_at_ms.cmp(&b.finished_at_ms),
                HistorySort::Duration => a.duration_ms.cmp(&b.duration_ms),
                HistorySort::Peak => a.peak_participants.cmp(&b.peak_participants),
                HistorySort::Seen => a.participants_seen.cmp(&b.participants_seen),
                // A to Z reads as the natural "first" for names.
                HistorySort::Room => b.room.cmp(&a.room),
            };
            let order = order.then_with(|| a.finished_at_ms.cmp(&b.finished_at_ms));
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        shown
    }

    /// The selected entry, if any is shown.
    #[must_use]
    pub fn selected(&self) -> Option<&HistoryEntry> {
        self.shown().get(self.cursor.selected).copied()
    }

    pub(crate) fn next_sort(&mut self) {
        self.sort = self.sort.next();
        self.cursor = Cursor::default();
    }

    pub(crate) fn reverse(&mut self) {
        self.descending = !self.descending;
        self.cursor = Cursor::default();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn finished(room: &str, finished_at_ms: i64, peak: u32) -> FinishedRoom {
        FinishedRoom {
            room: room.into(),
            sid: format!("RM_{room}"),
            started_at_ms: 0,
            finished_at_ms,
            duration_ms: u64::try_from(finished_at_ms).unwrap(),
            peak_participants: peak,
            participants_seen: peak,
            tracks_published: 0,
            disconnect_reasons: BTreeMap::new(),
            told_by: "poll".into(),
        }
    }

    #[test]
    fn kept_up_to_the_maximum_newest_first_and_filtered_by_name() {
        let mut view = HistoryView::default();
        view.set_max(3);
        for (index, name) in ["standup", "retro", "town-hall", "standup-2"]
            .iter()
            .enumerate()
        {
            let at = i64::try_from(index).unwrap() * 1_000;
            view.push(
                "eu".into(),
                finished(name, at, 10 - u32::try_from(index).unwrap()),
            );
        }
        let names = |view: &HistoryView| -> Vec<String> {
            view.shown().iter().map(|e| e.room.room.clone()).collect()
        };
        assert_eq!(
            names(&view),
            ["standup-2", "town-hall", "retro"],
            "the oldest went"
        );
        view.next_sort();
        view.next_sort();
        assert_eq!(view.sort, HistorySort::Peak);
        assert_eq!(names(&view), ["retro", "town-hall", "standup-2"]);
        view.filter.text = "STAND".into();
        assert_eq!(names(&view), ["standup-2"]);
    }
}
