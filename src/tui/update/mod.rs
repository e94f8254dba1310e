//! `update`: the only function that changes the dashboard's state. It reads nothing but its
//! arguments (the time comes in with `Tick` and engine events) and returns what the event loop
//! must do, so every action is unit-tested without a terminal, an engine or a clock.
//!
//! Here the dispatch of each [`Action`]; what they do is in `keys` (where a key press goes and
//! what each bound key does), `mouse`, `popups`, `typing` (text and the rooms filter),
//! `events_screen`, `navigation` (screens, selection, cursors), `list_area` (where a list's
//! rows are drawn), `view` (freezing and sorting),
//! `commands` (the keys that change something on a server), `replay` and `feedback` (the log
//! and the footer).

mod commands;
mod events_screen;
mod feedback;
mod keys;
mod list_area;
mod mouse;
mod navigation;
mod popups;
mod replay;
mod typing;
mod view;

use crate::signals::Signal;

use super::action::{Action, Effect};
use super::app::App;
use feedback::{command_queued, command_refused, expire_flash, fault_injected, flash_outcome};
use keys::on_key;
use mouse::on_mouse;
use navigation::clamp_cursors;
pub(crate) use navigation::tab_keys;
use replay::{replay_finished, replay_problem};
use typing::paste;

/// Applies `action` to `app` and returns what the event loop must do.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => return on_key(app, key),
        Action::Mouse(mouse) => {
            if !app.too_small() {
                on_mouse(app, mouse);
            }
        }
        Action::Paste(text) => {
            if !app.too_small() {
                paste(app, &text);
            }
        }
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            clamp_cursors(app);
        }
        Action::Tick { now_ms } => {
            app.now_ms = now_ms;
            expire_flash(app, now_ms);
        }
        Action::Engine(event) => {
            flash_outcome(app, &event);
            app.absorb(*event);
            clamp_cursors(app);
        }
        Action::CommandQueued { id, command } => command_queued(app, id, &command),
        Action::CommandRefused { command, reason } => command_refused(app, &command, &reason),
        Action::FaultInjected { fault, result } => fault_injected(app, fault, result),
        Action::ReplayFinished { events } => replay_finished(app, events),
        Action::ReplayProblem { line, message } => replay_problem(app, line, &message),
        Action::Signal(signal) => return on_signal(app, signal),
    }
    Vec::new()
}

/// A signal: stop signals quit (the exit status names the signal), SIGTSTP suspends, SIGCONT
/// redraws.
fn on_signal(app: &mut App, signal: Signal) -> Vec<Effect> {
    match signal {
        Signal::Suspend => vec![Effect::Suspend],
        Signal::Continue => vec![Effect::Redraw],
        Signal::Interrupt | Signal::Terminate | Signal::Hangup => {
            app.stopped_by = Some(signal);
            app.should_quit = true;
            vec![Effect::Quit]
        }
    }
}
