//! The configuration's `keys:` section checked with the key map. The configuration keeps the
//! section as text and knows nothing of keys; the command line, which loads a configuration for
//! the dashboard, passes [`key_section_problems`] to the loader so that key problems are placed
//! in the file and listed with every other problem.

use super::bindings::Keymap;
use crate::config::{Config, KeyPath, ValidationProblem};

/// Unknown action names, unreadable keys and keys bound twice where both actions can be on
/// screen; each problem points at the entry (or the list element) it is about.
#[must_use]
pub fn key_section_problems(config: &Config) -> Vec<ValidationProblem> {
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
