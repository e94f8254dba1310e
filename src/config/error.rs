//! Configuration problems, reported all at once, each naming where it comes from (file, line and
//! column, or the environment variable or flag that set it), the key, the bad value and the fix.

use std::fmt;

/// One problem in the configuration: the located issue the sandbox's scenarios report with too.
pub type ConfigIssue = yaml_located::LocatedIssue;

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
