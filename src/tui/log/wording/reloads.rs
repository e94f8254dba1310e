//! Configuration reloads: what a reload changed and could not apply, or why it was rejected.

use std::fmt::Write as _;

use crate::events::ReplacedLimits;
use crate::tui::log::note::{CollapseKey, Level, Note};
use crate::tui::render::format;

/// What a reload changed, one change a line, then what it could not apply.
pub(super) fn config_applied(
    source: &str,
    changes: &[String],
    limits_replaced: Option<&ReplacedLimits>,
    needs_restart: &[String],
) -> Note {
    let mut detail = String::new();
    if !changes.is_empty() {
        let what = if changes.len() == 1 {
            "change"
        } else {
            "changes"
        };
        let _ = write!(detail, ": {} {what}", changes.len());
        for change in changes {
            let _ = write!(detail, "\n{change}");
        }
    }
    if let Some(replaced) = limits_replaced {
        let _ = write!(
            detail,
            "\nthe room limits set in the dashboard at {} were replaced by the file's",
            format::clock(replaced.set_at_ms)
        );
    }
    if !needs_restart.is_empty() {
        let _ = write!(
            detail,
            "\nrestart lktop to apply the changed {}",
            needs_restart.join(", ")
        );
    }
    let level = if needs_restart.is_empty() && limits_replaced.is_none() {
        Level::Info
    } else {
        Level::Warn
    };
    Note::new(level, None, format!("configuration applied from {source}")).detail(detail)
}

/// The whole error, line breaks and all (the detail view shows every line).
pub(super) fn config_rejected(error: &str) -> Note {
    Note::new(Level::Error, None, "configuration rejected")
        .detail(format!(": {error}"))
        .collapsing(CollapseKey::ConfigRejected {
            error: error.to_owned(),
        })
}
