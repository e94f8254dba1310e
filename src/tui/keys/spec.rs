//! One key with its modifiers, written as text (`q`, `G`, `?`, `ctrl+c`, `shift+tab`, `pgdn`,
//! `f1`) and parsed into a [`KeySpec`]. Terminals report the same key in several ways (an
//! uppercase letter with or without SHIFT, `BackTab` for shift+tab), so specs and events are
//! brought to one canonical form before they are compared.
//!
//! lktop parses keys itself rather than with `crokey`: crokey writes combinations with `-`
//! (`ctrl-c`), while lktop's configuration and README write `ctrl+c`, and crokey has no `pgup` /
//! `pgdn`, no did-you-mean and no refusal of keys terminals cannot tell apart (`shift+1`).

use std::fmt::{self, Write as _};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::config::KeyText;

/// How keys are written, for parse errors and configuration help.
pub(crate) const KEY_SYNTAX: &str = "a key is one character (q, G, ?, /, 1) or one of space, enter, \
     esc, tab, backtab, backspace, delete, insert, up, down, left, right, home, end, pgup, pgdn, \
     f1..f12, optionally after ctrl+, alt+ and shift+ (ctrl+c, alt+shift+left)";

/// Key names other than single characters, with the key each stands for. The first name of a
/// key is the one it is displayed with.
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("space", KeyCode::Char(' ')),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pageup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pagedown", KeyCode::PageDown),
];

/// Highest function key accepted (`f1`..`f12`).
const MAX_F_KEY: u8 = 12;

/// The modifiers a [`KeySpec`] can hold, in display order.
const MODIFIER_NAMES: [(KeyModifiers, &str); 3] = [
    (KeyModifiers::CONTROL, "ctrl"),
    (KeyModifiers::ALT, "alt"),
    (KeyModifiers::SHIFT, "shift"),
];

/// One key with its modifiers, in canonical form: `BackTab` is `shift+tab`, a letter typed with
/// shift is the uppercase letter (no SHIFT flag), SHIFT is never kept with a symbol or digit (the
/// symbol already says it), and ctrl+letter is the lowercase letter with CONTROL (plus SHIFT for
/// an uppercase one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl KeySpec {
    /// A key as a terminal may report it; brought to canonical form. Only CONTROL, ALT and
    /// SHIFT are kept.
    #[must_use]
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let (code, modifiers) = normalize(code, modifiers & SPEC_MODIFIERS);
        Self { code, modifiers }
    }

    /// A character typed alone, already canonical (for the default table).
    pub(super) const fn char(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::NONE,
        }
    }

    /// A key without modifiers, already canonical (for the default table).
    pub(super) const fn key(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    /// shift plus a key that is not a character, already canonical (for the default table).
    pub(super) const fn shift(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::SHIFT,
        }
    }

    /// ctrl plus a lowercase letter, already canonical (for the default table).
    pub(super) const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }
    #[must_use]
    pub fn code(&self) -> KeyCode {
        self.code
    }

    #[must_use]
    pub fn modifiers(&self) -> KeyModifiers {
        self.modifiers
    }

    /// Whether a key press (or its auto-repeat) is this key. Releases never match.
    #[must_use]
    pub(crate) fn matches(&self, event: &KeyEvent) -> bool {
        matches!(event.kind, KeyEventKind::Press | KeyEventKind::Repeat)
            && normalize(event.code, event.modifiers) == (self.code, self.modifiers)
    }
}

const SPEC_MODIFIERS: KeyModifiers = KeyModifiers::CONTROL
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SHIFT);

/// One form for the many ways terminals report a key; see [`KeySpec`].
fn normalize(code: KeyCode, modifiers: KeyModifiers) -> (KeyCode, KeyModifiers) {
    match code {
        KeyCode::BackTab => (KeyCode::Tab, modifiers | KeyModifiers::SHIFT),
        KeyCode::Char(c) => {
            let shift = modifiers.contains(KeyModifiers::SHIFT);
            let others = modifiers - KeyModifiers::SHIFT;
            if !is_cased(c) {
                (KeyCode::Char(c), others)
            } else if modifiers.contains(KeyModifiers::CONTROL) {
                let upper = shift || c.is_uppercase();
                let modifiers = if upper {
                    others | KeyModifiers::SHIFT
                } else {
                    others
                };
                (KeyCode::Char(to_lower(c)), modifiers)
            } else if shift {
                (KeyCode::Char(to_upper(c)), others)
            } else {
                (KeyCode::Char(c), others)
            }
        }
        other => (other, modifiers),
    }
}

/// A letter with an uppercase and a lowercase form that are single characters.
fn is_cased(c: char) -> bool {
    (c.is_lowercase() || c.is_uppercase()) && to_upper(c) != to_lower(c)
}

fn to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

fn to_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParseError {
    problem: String,
}

impl KeyParseError {
    fn new(problem: String) -> Self {
        Self { problem }
    }

