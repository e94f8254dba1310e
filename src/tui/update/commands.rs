//! Keys that change something on a server: the editors and confirmations they open, and the
//! commands they send. A replay is read-only, so each refuses there.

use crate::events::Command;
use crate::tui::action::Effect;
use crate::tui::app::{App, DetailRow};
use crate::tui::popup::{
    AudioEditor, Confirm, InputPurpose, LimitsEditor, LimitsScope, Popup, TextInput,
};
use crate::tui::screen::Screen;

use super::feedback::flash;

pub(super) fn refuse_in_replay(app: &mut App) -> bool {
    if app.mode.is_replay() {
        flash(
            app,
            "replay: read-only, nothing can be changed".into(),
            true,
        );
        return true;
    }
    false
}

pub(super) fn send(app: &mut App, command: Command) -> Vec<Effect> {
    if refuse_in_replay(app) {
        return Vec::new();
    }
    vec![Effect::Send(command)]
}

/// The editor of the limits every room has (`L` by default).
pub(super) fn edit_global_limits(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    app.popup = Some(Popup::Limits(LimitsEditor::new(
        LimitsScope::Global,
        app.live.limits.clone(),
    )));
}

/// The selected server's reconnecting connections try again now (`r` by default).
pub(super) fn retry_now(app: &mut App) -> Vec<Effect> {
    match selected_server_name(app) {
        Some(server) => send(app, Command::RetryNow { server }),
        None => Vec::new(),
    }
}

/// The prompt for a new room's name (`n` by default).
pub(super) fn ask_room_name(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if let Some(server) = selected_server_name(app) {
        app.popup = Some(Popup::Input(TextInput {
            title: format!("New room on {server}"),
            server,
            value: String::new(),
            purpose: InputPurpose::NewRoom,
        }));
    }
}

/// Deleting a room asks first, saying what is lost (`d` by default).
pub(super) fn confirm_delete_room(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if let Some((server, room)) = target_room(app) {
        let known = app
            .server()
            .and_then(|s| s.snapshot.as_ref())
            .and_then(|s| s.rooms.get(&room));
        let participants = known.map_or(0, |r| r.num_participants);
        let sid = known.map(|r| format!(" ({})", r.sid)).unwrap_or_default();
        app.popup = Some(Popup::Confirm(Confirm {
            title: "Delete room".into(),
            message: format!(
                "Delete room {room}{sid} on {server}? Its {participants} participant{} \
                 {} disconnected at once and its metadata (the audio profile with it) is \
                 lost; anyone who joins again gets a new, empty room.",
                if participants == 1 { "" } else { "s" },
                if participants == 1 { "is" } else { "are" },
            ),
            command: Command::DeleteRoom { server, room },
        }));
    }
}

/// The editor of the target room's own limits (`l` by default).
pub(super) fn edit_room_limits(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if let Some((_, room)) = target_room(app) {
        app.popup = Some(Popup::Limits(LimitsEditor::new(
            LimitsScope::Room(room),
            app.live.limits.clone(),
        )));
    }
}

/// The editor of the target room's audio profile, from what its metadata holds (`a` by
/// default).
pub(super) fn edit_audio_profile(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if let Some((server, room)) = target_room(app) {
        let metadata = app
            .server()
            .and_then(|s| s.snapshot.as_ref())
            .and_then(|s| s.rooms.get(&room))
            .map(|r| r.metadata.clone())
            .unwrap_or_default();
        let default = app.live.audio_default;
        app.popup = Some(Popup::Audio(AudioEditor::new(
            server, room, &metadata, default,
        )));
    }
}

/// Removing the selected participant, stopping the selected egress job or deleting the
/// selected agent dispatch asks first, naming it (`x` by default).
pub(super) fn confirm_remove_participant(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if let Some(confirm) = confirm_on_job_row(app) {
        app.popup = Some(Popup::Confirm(confirm));
        return;
    }
    if let Some((server, room, identity, _)) = selected_in_detail(app) {
        app.popup = Some(Popup::Confirm(Confirm {
            title: "Remove participant".into(),
            message: format!(
                "Remove {identity} from room {room} on {server}? They are disconnected \
                 at once; their tracks end. A client with a valid token can join again."
            ),
            command: Command::RemoveParticipant {
                server,
                room,
                identity,
            },
        }));
    }
}

