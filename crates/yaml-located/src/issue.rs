//! One problem in a YAML document or in the values layered over it, with where it is: the file,
//! line and column (the line echoed under the message), or the environment variable or flag
//! that set the value, the key, what is wrong and how to fix it.

use std::fmt;
use std::path::PathBuf;

use super::key_path::KeyPath;
use super::locate::Position;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written in a file; `position` is unknown when the file could not be indexed.
    File {
        path: PathBuf,
        position: Option<Position>,
        /// The text of that line, echoed under the message (never for a secret).
        line_text: Option<String>,
    },
    /// Taken from another program's file, where it belongs to `entry`: a value of an `lk`
    /// project reads `~/.livekit/cli-config.yaml:7:5 (lk project staging)`, so a problem with
    /// it is fixed where it is written, not in the file that uses it.
    Imported {
        path: PathBuf,
        position: Option<Position>,
        entry: String,
    },
    Env(String),
    Flag(String),
    Default,
}

impl Origin {
    /// The line and column in the file, when the value is written in one at a known place.
    #[must_use]
    pub fn position(&self) -> Option<Position> {
        match self {
            Self::File { position, .. } | Self::Imported { position, .. } => *position,
            Self::Env(_) | Self::Flag(_) | Self::Default => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File {
                path,
                position: Some(position),
                ..
            } => write!(
                f,
                "{}:{}:{}",
                path.display(),
                position.line,
                position.column
            ),
            Self::File { path, .. } => write!(f, "{}", path.display()),
            Self::Imported {
                path,
                position,
                entry,
            } => {
                write!(f, "{}", path.display())?;
                if let Some(position) = position {
                    write!(f, ":{}:{}", position.line, position.column)?;
                }
                write!(f, " ({entry})")
            }
            Self::Env(name) => write!(f, "environment variable {name}"),
            Self::Flag(flag) => write!(f, "command-line flag {flag}"),
            Self::Default => f.write_str("built-in default"),
        }
    }
}

/// One problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedIssue {
    /// The key the problem is about; `None` when it is about the text as a whole (YAML syntax),
    /// which a key path, even the top level's, would misname.
    pub key: Option<KeyPath>,
    pub origin: Origin,
    /// What is wrong, with the bad value and the allowed range where there is one.
    pub problem: String,
    /// How to fix it, when that is not obvious from the problem.
    pub help: Option<String>,
}

impl LocatedIssue {
    /// The issue on one line, `file:line:col: key: problem; help: …`, for places that list
    /// problems one per line (an event log) rather than with the file's line under each.
    #[must_use]
    pub fn one_line(&self) -> String {
        let mut line = self.headline();
        if let Some(help) = &self.help {
            line.push_str("; help: ");
            line.push_str(help);
        }
        line
    }

    /// `origin: key: problem`, the part both forms share.
    fn headline(&self) -> String {
        match &self.key {
            Some(key) => format!("{}: {key}: {}", self.origin, self.problem),
            None => format!("{}: {}", self.origin, self.problem),
        }
    }
}

impl fmt::Display for LocatedIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Origin::File {
            position: Some(position),
            line_text: Some(line_text),
            ..
        } = &self.origin
        {
            let gutter = position.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_pad = " ".repeat(position.column.saturating_sub(1));
            write!(
                f,
                "\n {pad} |\n {gutter} | {line_text}\n {pad} | {caret_pad}^"
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(key: Option<KeyPath>, origin: Origin, help: Option<&str>) -> LocatedIssue {
        LocatedIssue {
            key,
            origin,
            problem: "unknown key".to_owned(),
            help: help.map(str::to_owned),
        }
    }

    #[test]
    fn names_the_origin_the_key_and_the_problem_on_one_line() {
        let from_env = issue(
            Some("polling.intervall".parse().unwrap()),
            Origin::Env("LKTOP_POLLING__INTERVALL".to_owned()),
            Some("did you mean LKTOP_POLLING__INTERVAL?"),
        );
        assert_eq!(
            from_env.one_line(),
            "environment variable LKTOP_POLLING__INTERVALL: polling.intervall: unknown key; \
             help: did you mean LKTOP_POLLING__INTERVAL?"
        );
        let top_level = issue(
            Some(KeyPath::root()),
            Origin::Flag("--set x".to_owned()),
            None,
        );
        assert_eq!(
            top_level.to_string(),
            "command-line flag --set x: (top level): unknown key"
        );
        let whole_text = issue(
            None,
            Origin::File {
                path: PathBuf::from("x.yaml"),
                position: Some(Position { line: 3, column: 1 }),
                line_text: None,
            },
            None,
        );
        assert_eq!(whole_text.to_string(), "x.yaml:3:1: unknown key");
        assert_eq!(whole_text.origin.position().map(|p| p.line), Some(3));
    }

    #[test]
    fn a_value_from_another_programs_file_names_its_entry_there() {
        let imported = |position| Origin::Imported {
            path: PathBuf::from("~/.livekit/cli-config.yaml"),
            position,
            entry: "lk project staging".to_owned(),
        };
        let placed = imported(Some(Position { line: 7, column: 5 }));
        assert_eq!(
            placed.to_string(),
            "~/.livekit/cli-config.yaml:7:5 (lk project staging)"
        );
        assert_eq!(placed.position().map(|p| p.line), Some(7));
        assert_eq!(
            imported(None).to_string(),
            "~/.livekit/cli-config.yaml (lk project staging)"
        );
    }

    #[test]
    fn echoes_the_line_with_a_caret_under_the_column() {
        let in_file = issue(
            Some("connection_pool.pool_sise".parse().unwrap()),
            Origin::File {
                path: PathBuf::from("bad.yaml"),
                position: Some(Position { line: 3, column: 3 }),
                line_text: Some("  pool_sise: 4".to_owned()),
            },
            Some("did you mean `connection_pool.pool_size`?"),
        );
        assert_eq!(
            in_file.to_string(),
            "bad.yaml:3:3: connection_pool.pool_sise: unknown key\n   |\n 3 |   pool_sise: 4\n   \
             |   ^\n  help: did you mean `connection_pool.pool_size`?"
        );
        assert_eq!(
            in_file.one_line(),
            "bad.yaml:3:3: connection_pool.pool_sise: unknown key; help: did you mean \
             `connection_pool.pool_size`?"
        );
    }
}