    /// What is wrong, without the list of accepted forms ([`KEY_SYNTAX`]).
    #[must_use]
    pub(crate) fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for KeyParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {KEY_SYNTAX}", self.problem)
    }
}

impl std::error::Error for KeyParseError {}

impl FromStr for KeySpec {
    type Err = KeyParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |problem: String| Err(KeyParseError::new(problem));
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return single_char(text, c, KeyModifiers::NONE);
        }
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return fail(format!("{text:?} is empty"));
        }
        let (head, key) = if let Some(head) = trimmed.strip_suffix("++") {
            (Some(head), "+")
        } else if let Some((head, key)) = trimmed.rsplit_once('+') {
            (Some(head), key.trim())
        } else {
            (None, trimmed)
        };
        let mut modifiers = KeyModifiers::NONE;
        for part in head.map(|head| head.split('+')).into_iter().flatten() {
            let part = part.trim();
            let Some(flag) = MODIFIER_NAMES
                .iter()
                .find(|(_, name)| part.eq_ignore_ascii_case(name))
                .map(|(flag, _)| *flag)
            else {
                return if part.is_empty() {
                    fail(format!("{text:?} has an empty modifier (`+` twice)"))
                } else {
                    fail(format!(
                        "{text:?}: {part:?} is not a modifier; only ctrl+, alt+ and shift+ \
                         can come before the one key"
                    ))
                };
            };
            if modifiers.contains(flag) {
                return fail(format!("{text:?} names {} twice", part.to_lowercase()));
            }
            modifiers |= flag;
        }
        if key.is_empty() {
            return fail(format!("{text:?} names no key after its modifiers"));
        }
        let mut key_chars = key.chars();
        if let (Some(c), None) = (key_chars.next(), key_chars.next()) {
            return single_char(text, c, modifiers);
        }
        let lower = key.to_ascii_lowercase();
        let code = if let Some((_, code)) = NAMED_KEYS.iter().find(|(name, _)| *name == lower) {
            *code
        } else if let Some(number) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=MAX_F_KEY).contains(&number) {
                return fail(format!(
                    "{text:?}: function keys go from f1 to f{MAX_F_KEY}"
                ));
            }
            KeyCode::F(number)
        } else {
            let near = NAMED_KEYS
                .iter()
                .map(|(name, _)| (strsim::jaro_winkler(&lower, name), *name))
                .filter(|(score, _)| *score >= 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let mut problem = if key == trimmed {
                format!("unknown key {key:?}")
            } else {
                format!("{text:?}: unknown key {key:?}")
            };
            if let Some((_, name)) = near {
                _ = write!(problem, " (did you mean {name}?)");
            }
            return fail(problem);
        };
        match code {
            KeyCode::Char(c) => single_char(text, c, modifiers),
            code => Ok(Self::new(code, modifiers)),
        }
    }
}

fn single_char(text: &str, c: char, modifiers: KeyModifiers) -> Result<KeySpec, KeyParseError> {
    if c.is_control() {
        return Err(KeyParseError::new(format!(
            "{text:?} holds a control character; write the key's name instead (tab, enter, esc)"
        )));
    }
    if modifiers.contains(KeyModifiers::SHIFT) && !is_cased(c) {
        let problem = if c == ' ' {
            format!("{text:?}: terminals do not tell shift+space from space; write space")
        } else {
            format!(
                "{text:?}: with shift, terminals send the shifted character itself (\"!\", not \
                 shift+1); write that character without shift+"
            )
        };
        return Err(KeyParseError::new(problem));
    }
    Ok(KeySpec::new(KeyCode::Char(c), modifiers))
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, name) in MODIFIER_NAMES {
            if self.modifiers.contains(flag) {
                write!(f, "{name}+")?;
            }
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(number) => write!(f, "f{number}"),
            code => match NAMED_KEYS.iter().find(|(_, named)| *named == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{}", code.to_string().to_lowercase().replace(' ', "")),
            },
        }
    }
}

