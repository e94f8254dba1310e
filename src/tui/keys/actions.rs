//! Every action a key can trigger, declared once: `key_actions!` turns one list into the
//! [`KeyAction`] enum, its table (configuration name, description, context, default keys,
//! whether it needs a live engine) and [`KeyAction::ALL`] in help order, so the three can
//! never fall out of step.

use std::fmt;

use crossterm::event::KeyCode::{Down, End, Enter, Esc, Home, PageDown, PageUp, Right, Tab, Up};

use super::context::Context;
use super::spec::KeySpec;

/// What the table says about one action.
struct ActionInfo {
    name: &'static str,
    description: &'static str,
    context: Context,
    keys: &'static [KeySpec],
    live_only: bool,
}

/// `Variant: "config_name", "description", Context, [default keys], live_only;`, one line per
/// action in help order.
macro_rules! key_actions {
    ($($action:ident: $name:literal, $description:literal, $context:ident, [$($key:expr),*], $live_only:literal;)*) => {
        /// What a key can do in the dashboard.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KeyAction {
            $($action,)*
        }

        impl KeyAction {
            /// Every action, in table (help overlay) order.
            pub const ALL: [Self; [$(stringify!($action)),*].len()] = [$(Self::$action),*];
        }

        /// The one table, in [`KeyAction`]'s order.
        const TABLE: [ActionInfo; KeyAction::ALL.len()] = [$(
            ActionInfo {
                name: $name,
                description: $description,
                context: Context::$context,
                keys: &[$($key),*],
                live_only: $live_only,
            },
        )*];
    };
}

// `live_only`: asks the engine for something (a command, a demo fault), so it does nothing in
// a replay, which is read-only.
key_actions! {
    Quit:              "quit",               "quit",                           Global,      [KeySpec::char('q'), KeySpec::ctrl('c')], false;
    Suspend:           "suspend",            "suspend (fg resumes)",           Global,      [KeySpec::ctrl('z')], false;
    Help:              "help",               "help",                           Global,      [KeySpec::char('?')], false;
    NextTab:           "next_tab",           "next screen",                    Global,      [KeySpec::key(Tab)], false;
    PrevTab:           "prev_tab",           "previous screen",                Global,      [KeySpec::shift(Tab)], false;
    ShowOverview:      "show_overview",      "overview",                       Global,      [KeySpec::char('1')], false;
    ShowConnections:   "show_connections",   "connections",                    Global,      [KeySpec::char('2')], false;
    ShowRooms:         "show_rooms",         "rooms",                          Global,      [KeySpec::char('3')], false;
    ShowEvents:        "show_events",        "event log",                      Global,      [KeySpec::char('4')], false;
    ShowHistory:       "show_history",       "finished rooms",                 Global,      [KeySpec::char('5')], false;
    ShowNodes:         "show_nodes",         "nodes (media plane)",            Global,      [KeySpec::char('6')], false;
    Up:                "up",                 "up",                             Global,      [KeySpec::key(Up), KeySpec::char('k')], false;
    Down:              "down",               "down",                           Global,      [KeySpec::key(Down), KeySpec::char('j')], false;
    PageUp:            "page_up",            "page up",                        Global,      [KeySpec::key(PageUp)], false;
    PageDown:          "page_down",          "page down",                      Global,      [KeySpec::key(PageDown)], false;
    Top:               "top",                "top",                            Global,      [KeySpec::key(Home), KeySpec::char('g')], false;
    Bottom:            "bottom",             "bottom",                         Global,      [KeySpec::key(End), KeySpec::char('G')], false;
    Open:              "open",               "open",                           Global,      [KeySpec::key(Enter)], false;
    Back:              "back",               "back",                           Global,      [KeySpec::key(Esc)], false;
    Freeze:            "freeze",             "freeze",                         Global,      [KeySpec::char('f')], false;
    PausePolling:      "pause_polling",      "pause polling",                  Global,      [KeySpec::char('p')], false;
    NextServer:        "next_server",        "next server",                    Global,      [KeySpec::char('s')], false;
    EditLimits:        "edit_limits",        "edit limits",                    Global,      [KeySpec::char('L')], true;
    RetryNow:          "retry_now",          "retry now",                      Global,      [KeySpec::char('r')], true;
    ReloadConfig:      "reload_config",      "reload the configuration file",  Global,      [KeySpec::ctrl('r')], true;
    Filter:            "filter",             "filter",                         Rooms,       [KeySpec::char('/')], false;
    Sort:              "sort",               "sort column",                    Rooms,       [KeySpec::char('o')], false;
    ReverseSort:       "reverse_sort",       "reverse sort",                   Rooms,       [KeySpec::char('O')], false;
    CreateRoom:        "create_room",        "new room",                       Rooms,       [KeySpec::char('n')], true;
    DeleteRoom:        "delete_room",        "delete room",                    RoomActions, [KeySpec::char('d')], true;
    RoomLimits:        "room_limits",        "room limits",                    RoomActions, [KeySpec::char('l')], true;
    AudioProfile:      "audio_profile",      "audio profile",                  RoomActions, [KeySpec::char('a')], true;
    RemoveParticipant: "remove_participant", "remove participant / stop egress / delete dispatch", RoomDetail, [KeySpec::char('x')], true;
    DispatchAgent:     "dispatch_agent",     "dispatch an agent",              RoomDetail,  [KeySpec::char('D')], true;
    ToggleMute:        "toggle_mute",        "mute/unmute track",              RoomDetail,  [KeySpec::char('m')], true;
    FilterEvents:      "filter_events",      "filter events",                  Events,      [KeySpec::char('/')], false;
    FilterHistory:     "filter_history",     "filter finished rooms",          History,     [KeySpec::char('/')], false;
    SortHistory:       "sort_history",       "sort column",                    History,     [KeySpec::char('o')], false;
    ReverseHistory:    "reverse_history",    "reverse sort",                   History,     [KeySpec::char('O')], false;
    FilterNodes:       "filter_nodes",       "filter nodes",                   Nodes,       [KeySpec::char('/')], false;
    SortNodes:         "sort_nodes",         "sort column",                    Nodes,       [KeySpec::char('o')], false;
    ReverseNodes:      "reverse_nodes",      "reverse sort",                   Nodes,       [KeySpec::char('O')], false;
    FaultLatency:      "fault_latency",      "latency spike",                  Demo,        [KeySpec::char('S')], true;
    FaultErrors:       "fault_errors",       "error burst",                    Demo,        [KeySpec::char('E')], true;
    FaultMedia:        "fault_media",        "media fault (loss, RTT, jitter)", Demo,       [KeySpec::char('M')], true;
    FaultRestart:      "fault_restart",      "restart server",                 Demo,        [KeySpec::char('R')], true;
    FaultClear:        "fault_clear",        "clear faults",                   Demo,        [KeySpec::char('C')], true;
    ReplayFaster:      "replay_faster",      "play faster (×2)",               Replay,      [KeySpec::char(']')], false;
    ReplaySlower:      "replay_slower",      "play slower (÷2)",               Replay,      [KeySpec::char('[')], false;
    ReplaySkip:        "replay_skip",        "skip 10 s ahead",                Replay,      [KeySpec::key(Right)], false;
}

