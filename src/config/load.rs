//! Loading: file < environment < command-line flags < (nothing else), then validation.
//!
//! The file is read into a `serde_yaml::Value`, overrides are written into that tree (each
//! remembering its origin), and the tree is decoded into [`Config`]. Decoding is repeated after
//! dropping each value serde refuses, so one run reports every bad value, not just the first;
//! unknown keys are collected by `serde_ignored` on the final pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use yaml_located::{KeyPath, Locator, Origin, Position, Segment, Target, duplicate_key};

use super::error::{ConfigError, ConfigIssue};
use super::schema::{Config, MASK, RoomLimitOverride, ServerConfig, is_secret_key};
use super::validate::{Violation, allowed, validate, validate_written};

/// Prefix of the environment variables that override any key: `LKTOP_<SECTION>__<KEY>`.
pub(crate) const ENV_PREFIX: &str = "LKTOP_";
/// Separates the levels of a key in an environment variable name.
pub(crate) const ENV_SEPARATOR: &str = "__";
/// Upper bound on decode retries; a config has far fewer leaves than this.
const MAX_DECODE_PASSES: usize = 512;

/// A value set from outside the file.
#[derive(Debug, Clone)]
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

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if is_secret_key(&self.key) {
            MASK.to_owned()
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

#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The file to read; `None` means built-in defaults only.
    pub file: Option<PathBuf>,
    /// Applied in order, so later entries (flags) win over earlier ones (environment).
    pub overrides: Vec<Override>,
}

/// A configuration that passed validation, and how it came to be.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub file: Option<PathBuf>,
    /// Overrides that took effect, in the order they were applied.
    pub applied: Vec<Override>,
    /// Things that work but deserve attention (a world-readable secret, an unused variable).
    pub warnings: Vec<String>,
}

/// A check of a section the configuration holds as plain data for a layer above it (the
/// dashboard's `keys:`), run with the configuration's own checks so that its problems are
/// placed in the file and listed with theirs.
pub(crate) type SectionCheck = fn(&Config) -> Vec<Violation>;

/// Reads, layers and validates the configuration.
///
/// # Errors
/// Every problem found, each with its key, origin and fix.
pub fn load(sources: &ConfigSources) -> Result<LoadedConfig, ConfigError> {
    load_checked(sources, |_| Vec::new())
}

/// [`load`], with `check` run on the result like the configuration's own checks.
///
/// # Errors
/// As [`load`], and every problem `check` finds.
pub(crate) fn load_checked(
    sources: &ConfigSources,
    check: SectionCheck,
) -> Result<LoadedConfig, ConfigError> {
    let text = match &sources.file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|err| {
            ConfigError::single(ConfigIssue {
                key: Some(KeyPath::root()),
                origin: file_origin(path, None, None),
                problem: format!("cannot read the file: {err}"),
                help: Some(
                    "check the path given with --config or LKTOP_CONFIG; \
                     `lktop print-config-template > FILE` writes a starting point"
                        .to_owned(),
                ),
            })
        })?),
        None => None,
    };
    load_text_checked(
        sources.file.as_deref(),
        text.as_deref(),
        &sources.overrides,
        check,
    )
}

/// [`load`] on text already in memory; `file` only names it in messages.
///
/// # Errors
/// As [`load`].
pub fn load_text(
    file: Option<&Path>,
    text: Option<&str>,
    overrides: &[Override],
) -> Result<LoadedConfig, ConfigError> {
    load_text_checked(file, text, overrides, |_| Vec::new())
}

/// [`load_text`], with `check` run on the result like the configuration's own checks.
///
/// # Errors
/// As [`load_text`], and every problem `check` finds.
pub(crate) fn load_text_checked(
    file: Option<&Path>,
    text: Option<&str>,
    overrides: &[Override],
    check: SectionCheck,
) -> Result<LoadedConfig, ConfigError> {
    let file_label = file.map_or_else(|| PathBuf::from("<config>"), Path::to_path_buf);
    let mut tree = match text {
        Some(text) => parse_tree(&file_label, text)?,
        None => Value::Mapping(Mapping::new()),
    };
    let file_holds_secret = holds_secret(&tree);
    let locator = Locator::new(text.unwrap_or_default());
    let place = Placer {
        file: file.map(|_| file_label.as_path()),
        text: text.unwrap_or_default(),
        locator: &locator,
        overrides,
    };

    let mut warnings = Vec::new();
    let mut applied = Vec::new();
    let mut issues = Vec::new();
    // A server's URL creates its entry, so URLs go first whatever their source; the sort is
    // stable, so among equal keys the later source still wins.
    let mut ordered: Vec<&Override> = overrides.iter().collect();
    ordered.sort_by_key(|entry| entry.key.leaf() != Some("url"));
    for entry in ordered {
        match apply_override(&mut tree, entry) {
            Ok(true) => applied.push(entry.clone()),
            Ok(false) => warnings.push(format!(
                "{} is set but no server is configured (no URL in the file, LIVEKIT_URL or \
                 --url); it was ignored",
                entry.origin
            )),
            Err(problem) => issues.push(ConfigIssue {
                key: Some(entry.key.clone()),
                origin: entry.origin.clone(),
                problem,
                help: None,
            }),
        }
    }

    issues.extend(
        validate_written(&tree)
            .into_iter()
            .map(|violation| place.issue(violation, Target::Value)),
    );
    let (config, decode_issues) = decode(tree, &place);
    issues.extend(decode_issues);
    let Some(mut config) = config else {
        return Err(sorted(issues));
    };
    // A value refused while decoding was replaced by its default; judging that default again
    // would only repeat the problem in a more confusing form.
    let reported: Vec<KeyPath> = issues
        .iter()
        .filter_map(|issue| issue.key.clone())
        .collect();
    issues.extend(
        validate(&config)
            .into_iter()
            .chain(check(&config))
            .filter(|violation| !reported.contains(&violation.key))
            .map(|violation| place.issue(violation, Target::Value)),
    );
    if !issues.is_empty() {
        return Err(sorted(issues));
    }

    name_unnamed_servers(&mut config.servers);
    if file_holds_secret && let Some(path) = file {
        warnings.extend(readable_by_others_warning(path));
    }
    Ok(LoadedConfig {
        config,
        file: file.map(Path::to_path_buf),
        applied,
        warnings,
    })
}

