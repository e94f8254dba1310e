//! Configuration problems, reported all at once, each naming where it comes from (file, line and
//! column, or the environment variable or flag that set it), the key, the bad value and the fix.

use std::fmt;
use std::path::PathBuf;

use super::key_path::KeyPath;
use super::locate::Position;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written in a file; `position` is unknown when the file could not be indexed.
    File {
        path: PathBuf,
        position: Option<Position>,
        /// The text of that line, echoed under the message (never for a secret).
        line_text: Option<String>,
    },
    Env(String),
    Flag(String),
    Default,
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
            Self::Env(name) => write!(f, "environment variable {name}"),
            Self::Flag(flag) => write!(f, "command-line flag {flag}"),
            Self::Default => f.write_str("built-in default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: KeyPath,
    pub origin: Origin,
    /// What is wrong, with the bad value and the allowed range where there is one.
    pub problem: String,
    /// How to fix it, when that is not obvious from the problem.
    pub help: Option<String>,
}

impl ConfigIssue {
    /// The issue on one line, `file:line:col: key: problem; help: …`, for places that list
    /// problems one per line (the event log) rather than with the file's line under each.
    #[must_use]
    pub fn one_line(&self) -> String {
        let mut line = format!("{}: {}: {}", self.origin, self.key, self.problem);
        if let Some(help) = &self.help {
            line.push_str("; help: ");
            line.push_str(help);
        }
        line
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.key, self.problem)?;
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

/// Everything that is wrong with a configuration; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl ConfigError {
    #[must_use]
    pub fn single(issue: ConfigIssue) -> Self {
        Self {
            issues: vec![issue],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.len() {
            1 => writeln!(f, "the configuration has 1 problem:")?,
            count => writeln!(f, "the configuration has {count} problems:")?,
        }
        for issue in &self.issues {
            writeln!(f, "\n{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
