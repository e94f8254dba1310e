//! Layering: the overrides written into the file's tree, each remembering where it came
//! from, before the tree is decoded.

use serde_yaml::{Mapping, Value};
use yaml_located::Segment;

use super::overrides::Override;
use crate::config::error::ConfigIssue;

/// What writing the overrides into the tree came to.
pub(super) struct Layering {
    /// The overrides that took effect, in the order they were applied.
    pub(super) applied: Vec<Override>,
    /// Overrides with nowhere to go (a server credential with no server).
    pub(super) warnings: Vec<String>,
    /// Overrides that could not be written where their key points.
    pub(super) issues: Vec<ConfigIssue>,
}

/// Writes `overrides` into `tree` in order, so a later one (a flag) wins over an earlier one
/// (a variable) of the same key.
pub(super) fn apply_overrides(tree: &mut Value, overrides: &[Override]) -> Layering {
    let mut layering = Layering {
        applied: Vec::new(),
        warnings: Vec::new(),
        issues: Vec::new(),
    };
    // A server's URL creates its entry, so URLs go first whatever their source; the sort is
    // stable, so among equal keys the later source still wins.
    let mut ordered: Vec<&Override> = overrides.iter().collect();
    ordered.sort_by_key(|entry| entry.key.leaf() != Some("url"));
    for entry in ordered {
        match apply_override(tree, entry) {
            Ok(true) => layering.applied.push(entry.clone()),
            Ok(false) => layering.warnings.push(format!(
                "{} is set but no server is configured (no URL in the file, LIVEKIT_URL or \
                 --url); it was ignored",
                entry.origin
            )),
            Err(problem) => layering.issues.push(ConfigIssue {
                key: Some(entry.key.clone()),
                origin: entry.origin.clone(),
                problem,
                help: None,
            }),
        }
    }
    layering
}

/// Writes an override into the tree. `Ok(false)`: a server credential with no server to go to.
fn apply_override(tree: &mut Value, entry: &Override) -> Result<bool, String> {
    let segments = entry.key.segments();
    let Some((last, parents)) = segments.split_last() else {
        return Err("an override needs a key".to_owned());
    };
    let is_server_field = matches!(segments.first(), Some(Segment::Key(key)) if key == "servers");
    let creates_server = matches!(last, Segment::Key(key) if key == "url");
    if is_server_field && !creates_server && node_mut(tree, parents, false).is_none() {
        return Ok(false);
    }
    let parent = node_mut(tree, parents, true).ok_or_else(|| {
        format!(
            "cannot be set: a part of `{}` in the file is not a section or list",
            entry.key
        )
    })?;
    let slot = child_mut(parent, last, true).ok_or_else(|| {
        format!(
            "cannot be set: `{}` is not a section or the list is shorter",
            entry.key
        )
    })?;
    *slot = entry.value.clone();
    Ok(true)
}

pub(super) fn node_mut<'v>(
    mut node: &'v mut Value,
    path: &[Segment],
    create: bool,
) -> Option<&'v mut Value> {
    for segment in path {
        node = child_mut(node, segment, create)?;
    }
    Some(node)
}

/// The child at `segment`; with `create`, a missing section is added, and a list grows by one
/// when the index is its length.
fn child_mut<'v>(node: &'v mut Value, segment: &Segment, create: bool) -> Option<&'v mut Value> {
    if create && node.is_null() {
        *node = match segment {
            Segment::Key(_) => Value::Mapping(Mapping::new()),
            Segment::Index(_) => Value::Sequence(Vec::new()),
        };
    }
    match (segment, node) {
        (Segment::Key(key), Value::Mapping(mapping)) => {
            let key = Value::String(key.clone());
            if create && !mapping.contains_key(&key) {
                mapping.insert(key.clone(), Value::Null);
            }
            mapping.get_mut(&key)
        }
        (Segment::Index(index), Value::Sequence(items)) => {
            if create && *index == items.len() {
                items.push(Value::Mapping(Mapping::new()));
            }
            items.get_mut(*index)
        }
        _ => None,
    }
}
