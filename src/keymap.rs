//! Key bindings: one table of the dashboard's actions, their contexts and default keys, from
//! which the help overlay and the footer are drawn, and which the `keys:` section of the
//! configuration rebinds.
//!
//! This module sits outside the TUI because configuration validation (engine side) checks the
//! `keys:` section with it; it depends only on crossterm's key event types.
//!
//! A key is written as text (`q`, `G`, `?`, `ctrl+c`, `shift+tab`, `pgdn`, `f1`) and parsed into
//! a [`KeySpec`]. Terminals report the same key in several ways (an uppercase letter with or
//! without SHIFT, `BackTab` for shift+tab), so specs and events are brought to one canonical
//! form before they are compared.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How keys are written, for parse errors and configuration help.
pub const KEY_SYNTAX: &str = "a key is one character (q, G, ?, /, 1) or one of space, enter, \
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
    const fn char(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::NONE,
        }
    }

    /// A key without modifiers, already canonical (for the default table).
    const fn key(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    /// ctrl plus a lowercase letter, already canonical (for the default table).
    const fn ctrl(c: char) -> Self {
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
    pub fn matches(&self, event: &KeyEvent) -> bool {
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
    pub fn problem(&self) -> &str {
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

/// Where an action works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Every screen.
    Global,
    Overview,
    Connections,
    Rooms,
    RoomDetail,
    Events,
    /// Both the rooms list and a room's detail screen.
    RoomActions,
    /// Every screen, while the dashboard runs its built-in sandbox.
    Demo,
}

impl Context {
    /// Whether one key could mean an action of each context on some screen.
    #[must_use]
    pub fn overlaps(self, other: Self) -> bool {
        let covers = |wide: Self, narrow: Self| match wide {
            Self::Global | Self::Demo => true,
            Self::RoomActions => matches!(narrow, Self::Rooms | Self::RoomDetail),
            _ => false,
        };
        self == other || covers(self, other) || covers(other, self)
    }

    /// Whether this context's actions work on `screen` (`demo`: the built-in sandbox runs).
    #[must_use]
    pub fn is_active(self, screen: Self, demo: bool) -> bool {
        match self {
            Self::Global => true,
            Self::Demo => demo,
            Self::RoomActions => {
                matches!(screen, Self::Rooms | Self::RoomDetail | Self::RoomActions)
            }
            own => own == screen,
        }
    }

    /// A short heading for the help overlay.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "everywhere",
            Self::Overview => "overview",
            Self::Connections => "connections",
            Self::Rooms => "rooms",
            Self::RoomDetail => "room detail",
            Self::Events => "event log",
            Self::RoomActions => "rooms and room detail",
            Self::Demo => "demo sandbox",
        }
    }

    /// Where the context's actions work, for messages.
    fn screens(self) -> &'static str {
        match self {
            Self::Global | Self::Demo => "every screen",
            Self::Overview => "the overview screen",
            Self::Connections => "the connections screen",
            Self::Rooms => "the rooms screen",
            Self::RoomDetail => "the room detail screen",
            Self::Events => "the event log screen",
            Self::RoomActions => "the rooms and room detail screens",
        }
    }
}

/// Where two overlapping contexts meet, for a clash message.
fn shared_scope(a: Context, b: Context) -> String {
    // Global and Demo add no screen of their own; the shared rooms context is as narrow as the
    // screen it meets.
    let breadth = |context: Context| match context {
        Context::Global | Context::Demo => 2,
        Context::RoomActions => 1,
        _ => 0,
    };
    let narrower = if breadth(b) < breadth(a) { b } else { a };
    let demo = if a == Context::Demo || b == Context::Demo {
        " while the built-in sandbox runs"
    } else {
        ""
    };
    format!("{}{demo}", narrower.screens())
}

/// What a key can do in the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAction {
    Quit,
    Suspend,
    Help,
    NextTab,
    PrevTab,
    ShowOverview,
    ShowConnections,
    ShowRooms,
    ShowEvents,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Freeze,
    PausePolling,
    NextServer,
    EditLimits,
    RetryNow,
    Filter,
    Sort,
    ReverseSort,
    CreateRoom,
    DeleteRoom,
    RoomLimits,
    AudioProfile,
    RemoveParticipant,
    ToggleMute,
    FilterEvents,
    FaultLatency,
    FaultErrors,
    FaultRestart,
    FaultClear,
}

