//! The configuration's `keys:` section checked with the key map. The configuration keeps the
//! section as text and knows nothing of keys; the command line, which loads a configuration for
//! the dashboard, passes [`key_section_problems`] to the loader so that key problems are placed
//! in the file and listed with every other problem.

use super::bindings::Keymap;
use crate::config::{Config, KeyPath, ValidationProblem};

/// Unknown action names, unreadable keys and keys bound twice where both actions can be on
/// screen; each problem points at the entry (or the list element) it is about.
#[must_use]
pub(crate) fn key_section_problems(config: &Config) -> Vec<ValidationProblem> {
    let Err(problems) = Keymap::with_overrides(&config.keys) else {
        return Vec::new();
    };
    problems
        .into_iter()
        .map(|problem| {
            let mut key = KeyPath::root().key("keys").key(problem.action_key);
            if let Some(index) = problem.index {
                key = key.index(index);
            }
            ValidationProblem {
                key,
                problem: problem.problem,
                help: problem.help,
                suggested_value: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigError, load_text_checked};

    const FILE: &str = "perf.yaml";

    fn errors_of(text: &str) -> ConfigError {
        load_text_checked(Some(Path::new(FILE)), Some(text), &[], key_section_problems)
            .expect_err("the configuration should be refused")
    }

    /// The one issue about `key`, checked to point at `line` of the file.
    fn issue_at(error: &ConfigError, key: &str, line: usize) -> String {
        let matching: Vec<_> = error
            .issues
            .iter()
            .filter(|issue| issue.key.as_ref().is_some_and(|at| at.to_string() == key))
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "one issue about {key} expected in:\n{error}"
        );
        let text = matching[0].to_string();
        assert!(
            text.starts_with(&format!("{FILE}:{line}:")),
            "{key} should point at line {line}: {text}"
        );
        assert!(text.contains(key), "the message names the key: {text}");
        text
    }

    #[test]
    fn a_key_bound_to_two_actions_is_refused_naming_both() {
        let error = errors_of("polling:\n  interval: 2s\nkeys:\n  freeze: \"p\"\n");
        let text = issue_at(&error, "keys.freeze", 4);
        assert!(
            text.contains("\"p\" is also bound to pause_polling (both work on every screen)"),
            "{text}"
        );
        assert!(text.contains("rebind pause_polling too"), "{text}");
        assert!(
            text.contains("4 |   freeze: \"p\""),
            "the line is echoed: {text}"
        );

        // The flow form points at the same entry.
        let error = errors_of("keys: {freeze: \"p\"}\n");
        assert!(issue_at(&error, "keys.freeze", 1).contains("pause_polling"));
    }

    #[test]
    fn an_unknown_action_suggests_the_nearest_one() {
        let error = errors_of("keys:\n  frezee: \"x\"\n");
        let text = issue_at(&error, "keys.frezee", 2);
        assert!(text.contains("unknown action `frezee`"), "{text}");
        assert!(text.contains("did you mean `freeze`?"), "{text}");
        assert!(
            text.contains("pause_polling"),
            "the actions are listed: {text}"
        );
    }

    #[test]
    fn a_bad_key_in_a_list_is_named_by_its_position() {
        let error = errors_of("keys:\n  quit: [\"q\", \"ctrl+k+x\"]\n");
        assert_eq!(error.issues.len(), 1, "{error}");
        let text = issue_at(&error, "keys.quit[1]", 2);
        assert!(
            text.starts_with("perf.yaml:2:15: keys.quit[1]:"),
            "points at the element: {text}"
        );
        assert!(text.contains("\"k\" is not a modifier"), "{text}");
        assert!(text.contains("help: a key is one character"), "{text}");

        let error = errors_of("keys:\n  help: {key: x}\n");
        let text = issue_at(&error, "keys.help", 2);
        assert!(text.contains("a key such as \"ctrl+f\""), "{text}");
    }
}
