//! Loading a scenario: the built-in ones, a file, or text; decoding errors carry the key and
//! the position, semantic problems are all placed in the text.

use std::path::{Path, PathBuf};

use yaml_located::{KeyPath, LocatedIssue, Locator, Origin, Position, Target};

use super::error::ScenarioError;
use super::schema::Scenario;
use super::{DEMO_LABEL, DEMO_YAML};

impl Scenario {
    /// No rooms and no faults: the sandbox serves only what clients create (`--scenario none`).
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in demo, this crate's `assets/demo.yaml`.
    ///
    /// # Panics
    /// Never in a released build: a test loads the embedded file.
    #[must_use]
    pub fn demo() -> Self {
        Self::from_yaml(DEMO_YAML, DEMO_LABEL)
            .unwrap_or_else(|err| panic!("the built-in demo scenario is broken:\n{err}"))
    }

    /// Reads and checks a scenario file.
    ///
    /// # Errors
    /// The file cannot be read, is not a valid scenario, or makes no sense; see
    /// [`Scenario::from_yaml`].
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Decodes and checks a scenario; `label` names it in errors (usually the file's path).
    /// An empty document is the empty scenario.
    ///
    /// # Errors
    /// [`ScenarioError::Decode`] for YAML syntax, an unknown key or a wrong type;
    /// [`ScenarioError::Invalid`] with every semantic problem found.
    pub fn from_yaml(text: &str, label: &str) -> Result<Self, ScenarioError> {
        let has_content = text.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && line != "---"
        });
        if !has_content {
            return Ok(Self::empty());
        }
        let deserializer = serde_yaml::Deserializer::from_str(text);
        let scenario: Self = serde_path_to_error::deserialize(deserializer)
            .map_err(|err| ScenarioError::Decode(Box::new(decode_issue(&err, label))))?;
        let problems = scenario.problems();
        if problems.is_empty() {
            return Ok(scenario);
        }
        let locator = Locator::new(text);
        let issues = problems
            .into_iter()
            .map(|(key, problem)| LocatedIssue {
                origin: Origin::File {
                    path: PathBuf::from(label),
                    position: locator.find(&key, Target::Key),
                    line_text: None,
                },
                key: Some(key),
                problem,
                help: None,
            })
            .collect();
        Err(ScenarioError::Invalid {
            label: label.to_owned(),
            issues,
        })
    }
}

/// Turns serde's error into one issue: the key from `serde_path_to_error` (none for the
/// document as a whole), the position from `serde_yaml`, and the message without the position
/// and path `serde_yaml` already appends.
fn decode_issue(err: &serde_path_to_error::Error<serde_yaml::Error>, label: &str) -> LocatedIssue {
    let key = (err.path().iter().len() > 0).then(|| key_path(err.path()));
    let key_text = key.as_ref().map(ToString::to_string).unwrap_or_default();
    let mut problem = strip_positions(&err.inner().to_string());
    // serde_yaml prefixes its messages with its own path, which is the same as ours or an
    // ancestor (it cannot see into buffered content such as a flattened disruption).
    if let Some((prefix, rest)) = problem.split_once(": ")
        && !prefix.is_empty()
        && !prefix.contains(' ')
        && key_text.starts_with(prefix)
    {
        problem = rest.to_owned();
    }
    LocatedIssue {
        key,
        origin: Origin::File {
            path: PathBuf::from(label),
            position: err.inner().location().map(|location| Position {
                line: location.line(),
                column: location.column(),
            }),
            line_text: None,
        },
        problem,
        help: None,
    }
}

/// serde's path as a key path that reads as serde writes it: a mapping key that is not text
/// is `?`.
fn key_path(path: &serde_path_to_error::Path) -> KeyPath {
    use serde_path_to_error::Segment as S;
    path.iter()
        .fold(KeyPath::root(), |key, segment| match segment {
            S::Seq { index } => key.index(*index),
            S::Map { key: name } | S::Enum { variant: name } => key.key(name.as_str()),
            S::Unknown => key.key("?"),
        })
}

/// Removes every ` at line N column M` (the issue carries the position itself).
pub(super) fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" at line ") {
        let after = &rest[start + " at line ".len()..];
        let digits = |text: &str| text.chars().take_while(char::is_ascii_digit).count();
        let line_digits = digits(after);
        let Some(column_part) = after[line_digits..].strip_prefix(" column ") else {
            out.push_str(&rest[..start + " at line ".len()]);
            rest = after;
            continue;
        };
        let column_digits = digits(column_part);
        if line_digits == 0 || column_digits == 0 {
            out.push_str(&rest[..start + " at line ".len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..start]);
        rest = &column_part[column_digits..];
    }
    out.push_str(rest);
    out
}
