//! Did-you-mean for an unknown key: a near spelling among its siblings, or the same name in
//! another section.

use serde_yaml::Value;
use yaml_located::{KeyPath, Segment};

use crate::config::lifecycle_limit::LifecycleLimit;
use crate::config::schema::{Config, RoomLimitOverride, ServerConfig};

/// A configuration with every key present, to offer did-you-mean candidates from.
fn schema_example() -> Value {
    let mut config = Config::default();
    config.servers.push(ServerConfig::default());
    config.room_limits.overrides.insert(
        String::new(),
        RoomLimitOverride {
            max_participants: Some(1),
            max_audio_tracks: Some(1),
            max_video_tracks: Some(1),
            solo_timeout: Some(LifecycleLimit::Off),
            empty_timeout: Some(LifecycleLimit::Off),
            max_duration: Some(LifecycleLimit::Off),
        },
    );
    serde_yaml::to_value(config).unwrap_or(Value::Null)
}

/// Every key a value can be set at, in schema order: the leaves of the schema example, a server's
/// under `servers[0]`. Entries of free-form maps (a room's limits under
/// `room_limits.overrides.<room>`) and maps that are empty by default (`keys`) are left out:
/// their names are not the configuration's to know.
#[must_use]
pub fn settable_keys() -> Vec<KeyPath> {
    let mut found = Vec::new();
    collect_leaves(&schema_example(), KeyPath::root(), &mut found);
    found
}

fn collect_leaves(node: &Value, at: KeyPath, found: &mut Vec<KeyPath>) {
    match node {
        Value::Mapping(mapping) => {
            for (key, value) in mapping {
                match key.as_str() {
                    Some(key) if !key.is_empty() => {
                        collect_leaves(value, at.clone().key(key), found);
                    }
                    _ => {}
                }
            }
        }
        Value::Sequence(items) if items.first().is_some_and(Value::is_mapping) => {
            collect_leaves(&items[0], at.index(0), found);
        }
        _ if at.segments().is_empty() => {}
        _ => found.push(at),
    }
}

/// The known key closest to an unknown one: a near spelling among its siblings, or the same name
/// in another section (`pool_size` written at the top level).
pub(super) fn suggest(unknown: &KeyPath) -> Option<KeyPath> {
    let name = unknown.leaf()?;
    let schema = schema_example();
    let parent = unknown.parent().unwrap_or_default();
    let siblings = node_at(&schema, &parent).and_then(Value::as_mapping);
    let near = siblings.into_iter().flatten().filter_map(|(key, _)| {
        let key = key.as_str()?;
        let score = strsim::jaro_winkler(name, key);
        (score >= 0.8).then_some((score, key))
    });
    if let Some((_, best)) = near.max_by(|a, b| a.0.total_cmp(&b.0)) {
        return Some(parent.key(best));
    }
    let mut elsewhere = Vec::new();
    collect_paths_named(&schema, KeyPath::root(), name, &mut elsewhere);
    elsewhere.into_iter().next()
}

/// Follows `path` through the schema example; list items and free-form map entries are
/// represented by their first element.
fn node_at<'v>(mut node: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    for segment in path.segments() {
        node = match (segment, node) {
            (Segment::Key(key), Value::Mapping(mapping)) => mapping
                .get(key.as_str())
                .or_else(|| mapping.values().next())?,
            (Segment::Index(_), Value::Sequence(items)) => items.first()?,
            _ => return None,
        };
    }
    Some(node)
}

fn collect_paths_named(node: &Value, at: KeyPath, name: &str, found: &mut Vec<KeyPath>) {
    match node {
        Value::Mapping(mapping) => {
            for (key, value) in mapping {
                let Some(key) = key.as_str() else { continue };
                if key.is_empty() {
                    continue;
                }
                let path = at.clone().key(key);
                if key == name {
                    found.push(path.clone());
                }
                collect_paths_named(value, path, name, found);
            }
        }
        Value::Sequence(items) => {
            if let Some(first) = items.first() {
                collect_paths_named(first, at.index(0), name, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settable_keys_are_the_schemas_leaves_without_free_form_names() {
        let keys = settable_keys();
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        for expected in [
            "servers[0].url",
            "connection_pool.pool_size",
            "room_limits.lifecycle.solo_timeout",
            "quality_monitoring.thresholds.good",
            "webhooks.listen",
        ] {
            assert!(
                shown.iter().any(|key| key == expected),
                "{expected}: {shown:?}"
            );
        }
        // A room's limits are under its own name, which is not the configuration's to offer.
        assert!(
            !shown.iter().any(|key| key.contains("overrides")),
            "{shown:?}"
        );
    }
}
