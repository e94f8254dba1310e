//! The operator's commands: a command in a few words, and its outcome, in the log and in the
//! footer alike.

use crate::events::{Command, Outcome};
use crate::tui::log::note::{Level, Note};

pub(super) fn command_outcome(id: u64, command: &Command, outcome: &Outcome) -> Note {
    let (level, text) = describe_command_outcome(id, command, outcome);
    let note = Note::new(level, command_server(command), text);
    match command_room(command) {
        Some(room) => note.about(room),
        None => note,
    }
}

/// The log line and level of a command's outcome: `done · #3 delete room x · detail`. The
/// footer shows the same words.
#[must_use]
pub(crate) fn describe_command_outcome(
    id: u64,
    command: &Command,
    outcome: &Outcome,
) -> (Level, String) {
    let what = format!("#{id} {}", describe_command(command));
    match outcome {
        Outcome::Done { detail } if detail.is_empty() => (Level::Action, format!("done · {what}")),
        Outcome::Done { detail } => (Level::Action, format!("done · {what} · {detail}")),
        Outcome::Failed { reason } => (Level::Error, format!("failed · {what} · {reason}")),
    }
}

/// A command in a few words, for the log and the footer.
#[must_use]
pub(crate) fn describe_command(command: &Command) -> String {
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
        Command::StopEgress { egress_id, .. } => format!("stop egress {egress_id}"),
        Command::CreateDispatch {
            room, agent_name, ..
        } => format!("dispatch agent {agent_name} to {room}"),
        Command::DeleteDispatch {
            room, dispatch_id, ..
        } => format!("delete dispatch {dispatch_id} from {room}"),
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
        | Command::StopEgress { server, .. }
        | Command::CreateDispatch { server, .. }
        | Command::DeleteDispatch { server, .. }
        | Command::RetryNow { server } => Some(server),
        Command::SetLimits { .. } | Command::ReloadConfig | Command::SetPolling { .. } => None,
    }
}

fn command_room(command: &Command) -> Option<&str> {
    match command {
        Command::CreateRoom { room, .. }
        | Command::DeleteRoom { room, .. }
        | Command::ApplyAudioProfile { room, .. }
        | Command::RemoveParticipant { room, .. }
        | Command::MuteTrack { room, .. }
        | Command::CreateDispatch { room, .. }
        | Command::DeleteDispatch { room, .. } => Some(room),
        Command::SetLimits { .. }
        | Command::StopEgress { .. }
        | Command::ReloadConfig
        | Command::RetryNow { .. }
        | Command::SetPolling { .. } => None,
    }
}
