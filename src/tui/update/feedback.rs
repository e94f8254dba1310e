//! What the operator is told: a line in the event log, a message in the footer for a while,
//! and the outcomes of the work the event loop did for them (a command sent or refused, a demo
//! fault injected).

use crate::events::{Command, EngineEvent, EventKind};
use crate::tui::action::DemoFault;
use crate::tui::app::{App, Flash};
use crate::tui::log::{Level, describe_command, describe_command_outcome};

use super::events_screen::refresh_events;

/// How long a footer message stays.
const FLASH_MS: i64 = 4000;

pub(super) fn log(app: &mut App, level: Level, text: &str) {
    let at = app.clock_ms();
    app.log.push(at, level, None, text.to_owned());
    app.live.log_seq = app.log.seq();
    refresh_events(app);
}

pub(super) fn flash(app: &mut App, text: String, error: bool) {
    app.flash = Some(Flash {
        text,
        error,
        until_ms: app.now_ms + FLASH_MS,
    });
}

/// A command's outcome shows in the footer as well as in the log, in the same words.
pub(super) fn flash_outcome(app: &mut App, event: &EngineEvent) {
    if let EventKind::Command {
        id,
        command,
        outcome,
    } = &event.kind
    {
        let (level, text) = describe_command_outcome(*id, command, outcome);
        flash(app, text, level == Level::Error);
    }
}

/// The footer's message goes once its time is up.
pub(super) fn expire_flash(app: &mut App, now_ms: i64) {
    if app
        .flash
        .as_ref()
        .is_some_and(|flash| flash.until_ms <= now_ms)
    {
        app.flash = None;
    }
}

/// A command on its way to the engine: `sent · #3 delete room x`.
pub(super) fn command_queued(app: &mut App, id: u64, command: &Command) {
    let text = format!("sent · #{id} {}", describe_command(command));
    log(app, Level::Action, &text);
    flash(app, text, false);
}

/// A command the engine could not take: `not sent · delete room x · reason`.
pub(super) fn command_refused(app: &mut App, command: &Command, reason: &str) {
    let text = format!("not sent · {} · {reason}", describe_command(command));
    log(app, Level::Error, &text);
    flash(app, text, true);
}

/// A demo fault injected, or why not.
pub(super) fn fault_injected(app: &mut App, fault: DemoFault, result: Result<String, String>) {
    match result {
        // The sandbox's own `sandbox_fault` events put its beginning and end in the log; the
        // outcome goes to the status line only.
        Ok(detail) => flash(
            app,
            format!("demo · {} · {detail}", fault.describe()),
            false,
        ),
        Err(reason) => {
            let text = format!("failed · demo: {} · {reason}", fault.describe());
            log(app, Level::Error, &text);
            flash(app, text, true);
        }
    }
}