struct ActionInfo {
    action: KeyAction,
    name: &'static str,
    description: &'static str,
    context: Context,
    keys: &'static [KeySpec],
}

const fn info(
    action: KeyAction,
    name: &'static str,
    description: &'static str,
    context: Context,
    keys: &'static [KeySpec],
) -> ActionInfo {
    ActionInfo {
        action,
        name,
        description,
        context,
        keys,
    }
}

/// The one table: every action in display order with its default keys.
#[rustfmt::skip]
const TABLE: [ActionInfo; KeyAction::ALL.len()] = {
    use Context::{Demo, Events, Global, RoomActions, RoomDetail, Rooms};
    use KeyAction as A;
    use KeyCode::{Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};
    use KeySpec as K;
    const SHIFT_TAB: KeySpec = KeySpec { code: Tab, modifiers: KeyModifiers::SHIFT };
    [
        info(A::Quit,              "quit",               "quit",               Global,      &[K::char('q'), K::ctrl('c')]),
        info(A::Suspend,           "suspend",            "suspend (fg resumes)", Global,    &[K::ctrl('z')]),
        info(A::Help,              "help",               "help",               Global,      &[K::char('?')]),
        info(A::NextTab,           "next_tab",           "next screen",        Global,      &[K::key(Tab)]),
        info(A::PrevTab,           "prev_tab",           "previous screen",    Global,      &[SHIFT_TAB]),
        info(A::ShowOverview,      "show_overview",      "overview",           Global,      &[K::char('1')]),
        info(A::ShowConnections,   "show_connections",   "connections",        Global,      &[K::char('2')]),
        info(A::ShowRooms,         "show_rooms",         "rooms",              Global,      &[K::char('3')]),
        info(A::ShowEvents,        "show_events",        "event log",          Global,      &[K::char('4')]),
        info(A::Up,                "up",                 "up",                 Global,      &[K::key(Up), K::char('k')]),
        info(A::Down,              "down",               "down",               Global,      &[K::key(Down), K::char('j')]),
        info(A::PageUp,            "page_up",            "page up",            Global,      &[K::key(PageUp)]),
        info(A::PageDown,          "page_down",          "page down",          Global,      &[K::key(PageDown)]),
        info(A::Top,               "top",                "top",                Global,      &[K::key(Home), K::char('g')]),
        info(A::Bottom,            "bottom",             "bottom",             Global,      &[K::key(End), K::char('G')]),
        info(A::Open,              "open",               "open",               Global,      &[K::key(Enter)]),
        info(A::Back,              "back",               "back",               Global,      &[K::key(Esc)]),
        info(A::Freeze,            "freeze",             "freeze",             Global,      &[K::char('f')]),
        info(A::PausePolling,      "pause_polling",      "pause polling",      Global,      &[K::char('p')]),
        info(A::NextServer,        "next_server",        "next server",        Global,      &[K::char('s')]),
        info(A::EditLimits,        "edit_limits",        "edit limits",        Global,      &[K::char('L')]),
        info(A::RetryNow,          "retry_now",          "retry now",          Global,      &[K::char('r')]),
        info(A::Filter,            "filter",             "filter",             Rooms,       &[K::char('/')]),
        info(A::Sort,              "sort",               "sort column",        Rooms,       &[K::char('o')]),
        info(A::ReverseSort,       "reverse_sort",       "reverse sort",       Rooms,       &[K::char('O')]),
        info(A::CreateRoom,        "create_room",        "new room",           Rooms,       &[K::char('n')]),
        info(A::DeleteRoom,        "delete_room",        "delete room",        RoomActions, &[K::char('d')]),
        info(A::RoomLimits,        "room_limits",        "room limits",        RoomActions, &[K::char('l')]),
        info(A::AudioProfile,      "audio_profile",      "audio profile",      RoomActions, &[K::char('a')]),
        info(A::RemoveParticipant, "remove_participant", "remove participant", RoomDetail,  &[K::char('x')]),
        info(A::ToggleMute,        "toggle_mute",        "mute/unmute track",  RoomDetail,  &[K::char('m')]),
        info(A::FilterEvents,      "filter_events",      "filter events",      Events,      &[K::char('/')]),
        info(A::FaultLatency,      "fault_latency",      "latency spike",      Demo,        &[K::char('S')]),
        info(A::FaultErrors,       "fault_errors",       "error burst",        Demo,        &[K::char('E')]),
        info(A::FaultRestart,      "fault_restart",      "restart server",     Demo,        &[K::char('R')]),
        info(A::FaultClear,        "fault_clear",        "clear faults",       Demo,        &[K::char('C')]),
    ]
};

