//! Placing a problem where its key was set: the file's line and column (with the line
//! echoed, unless it holds a secret), the variable or the flag, and the fix written the way
//! the value was given.

use std::path::Path;

use yaml_located::{KeyPath, Locator, Origin, Position, Segment, Target};

use super::former_names::Renamed;
use super::overrides::{ENV_PREFIX, ENV_SEPARATOR, Override, env_name};
use super::suggest::suggest;
use crate::config::echoed_line::echoed_line;
use crate::config::error::{ConfigError, ConfigIssue};
use crate::config::schema::line_may_be_shown;
use crate::config::validate::Violation;

/// Ties a problem to where its key was set.
pub(super) struct Placer<'a> {
    pub(super) file: Option<&'a Path>,
    pub(super) text: &'a str,
    pub(super) locator: &'a Locator<'a>,
    pub(super) overrides: &'a [Override],
    /// Keys the file wrote under a former name: a problem with one is placed where it was
    /// written.
    pub(super) renamed: &'a [Renamed],
}

impl Placer<'_> {
    /// An override of the key itself wins, as it did when it was applied; then the file, when it
    /// writes the key; then an override of a sibling (a server entry created by `LIVEKIT_URL`
    /// is "from" that variable); then the nearest enclosing key in the file.
    fn origin(&self, key: &KeyPath, target: Target) -> Origin {
        let last_override = |matches: &dyn Fn(&Override) -> bool| {
            self.overrides
                .iter()
                .rev()
                .find(|entry| matches(entry))
                .map(|entry| entry.origin.clone())
        };
        if let Some(origin) = last_override(&|entry| entry.key == *key) {
            return origin;
        }
        // Not written in the file: an override of a key beneath it created it (a misspelt
        // section in `LKTOP_POLING__INTERVAL`), else one of a sibling did.
        let set_from_outside = || {
            let parent = key.parent();
            last_override(&|entry| entry.key.segments().starts_with(key.segments()))
                .or_else(|| last_override(&|entry| entry.key.parent() == parent))
        };
        let Some(file) = self.file else {
            return set_from_outside().unwrap_or(Origin::Default);
        };
        if !self.locator.contains(key)
            && let Some(origin) = set_from_outside()
        {
            return origin;
        }
        let position = self.locator.find(&self.as_written(key), target);
        let line_text = position
            .filter(|_| line_may_be_shown(key))
            .and_then(|position| line_of(self.text, position.line));
        file_origin(file, position, line_text)
    }

    /// `key` as the file wrote it: under its former name when the file used that one.
    fn as_written(&self, key: &KeyPath) -> KeyPath {
        self.renamed
            .iter()
            .find_map(|rename| rename.as_written(key))
            .unwrap_or_else(|| key.clone())
    }

    /// `file:line:col` of `key` in the file, when the file writes it.
    pub(super) fn file_position(&self, key: &KeyPath) -> Option<String> {
        let file = self.file?;
        let position = self.locator.find(key, Target::Key)?;
        Some(format!(
            "{}:{}:{}",
            file.display(),
            position.line,
            position.column
        ))
    }

    pub(super) fn issue(&self, violation: Violation, target: Target) -> ConfigIssue {
        let origin = self.origin(&violation.key, target);
        let help = match (&violation.suggested_value, violation.help) {
            (Some(value), help) => {
                let fix = fix_at(&origin, &violation.key, value);
                Some(help.map_or_else(|| fix.clone(), |help| format!("{fix}; {help}")))
            }
            (None, help) => help,
        };
        // Named as the file wrote it, so the key in the message is the one on its line.
        let key = match &origin {
            Origin::File { .. } => self.as_written(&violation.key),
            _ => violation.key,
        };
        ConfigIssue {
            origin,
            key: Some(key),
            problem: violation.problem,
            help,
        }
    }

    pub(super) fn unknown_key(&self, key: KeyPath) -> ConfigIssue {
        let mut origin = self.origin(&key, Target::Key);
        let suggestion = suggest(&key);
        // An unknown key in a server entry may be a misspelt credential (`api_secert:`), whose
        // line then holds the secret; so may one that was meant to be a secret key.
        let in_server =
            matches!(key.segments().first(), Some(Segment::Key(name)) if name == "servers");
        if (in_server
            || suggestion
                .as_ref()
                .is_some_and(|meant| !line_may_be_shown(meant)))
            && let Origin::File { line_text, .. } = &mut origin
        {
            *line_text = None;
        }
        let help = match (suggestion, &origin) {
            // A variable's reader needs the variable to write, not the key it sets; the parts
            // of the variable below the unknown key are kept.
            (Some(suggestion), Origin::Env(name)) if name.starts_with(ENV_PREFIX) => {
                let below = name
                    .split(ENV_SEPARATOR)
                    .skip(key.segments().len())
                    .map(|part| format!("{ENV_SEPARATOR}{part}"));
                let variable: String = std::iter::once(env_name(&suggestion))
                    .chain(below)
                    .collect();
                format!("did you mean {variable}?")
            }
            (Some(suggestion), _) => format!("did you mean `{suggestion}`?"),
            (None, _) => "remove it; `lktop print-config-template` lists every key".to_owned(),
        };
        ConfigIssue {
            key: Some(key),
            origin,
            problem: "unknown key".to_owned(),
            help: Some(help),
        }
    }
}

/// The fix "use this value instead", written the way the value was given.
fn fix_at(origin: &Origin, key: &KeyPath, value: &str) -> String {
    match origin {
        Origin::Env(name) => format!("set {name}={value}"),
        Origin::Flag(flag) if flag.starts_with("--set ") => format!("use {flag}={value}"),
        Origin::Flag(flag) => format!("use {flag} {value}"),
        Origin::File { .. } | Origin::Default => {
            format!("write `{}: {value}`", key.leaf().unwrap_or("value"))
        }
        Origin::Imported { path, entry, .. } => format!(
            "write `{}: {value}` for {entry} in {}",
            key.leaf().unwrap_or("value"),
            path.display()
        ),
    }
}

/// File problems top to bottom, then the ones from `lk`'s projects, the environment and flags.
pub(super) fn sorted(mut issues: Vec<ConfigIssue>) -> ConfigError {
    issues.sort_by_key(|issue| match &issue.origin {
        Origin::File { position, .. } => (0, position.map_or((0, 0), |p| (p.line, p.column))),
        Origin::Imported { position, .. } => (1, position.map_or((0, 0), |p| (p.line, p.column))),
        Origin::Env(_) => (2, (0, 0)),
        Origin::Flag(_) => (3, (0, 0)),
        Origin::Default => (4, (0, 0)),
    });
    ConfigError { issues }
}

pub(super) fn file_origin(
    path: &Path,
    position: Option<Position>,
    line_text: Option<String>,
) -> Origin {
    Origin::File {
        path: path.to_path_buf(),
        position,
        line_text,
    }
}

/// The line to quote under a problem, unless it may hold a secret.
pub(super) fn line_of(text: &str, line: usize) -> Option<String> {
    echoed_line(text, line)
}
