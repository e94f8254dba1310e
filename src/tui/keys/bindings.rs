//! The bindings in effect: the table's default keys with the configuration's replacements,
//! checked so that no key means two actions where both could be on screen.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::KeyEvent;

use super::actions::KeyAction;
use super::context::{Context, Watching};
use super::spec::{KEY_SYNTAX, KeySpec};
use crate::config::KeyList;

/// One thing wrong with the `keys:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapProblem {
    /// The name written in the configuration (`freeze`, or a misspelt one).
    pub(crate) action_key: String,
    /// The list element the problem is about, when the keys were written as a list.
    pub(crate) index: Option<usize>,
    pub(crate) problem: String,
    pub(crate) help: Option<String>,
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
            keys: KeyAction::ALL
                .iter()
                .map(|action| action.default_keys().to_vec())
                .collect(),
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
        let mut bound: Vec<Vec<Bound>> = KeyAction::ALL
            .iter()
            .map(|action| {
                action
                    .default_keys()
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

    /// The action `event` triggers on `screen` while the dashboard watches `watching` (the
    /// built-in sandbox's fault keys and a replay's keys work only there). Since no key is
    /// bound twice where contexts overlap, at most one matches.
    #[must_use]
    pub(crate) fn action_for(
        &self,
        event: &KeyEvent,
        screen: Context,
        watching: Watching,
    ) -> Option<KeyAction> {
        self.entries()
            .filter(|(action, _)| action.context().is_active(screen, watching))
            .find(|(_, keys)| keys.iter().any(|key| key.matches(event)))
            .map(|(action, _)| action)
    }

    /// The keys bound to `action`; empty when it was unbound.
    #[must_use]
    pub fn keys(&self, action: KeyAction) -> &[KeySpec] {
        &self.keys[action as usize]
    }

    /// Every action with its keys, in table order (for the help overlay).
    pub(crate) fn entries(&self) -> impl Iterator<Item = (KeyAction, &[KeySpec])> {
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
    let names: Vec<&str> = KeyAction::ALL.iter().map(|action| action.name()).collect();
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
            let (a, b) = (KeyAction::ALL[first], KeyAction::ALL[second]);
            let (a_context, b_context) = (a.context(), b.context());
            if !a_context.overlaps(b_context) {
                continue;
            }
            for in_first in first_keys {
                let Some(in_second) = second_keys.iter().find(|key| key.key == in_first.key) else {
                    continue;
                };
                let (reported, action, other) = if overridden[first] && !overridden[second] {
                    (in_first, a, b)
                } else {
                    (in_second, b, a)
                };
                let text = reported.text.as_deref().map_or_else(
                    || format!("{:?}", reported.key.to_string()),
                    |text| quoted(text, reported.key),
                );
                problems.push(KeymapProblem {
                    action_key: action.name().to_owned(),
                    index: reported.index,
                    problem: format!(
                        "{text} is also bound to {other} (both work on {})",
                        a_context.shared_scope(b_context)
                    ),
                    help: Some(format!("pick another key or rebind {other} too")),
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};
    use serde::Deserialize;

    use super::super::test_keys::{press, spec};
    use super::*;

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
    fn the_defaults_have_no_duplicates() {
        assert_eq!(
            Keymap::with_overrides(&BTreeMap::new()),
            Ok(Keymap::default())
        );
    }

    #[test]
    fn action_for_looks_only_at_the_active_contexts() {
        let keymap = Keymap::default();
        let key = |c: char| press(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&key('q'), Context::Events, Watching::Servers),
            Some(KeyAction::Quit)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Context::Overview,
                Watching::Servers
            ),
            Some(KeyAction::Quit)
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::Rooms, Watching::Servers),
            Some(KeyAction::Filter)
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::RoomDetail, Watching::Servers),
            None
        );
        assert_eq!(
            keymap.action_for(&key('/'), Context::Events, Watching::Servers),
            Some(KeyAction::FilterEvents)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::RoomDetail, Watching::Servers),
            Some(KeyAction::DeleteRoom)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::Rooms, Watching::Servers),
            Some(KeyAction::DeleteRoom)
        );
        assert_eq!(
            keymap.action_for(&key('d'), Context::Connections, Watching::Servers),
            None
        );
        assert_eq!(
            keymap.action_for(&key('x'), Context::Rooms, Watching::Servers),
            None
        );
        assert_eq!(
            keymap.action_for(&key('x'), Context::RoomDetail, Watching::Servers),
            Some(KeyAction::RemoveParticipant)
        );
        let shift_s = press(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(
            keymap.action_for(&shift_s, Context::Overview, Watching::Servers),
            None
        );
        assert_eq!(
            keymap.action_for(&shift_s, Context::Overview, Watching::Sandbox),
            Some(KeyAction::FaultLatency)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::BackTab, KeyModifiers::SHIFT),
                Context::Rooms,
                Watching::Servers
            ),
            Some(KeyAction::PrevTab)
        );
        assert_eq!(
            keymap.action_for(
                &press(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Context::Events,
                Watching::Servers
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
        assert_eq!(
            keymap.action_for(&f, Context::Overview, Watching::Servers),
            None
        );
        let ctrl_f = press(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.action_for(&ctrl_f, Context::Overview, Watching::Servers),
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
            keymap.action_for(&p, Context::Rooms, Watching::Servers),
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
        assert_eq!(problems.len(), 4, "{problems:?}");
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
        assert!(
            problems[2]
                .problem
                .contains("filter_history (both work on the history screen)"),
            "{}",
            problems[2]
        );
        assert!(
            problems[3]
                .problem
                .contains("filter_nodes (both work on the nodes screen)"),
            "{}",
            problems[3]
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
            keymap.action_for(&x, Context::Rooms, Watching::Servers),
            Some(KeyAction::CreateRoom)
        );
        assert_eq!(
            keymap.action_for(&x, Context::RoomDetail, Watching::Servers),
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

    #[test]
    fn replay_keys_work_only_in_a_replay_and_reload_works_everywhere() {
        let keymap = Keymap::default();
        let right = press(KeyCode::Right, KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&right, Context::Rooms, Watching::Recording),
            Some(KeyAction::ReplaySkip)
        );
        assert_eq!(
            keymap.action_for(&right, Context::Rooms, Watching::Servers),
            None
        );
        let faster = press(KeyCode::Char(']'), KeyModifiers::NONE);
        assert_eq!(
            keymap.action_for(&faster, Context::Events, Watching::Recording),
            Some(KeyAction::ReplayFaster)
        );
        assert_eq!(
            keymap.action_for(&faster, Context::Events, Watching::Sandbox),
            None
        );
        let ctrl_r = press(KeyCode::Char('r'), KeyModifiers::CONTROL);
        for watching in [Watching::Servers, Watching::Sandbox, Watching::Recording] {
            assert_eq!(
                keymap.action_for(&ctrl_r, Context::Connections, watching),
                Some(KeyAction::ReloadConfig)
            );
        }
        // The demo's keys and a replay's are never offered at once, so they may share a key.
        Keymap::with_overrides(&overrides(&[("replay_skip", KeyList::from("S"))]))
            .expect("a replay key may be a demo key");
        let problems = problems_of(&[("replay_slower", KeyList::from("f"))]);
        assert!(
            problems[0]
                .problem
                .contains("freeze (both work on every screen while a recording plays)"),
            "{}",
            problems[0]
        );
    }
}