impl KeyAction {
    /// Every action, in table (help overlay) order.
    pub const ALL: [Self; 36] = [
        Self::Quit,
        Self::Suspend,
        Self::Help,
        Self::NextTab,
        Self::PrevTab,
        Self::ShowOverview,
        Self::ShowConnections,
        Self::ShowRooms,
        Self::ShowEvents,
        Self::Up,
        Self::Down,
        Self::PageUp,
        Self::PageDown,
        Self::Top,
        Self::Bottom,
        Self::Open,
        Self::Back,
        Self::Freeze,
        Self::PausePolling,
        Self::NextServer,
        Self::EditLimits,
        Self::RetryNow,
        Self::Filter,
        Self::Sort,
        Self::ReverseSort,
        Self::CreateRoom,
        Self::DeleteRoom,
        Self::RoomLimits,
        Self::AudioProfile,
        Self::RemoveParticipant,
        Self::ToggleMute,
        Self::FilterEvents,
        Self::FaultLatency,
        Self::FaultErrors,
        Self::FaultRestart,
        Self::FaultClear,
    ];

    fn info(self) -> &'static ActionInfo {
        &TABLE[self as usize]
    }

    /// The `snake_case` name used in the configuration's `keys:` section.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// A few words for the help overlay and the footer.
    #[must_use]
    pub fn description(self) -> &'static str {
        self.info().description
    }

    #[must_use]
    pub fn context(self) -> Context {
        self.info().context
    }

    /// The keys bound when the configuration does not rebind the action.
    #[must_use]
    pub fn default_keys(self) -> &'static [KeySpec] {
        self.info().keys
    }

    /// Whether the action changes something on a server (a command), so it does nothing in a
    /// replay, which is read-only.
    #[must_use]
    pub fn changes_server(self) -> bool {
        matches!(
            self,
            Self::EditLimits
                | Self::RetryNow
                | Self::CreateRoom
                | Self::DeleteRoom
                | Self::RoomLimits
                | Self::AudioProfile
                | Self::RemoveParticipant
                | Self::ToggleMute
                | Self::FaultLatency
                | Self::FaultErrors
                | Self::FaultRestart
                | Self::FaultClear
        )
    }

    /// The action a configuration name stands for.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE
            .iter()
            .find(|entry| entry.name == name)
            .map(|entry| entry.action)
    }
}

impl fmt::Display for KeyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The keys of one action as written in the configuration: one key or a list (`[]` unbinds).
/// The text is kept raw; [`Keymap::with_overrides`] parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    #[must_use]
    pub fn as_slice(&self) -> &[String] {
        match self {
            Self::One(key) => std::slice::from_ref(key),
            Self::Many(keys) => keys,
        }
    }

    /// Whether the keys were written as a list, so a problem can name the element.
    #[must_use]
    pub fn is_list(&self) -> bool {
        matches!(self, Self::Many(_))
    }
}

impl From<&str> for KeyList {
    fn from(key: &str) -> Self {
        Self::One(key.to_owned())
    }
}

impl<const N: usize> From<[&str; N]> for KeyList {
    fn from(keys: [&str; N]) -> Self {
        Self::Many(keys.iter().map(|key| (*key).to_owned()).collect())
    }
}

