//! The event log: what happened, in an operator's words, with timestamps. A fixed-capacity
//! ring, so a long session never grows memory.

use std::collections::VecDeque;
use std::fmt::Write as _;

use std::time::Duration;

use crate::events::{Command, EngineEvent, EventKind, Outcome, ServerState};
use crate::limits::{Enforcement, Violation};
use crate::pool::PoolEvent;
use crate::reconnect::ConnectionState;
use crate::snapshot::RoomChange;

/// Entries kept; older ones are dropped.
pub const LOG_CAPACITY: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    /// Something the user did, or its outcome.
    Action,
    Warn,
    Error,
}

impl Level {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Action => "action",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Increases by one per entry over the whole session.
    pub seq: u64,
    pub at_ms: i64,
    pub level: Level,
    pub server: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLog {
    entries: VecDeque<LogEntry>,
    seq: u64,
}

impl EventLog {
    /// The sequence number of the newest entry (0 before the first).
    #[must_use]
    pub fn seq(&self) -> u64 {
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
    /// last.
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
        self.entries.range(..self.entries.len() - hidden)
    }

    pub fn push(&mut self, at_ms: i64, level: Level, server: Option<&str>, text: String) {
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.seq += 1;
        self.entries.push_back(LogEntry {
            seq: self.seq,
            at_ms,
            level,
            server: server.map(str::to_owned),
            text,
        });
    }