fn parse_tree(file: &Path, text: &str) -> Result<Value, ConfigError> {
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
    let line_text = (!is_secret_key(&key))
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

/// Decodes the tree into a [`Config`], dropping each refused value and retrying so that all of
/// them are reported.
fn decode(mut tree: Value, place: &Placer<'_>) -> (Option<Config>, Vec<ConfigIssue>) {
    let mut issues = Vec::new();
    for _ in 0..MAX_DECODE_PASSES {
        let mut unknown = Vec::new();
        let mut record_unknown = |path: serde_ignored::Path<'_>| unknown.push(KeyPath::from(&path));
        let result = serde_path_to_error::deserialize::<_, Config>(
            serde_ignored::Deserializer::new(tree.clone(), &mut record_unknown),
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
                    refused_value(&key, &err.inner().to_string(), value_at(&tree, &key))
                };
                let removed = key.parent().is_some() && remove(&mut tree, &key);
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

/// Ties a problem to where its key was set.
struct Placer<'a> {
    file: Option<&'a Path>,
    text: &'a str,
    locator: &'a Locator<'a>,
    overrides: &'a [Override],
}

impl Placer<'_> {
    /// An override of the key itself wins, as it did when it was applied; then the file, when it
    /// writes the key; then an override of a sibling (a server entry created by `LIVEKIT_URL`
    /// is "from" that variable); then the nearest enclosing key in the file.
    fn origin(&self, key: &KeyPath, target: Target) -> Origin {
        let last_override = |matches: &dyn Fn(&Override) -> bool| {
            self.overrides
                .iter()
                .rev()
                .find(|entry| matches(entry))
                .map(|entry| entry.origin.clone())
        };
        if let Some(origin) = last_override(&|entry| entry.key == *key) {
            return origin;
        }
        // Not written in the file: an override of a key beneath it created it (a misspelt
        // section in `LKTOP_POLING__INTERVAL`), else one of a sibling did.
        let set_from_outside = || {
            let parent = key.parent();
            last_override(&|entry| entry.key.segments().starts_with(key.segments()))
                .or_else(|| last_override(&|entry| entry.key.parent() == parent))
        };
        let Some(file) = self.file else {
            return set_from_outside().unwrap_or(Origin::Default);
        };
        if !self.locator.contains(key)
            && let Some(origin) = set_from_outside()
        {
            return origin;
        }
        let position = self.locator.find(key, target);
        let line_text = position
            .filter(|_| !is_secret_key(key))
            .and_then(|position| line_of(self.text, position.line));
        file_origin(file, position, line_text)
    }

    fn issue(&self, violation: Violation, target: Target) -> ConfigIssue {
        let origin = self.origin(&violation.key, target);
        let help = match (&violation.suggested_value, violation.help) {
            (Some(value), help) => {
                let fix = fix_at(&origin, &violation.key, value);
                Some(help.map_or_else(|| fix.clone(), |help| format!("{fix}; {help}")))
            }
            (None, help) => help,
        };
        ConfigIssue {
            origin,
            key: Some(violation.key),
            problem: violation.problem,
            help,
        }
    }

    fn unknown_key(&self, key: KeyPath) -> ConfigIssue {
        let origin = self.origin(&key, Target::Key);
        let help = match (suggest(&key), &origin) {
            // A variable's reader needs the variable to write, not the key it sets; the parts
            // of the variable below the unknown key are kept.
            (Some(suggestion), Origin::Env(name)) if name.starts_with(ENV_PREFIX) => {
                let below = name
                    .split(ENV_SEPARATOR)
                    .skip(key.segments().len())
                    .map(|part| format!("{ENV_SEPARATOR}{part}"));
                let variable: String = std::iter::once(env_name(&suggestion))
                    .chain(below)
                    .collect();
                format!("did you mean {variable}?")
            }
            (Some(suggestion), _) => format!("did you mean `{suggestion}`?"),
            (None, _) => "remove it; `lktop print-config-template` lists every key".to_owned(),
        };
        ConfigIssue {
            key: Some(key),
            origin,
            problem: "unknown key".to_owned(),
            help: Some(help),
        }
    }
}

/// The fix "use this value instead", written the way the value was given.
fn fix_at(origin: &Origin, key: &KeyPath, value: &str) -> String {
    match origin {
        Origin::Env(name) => format!("set {name}={value}"),
        Origin::Flag(flag) if flag.starts_with("--set ") => format!("use {flag}={value}"),
        Origin::Flag(flag) => format!("use {flag} {value}"),
        Origin::File { .. } | Origin::Default => {
            format!("write `{}: {value}`", key.leaf().unwrap_or("value"))
        }
    }
}

/// The `LKTOP_<SECTION>__<KEY>` variable that sets `key`.
fn env_name(key: &KeyPath) -> String {
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

/// File problems top to bottom, then the ones from the environment and flags.
fn sorted(mut issues: Vec<ConfigIssue>) -> ConfigError {
    issues.sort_by_key(|issue| match &issue.origin {
        Origin::File { position, .. } => (0, position.map_or((0, 0), |p| (p.line, p.column))),
        Origin::Env(_) => (1, (0, 0)),
        Origin::Flag(_) => (2, (0, 0)),
        Origin::Default => (3, (0, 0)),
    });
    ConfigError { issues }
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

/// A scalar as it was written; anything else as YAML on one line.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .replace('\n', " "),
    }
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

fn file_origin(path: &Path, position: Option<Position>, line_text: Option<String>) -> Origin {
    Origin::File {
        path: path.to_path_buf(),
        position,
        line_text,
    }
}

fn line_of(text: &str, line: usize) -> Option<String> {
    text.lines()
        .nth(line.checked_sub(1)?)
        .map(|line| line.trim_end().to_owned())
}

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
        },
    );
    serde_yaml::to_value(config).unwrap_or(Value::Null)
}

