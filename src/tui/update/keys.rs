//! Keys: where a key press goes (a popup, a filter prompt, or the key map), and what each
//! bound key does.

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::events::Command;
use crate::tui::action::{DemoFault, Effect};
use crate::tui::app::App;
use crate::tui::keys::KeyAction;
use crate::tui::popup::Popup;
use crate::tui::screen::Screen;

use super::commands::{
    ask_agent_dispatch, ask_room_name, confirm_delete_room, confirm_remove_participant,
    edit_audio_profile, edit_global_limits, edit_room_limits, retry_now, send, toggle_mute,
};
use super::events_screen::on_events_filter_key;
use super::list_area::page_rows;
use super::navigation::{back, move_selection, next_server, open, show, switch_tab};
use super::popups::on_popup_key;
use super::replay::{change_replay_speed, pause, skip_ahead};
use super::typing::{on_filter_key, on_text_filter_key};
use super::view::{next_sort, reverse_sort, toggle_freeze};

pub(super) fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // Nothing acts on what cannot be seen: while the terminal is too small for the screens
    // and their popups, only quitting and suspending work.
    if app.too_small() {
        return match app
            .keymap
            .action_for(&key, app.screen.context(), app.mode.watching())
        {
            Some(KeyAction::Quit) => on_key_action(app, KeyAction::Quit),
            Some(KeyAction::Suspend) => vec![Effect::Suspend],
            _ => Vec::new(),
        };
    }
    if app.popup.is_some() {
        return on_popup_key(app, key);
    }
    if app.rooms.editing_from.is_some() && app.screen == Screen::Rooms {
        on_filter_key(app, key);
        return Vec::new();
    }
    if app.events_view.is_editing() && app.screen == Screen::Events {
        on_events_filter_key(app, key);
        return Vec::new();
    }
    let text_filter = match app.screen {
        Screen::History => app.history.filter.is_editing(),
        Screen::Nodes => app.nodes.filter.is_editing(),
        _ => false,
    };
    if text_filter {
        on_text_filter_key(app, key);
        return Vec::new();
    }
    match app
        .keymap
        .action_for(&key, app.screen.context(), app.mode.watching())
    {
        Some(action) => on_key_action(app, action),
        None => Vec::new(),
    }
}

/// What a bound key does.
fn on_key_action(app: &mut App, action: KeyAction) -> Vec<Effect> {
    match action {
        KeyAction::Quit => {
            app.should_quit = true;
            return vec![Effect::Quit];
        }
        KeyAction::Suspend => return vec![Effect::Suspend],
        KeyAction::Help => app.popup = Some(Popup::Help { scroll: 0 }),
        KeyAction::NextTab => switch_tab(app, 1),
        KeyAction::PrevTab => switch_tab(app, -1),
        KeyAction::ShowOverview => show(app, Screen::Overview),
        KeyAction::ShowConnections => show(app, Screen::Connections),
        KeyAction::ShowRooms => show(app, Screen::Rooms),
        KeyAction::ShowEvents => show(app, Screen::Events),
        KeyAction::ShowHistory => show(app, Screen::History),
        KeyAction::ShowNodes => show(app, Screen::Nodes),
        KeyAction::FilterHistory => app.history.filter.start(),
        KeyAction::SortHistory => app.history.next_sort(),
        KeyAction::ReverseHistory => app.history.reverse(),
        KeyAction::FilterNodes => app.nodes.filter.start(),
        KeyAction::SortNodes => app.nodes.next_sort(),
        KeyAction::ReverseNodes => app.nodes.reverse(),
        KeyAction::Up => move_selection(app, -1),
        KeyAction::Down => move_selection(app, 1),
        KeyAction::PageUp => {
            let page = page_rows(app);
            move_selection(app, -page);
        }
        KeyAction::PageDown => {
            let page = page_rows(app);
            move_selection(app, page);
        }
        KeyAction::Top => move_selection(app, isize::MIN / 2),
        KeyAction::Bottom => move_selection(app, isize::MAX / 2),
        KeyAction::Open => open(app),
        KeyAction::Back => back(app),
        KeyAction::Freeze => toggle_freeze(app),
        KeyAction::PausePolling => return pause(app),
        KeyAction::NextServer => next_server(app),
        KeyAction::EditLimits => edit_global_limits(app),
        KeyAction::RetryNow => return retry_now(app),
        KeyAction::ReloadConfig => return send(app, Command::ReloadConfig),
        KeyAction::Filter => app.rooms.editing_from = Some(app.rooms.filter.clone()),
        KeyAction::FilterEvents => app.events_view.start_filter(),
        KeyAction::Sort => next_sort(app),
        KeyAction::ReverseSort => reverse_sort(app),
        KeyAction::CreateRoom => ask_room_name(app),
        KeyAction::DeleteRoom => confirm_delete_room(app),
        KeyAction::RoomLimits => edit_room_limits(app),
        KeyAction::AudioProfile => edit_audio_profile(app),
        KeyAction::RemoveParticipant => confirm_remove_participant(app),
        KeyAction::DispatchAgent => ask_agent_dispatch(app),
        KeyAction::ToggleMute => return toggle_mute(app),
        KeyAction::FaultLatency => return vec![Effect::Fault(DemoFault::LatencySpike)],
        KeyAction::FaultErrors => return vec![Effect::Fault(DemoFault::ErrorBurst)],
        KeyAction::FaultMedia => return vec![Effect::Fault(DemoFault::MediaFault)],
        KeyAction::FaultRestart => return vec![Effect::Fault(DemoFault::Restart)],
        KeyAction::FaultClear => return vec![Effect::Fault(DemoFault::Clear)],
        KeyAction::ReplayFaster => return change_replay_speed(app, 2.0),
        KeyAction::ReplaySlower => return change_replay_speed(app, 0.5),
        KeyAction::ReplaySkip => return skip_ahead(app),
    }
    Vec::new()
}
