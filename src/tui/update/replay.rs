//! Playing a recording: pausing (or, live, pausing the polls), the speed, skipping ahead,
//! and the player's news (finished, a line it skipped).

use std::time::Duration;

use crate::events::Command;
use crate::record::MAX_SPEED;
use crate::tui::action::{Effect, ReplayControl};
use crate::tui::app::{App, Mode};
use crate::tui::log::Level;

use super::feedback::{flash, log};

/// How far the skip key jumps ahead in a recording.
const REPLAY_SKIP: Duration = Duration::from_secs(10);
/// The slowest replay the speed keys reach; the fastest is the player's own limit.
const MIN_REPLAY_SPEED: f64 = 1.0 / 16.0;

pub(super) fn pause(app: &mut App) -> Vec<Effect> {
    match &mut app.mode {
        Mode::Replay { paused, .. } => {
            *paused = !*paused;
            let control = if *paused {
                ReplayControl::Pause
            } else {
                ReplayControl::Resume
            };
            vec![Effect::Replay(control)]
        }
        Mode::Live { .. } => vec![Effect::Send(Command::SetPolling {
            paused: !app.polling_paused,
        })],
    }
}

/// Multiplies the replay's speed by `factor`, within what the player accepts.
pub(super) fn change_replay_speed(app: &mut App, factor: f64) -> Vec<Effect> {
    let Mode::Replay { speed, .. } = &mut app.mode else {
        return Vec::new();
    };
    let (at_limit, limit) = if factor > 1.0 {
        (*speed >= MAX_SPEED, "fastest")
    } else {
        (*speed <= MIN_REPLAY_SPEED, "slowest")
    };
    if at_limit {
        flash(app, format!("replay: already at the {limit} speed"), true);
        return Vec::new();
    }
    let changed = (*speed * factor).clamp(MIN_REPLAY_SPEED, MAX_SPEED);
    *speed = changed;
    flash(app, format!("replay speed ×{changed}"), false);
    vec![Effect::Replay(ReplayControl::SetSpeed(changed))]
}

/// In a replay, jumps [`REPLAY_SKIP`] ahead (`→` by default).
pub(super) fn skip_ahead(app: &mut App) -> Vec<Effect> {
    if !app.mode.is_replay() {
        return Vec::new();
    }
    flash(
        app,
        format!("skipped {} s ahead", REPLAY_SKIP.as_secs()),
        false,
    );
    vec![Effect::Replay(ReplayControl::Skip(REPLAY_SKIP))]
}

/// The recording played to its end.
pub(super) fn replay_finished(app: &mut App, events: u64) {
    if let Mode::Replay { finished, .. } = &mut app.mode {
        *finished = true;
    }
    log(
        app,
        Level::Info,
        &format!("replay finished after {events} events"),
    );
}

/// A line of the recording the player could not use, and skipped.
pub(super) fn replay_problem(app: &mut App, line: u64, message: &str) {
    let file = match &app.mode {
        Mode::Replay { file, .. } => file.clone(),
        Mode::Live { .. } => "recording".to_owned(),
    };
    log(
        app,
        Level::Warn,
        &format!("{file}:{line}: skipped: {message}"),
    );
}