    /// Adds the entries an engine event deserves (none for routine statuses and snapshots).
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per event kind: a flat dispatch"
    )]
    pub fn record(&mut self, event: &EngineEvent) {
        let at = event.at_ms;
        match &event.kind {
            EventKind::Started {
                servers, sandbox, ..
            } => {
                let text = match sandbox {
                    Some(url) => format!("watching the built-in sandbox at {url}"),
                    None => format!("watching {}", servers.join(", ")),
                };
                self.push(at, Level::Info, None, text);
            }
            EventKind::Pool { event } => self.record_pool(at, event),
            EventKind::RoomChanges { server, changes } => {
                self.record_changes(at, server, changes);
            }
            EventKind::PollFailed { server, error } => {
                self.push(
                    at,
                    Level::Error,
                    Some(server),
                    format!("poll failed: {error}"),
                );
            }
            EventKind::Violations { server, violations } => {
                self.record_violations(at, server, violations);
            }
            EventKind::Enforced {
                server,
                action,
                outcome,
            } => self.record_enforced(at, server, action, outcome),
            EventKind::Command {
                id,
                command,
                outcome,
            } => {
                let what = format!("#{id} {}", describe_command(command));
                let (level, text) = describe_outcome(&what, outcome);
                self.push(at, level, command_server(command), text);
            }
            EventKind::ConfigApplied {
                source,
                needs_restart,
                ..
            } => {
                let text = format!(
                    "configuration applied from {source}{}",
                    crate::engine::restart_hint(needs_restart)
                );
                let level = if needs_restart.is_empty() {
                    Level::Info
                } else {
                    Level::Warn
                };
                self.push(at, level, None, text);
            }
            EventKind::ConfigRejected { error } => {
                self.push(
                    at,
                    Level::Error,
                    None,
                    format!("configuration rejected: {error}"),
                );
            }
            EventKind::EventsDropped { count } => {
                self.push(
                    at,
                    Level::Warn,
                    None,
                    format!("{count} events dropped while the dashboard was busy; the next statuses carry the full state"),
                );
            }
            EventKind::ServerState {
                server,
                state,
                cause,
                down_for_ms,
            } => {
                let mut text = format!("server {state}");
                if let Some(ms) = down_for_ms {
                    let _ = write!(
                        text,
                        " after {:.0} s",
                        Duration::from_millis(*ms).as_secs_f64()
                    );
                }
                if let Some(cause) = cause {
                    let _ = write!(text, ": {cause}");
                }
                let level = if *state == ServerState::Up {
                    Level::Info
                } else {
                    Level::Error
                };
                self.push(at, level, Some(server), text);
            }
            EventKind::EnforcementHeld {
                server,
                action,
                removals,
                ..
            } => {
                let text = format!("enforce: held back after {removals} removals: {action:?}");
                self.push(at, Level::Warn, Some(server), text);
            }
            EventKind::SandboxFault {
                id,
                phase,
                description,
                detail,
                ..
            } => {
                let text = format!(
                    "sandbox fault #{id} {phase:?}: {description}{}",
                    detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                );
                self.push(at, Level::Warn, None, text);
            }
            EventKind::RecordingStopped {
                path,
                events,
                reason,
            } => {
                let text = format!("recording to {path} stopped after {events} events: {reason}");
                self.push(at, Level::Error, None, text);
            }
            EventKind::Quality { .. }
            | EventKind::PoolStatus { .. }
            | EventKind::Snapshot { .. } => {}
        }
    }

    fn record_violations(&mut self, at: i64, server: &str, violations: &[Violation]) {
        if violations.is_empty() {
            self.push(
                at,
                Level::Info,
                Some(server),
                "every room is within its limits".into(),
            );
            return;
        }
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        let text = format!(
            "{} limit{} exceeded: {}",
            violations.len(),
            if violations.len() == 1 { "" } else { "s" },
            list.join("; ")
        );
        self.push(at, Level::Warn, Some(server), text);
    }

    fn record_enforced(&mut self, at: i64, server: &str, action: &Enforcement, outcome: &Outcome) {
        let what = match action {
            Enforcement::MuteTrack {
                room,
                identity,
                track_sid,
                reason,
                ..
            } => format!("enforce: mute {track_sid} of {identity} in {room} ({reason})"),
            Enforcement::RemoveParticipant {
                room,
                identity,
                reason,
            } => format!("enforce: remove {identity} from {room} ({reason})"),
        };
        let (level, text) = describe_outcome(&what, outcome);
        self.push(at, level, Some(server), text);
    }

    fn record_pool(&mut self, at: i64, event: &PoolEvent) {
        match event {
            PoolEvent::StateChanged { server, change } => {
                let level = match change.to {
                    ConnectionState::Failed => Level::Error,
                    ConnectionState::Reconnecting => Level::Warn,
                    _ => Level::Info,
                };
                let mut text = format!("{} {} → {}", change.connection, change.from, change.to);
                // The retry schedule before the cause: causes can be long and get cut.
                match (change.attempt, change.next_retry_in) {
                    (Some(attempt), Some(delay)) => {
                        let _ = write!(text, " (attempt {attempt} in {:.1}s)", delay.as_secs_f64());
                    }
                    (None, Some(delay)) => {
                        let _ = write!(text, " (next try in {:.1}s)", delay.as_secs_f64());
                    }
                    _ => {}
                }
                if !change.cause.is_empty() {
                    text.push_str(": ");
                    text.push_str(&change.cause);
                }
                self.push(at, level, Some(server), text);
            }
            PoolEvent::Grew {
                server,
                connection,
                total,
            } => {
                self.push(
                    at,
                    Level::Info,
                    Some(server),
                    format!("pool grew to {total} ({connection} opened under load)"),
                );
            }
            PoolEvent::Shrank {
                server,
                connection,
                total,
                idle_for,
            } => {
                self.push(
                    at,
                    Level::Info,
                    Some(server),
                    format!(
                        "pool shrank to {total} ({connection} idle for {}s)",
                        idle_for.as_secs()
                    ),
                );
            }
            PoolEvent::Unauthenticated { server, reason } => {
                self.push(
                    at,
                    Level::Error,
                    Some(server),
                    format!("credentials rejected: {reason}"),
                );
            }
            PoolEvent::Authenticated { server } => {
                self.push(
                    at,
                    Level::Info,
                    Some(server),
                    "credentials accepted again".into(),
                );
            }
        }
    }

    /// Rooms opening and closing get a line each; the participant and track churn of one
    /// poll is summed up in one line so a busy server does not bury everything else.
    fn record_changes(&mut self, at: i64, server: &str, changes: &[RoomChange]) {
        let mut counts = [0_usize; 6];
        for change in changes {
            match change {
                RoomChange::RoomStarted { room } => {
                    self.push(
                        at,
                        Level::Info,
                        Some(server),
                        format!("room {room} started"),
                    );
                }
                RoomChange::RoomFinished { room } => {
                    self.push(
                        at,
                        Level::Info,
                        Some(server),
                        format!("room {room} finished"),
                    );
                }
                RoomChange::ParticipantJoined { .. } => counts[0] += 1,
                RoomChange::ParticipantLeft { .. } => counts[1] += 1,
                RoomChange::TrackPublished { .. } => counts[2] += 1,
                RoomChange::TrackUnpublished { .. } => counts[3] += 1,
                RoomChange::TrackMuted { .. } => counts[4] += 1,
                RoomChange::TrackUnmuted { .. } => counts[5] += 1,
            }
        }
        let names = [
            "joined",
            "left",
            "published",
            "unpublished",
            "muted",
            "unmuted",
        ];
        let parts: Vec<String> = counts
            .iter()
            .zip(names)
            .filter(|(count, _)| **count > 0)
            .map(|(count, name)| format!("{count} {name}"))
            .collect();
        if !parts.is_empty() {
            self.push(
                at,
                Level::Info,
                Some(server),
                format!("participants: {}", parts.join(", ")),
            );
        }
    }
}

