//! How the data is shown: frozen or live, and the order of the rooms table.

use crate::tui::app::App;

use super::feedback::flash;
use super::navigation::clamp_cursors;

/// Freezes the view on a copy of the data, which keeps arriving underneath, or thaws it (`f`
/// by default).
pub(super) fn toggle_freeze(app: &mut App) {
    if app.frozen.take().is_none() {
        let mut frozen = app.live.clone();
        frozen.at_ms = app.clock_ms();
        app.log.hold(Some(frozen.log_seq));
        app.frozen = Some(Box::new(frozen));
        flash(
            app,
            "frozen: data keeps arriving underneath; f to thaw".into(),
            false,
        );
    } else {
        app.log.hold(None);
        app.reorder_rooms();
        clamp_cursors(app);
    }
}

/// The rooms table sorted by the next column, in that column's natural direction (`o` by
/// default).
pub(super) fn next_sort(app: &mut App) {
    app.rooms.sort = app.rooms.sort.next();
    app.rooms.descending = app.rooms.sort.default_descending();
    app.reorder_rooms();
}

/// The rooms table in the other direction (`O` by default).
pub(super) fn reverse_sort(app: &mut App) {
    app.rooms.descending = !app.rooms.descending;
    app.reorder_rooms();
}
