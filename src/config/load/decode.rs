//! Decoding the layered tree into [`Config`]: each value serde refuses is reported in a
//! config reader's words and dropped, and decoding tried again, so one run reports them all;
//! unknown keys are collected on the pass that succeeds.

use serde_yaml::{Mapping, Value};
use yaml_located::{KeyPath, Segment, Target};

use super::layers::node_mut;
use super::place::Placer;
use crate::config::error::ConfigIssue;
use crate::config::scalar_text::scalar_text;
use crate::config::schema::{Config, is_secret_key};
use crate::config::validate::{Violation, allowed};

/// Upper bound on decode retries; a config has far fewer leaves than this.
const MAX_DECODE_PASSES: usize = 512;

/// Decodes the tree into a [`Config`], dropping each refused value and retrying so that all of
/// them are reported.
///
/// Decoded from a borrow, not a copy: each string the configuration keeps is copied out at its
/// exact length (a secret straight into its `SecretString`), and the tree, secrets included,
/// stays with the caller, who clears it ([`crate::config::scrubbed_tree`]); a copy consumed
/// by serde would be freed piece by piece, uncleared.
pub(super) fn decode(tree: &mut Value, place: &Placer<'_>) -> (Option<Config>, Vec<ConfigIssue>) {
    let mut issues = Vec::new();
    for _ in 0..MAX_DECODE_PASSES {
        let mut unknown = Vec::new();
        let mut record_unknown = |path: serde_ignored::Path<'_>| unknown.push(KeyPath::from(&path));
        let result = serde_path_to_error::deserialize::<_, Config>(
            serde_ignored::Deserializer::new(&*tree, &mut record_unknown),
        );
        match result {
            Ok(config) => {
                issues.extend(unknown.into_iter().map(|key| place.unknown_key(key)));
                return (Some(config), issues);
            }
            Err(err) => {
                let key = KeyPath::from(err.path());
                // serde quotes the offending value, and for a secret that value is the secret.
                let (problem, help) = if is_secret_key(&key) {
                    (
                        "must be text".to_owned(),
                        Some("put the secret in quotes".to_owned()),
                    )
                } else {
                    refused_value(&key, &err.inner().to_string(), value_at(tree, &key))
                };
                let removed = key.parent().is_some() && remove(tree, &key);
                let violation = Violation {
                    key,
                    problem,
                    help,
                    suggested_value: None,
                };
                issues.push(place.issue(violation, Target::Value));
                if !removed {
                    return (None, issues);
                }
            }
        }
    }
    (None, issues)
}

/// serde names Rust types (`expected u32`); a config file's reader thinks in numbers.
fn plain_serde_message(message: &str) -> String {
    [
        ("expected u32", "expected a whole number of 0 or more"),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected struct ", "expected a section such as "),
        ("expected a sequence", "expected a list"),
    ]
    .iter()
    .fold(message.to_owned(), |text, (from, to)| {
        text.replace(from, to)
    })
}

/// The problem and help for a value serde refused at `key`: serde's complaint in a config
/// reader's words, with what the key accepts where its type alone does not say it.
fn refused_value(
    key: &KeyPath,
    serde_message: &str,
    value: Option<&Value>,
) -> (String, Option<String>) {
    let message = plain_serde_message(serde_message);
    if let Some(allowed) = allowed(key) {
        let problem = match message.split_once(", expected ") {
            Some((refused, _)) => format!("{refused}, expected {allowed}"),
            None => format!("{message}; allowed: {allowed}"),
        };
        return (problem, None);
    }
    if key.to_string() == "metrics.listen" {
        let written = value.map_or_else(
            || "the value".to_owned(),
            |value| format!("`{}`", scalar_text(value)),
        );
        return (
            format!("{written} is not an IP address and port (host:port)"),
            Some(
                "use host:port, e.g. 127.0.0.1:9090 (0.0.0.0:9090 listens on every interface)"
                    .to_owned(),
            ),
        );
    }
    (message, None)
}

/// The value at exactly `key`, if the tree has one.
fn value_at<'v>(mut node: &'v Value, key: &KeyPath) -> Option<&'v Value> {
    for segment in key.segments() {
        node = match (segment, node) {
            (Segment::Key(name), Value::Mapping(mapping)) => mapping.get(name.as_str())?,
            (Segment::Index(index), Value::Sequence(items)) => items.get(*index)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Drops the value at `key` so decoding can go on with its default; a list item becomes an
/// empty entry so the items after it keep their index.
fn remove(tree: &mut Value, key: &KeyPath) -> bool {
    let Some((last, parents)) = key.segments().split_last() else {
        return false;
    };
    let Some(parent) = node_mut(tree, parents, false) else {
        return false;
    };
    match (last, parent) {
        (Segment::Key(name), Value::Mapping(mapping)) => mapping.remove(name.as_str()).is_some(),
        (Segment::Index(index), Value::Sequence(items)) if *index < items.len() => {
            let empty = Value::Mapping(Mapping::new());
            if items[*index] == empty {
                items.remove(*index);
            } else {
                items[*index] = empty;
            }
            true
        }
        _ => false,
    }
}
