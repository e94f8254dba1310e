//! Why a scenario could not be used.

use yaml_located::LocatedIssue;

/// Why a scenario could not be used: it could not be read, decoded, or made no sense.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// YAML syntax, an unknown key or a value of the wrong type: decoding stops at the first.
    /// The issue's file is the scenario's label; it names no key for a YAML syntax error.
    #[error("{0}")]
    Decode(Box<LocatedIssue>),
    /// The scenario decodes but does not make sense; every problem found.
    #[error("{}", render_issues(label, issues))]
    Invalid {
        label: String,
        issues: Vec<LocatedIssue>,
    },
}

impl ScenarioError {
    /// The problems with their positions (none for a read error).
    #[must_use]
    pub fn issues(&self) -> &[LocatedIssue] {
        match self {
            Self::Read { .. } => &[],
            Self::Decode(issue) => std::slice::from_ref(&**issue),
            Self::Invalid { issues, .. } => issues,
        }
    }
}

fn render_issues(label: &str, issues: &[LocatedIssue]) -> String {
    let mut text = match issues.len() {
        1 => format!("the scenario {label} has 1 problem:"),
        count => format!("the scenario {label} has {count} problems:"),
    };
    for issue in issues {
        text.push_str("\n  ");
        text.push_str(&issue.to_string());
    }
    text
}