/// The confirmation for the job row under the cursor: stop an egress that runs, delete a
/// dispatch; a flash for a row that offers neither.
fn confirm_on_job_row(app: &mut App) -> Option<Confirm> {
    if app.screen != Screen::RoomDetail {
        return None;
    }
    let server = selected_server_name(app)?;
    let room = app.room_detail.as_ref()?.room.clone();
    let row = *app
        .room_detail_rows()
        .get(app.room_detail.as_ref()?.cursor.selected)?;
    let jobs = app.detail_jobs()?;
    match row {
        DetailRow::Egress(index) => {
            let job = jobs.egress_of(&room).get(index).copied()?.clone();
            if !job.status.is_running() {
                flash(
                    app,
                    format!(
                        "egress {} is {}; nothing to stop",
                        job.egress_id,
                        job.status.label()
                    ),
                    true,
                );
                return None;
            }
            Some(Confirm {
                title: "Stop egress".into(),
                message: format!(
                    "Stop egress {} ({} to {}, {}) of room {room} on {server}? The recording \
                     or stream ends now; what was written so far is kept.",
                    job.egress_id,
                    job.source,
                    job.destinations_label(),
                    job.status.label()
                ),
                command: Command::StopEgress {
                    server,
                    egress_id: job.egress_id,
                },
            })
        }
        DetailRow::Dispatch(index) => {
            let dispatch = jobs.dispatches_of(&room).get(index)?.clone();
            Some(Confirm {
                title: "Delete agent dispatch".into(),
                message: format!(
                    "Delete dispatch {} of agent {} from room {room} on {server}? No new \
                     agent job starts for it; an agent already in the room stays until it \
                     leaves or is removed.",
                    dispatch.id, dispatch.agent_name
                ),
                command: Command::DeleteDispatch {
                    server,
                    room,
                    dispatch_id: dispatch.id,
                },
            })
        }
        DetailRow::Ingress(_) => {
            flash(
                app,
                "an ingress is managed by its encoder and the Ingress API; lktop only shows it"
                    .into(),
                true,
            );
            None
        }
        DetailRow::Participant(_) | DetailRow::Track(..) => None,
    }
}

/// The prompt for an agent to send into the open room (`D` by default): its name, then
/// optional metadata for its job.
pub(super) fn ask_agent_dispatch(app: &mut App) {
    if refuse_in_replay(app) {
        return;
    }
    if app.screen != Screen::RoomDetail {
        return;
    }
    if let Some((server, room)) = target_room(app) {
        app.popup = Some(Popup::Input(TextInput {
            title: format!("Dispatch an agent to {room}"),
            server,
            value: String::new(),
            purpose: InputPurpose::DispatchAgent { room },
        }));
    }
}

/// Mutes the selected track, or unmutes it (`m` by default).
pub(super) fn toggle_mute(app: &mut App) -> Vec<Effect> {
    if refuse_in_replay(app) {
        return Vec::new();
    }
    match selected_in_detail(app) {
        Some((server, room, identity, Some((track_sid, muted)))) => {
            return send(
                app,
                Command::MuteTrack {
                    server,
                    room,
                    identity,
                    track_sid,
                    muted: !muted,
                },
            );
        }
        Some(_) => flash(
            app,
            "select a track (the rows under a participant) to mute it".into(),
            true,
        ),
        None => {}
    }
    Vec::new()
}

pub(super) fn selected_server_name(app: &App) -> Option<String> {
    app.server().map(|server| server.name.clone())
}

/// The room an action applies to: the open room on the detail screen, else the selected row
/// of the rooms table.
fn target_room(app: &mut App) -> Option<(String, String)> {
    let server = selected_server_name(app)?;
    let room = match app.screen {
        Screen::RoomDetail => app.room_detail.as_ref().map(|d| d.room.clone()),
        Screen::Rooms => app.selected_room_name().map(str::to_owned),
        _ => None,
    };
    if room.is_none() {
        flash(app, "no room selected".into(), true);
    }
    Some((server, room?))
}

/// On the detail screen: the selected row's participant, and its track (sid, muted) when the
/// row is a track.
type DetailTarget = (String, String, String, Option<(String, bool)>);

fn selected_in_detail(app: &App) -> Option<DetailTarget> {
    if app.screen != Screen::RoomDetail {
        return None;
    }
    let detail = app.room_detail.as_ref()?;
    let room = app.detail_room()?;
    let participants = room.participants.as_ref()?;
    let row = *app.room_detail_rows().get(detail.cursor.selected)?;
    let (p, track) = match row {
        DetailRow::Participant(p) => (p, None),
        DetailRow::Track(p, t) => (p, Some(t)),
        DetailRow::Egress(_) | DetailRow::Ingress(_) | DetailRow::Dispatch(_) => return None,
    };
    let participant = participants.get(p)?;
    let track = track
        .and_then(|t| participant.tracks.get(t))
        .map(|t| (t.sid.clone(), t.muted));
    Some((
        app.server()?.name.clone(),
        detail.room.clone(),
        participant.identity.clone(),
        track,
    ))
}
