//! What a reload changed, key by key, for the event log: `polling.interval: 2s → 5s`.
//!
//! Built from the YAML form `check-config` prints rather than from the struct's fields, so a
//! key added to the schema is compared without anyone remembering to list it here. That form
//! masks secrets, so a secret's change is detected on the typed value and shown only as
//! `changed`.

use std::fmt;

use secrecy::ExposeSecret;
use serde_yaml::Value;

use super::scalar_text::scalar_text;
use super::schema::{Config, MASK};
use yaml_located::KeyPath;

/// Shown for the side of a change where the key is not set at all.
const NOT_SET: &str = "(not set)";

/// One changed leaf of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigChange {
    /// Dotted path, e.g. `polling.interval` or `servers[0].url`.
    pub(crate) key: String,
    /// The old value as YAML text, `(not set)` when the key was absent; for a secret, the mask.
    pub(crate) from: String,
    /// The new value, in the same form.
    pub(crate) to: String,
}

impl ConfigChange {
    /// Whether this change is to a secret, whose values are never shown.
    #[must_use]
    pub(crate) fn is_secret(&self) -> bool {
        self.key
            .rsplit(['.', ']'])
            .next()
            .is_some_and(crate::config::schema::is_secret_leaf)
    }
}

impl fmt::Display for ConfigChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_secret() {
            write!(f, "{}: changed", self.key)
        } else {
            write!(f, "{}: {} → {}", self.key, self.from, self.to)
        }
    }
}

/// Every leaf that differs between `old` and `new`, in the order the configuration is printed;
/// list items are compared by position, map entries (room overrides, key bindings) by key.
#[must_use]
pub(crate) fn changes(old: &Config, new: &Config) -> Vec<ConfigChange> {
    let old_tree = printed_form(old);
    let mut new_tree = printed_form(new);
    mark_rotated_secrets(old, new, &mut new_tree);
    let mut found = Vec::new();
    compare(
        &KeyPath::root(),
        Some(&old_tree),
        Some(&new_tree),
        &mut found,
    );
    found
}

fn printed_form(config: &Config) -> Value {
    serde_yaml::to_value(config).unwrap_or(Value::Null)
}

/// Both sides print a set secret as the mask, so a rotated secret would look unchanged; the
/// new side gets a different placeholder (never the secret) where the secrets differ.
fn mark_rotated_secrets(old: &Config, new: &Config, new_tree: &mut Value) {
    let Some(servers) = new_tree.get_mut("servers").and_then(Value::as_sequence_mut) else {
        return;
    };
    for ((old_server, new_server), printed) in old.servers.iter().zip(&new.servers).zip(servers) {
        let pairs = [
            (
                "api_secret",
                old_server.api_secret(),
                new_server.api_secret(),
            ),
            (
                "metrics_password",
                old_server.metrics_password(),
                new_server.metrics_password(),
            ),
        ];
        for (key, old, new) in pairs {
            let rotated = match (old, new) {
                (Some(old), Some(new)) => old.expose_secret() != new.expose_secret(),
                _ => false,
            };
            if rotated && let Some(secret) = printed.get_mut(key) {
                *secret = Value::String(format!("{MASK} (rotated)"));
            }
        }
    }
}

fn compare(at: &KeyPath, old: Option<&Value>, new: Option<&Value>, found: &mut Vec<ConfigChange>) {
    match (old, new) {
        (Some(Value::Mapping(old)), Some(Value::Mapping(new))) => {
            let old_keys = old.keys();
            let added = new.keys().filter(|key| !old.contains_key(*key));
            for key in old_keys.chain(added) {
                compare(
                    &at.clone().key(key_name(key)),
                    old.get(key),
                    new.get(key),
                    found,
                );
            }
        }
        (Some(Value::Sequence(old)), Some(Value::Sequence(new))) => {
            for index in 0..old.len().max(new.len()) {
                compare(
                    &at.clone().index(index),
                    old.get(index),
                    new.get(index),
                    found,
                );
            }
        }
        (old, new) if old == new => {}
        // A whole section or item added or removed, or a value that changed shape (a key
        // binding from one key to a list): every leaf on either side.
        (old, new) => {
            let mut before = Vec::new();
            let mut after = Vec::new();
            if let Some(old) = old {
                leaves(at.clone(), old, &mut before);
            }
            if let Some(new) = new {
                leaves(at.clone(), new, &mut after);
            }
            let mut keys: Vec<&KeyPath> = before.iter().map(|(key, _)| key).collect();
            keys.extend(
                after
                    .iter()
                    .map(|(key, _)| key)
                    .filter(|key| !before.iter().any(|(old_key, _)| old_key == *key)),
            );
            let text_at = |side: &[(KeyPath, String)], key: &KeyPath| {
                side.iter()
                    .find(|(leaf, _)| leaf == key)
                    .map_or_else(|| NOT_SET.to_owned(), |(_, text)| text.clone())
            };
            for key in keys {
                let (from, to) = (text_at(&before, key), text_at(&after, key));
                if from != to {
                    found.push(ConfigChange {
                        key: key.to_string(),
                        from,
                        to,
                    });
                }
            }
        }
    }
}

/// Every scalar under `value` with its path; an empty list or map is a leaf of its own, so
/// that unbinding a key (`quit: []`) still shows.
fn leaves(at: KeyPath, value: &Value, out: &mut Vec<(KeyPath, String)>) {
    match value {
        Value::Mapping(mapping) if !mapping.is_empty() => {
            for (key, value) in mapping {
                leaves(at.clone().key(key_name(key)), value, out);
            }
        }
        Value::Sequence(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                leaves(at.clone().index(index), item, out);
            }
        }
        scalar => out.push((at, scalar_text(scalar))),
    }
}