fn describe_outcome(what: &str, outcome: &Outcome) -> (Level, String) {
    match outcome {
        Outcome::Done { detail } => (Level::Action, format!("done · {what} · {detail}")),
        Outcome::Failed { reason } => (Level::Error, format!("failed · {what} · {reason}")),
    }
}

/// A command in a few words, for the log and the footer.
#[must_use]
pub fn describe_command(command: &Command) -> String {
    match command {
        Command::CreateRoom { room, .. } => format!("create room {room}"),
        Command::DeleteRoom { room, .. } => format!("delete room {room}"),
        Command::SetLimits { limits } => format!(
            "set limits: rooms {}, participants {}, audio {}, video {}, {}, {} room overrides",
            limits.max_concurrent_rooms,
            limits.max_participants_per_room,
            limits.max_audio_tracks_per_room,
            limits.max_video_tracks_per_room,
            limits.enforcement.as_str(),
            limits.overrides.len()
        ),
        Command::ApplyAudioProfile {
            room,
            profile: Some(_),
            ..
        } => {
            format!("apply audio profile to {room}")
        }
        Command::ApplyAudioProfile {
            room,
            profile: None,
            ..
        } => {
            format!("apply the default audio profile to {room}")
        }
        Command::RemoveParticipant { room, identity, .. } => {
            format!("remove {identity} from {room}")
        }
        Command::MuteTrack {
            room,
            identity,
            track_sid,
            muted,
            ..
        } => format!(
            "{} {track_sid} of {identity} in {room}",
            if *muted { "mute" } else { "unmute" }
        ),
        Command::ReloadConfig => "reload configuration".to_owned(),
        Command::RetryNow { server } => format!("retry {server} now"),
        Command::SetPolling { paused: true } => "pause polling".to_owned(),
        Command::SetPolling { paused: false } => "resume polling".to_owned(),
    }
}

fn command_server(command: &Command) -> Option<&str> {
    match command {
        Command::CreateRoom { server, .. }
        | Command::DeleteRoom { server, .. }
        | Command::ApplyAudioProfile { server, .. }
        | Command::RemoveParticipant { server, .. }
        | Command::MuteTrack { server, .. }
        | Command::RetryNow { server } => Some(server),
        Command::SetLimits { .. } | Command::ReloadConfig | Command::SetPolling { .. } => None,
    }
}
