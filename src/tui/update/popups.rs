//! Keys while a popup is open: help scrolls, a confirmation is answered, the prompt and the
//! editors take their values and send the command when it is valid.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::events::Command;
use crate::tui::action::Effect;
use crate::tui::app::App;
use crate::tui::popup::{AudioEditor, LimitsEditor, Popup, TextInput};

use super::commands::send;
use super::feedback::flash;

pub(super) fn on_popup_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(popup) = app.popup.take() else {
        return Vec::new();
    };
    match popup {
        Popup::Help { mut scroll } => {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => scroll += 10,
                KeyCode::PageUp => scroll = scroll.saturating_sub(10),
                // Any other key closes help, as in htop.
                _ => return Vec::new(),
            }
            app.popup = Some(Popup::Help { scroll });
        }
        Popup::Confirm(confirm) => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => return send(app, confirm.command),
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                flash(app, format!("{}: cancelled", confirm.title), false);
            }
            _ => app.popup = Some(Popup::Confirm(confirm)),
        },
        Popup::Input(input) => return on_input_key(app, input, key),
        Popup::Limits(editor) => return on_limits_key(app, editor, key),
        Popup::Audio(editor) => return on_audio_key(app, editor, key),
    }
    Vec::new()
}

fn on_input_key(app: &mut App, mut input: TextInput, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter => {
            if let Some(command) = input.command() {
                return send(app, command);
            }
        }
        KeyCode::Backspace => {
            input.value.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => input.value.push(c),
        _ => {}
    }
    app.popup = Some(Popup::Input(input));
    Vec::new()
}

fn on_limits_key(app: &mut App, mut editor: LimitsEditor, key: KeyEvent) -> Vec<Effect> {
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if editor.problems().is_empty() => {
            return send(
                app,
                Command::SetLimits {
                    limits: editor.candidate(),
                },
            );
        }
        KeyCode::Up | KeyCode::BackTab => editor.select(-1),
        KeyCode::Down | KeyCode::Tab => editor.select(1),
        KeyCode::Left => editor.step(if shift { -10 } else { -1 }),
        KeyCode::Right => editor.step(if shift { 10 } else { 1 }),
        KeyCode::Backspace | KeyCode::Delete => editor.backspace(),
        KeyCode::Char(c) if c.is_ascii_digit() => editor.type_digit(c),
        _ => {}
    }
    app.popup = Some(Popup::Limits(editor));
    Vec::new()
}

fn on_audio_key(app: &mut App, mut editor: AudioEditor, key: KeyEvent) -> Vec<Effect> {
    let multiple = if key.modifiers.contains(KeyModifiers::SHIFT) {
        10
    } else {
        1
    };
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Enter if editor.problem().is_none() => {
            let profile = Some(editor.candidate());
            return send(
                app,
                Command::ApplyAudioProfile {
                    server: editor.server,
                    room: editor.room,
                    profile,
                },
            );
        }
        KeyCode::Char('d') => {
            return send(
                app,
                Command::ApplyAudioProfile {
                    server: editor.server,
                    room: editor.room,
                    profile: None,
                },
            );
        }
        KeyCode::Up | KeyCode::BackTab => editor.select(-1),
        KeyCode::Down | KeyCode::Tab => editor.select(1),
        KeyCode::Left => editor.step(-1, multiple),
        KeyCode::Right | KeyCode::Char(' ') => editor.step(1, multiple),
        KeyCode::Backspace | KeyCode::Delete => editor.backspace(),
        KeyCode::Char(c) if c.is_ascii_digit() => editor.type_digit(c),
        _ => {}
    }
    app.popup = Some(Popup::Audio(editor));
    Vec::new()
}
