//! The events screen's view state: the selected entry, the filter and its prompt, and the
//! entry open in the detail view.
//!
//! Entries are named by their id, not their row: the selection stays on its entry while new
//! ones arrive at the bottom, old ones leave the ring at the top, and a repeat moves it. With
//! no selection the screen follows the newest entry, as a `tail -f` does; moving down onto
//! the newest row follows again.
//!
//! Which entries the filter keeps is worked out here, in `update`, whenever the filter or the
//! log changes ([`EventsView::refresh`]); drawing only looks the kept ones up.

use super::log::{EventLog, LogEntry, LogQuery};
use super::render::format;

/// The entry open in the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDetail {
    pub id: u64,
    /// Lines scrolled past at the top.
    pub(crate) scroll: usize,
}

/// The rows of the list in view, and the selected one (indices into the listed rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub selected: usize,
}

/// One line of the detail view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DetailLine {
    /// A labelled fact: time, level, server, repeats, rooms.
    Fact(&'static str, String),
    Blank,
    /// A line of the entry's text.
    Text(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsView {
    /// The filter as typed, and parsed.
    filter: String,
    query: LogQuery,
    /// Set while the filter prompt is open: keys type into it.
    editing: bool,
    /// The selected entry; `None` follows the newest.
    selected: Option<u64>,
    /// Rows between the top of the list and the selected row, kept while the selection moves
    /// within the window so the list does not jump.
    rows_above: usize,
    detail: Option<EventDetail>,
    /// The `seq`s of the entries the filter keeps, oldest first; `None` without a filter.
    kept: Option<Vec<u64>>,
    /// The log's newest `seq` and the viewed `seq` at the last refresh: while neither moves,
    /// nothing the list shows has changed (most engine events add no entry).
    refreshed: Option<(u64, u64)>,
}

impl EventsView {
    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    #[must_use]
    pub(crate) fn query(&self) -> &LogQuery {
        &self.query
    }

    #[must_use]
    pub fn is_editing(&self) -> bool {
        self.editing
    }

    #[must_use]
    pub fn detail(&self) -> Option<EventDetail> {
        self.detail
    }

    /// Whether the list follows the newest entry.
    #[must_use]
    pub fn is_following(&self) -> bool {
        self.selected.is_none()
    }

    /// The entries the list shows (up to `seq`, those the filter keeps), oldest first.
    #[must_use]
    pub fn rows<'a>(&self, log: &'a EventLog, seq: u64) -> Vec<&'a LogEntry> {
        let entries = log.up_to(seq);
        match &self.kept {
            None => entries.collect(),
            Some(kept) => entries
                .filter(|entry| kept.binary_search(&entry.seq).is_ok())
                .collect(),
        }
    }

    /// After the log, the filter or the frozen view changed: which entries the filter keeps,
    /// and a selection that left the list moves to the oldest row.
    pub(crate) fn refresh(&mut self, log: &EventLog, seq: u64) {
        if self.refreshed == Some((log.seq(), seq)) {
            return;
        }
        self.refreshed = Some((log.seq(), seq));
        self.kept = (!self.query.is_empty()).then(|| {
            log.up_to(seq)
                .filter(|entry| self.query.matches(entry))
                .map(|entry| entry.seq)
                .collect()
        });
        if let Some(id) = self.selected {
            let rows = self.rows(log, seq);
            if !rows.iter().any(|entry| entry.id == id) {
                self.selected = rows.first().map(|entry| entry.id);
            }
        }
    }

    /// The rows of `rows` in a list `height` rows tall: the newest while following, else
    /// around the selection.
    #[must_use]
    pub fn window(&self, rows: &[&LogEntry], height: usize) -> Window {
        let len = rows.len();
        let height = height.max(1);
        let selected = match self.selected {
            None => len.saturating_sub(1),
            Some(id) => rows.iter().position(|entry| entry.id == id).unwrap_or(0),
        };
        let start = if self.is_following() {
            len.saturating_sub(height)
        } else {
            let above = self.rows_above.min(height - 1).min(selected);
            // No empty rows at the bottom while older ones are out of view.
            (selected - above).min(len.saturating_sub(height))
        };
        Window {
            start,
            end: (start + height).min(len),
            selected,
        }
    }

    /// Moves the selection `delta` rows (older is up); with the detail open, scrolls its text
    /// instead, within `detail_lines` lines.
    pub(crate) fn move_by(
        &mut self,
        log: &EventLog,
        seq: u64,
        delta: isize,
        height: usize,
        width: usize,
    ) {
        if let Some(detail) = &mut self.detail {
            let lines = log
                .find(detail.id, seq)
                .map_or(0, |entry| detail_lines(entry, width).len());
            let most = lines.saturating_sub(height);
            detail.scroll = detail.scroll.saturating_add_signed(delta).min(most);
            return;
        }
        let rows = self.rows(log, seq);
        if rows.is_empty() {
            self.selected = None;
            return;
        }
        let window = self.window(&rows, height);
        let target = window
            .selected
            .saturating_add_signed(delta)
            .min(rows.len() - 1);
        self.select(&rows, target, window.start, height);
    }

    /// A click on row `row` of the list (0 at the top): selects the entry there, or opens it
    /// when it was selected already.
    pub(crate) fn click(&mut self, log: &EventLog, seq: u64, row: usize, height: usize) {
        if self.detail.is_some() {
            return;
        }
        let rows = self.rows(log, seq);
        let window = self.window(&rows, height);
        let index = window.start + row;
        if index >= window.end {
            return;
        }
        if index == window.selected {
            self.detail = Some(EventDetail {
                id: rows[index].id,
                scroll: 0,
            });
        } else {
            self.select(&rows, index, window.start, height);
        }
    }

    fn select(&mut self, rows: &[&LogEntry], index: usize, start: usize, height: usize) {
        if index + 1 >= rows.len() {
            self.selected = None;
            return;
        }
        self.selected = Some(rows[index].id);
        self.rows_above = index.saturating_sub(start).min(height.max(1) - 1);
    }

    /// Opens the selected entry in the detail view.
    pub(crate) fn open(&mut self, log: &EventLog, seq: u64) {
        let rows = self.rows(log, seq);
        let window = self.window(&rows, 1);
        if let Some(entry) = rows.get(window.selected) {
            self.detail = Some(EventDetail {
                id: entry.id,
                scroll: 0,
            });
        }
    }

    /// `esc`: closes the detail view, else clears the filter, else follows the newest entry.
    pub(crate) fn back(&mut self, log: &EventLog, seq: u64) {
        if self.detail.take().is_some() {
            return;
        }
        if self.filter.is_empty() {
            self.selected = None;
        } else {
            self.set_filter(String::new(), log, seq);
        }
    }

    /// Opens the filter prompt (closing the detail view): keys type into it from now on.
    pub(crate) fn start_filter(&mut self) {
        self.detail = None;
        self.editing = true;
    }

    /// Closes the prompt, keeping the filter (`enter`).
    pub(crate) fn keep_filter(&mut self) {
        self.editing = false;
    }

    /// Closes the prompt and drops the filter (`esc`).
    pub(crate) fn drop_filter(&mut self, log: &EventLog, seq: u64) {
        self.editing = false;
        self.set_filter(String::new(), log, seq);
    }

    pub(crate) fn type_char(&mut self, c: char, log: &EventLog, seq: u64) {
        let mut text = self.filter.clone();
        text.push(c);
        self.set_filter(text, log, seq);
    }

    pub(crate) fn backspace(&mut self, log: &EventLog, seq: u64) {
        let mut text = self.filter.clone();
        text.pop();
        self.set_filter(text, log, seq);
    }

    /// A new filter applies at once; the list follows the newest entry it keeps.
    pub(crate) fn set_filter(&mut self, text: String, log: &EventLog, seq: u64) {
        self.query = LogQuery::parse(&text);
        self.filter = text;
        self.selected = None;
        self.refreshed = None;
        self.refresh(log, seq);
    }
}