impl Serialize for KeyList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::One(key) => serializer.serialize_str(key),
            Self::Many(keys) => keys.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = KeyList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"ctrl+f\", a list of keys, or [] to unbind")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<KeyList, E> {
                Ok(KeyList::One(text.to_owned()))
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<KeyList, E> {
                Ok(KeyList::One(number.to_string()))
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<KeyList, E> {
                Ok(KeyList::One(number.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(KeyText(key)) = seq.next_element()? {
                    keys.push(key);
                }
                Ok(KeyList::Many(keys))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

/// The text of one key; a bare digit (`1` in YAML is a number) is taken as its text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = KeyText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"ctrl+f\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<KeyText, E> {
                Ok(KeyText(text.to_owned()))
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<KeyText, E> {
                Ok(KeyText(number.to_string()))
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<KeyText, E> {
                Ok(KeyText(number.to_string()))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

/// One thing wrong with the `keys:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapProblem {
    /// The name written in the configuration (`freeze`, or a misspelt one).
    pub action_key: String,
    /// The list element the problem is about, when the keys were written as a list.
    pub index: Option<usize>,
    pub problem: String,
    pub help: Option<String>,
}

impl fmt::Display for KeymapProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keys.{}", self.action_key)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        write!(f, ": {}", self.problem)?;
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

/// The bindings in effect: the table's defaults with the configuration's replacements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// Indexed like [`KeyAction::ALL`].
    keys: Vec<Vec<KeySpec>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            keys: TABLE.iter().map(|entry| entry.keys.to_vec()).collect(),
        }
    }
}

/// A key of one action while overrides are checked: where it came from in the configuration.
struct Bound {
    key: KeySpec,
    /// The text as written, when the configuration set it.
    text: Option<String>,
    /// Its list element, when the configuration wrote a list.
    index: Option<usize>,
}

impl Keymap {
    /// The defaults with each named action's keys replaced by the given ones (an empty list
    /// unbinds the action).
    ///
    /// # Errors
    /// Every unknown action name, unreadable key and key bound to two actions that can be on
    /// screen together.
    pub fn with_overrides(
        overrides: &BTreeMap<String, KeyList>,
    ) -> Result<Self, Vec<KeymapProblem>> {
        let mut problems = Vec::new();
        let mut bound: Vec<Vec<Bound>> = TABLE
            .iter()
            .map(|entry| {
                entry
                    .keys
                    .iter()
                    .map(|&key| Bound {
                        key,
                        text: None,
                        index: None,
                    })
                    .collect()
            })
            .collect();
        let mut overridden = [false; KeyAction::ALL.len()];
        for (name, list) in overrides {
            let Some(action) = KeyAction::from_name(name) else {
                problems.push(unknown_action(name));
                continue;
            };
            overridden[action as usize] = true;
            let keys = &mut bound[action as usize];
            keys.clear();
            for (position, text) in list.as_slice().iter().enumerate() {
                let index = list.is_list().then_some(position);
                match text.parse::<KeySpec>() {
                    Ok(key) => {
                        if keys.iter().any(|earlier| earlier.key == key) {
                            problems.push(KeymapProblem {
                                action_key: name.clone(),
                                index,
                                problem: format!("{} is listed twice", quoted(text, key)),
                                help: Some("remove one of them".to_owned()),
                            });
                        } else {
                            keys.push(Bound {
                                key,
                                text: Some(text.clone()),
                                index,
                            });
                        }
                    }
                    Err(err) => problems.push(KeymapProblem {
                        action_key: name.clone(),
                        index,
                        problem: err.problem().to_owned(),
                        help: Some(KEY_SYNTAX.to_owned()),
                    }),
                }
            }
        }
        problems.extend(clashes(&bound, &overridden));
        if problems.is_empty() {
            Ok(Self {
                keys: bound
                    .into_iter()
                    .map(|keys| keys.into_iter().map(|bound| bound.key).collect())
                    .collect(),
            })
        } else {
            Err(problems)
        }
    }

    /// The action `event` triggers on `screen` (`demo`: the built-in sandbox runs, so its fault
    /// keys work). Since no key is bound twice where contexts overlap, at most one matches.
    #[must_use]
    pub fn action_for(&self, event: &KeyEvent, screen: Context, demo: bool) -> Option<KeyAction> {
        self.entries()
            .filter(|(action, _)| action.context().is_active(screen, demo))
            .find(|(_, keys)| keys.iter().any(|key| key.matches(event)))
            .map(|(action, _)| action)
    }

    /// The keys bound to `action`; empty when it was unbound.
    #[must_use]
    pub fn keys(&self, action: KeyAction) -> &[KeySpec] {
        &self.keys[action as usize]
    }

    /// Every action with its keys, in table order (for the help overlay).
    pub fn entries(&self) -> impl Iterator<Item = (KeyAction, &[KeySpec])> {
        KeyAction::ALL
            .iter()
            .zip(&self.keys)
            .map(|(&action, keys)| (action, keys.as_slice()))
    }
}

/// `"G"`, or `"shift+g" (G)` when the text is another way to write the key.
fn quoted(text: &str, key: KeySpec) -> String {
    let canonical = key.to_string();
    if text == canonical {
        format!("{text:?}")
    } else {
        format!("{text:?} ({canonical})")
    }
}

fn unknown_action(name: &str) -> KeymapProblem {
    let names: Vec<&str> = TABLE.iter().map(|entry| entry.name).collect();
    let near = names
        .iter()
        .map(|known| (strsim::jaro_winkler(name, known), *known))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let all = names.join(", ");
    KeymapProblem {
        action_key: name.to_owned(),
        index: None,
        problem: format!("unknown action `{name}`"),
        help: Some(match near {
            Some((_, known)) => format!("did you mean `{known}`? the actions are: {all}"),
            None => format!("the actions are: {all}"),
        }),
    }
}

/// Every key bound to two actions that can be on screen together, reported on the action the
/// configuration rebound (the later one in the table when both were).
fn clashes(bound: &[Vec<Bound>], overridden: &[bool]) -> Vec<KeymapProblem> {
    let mut problems = Vec::new();
    for (first, first_keys) in bound.iter().enumerate() {
        for (second, second_keys) in bound.iter().enumerate().skip(first + 1) {
            let (a, b) = (TABLE[first].context, TABLE[second].context);
            if !a.overlaps(b) {
                continue;
            }
            for in_first in first_keys {
                let Some(in_second) = second_keys.iter().find(|key| key.key == in_first.key) else {
                    continue;
                };
                let (reported, entry, other) = if overridden[first] && !overridden[second] {
                    (in_first, &TABLE[first], &TABLE[second])
                } else {
                    (in_second, &TABLE[second], &TABLE[first])
                };
                let text = reported.text.as_deref().map_or_else(
                    || format!("{:?}", reported.key.to_string()),
                    |text| quoted(text, reported.key),
                );
                problems.push(KeymapProblem {
                    action_key: entry.name.to_owned(),
                    index: reported.index,
                    problem: format!(
                        "{text} is also bound to {} (both work on {})",
                        other.name,
                        shared_scope(a, b)
                    ),
                    help: Some(format!("pick another key or rebind {} too", other.name)),
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn spec(text: &str) -> KeySpec {
        text.parse()
            .unwrap_or_else(|err| panic!("{text} should parse: {err}"))
    }

    fn overrides(entries: &[(&str, KeyList)]) -> BTreeMap<String, KeyList> {
        entries
            .iter()
            .map(|(name, keys)| ((*name).to_owned(), keys.clone()))
            .collect()
    }

    fn problems_of(entries: &[(&str, KeyList)]) -> Vec<KeymapProblem> {
        Keymap::with_overrides(&overrides(entries)).expect_err("the overrides should be refused")
    }

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
        let one: KeyList = serde_yaml::from_str("\"?\"").unwrap();
        assert_eq!(one, KeyList::from("?"));
        let many: KeyList = serde_yaml::from_str("[q, 1, ctrl+c]").unwrap();
        assert_eq!(many, KeyList::from(["q", "1", "ctrl+c"]));
        let digit: KeyList = serde_yaml::from_str("2").unwrap();
        assert_eq!(digit, KeyList::from("2"));
        assert!(serde_yaml::from_str::<KeyList>("{a: b}").is_err());
        assert_eq!(
            serde_yaml::to_string(&many).unwrap(),
            "- q\n- '1'\n- ctrl+c\n"
        );
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

    #[test]
    fn the_table_is_in_order_and_its_defaults_are_canonical() {
        for (index, action) in KeyAction::ALL.iter().enumerate() {
            assert_eq!(TABLE[index].action, *action, "TABLE[{index}]");
            assert_eq!(*action as usize, index);
            assert_eq!(KeyAction::from_name(action.name()), Some(*action));
            assert!(!action.description().is_empty());
            for key in action.default_keys() {
                assert_eq!(spec(&key.to_string()), *key, "{action}: {key}");
            }
        }
        let names: Vec<&str> = KeyAction::ALL.iter().map(|a| a.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "action names are unique");
        let keymap = Keymap::default();
        assert_eq!(
            keymap
                .keys(KeyAction::Quit)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["q", "ctrl+c"]
        );
        assert_eq!(keymap.keys(KeyAction::PrevTab)[0].to_string(), "shift+tab");
        assert_eq!(keymap.entries().count(), KeyAction::ALL.len());
        assert_eq!(keymap.entries().next().unwrap().0, KeyAction::Quit);
        assert_eq!(KeyAction::DeleteRoom.context(), Context::RoomActions);
        assert_eq!(KeyAction::FaultClear.context(), Context::Demo);
    }

    #[test]
    fn the_defaults_have_no_duplicates() {
        assert_eq!(
            Keymap::with_overrides(&BTreeMap::new()),
            Ok(Keymap::default())
        );
    }

    #[test]
    fn contexts_overlap_where_they_share_a_screen() {
        use Context::{
            Connections, Demo, Events, Global, Overview, RoomActions, RoomDetail, Rooms,
        };
        let all = [
            Global,
            Overview,
            Connections,
            Rooms,
            RoomDetail,
            Events,
            RoomActions,
            Demo,
        ];
        for a in all {
            assert!(Global.overlaps(a) && a.overlaps(Global) && Demo.overlaps(a));
            assert!(a.overlaps(a));
        }
        assert!(RoomActions.overlaps(Rooms) && RoomDetail.overlaps(RoomActions));
        assert!(!RoomActions.overlaps(Connections));
        assert!(!Rooms.overlaps(RoomDetail) && !Rooms.overlaps(Connections));
        assert!(RoomActions.is_active(Rooms, false) && !RoomActions.is_active(Events, true));
        assert!(!Demo.is_active(Overview, false) && Demo.is_active(Overview, true));
    }

    #[test]
    fn action_for_looks_only_at_the_active_contexts() {
        let keymap = Keymap::default();
        let key = |c: char| press(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&key('q'), Context::Events, false),
            Some(KeyAction::Quit)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Context::Overview,
                false
            ),
            Some(KeyAction::Quit)
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::Rooms, false),
            Some(KeyAction::Filter)
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::RoomDetail, false),
            None
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::Events, false),
            Some(KeyAction::FilterEvents)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::RoomDetail, false),
            Some(KeyAction::DeleteRoom)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::Rooms, false),
            Some(KeyAction::DeleteRoom)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::Connections, false),
            None
        );
        assert_eq!(keymap.action_for(&key('x'), Context::Rooms, false), None);
        assert_eq!(
            keymap.action_for(&key('x'), Context::RoomDetail, false),
            Some(KeyAction::RemoveParticipant)
        );
        let shift_s = press(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(keymap.action_for(&shift_s, Context::Overview, false), None);
        assert_eq!(
            keymap.action_for(&shift_s, Context::Overview, true),
            Some(KeyAction::FaultLatency)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::BackTab, KeyModifiers::SHIFT),
                Context::Rooms,
                false
            ),
            Some(KeyAction::PrevTab)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Context::Events,
                false
            ),
            Some(KeyAction::Bottom)
        );
    }

    #[test]
    fn an_override_replaces_the_actions_keys() {
        let keymap = Keymap::with_overrides(&overrides(&[
            ("freeze", KeyList::from("ctrl+f")),
            ("quit", KeyList::from(["Q", "ctrl+q"])),
        ]))
        .unwrap();
        assert_eq!(keymap.keys(KeyAction::Freeze), [spec("ctrl+f")]);
        assert_eq!(keymap.keys(KeyAction::Quit), [spec("Q"), spec("ctrl+q")]);
        let f = press(KeyCode::Char('f'), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(&f, Context::Overview, false), None);
        let ctrl_f = press(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.action_for(&ctrl_f, Context::Overview, false),
            Some(KeyAction::Freeze)
        );
        assert_eq!(
            keymap.keys(KeyAction::Help),
            Keymap::default().keys(KeyAction::Help)
        );
    }

    #[test]
    fn an_empty_list_unbinds_and_frees_the_key() {
        let keymap = Keymap::with_overrides(&overrides(&[
            ("pause_polling", KeyList::Many(Vec::new())),
            ("freeze", KeyList::from("p")),
        ]))
        .unwrap();
        assert!(keymap.keys(KeyAction::PausePolling).is_empty());
        let p = press(KeyCode::Char('p'), KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&p, Context::Rooms, false),
            Some(KeyAction::Freeze)
        );
    }

    #[test]
    fn a_key_on_two_overlapping_actions_is_refused() {
        let problems = problems_of(&[("freeze", KeyList::from("p"))]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "keys.freeze: \"p\" is also bound to pause_polling (both work on every screen); \
             pick another key or rebind pause_polling too"
        );
        assert_eq!(problems[0].index, None);

        // Against the screen-only actions on that key, from a list: the element is named,
        // once per screen it clashes on.
        let problems = problems_of(&[("quit", KeyList::from(["q", "/"]))]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].action_key, "quit");
        assert_eq!(problems[0].index, Some(1));
        assert!(
            problems[0]
                .problem
                .contains("filter (both work on the rooms screen)"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1]
                .problem
                .contains("filter_events (both work on the event log screen)"),
            "{}",
            problems[1]
        );

        // Another spelling of the same key is still the same key.
        let problems = problems_of(&[("freeze", KeyList::from("shift+g"))]);
        assert!(
            problems[0]
                .problem
                .starts_with("\"shift+g\" (G) is also bound to bottom"),
            "{}",
            problems[0]
        );

        // The demo keys count on every screen.
        let problems = problems_of(&[("create_room", KeyList::from("S"))]);
        assert!(
            problems[0].problem.contains(
                "fault_latency (both work on the rooms screen while the built-in sandbox runs)"
            ),
            "{}",
            problems[0]
        );

        // Rooms-only and rooms-and-detail overlap.
        let problems = problems_of(&[("sort", KeyList::from("d"))]);
        assert!(
            problems[0].problem.contains("delete_room"),
            "{}",
            problems[0]
        );

        // Both rebound onto one key: reported once.
        let problems = problems_of(&[
            ("freeze", KeyList::from("z")),
            ("next_server", KeyList::from("z")),
        ]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].action_key, "next_server");
        assert!(
            problems[0].problem.contains("also bound to freeze"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn one_key_on_screens_never_shown_together_is_allowed() {
        let keymap = Keymap::with_overrides(&overrides(&[
            ("create_room", KeyList::from("x")),
            ("toggle_mute", KeyList::from("o")),
        ]))
        .expect("rooms-only and room-detail-only actions never meet");
        let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&x, Context::Rooms, false),
            Some(KeyAction::CreateRoom)
        );
        assert_eq!(
            keymap.action_for(&x, Context::RoomDetail, false),
            Some(KeyAction::RemoveParticipant)
        );
    }

    #[test]
    fn unknown_names_and_bad_keys_are_reported_with_their_fix() {
        let problems = problems_of(&[("frezee", KeyList::from("x"))]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].action_key, "frezee");
        assert_eq!(problems[0].problem, "unknown action `frezee`");
        let help = problems[0].help.as_deref().unwrap();
        assert!(help.starts_with("did you mean `freeze`?"), "{help}");
        assert!(
            help.contains("fault_clear") && help.contains("pause_polling"),
            "{help}"
        );
        let far = problems_of(&[("zzz", KeyList::from("x"))]);
        assert!(
            far[0]
                .help
                .as_deref()
                .unwrap()
                .starts_with("the actions are: quit,")
        );

        let problems = problems_of(&[("quit", KeyList::from(["q", "ctrl+k+x"]))]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].index, Some(1));
        assert!(
            problems[0].problem.contains("\"ctrl+k+x\""),
            "{}",
            problems[0]
        );
        assert_eq!(problems[0].help.as_deref(), Some(KEY_SYNTAX));

        let twice = problems_of(&[("quit", KeyList::from(["q", "q"]))]);
        assert_eq!(twice[0].index, Some(1));
        assert!(twice[0].problem.contains("listed twice"));
    }

    /// The template's commented list of actions, uncommented, is exactly the default table.
    #[test]
    fn the_template_lists_every_action_with_its_defaults() {
        #[derive(Deserialize)]
        struct Section {
            keys: BTreeMap<String, KeyList>,
        }
        const MARKER: &str = "# Every action with its default keys";
        let template = crate::config::TEMPLATE;
        for action in KeyAction::ALL {
            assert!(
                template.contains(&format!("{}:", action.name())),
                "the template documents {action}"
            );
        }
        let (_, listed) = template
            .split_once(MARKER)
            .expect("the template lists the actions");
        let yaml = listed
            .lines()
            .skip(1)
            .map(|line| line.strip_prefix('#').unwrap_or(line))
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        let section: Section =
            serde_yaml::from_str(&yaml).unwrap_or_else(|err| panic!("{err}\n{yaml}"));
        assert_eq!(section.keys.len(), KeyAction::ALL.len(), "{yaml}");
        let listed = Keymap::with_overrides(&section.keys).expect("the listed keys are valid");
        assert_eq!(listed, Keymap::default());
    }
}