impl Serialize for KeySpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeySpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = KeyText::deserialize(deserializer)?;
        text.0.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::{press, spec};
    use super::*;

    #[test]
    fn every_accepted_form_round_trips() {
        let mut canonical = vec![
            "q",
            "G",
            "?",
            "/",
            "!",
            "1",
            "+",
            "space",
            "enter",
            "esc",
            "tab",
            "shift+tab",
            "backspace",
            "delete",
            "insert",
            "up",
            "down",
            "left",
            "right",
            "home",
            "end",
            "pgup",
            "pgdn",
            "ctrl+c",
            "alt+x",
            "ctrl+alt+x",
            "ctrl+shift+c",
            "alt+G",
            "ctrl+alt+shift+delete",
            "shift+up",
            "ctrl++",
            "ctrl+space",
            "alt+?",
        ];
        let f_keys: Vec<String> = (1..=12).map(|n| format!("f{n}")).collect();
        canonical.extend(f_keys.iter().map(String::as_str));
        for text in canonical {
            assert_eq!(spec(text).to_string(), text, "{text} displays as written");
        }
        for (alias, shown) in [
            ("backtab", "shift+tab"),
            ("BackTab", "shift+tab"),
            ("pageup", "pgup"),
            ("PageDown", "pgdn"),
            ("CTRL+C", "ctrl+shift+c"),
            ("Ctrl+c", "ctrl+c"),
            ("shift+g", "G"),
            ("shift+G", "G"),
            ("ENTER", "enter"),
            ("F5", "f5"),
            (" ", "space"),
            (" ctrl + x ", "ctrl+x"),
            ("alt+shift+g", "alt+G"),
            ("Shift+Tab", "shift+tab"),
        ] {
            assert_eq!(spec(alias).to_string(), shown, "{alias}");
            assert_eq!(spec(shown), spec(alias), "{alias} and {shown} are one key");
        }
        assert_eq!(spec("g").code(), KeyCode::Char('g'));
        assert_eq!(spec("ctrl+c").modifiers(), KeyModifiers::CONTROL);
    }

    #[test]
    fn parse_errors_name_the_problem_and_the_accepted_forms() {
        for (text, says) in [
            ("", "is empty"),
            ("ctrl+k+x", "\"k\" is not a modifier"),
            ("ctrl+", "names no key"),
            ("ctrl++x", "empty modifier"),
            ("ctrl+ctrl+x", "ctrl twice"),
            ("pgdown", "unknown key \"pgdown\" (did you mean pagedown?)"),
            (
                "ctrl+pgdwn",
                "\"ctrl+pgdwn\": unknown key \"pgdwn\" (did you mean pgdn?)",
            ),
            ("hyper+x", "not a modifier"),
            ("f13", "f1 to f12"),
            ("f0", "f1 to f12"),
            ("shift+1", "shifted character"),
            ("shift+space", "shift+space"),
            ("\t", "control character"),
            ("banana", "unknown key \"banana\""),
        ] {
            let err = text.parse::<KeySpec>().expect_err(text);
            assert!(err.problem().contains(says), "{text}: {err}");
            assert!(err.to_string().contains("pgup, pgdn"), "{text}: {err}");
        }
    }

    #[test]
    fn serde_reads_and_writes_text() {
        let key: KeySpec = serde_yaml::from_str("ctrl+f").unwrap();
        assert_eq!(key, spec("ctrl+f"));
        assert_eq!(serde_yaml::to_string(&key).unwrap().trim(), "ctrl+f");
        assert!(serde_yaml::from_str::<KeySpec>("ctrl+k+x").is_err());
    }

    #[test]
    fn matching_smooths_over_terminal_quirks() {
        let bottom = spec("G");
        assert!(bottom.matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(bottom.matches(&press(KeyCode::Char('G'), KeyModifiers::NONE)));
        assert!(bottom.matches(&press(KeyCode::Char('g'), KeyModifiers::SHIFT)));
        assert!(!bottom.matches(&press(KeyCode::Char('g'), KeyModifiers::NONE)));
        assert!(!spec("g").matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));

        let help = spec("?");
        assert!(help.matches(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(help.matches(&press(KeyCode::Char('?'), KeyModifiers::NONE)));
        assert!(spec("!").matches(&press(KeyCode::Char('!'), KeyModifiers::SHIFT)));

        for text in ["shift+tab", "backtab"] {
            let key = spec(text);
            assert!(
                key.matches(&press(KeyCode::BackTab, KeyModifiers::SHIFT)),
                "{text}"
            );
            assert!(
                key.matches(&press(KeyCode::BackTab, KeyModifiers::NONE)),
                "{text}"
            );
            assert!(
                !key.matches(&press(KeyCode::Tab, KeyModifiers::NONE)),
                "{text}"
            );
        }
        assert!(!spec("tab").matches(&press(KeyCode::BackTab, KeyModifiers::SHIFT)));

        let quit = spec("ctrl+c");
        assert!(quit.matches(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!quit.matches(&press(KeyCode::Char('c'), KeyModifiers::NONE)));
        assert!(!quit.matches(&press(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL | KeyModifiers::ALT
        )));
        assert!(spec("ctrl+shift+c").matches(&press(
            KeyCode::Char('C'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT
        )));
        assert!(spec("alt+G").matches(&press(
            KeyCode::Char('G'),
            KeyModifiers::ALT | KeyModifiers::SHIFT
        )));
        assert!(spec("space").matches(&press(KeyCode::Char(' '), KeyModifiers::SHIFT)));
        assert!(!spec("q").matches(&press(KeyCode::Char('q'), KeyModifiers::SUPER)));

        let mut release = press(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert!(!spec("q").matches(&release));
        let mut repeat = press(KeyCode::Down, KeyModifiers::NONE);
        repeat.kind = KeyEventKind::Repeat;
        assert!(spec("down").matches(&repeat));
    }
}
