//! What can happen to the dashboard ([`Action`]) and what it asks the outside world to do in
//! return ([`Effect`]). `update` turns one into the other without touching anything else.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::events::{Command, EngineEvent};

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
    /// Recording to the file stopped.
    RecordingFailed {
        reason: String,
    },
}

/// Faults the demo keys inject into the built-in sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFault {
    /// Every answer 300–500 ms late for 20 s.
    LatencySpike,
    /// Half the requests answered `unavailable` for 15 s.
    ErrorBurst,
    /// The server goes away for 5 s and comes back with its rooms.
    Restart,
    /// Every request fault off.
    Clear,
}

impl DemoFault {
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::LatencySpike => "latency spike: +300–500 ms for 20 s",
            Self::ErrorBurst => "error burst: 50 % unavailable for 15 s",
            Self::Restart => "server restart: down for 5 s, rooms kept",
            Self::Clear => "faults cleared",
        }
    }
}

/// Playback controls of a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplayControl {
    Pause,
    Resume,
}

/// What `update` asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    Fault(DemoFault),
    Replay(ReplayControl),
    Quit,
}