/// What the detail view shows of `entry` in `width` columns: time, level, server, how often
/// and since when it repeated, its rooms, then the whole text with its line breaks kept,
/// wrapped at spaces.
#[must_use]
pub(crate) fn detail_lines(entry: &LogEntry, width: usize) -> Vec<DetailLine> {
    let mut lines = vec![
        DetailLine::Fact("time", format::clock(entry.at_ms)),
        DetailLine::Fact("level", entry.level.label().to_owned()),
        DetailLine::Fact(
            "server",
            entry.server.clone().unwrap_or_else(|| "—".to_owned()),
        ),
    ];
    if entry.count > 1 {
        lines.push(DetailLine::Fact(
            "repeats",
            format!(
                "{} times since {}",
                entry.count,
                format::clock(entry.first_at_ms)
            ),
        ));
    }
    if !entry.rooms.is_empty() {
        lines.push(DetailLine::Fact("rooms", entry.rooms.join(", ")));
    }
    lines.push(DetailLine::Blank);
    for line in entry.message().split('\n') {
        lines.extend(format::wrap(line, width).into_iter().map(DetailLine::Text));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::log::Level;

    fn log_of(count: usize) -> EventLog {
        let mut log = EventLog::default();
        for i in 0..count {
            log.push(0, Level::Info, None, format!("entry {i}"));
        }
        log
    }

    /// The window of `height` rows over every entry of `log`.
    fn window_over(view: &EventsView, log: &EventLog, height: usize) -> Window {
        let rows = view.rows(log, log.seq());
        view.window(&rows, height)
    }

    fn window(start: usize, end: usize, selected: usize) -> Window {
        Window {
            start,
            end,
            selected,
        }
    }

    fn selected_text(view: &EventsView, log: &EventLog, height: usize) -> String {
        let rows = view.rows(log, log.seq());
        rows[view.window(&rows, height).selected].text()
    }

    #[test]
    fn the_list_follows_the_newest_until_the_selection_moves_up() {
        let mut log = log_of(30);
        let mut view = EventsView::default();
        assert_eq!(window_over(&view, &log, 10), window(20, 30, 29));
        view.move_by(&log, log.seq(), -3, 10, 80);
        assert!(!view.is_following());
        assert_eq!(selected_text(&view, &log, 10), "entry 26");
        // New entries arrive: the selection stays on its entry and the window stays put.
        log.push(0, Level::Info, None, "entry 30".into());
        assert_eq!(window_over(&view, &log, 10), window(20, 30, 26));
        // Down onto the newest row: following again.
        view.move_by(&log, log.seq(), 100, 10, 80);
        assert!(view.is_following());
        view.move_by(&log, log.seq(), isize::MIN / 2, 10, 80);
        assert_eq!(selected_text(&view, &log, 10), "entry 0");
        assert_eq!(window_over(&view, &log, 10).start, 0);
    }

    #[test]
    fn the_window_scrolls_only_when_the_selection_leaves_it() {
        let log = log_of(30);
        let mut view = EventsView::default();
        view.move_by(&log, log.seq(), -9, 10, 80);
        assert_eq!(window_over(&view, &log, 10).start, 20, "still in view");
        view.move_by(&log, log.seq(), -1, 10, 80);
        assert_eq!(window_over(&view, &log, 10), window(19, 29, 19));
    }

    #[test]
    fn the_filter_keeps_matching_entries_and_esc_clears_it() {
        let log = log_of(30);
        let mut view = EventsView::default();
        view.start_filter();
        for c in "entry 1".chars() {
            view.type_char(c, &log, log.seq());
        }
        assert!(view.is_editing());
        let rows: Vec<String> = view
            .rows(&log, log.seq())
            .iter()
            .map(|e| e.text())
            .collect();
        assert_eq!(rows.len(), 12, "entries 1, 10 to 19 and 21: {rows:?}");
        view.keep_filter();
        assert!(!view.is_editing());
        assert_eq!(view.filter(), "entry 1");
        view.back(&log, log.seq());
        assert_eq!(view.filter(), "");
        assert_eq!(view.rows(&log, log.seq()).len(), 30);
    }

    #[test]
    fn a_selection_the_ring_dropped_moves_to_the_oldest_row() {
        let mut log = log_of(crate::tui::log::LOG_CAPACITY);
        let mut view = EventsView::default();
        view.move_by(&log, log.seq(), isize::MIN / 2, 10, 80);
        assert_eq!(selected_text(&view, &log, 10), "entry 0");
        log.push(0, Level::Info, None, "newer".into());
        view.refresh(&log, log.seq());
        assert_eq!(selected_text(&view, &log, 10), "entry 1");
        assert!(!view.is_following());
    }

    #[test]
    fn the_detail_view_opens_on_the_selection_and_scrolls_its_text() {
        let mut log = log_of(3);
        log.push(
            0,
            Level::Error,
            Some("eu"),
            "configuration rejected: 2 problems:\nfirst problem\nsecond problem".into(),
        );
        let mut view = EventsView::default();
        view.open(&log, log.seq());
        let detail = view.detail().unwrap();
        let entry = log.find(detail.id, log.seq()).unwrap();
        let lines = detail_lines(entry, 20);
        assert_eq!(
            lines[..4],
            [
                DetailLine::Fact("time", "00:00:00".into()),
                DetailLine::Fact("level", "error".into()),
                DetailLine::Fact("server", "eu".into()),
                DetailLine::Blank,
            ]
        );
        assert_eq!(
            lines[4..],
            [
                DetailLine::Text("configuration".into()),
                DetailLine::Text("rejected: 2".into()),
                DetailLine::Text("problems:".into()),
                DetailLine::Text("first problem".into()),
                DetailLine::Text("second problem".into()),
            ]
        );
        // Moving scrolls the text, at most until its end is in view.
        view.move_by(&log, log.seq(), 100, 5, 20);
        assert_eq!(view.detail().unwrap().scroll, lines.len() - 5);
        view.back(&log, log.seq());
        assert_eq!(view.detail(), None);
    }

    #[test]
    fn a_click_selects_and_a_second_click_opens() {
        let log = log_of(30);
        let mut view = EventsView::default();
        view.click(&log, log.seq(), 2, 10);
        assert_eq!(selected_text(&view, &log, 10), "entry 22");
        assert_eq!(view.detail(), None);
        view.click(&log, log.seq(), 2, 10);
        assert!(view.detail().is_some());
    }
}