fn key_name(key: &Value) -> String {
    match key {
        Value::String(name) => name.clone(),
        other => scalar_text(other),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::config::{ConfigDuration, RoomLimitOverride, ServerConfig};

    const SECRET: &str = "old-secret-never-shown-4Kp";
    const ROTATED: &str = "new-secret-never-shown-9Xw";

    fn server(url: &str, secret: &str) -> ServerConfig {
        ServerConfig {
            name: "prod".to_owned(),
            url: url.to_owned(),
            api_key: "APIkey".to_owned(),
            api_secret: Some(SecretString::from(secret)),
            ..ServerConfig::default()
        }
    }

    fn shown(changes: &[ConfigChange]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_same_configuration_has_no_changes() {
        let mut config = Config::default();
        config.servers.push(server("ws://a:7880", SECRET));
        assert!(changes(&config, &config.clone()).is_empty());
    }

    #[test]
    fn a_changed_value_reads_key_from_to() {
        let old = Config::default();
        let mut new = old.clone();
        new.polling.interval = ConfigDuration::from_secs(5);
        new.connection_pool.pool_size = 8;
        let found = changes(&old, &new);
        assert_eq!(
            shown(&found),
            [
                "connection_pool.pool_size: 5 → 8",
                "polling.interval: 2s → 5s"
            ]
        );
        assert_eq!(
            found[1],
            ConfigChange {
                key: "polling.interval".to_owned(),
                from: "2s".to_owned(),
                to: "5s".to_owned(),
            }
        );
    }

    #[test]
    fn overrides_and_key_bindings_are_compared_leaf_by_leaf() {
        let mut old = Config::default();
        old.room_limits.overrides.insert(
            "lobby".to_owned(),
            RoomLimitOverride {
                max_participants: Some(20),
                ..RoomLimitOverride::default()
            },
        );
        let mut new = old.clone();
        new.room_limits.overrides.insert(
            "town-hall".to_owned(),
            RoomLimitOverride {
                max_participants: Some(500),
                max_audio_tracks: Some(4),
                ..RoomLimitOverride::default()
            },
        );
        if let Some(lobby) = new.room_limits.overrides.get_mut("lobby") {
            lobby.max_participants = Some(25);
        }
        new.keys
            .insert("freeze".to_owned(), crate::config::KeyList::from("ctrl+f"));
        assert_eq!(
            shown(&changes(&old, &new)),
            [
                "room_limits.overrides.lobby.max_participants: 20 → 25",
                "room_limits.overrides.town-hall.max_participants: (not set) → 500",
                "room_limits.overrides.town-hall.max_audio_tracks: (not set) → 4",
                "keys.freeze: (not set) → ctrl+f",
            ]
        );
        // And back: each leaf that goes away.
        assert_eq!(
            shown(&changes(&new, &old))[1],
            "room_limits.overrides.town-hall.max_participants: 500 → (not set)"
        );
    }

    #[test]
    fn servers_are_compared_by_position() {
        let mut old = Config::default();
        old.servers.push(server("ws://a:7880", SECRET));
        let mut new = old.clone();
        new.servers[0].url = "ws://b:7880".to_owned();
        new.servers.push(ServerConfig {
            name: "staging".to_owned(),
            ..server("ws://c:7880", SECRET)
        });
        let found = shown(&changes(&old, &new));
        assert_eq!(found[0], "servers[0].url: ws://a:7880 → ws://b:7880");
        assert!(
            found.contains(&"servers[1].name: (not set) → staging".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"servers[1].api_secret: changed".to_owned()),
            "{found:?}"
        );
        assert!(found.iter().all(|line| !line.contains(SECRET)), "{found:?}");
    }

    #[test]
    fn secrets_are_never_shown_only_said_to_change() {
        let mut old = Config::default();
        old.servers.push(server("ws://a:7880", SECRET));
        let mut new = old.clone();
        new.servers[0].api_secret = Some(SecretString::from(ROTATED));
        let found = changes(&old, &new);
        assert_eq!(shown(&found), ["servers[0].api_secret: changed"]);
        let debugged = format!("{found:?}");
        assert!(
            !debugged.contains(SECRET) && !debugged.contains(ROTATED),
            "{debugged}"
        );

        new.servers[0].api_secret = None;
        assert_eq!(
            shown(&changes(&old, &new)),
            ["servers[0].api_secret: changed"]
        );
    }

    #[test]
    fn a_value_that_changes_shape_shows_each_side() {
        let old = Config::default();
        let mut new = old.clone();
        new.keys.insert(
            "quit".to_owned(),
            serde_yaml::from_str("[\"q\", \"ctrl+q\"]").unwrap(),
        );
        new.keys
            .insert("retry_now".to_owned(), serde_yaml::from_str("[]").unwrap());
        new.metrics.listen = Some("127.0.0.1:9464".parse().unwrap());
        assert_eq!(
            shown(&changes(&old, &new)),
            [
                "metrics.listen: null → 127.0.0.1:9464",
                "keys.quit[0]: (not set) → q",
                "keys.quit[1]: (not set) → ctrl+q",
                "keys.retry_now: (not set) → []",
            ]
        );
    }
}
