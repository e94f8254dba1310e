//! Values set from outside the file: the [`Override`] type, the `LKTOP_<SECTION>__<KEY>`
//! environment variables, and which of several overrides of one key won.

use std::collections::HashMap;

use serde_yaml::Value;
use yaml_located::{KeyPath, Origin, Segment};

use crate::api::{redacted_url, secret_in_url};
use crate::config::schema::{MASK, is_secret_key};
use crate::config::scrubbed_tree::scrub;

/// Prefix of the environment variables that override any key: `LKTOP_<SECTION>__<KEY>`.
pub(crate) const ENV_PREFIX: &str = "LKTOP_";
/// Separates the levels of a key in an environment variable name.
pub(crate) const ENV_SEPARATOR: &str = "__";

/// A value set from outside the file.
#[derive(Clone)]
pub struct Override {
    pub(crate) key: KeyPath,
    pub(crate) value: Value,
    pub(crate) origin: Origin,
}

impl Override {
    /// An override holding plain text, never read as YAML: the way secrets and URLs come in.
    #[must_use]
    pub fn text(key: KeyPath, text: impl Into<String>, origin: Origin) -> Self {
        Self {
            key,
            value: Value::String(text.into()),
            origin,
        }
    }

    /// An override whose text is read as a YAML value, so `8` is a number and `true` a bool.
    #[must_use]
    pub fn yaml(key: KeyPath, text: &str, origin: Origin) -> Self {
        let value = serde_yaml::from_str::<Value>(text)
            .ok()
            .filter(|value| !value.is_null() || text.trim().is_empty())
            .unwrap_or_else(|| Value::String(text.to_owned()));
        Self { key, value, origin }
    }
}

// An override outlives loading (the loaded configuration's `applied`, the engine's sources
// for a reload) and may hold a secret: `--api-secret`, `LIVEKIT_API_SECRET`, an `lk` project's.
impl Drop for Override {
    fn drop(&mut self) {
        scrub(&mut self.value);
    }
}

impl Override {
    /// The value masked when it is a URL that carries a secret (`--url
    /// http://key:secret@host`): validation refuses it, but the sources may be shown before.
    fn masked_url(&self) -> Option<String> {
        self.value
            .as_str()
            .filter(|text| secret_in_url(text).is_some())
            .map(redacted_url)
    }
}

// Written out so that a secret's value never reaches a `{:?}` of the sources or the loaded
// configuration (its `applied` list).
impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked_url = self.masked_url();
        let value: &dyn std::fmt::Debug = if is_secret_key(&self.key) {
            &MASK
        } else if let Some(url) = &masked_url {
            url
        } else {
            &self.value
        };
        f.debug_struct("Override")
            .field("key", &self.key)
            .field("value", value)
            .field("origin", &self.origin)
            .finish()
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if is_secret_key(&self.key) {
            MASK.to_owned()
        } else if let Some(url) = self.masked_url() {
            url
        } else {
            serde_yaml::to_string(&self.value)
                .unwrap_or_default()
                .trim_end()
                .to_owned()
        };
        write!(f, "{} = {value}  (from {})", self.key, self.origin)
    }
}

/// Overrides from `LKTOP_<SECTION>__<KEY>` variables, e.g.
/// `LKTOP_CONNECTION_POOL__POOL_SIZE=8` or `LKTOP_QUALITY_MONITORING__THRESHOLDS__GOOD=0.75`.
pub fn env_overrides<I, K, V>(vars: I) -> Vec<Override>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut overrides: Vec<Override> = vars
        .into_iter()
        .filter_map(|(name, value)| {
            let name = name.as_ref();
            let rest = name.strip_prefix(ENV_PREFIX)?;
            if !rest.contains(ENV_SEPARATOR) {
                return None;
            }
            let key = rest
                .split(ENV_SEPARATOR)
                .fold(KeyPath::root(), |path, part| match part.parse::<usize>() {
                    Ok(index) => path.index(index),
                    Err(_) => path.key(part.to_ascii_lowercase()),
                });
            let origin = Origin::Env(name.to_owned());
            Some(if is_secret_key(&key) {
                Override::text(key, value.as_ref(), origin)
            } else {
                Override::yaml(key, value.as_ref(), origin)
            })
        })
        .collect();
    // The process environment has no order; sorting makes the outcome reproducible.
    overrides.sort_by(|a, b| a.key.cmp(&b.key));
    overrides
}

/// The `LKTOP_<SECTION>__<KEY>` variable that sets `key`.
pub(super) fn env_name(key: &KeyPath) -> String {
    let parts: Vec<String> = key
        .segments()
        .iter()
        .map(|segment| match segment {
            Segment::Key(name) => name.to_ascii_uppercase(),
            Segment::Index(index) => index.to_string(),
        })
        .collect();
    format!("{ENV_PREFIX}{}", parts.join(ENV_SEPARATOR))
}

/// Every override that names the same key as an earlier one replaced it; used by callers that
/// want to show only the winners.
#[must_use]
pub(crate) fn winning_overrides(applied: &[Override]) -> Vec<&Override> {
    let mut last: HashMap<&KeyPath, usize> = HashMap::new();
    for (index, entry) in applied.iter().enumerate() {
        last.insert(&entry.key, index);
    }
    applied
        .iter()
        .enumerate()
        .filter(|(index, entry)| last.get(&entry.key) == Some(index))
        .map(|(_, entry)| entry)
        .collect()
}