impl KeyAction {
    fn info(self) -> &'static ActionInfo {
        &TABLE[self as usize]
    }

    /// The `snake_case` name used in the configuration's `keys:` section.
    #[must_use]
    pub(crate) fn name(self) -> &'static str {
        self.info().name
    }

    /// A few words for the help overlay and the footer.
    #[must_use]
    pub(crate) fn description(self) -> &'static str {
        self.info().description
    }

    #[must_use]
    pub(crate) fn context(self) -> Context {
        self.info().context
    }

    /// The keys bound when the configuration does not rebind the action.
    #[must_use]
    pub(crate) fn default_keys(self) -> &'static [KeySpec] {
        self.info().keys
    }

    /// Whether the action asks the engine for something (a command, a demo fault), so it does
    /// nothing in a replay, which is read-only.
    #[must_use]
    pub(crate) fn is_live_only(self) -> bool {
        self.info().live_only
    }

    /// The action a configuration name stands for.
    #[must_use]
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.name() == name)
    }
}

impl fmt::Display for KeyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Keymap;

    #[test]
    fn the_table_is_in_order_and_its_defaults_are_canonical() {
        for (index, action) in KeyAction::ALL.iter().enumerate() {
            assert_eq!(*action as usize, index);
            assert_eq!(KeyAction::from_name(action.name()), Some(*action));
            assert!(!action.description().is_empty());
            for key in action.default_keys() {
                let spec: KeySpec = key.to_string().parse().unwrap();
                assert_eq!(spec, *key, "{action}: {key}");
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
        assert_eq!(KeyAction::ReplaySkip.context(), Context::Replay);
        assert!(KeyAction::ReloadConfig.is_live_only() && !KeyAction::ReplayFaster.is_live_only());
    }
}