/// The known key closest to an unknown one: a near spelling among its siblings, or the same name
/// in another section (`pool_size` written at the top level).
fn suggest(unknown: &KeyPath) -> Option<KeyPath> {
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

fn node_mut<'v>(mut node: &'v mut Value, path: &[Segment], create: bool) -> Option<&'v mut Value> {
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

fn holds_secret(tree: &Value) -> bool {
    tree.get("servers")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .any(|server| {
            server
                .get("api_secret")
                .and_then(Value::as_str)
                .is_some_and(|secret| !secret.is_empty())
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

fn name_unnamed_servers(servers: &mut [ServerConfig]) {
    for index in 0..servers.len() {
        if !servers[index].name.is_empty() {
            continue;
        }
        let base = url::Url::parse(&servers[index].url)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| format!("server-{}", index + 1));
        let taken = |name: &str| servers.iter().any(|server| server.name == name);
        let name = if taken(&base) {
            format!("{base}-{}", index + 1)
        } else {
            base
        };
        servers[index].name = name;
    }
}

#[cfg(unix)]
fn readable_by_others_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds an API secret and can be read by other users (mode {mode:o}); \
             run `chmod 600 {}` or move the secret to LIVEKIT_API_SECRET",
            path.display(),
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn readable_by_others_warning(_path: &Path) -> Option<String> {
    None
}

/// Effective configuration as YAML, secrets masked: what `check-config` prints.
#[must_use]
pub fn render_masked(config: &Config) -> String {
    let text = serde_yaml::to_string(config).unwrap_or_default();
    debug_assert!(
        secrets_are_masked(&text),
        "a secret reached the printed configuration"
    );
    text
}

/// Every `api_secret` in printed configuration text is the mask or absent. Searching the text
/// for each secret instead would also find a short one, such as `secret`, inside the key
/// `api_secret` itself.
fn secrets_are_masked(text: &str) -> bool {
    let Ok(tree) = serde_yaml::from_str::<Value>(text) else {
        return false;
    };
    tree.get("servers")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|server| server.get("api_secret"))
        .all(|secret| secret.is_null() || secret.as_str() == Some(MASK))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_that_is_also_a_word_of_the_output_prints_masked() {
        // Found by the `config_loader` fuzz target: the sandbox's own secret, `secret`, is part
        // of the key `api_secret`, and the check that no secret is printed panicked on it in
        // every debug build of `lktop check-config`.
        let text = "servers:\n  - url: http://127.0.0.1:7880\n    api_key: devkey\n    \
                    api_secret: secret\n";
        let loaded = load_text(None, Some(text), &[]).expect("a valid configuration");
        let printed = render_masked(&loaded.config);
        assert!(
            printed.contains(&format!("api_secret: '{MASK}'")),
            "{printed}"
        );
        assert!(!printed.contains(": secret"), "{printed}");
    }
}
