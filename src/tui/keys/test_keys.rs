//! Keys as the unit tests of this module write them: a terminal key press, and a key spec
//! from its configuration text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::spec::KeySpec;

pub(super) fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

pub(super) fn spec(text: &str) -> KeySpec {
    text.parse()
        .unwrap_or_else(|err| panic!("{text} should parse: {err}"))
}
