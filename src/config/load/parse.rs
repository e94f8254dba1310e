//! Reading the file's text into a YAML tree: syntax errors and keys written twice placed on
//! their line, and a top level that is not a mapping of sections refused.

use std::path::Path;

use serde_yaml::{Mapping, Value};
use yaml_located::{KeyPath, Position, duplicate_key};

use super::place::{file_origin, line_of};
use crate::config::error::{ConfigError, ConfigIssue};
use crate::config::schema::line_may_be_shown;

pub(super) fn parse_tree(file: &Path, text: &str) -> Result<Value, ConfigError> {
    let tree: Value = serde_yaml::from_str(text).map_err(|err| {
        if let Some(issue) = duplicate_key_issue(file, text, &err.to_string()) {
            return ConfigError::single(issue);
        }
        let position = err.location().map(|location| Position {
            line: location.line(),
            column: location.column(),
        });
        ConfigError::single(ConfigIssue {
            key: Some(KeyPath::root()),
            origin: file_origin(file, position, position.and_then(|p| line_of(text, p.line))),
            problem: format!("not valid YAML: {err}"),
            help: Some("compare with `lktop print-config-template`".to_owned()),
        })
    })?;
    match tree {
        Value::Null => Ok(Value::Mapping(Mapping::new())),
        Value::Mapping(_) => Ok(tree),
        other => Err(ConfigError::single(ConfigIssue {
            key: Some(KeyPath::root()),
            origin: file_origin(file, None, None),
            problem: format!(
                "the file holds {}, not a mapping of sections",
                describe_value(&other)
            ),
            help: Some(
                "the top level must be sections such as `connection_pool:` and `servers:`"
                    .to_owned(),
            ),
        })),
    }
}

/// A key written twice, pointed at where it is written the second time: that is the line to
/// delete (`serde_yaml` names only the start of the mapping).
fn duplicate_key_issue(file: &Path, text: &str, serde_message: &str) -> Option<ConfigIssue> {
    // serde_yaml: `connection_pool: duplicate entry with key "pool_size" at line 2 column 3`.
    let (parent, _) = serde_message.split_once("duplicate entry with key ")?;
    let duplicate = duplicate_key(text)?;
    let parent: KeyPath = parent
        .trim_end()
        .trim_end_matches(':')
        .parse()
        .unwrap_or_default();
    let key = parent.clone().key(duplicate.name.as_str());
    let line_text = line_may_be_shown(&key)
        .then(|| line_of(text, duplicate.second.line))
        .flatten();
    let within = if parent.segments().is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{parent}`")
    };
    let earlier = duplicate.first.map_or_else(String::new, |first| {
        format!(" (first at line {})", first.line)
    });
    Some(ConfigIssue {
        origin: file_origin(file, Some(duplicate.second), line_text),
        problem: format!("`{}` is written twice in {within}{earlier}", duplicate.name),
        key: Some(key),
        help: Some("delete this line, or the earlier one if this is the value you mean".to_owned()),
    })
}

fn describe_value(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
