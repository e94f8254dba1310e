//! A plain text filter typed after `/`: the text, and while it is typed the text it replaces
//! (for `esc`). The History and Nodes screens share it, so both read keys the same way.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFilter {
    pub text: String,
    /// Set while the filter is typed: what it was before, for `esc`.
    pub editing_from: Option<String>,
}

impl TextFilter {
    pub(crate) fn start(&mut self) {
        self.editing_from = Some(self.text.clone());
    }

    #[must_use]
    pub fn is_editing(&self) -> bool {
        self.editing_from.is_some()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
    }

    pub(crate) fn push(&mut self, c: char) {
        self.text.push(c);
    }

    /// A key while the filter is typed: `enter` keeps it, `esc` restores the one before,
    /// `ctrl+u` empties it. A character is handed back for the caller to type, so pasting and
    /// typing go through one path.
    pub(crate) fn on_key(&mut self, key: KeyEvent) -> Option<char> {
        match key.code {
            KeyCode::Enter => self.editing_from = None,
            KeyCode::Esc => self.text = self.editing_from.take().unwrap_or_default(),
            KeyCode::Backspace => {
                self.text.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => self.clear(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => return Some(c),
            _ => {}
        }
        None
    }

    /// Whether any of `fields` contains the text, case-insensitively (an empty filter keeps
    /// everything).
    #[must_use]
    pub(crate) fn matches<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> bool {
        if self.text.is_empty() {
            return true;
        }
        let needle = self.text.to_lowercase();
        fields
            .into_iter()
            .any(|field| field.to_lowercase().contains(&needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_restores_enter_keeps_and_matching_ignores_case() {
        let mut filter = TextFilter {
            text: "eu".into(),
            editing_from: None,
        };
        filter.start();
        assert_eq!(
            filter.on_key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some('x')
        );
        filter.push('x');
        filter.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!((filter.text.as_str(), filter.is_editing()), ("eu", false));
        filter.start();
        filter.on_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        filter.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!((filter.text.as_str(), filter.is_editing()), ("e", false));
        assert!(filter.matches(["nothing", "EU-west"]));
        assert!(!filter.matches(["us"]));
    }
}
