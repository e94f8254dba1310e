//! What can happen to the dashboard ([`Action`]) and what it asks the outside world to do in
//! return ([`Effect`]). `update` turns one into the other without touching anything else.

use std::time::Duration;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::events::{Command, EngineEvent};
pub use crate::session::DemoFault;
use crate::signals::Signal;

#[derive(Debug, Clone)]
pub enum Action {
    /// A key press, resolved through the key map (or typed into an open prompt).
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Text pasted into the terminal (bracketed paste), typed into an open prompt.
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The heartbeat: the time moves on (countdowns, ages, the clock).
    Tick {
        now_ms: i64,
    },
    Engine(Box<EngineEvent>),
    /// The engine accepted a command; its outcome arrives later as an engine event.
    CommandQueued {
        id: u64,
        command: Command,
    },
    /// The engine could not take the command at all.
    CommandRefused {
        command: Command,
        reason: String,
    },
    /// A demo fault was injected into the built-in sandbox, or could not be.
    FaultInjected {
        fault: DemoFault,
        result: Result<String, String>,
    },
    /// The replay reached the end of the recording.
    ReplayFinished {
        events: u64,
    },
    /// A line of the recording could not be read; playback goes on.
    ReplayProblem {
        line: u64,
        message: String,
    },
    /// A process signal: a stop signal quits, SIGTSTP suspends, SIGCONT redraws.
    Signal(Signal),
}

impl Action {
    /// What the user did (or the terminal or a signal said), as opposed to data arriving.
    #[must_use]
    pub(crate) fn is_input(&self) -> bool {
        matches!(
            self,
            Self::Key(_) | Self::Mouse(_) | Self::Paste(_) | Self::Resize { .. } | Self::Signal(_)
        )
    }
}

/// Playback controls of a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayControl {
    Pause,
    Resume,
    /// Recording seconds per real second from now on.
    SetSpeed(f64),
    /// Jump ahead in recording time; the skipped events are still folded in, at once.
    Skip(Duration),
}

/// What `update` asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    Fault(DemoFault),
    Replay(ReplayControl),
    Quit,
    /// Give the terminal back, stop until `fg`, take it again and draw everything.
    Suspend,
    /// Draw every cell again (the terminal's content is unknown, e.g. after a SIGCONT).
    Redraw,
}
