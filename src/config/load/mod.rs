//! Loading: file < environment < command-line flags < (nothing else), then validation.
//!
//! The file is read into a `serde_yaml::Value`, overrides are written into that tree (each
//! remembering its origin), and the tree is decoded into [`Config`]. Decoding is repeated after
//! dropping each value serde refuses, so one run reports every bad value, not just the first;
//! unknown keys are collected by `serde_ignored` on the final pass.

//!
//! The steps, a file each: `parse` reads the text into a tree, `overrides` and `layers` are
//! the values from outside the file and their writing into the tree, `decode` turns the tree
//! into [`Config`], `place` ties every problem to where its key was set (`suggest` offering
//! the key that was meant), `secrets` keeps secrets out of sight, and `lk_project_layer`
//! writes the chosen `lk` projects beneath the file's own values.

mod decode;
mod former_names;
mod layers;
mod lk_project_layer;
mod overrides;
mod parse;
mod place;
mod secrets;
mod suggest;

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};
use yaml_located::{KeyPath, Locator, Target};

use super::error::{ConfigError, ConfigIssue};
use super::lk_projects::LkProject;
use super::schema::{Config, ServerConfig};
use super::scrubbed_tree::ScrubbedTree;
use super::secret_file::{read_secret_text, readable_by_others_warning};
use super::validate::{Violation, validate, validate_written};
use decode::decode;
use former_names::rename_former_keys;
use layers::{Layering, apply_overrides};
use lk_project_layer::{replaced_project_values, write_projects};
pub(crate) use overrides::winning_overrides;
pub use overrides::{Override, env_overrides};
use parse::parse_tree;
use place::{Placer, file_origin, sorted};
use secrets::holds_secret;
pub use secrets::render_masked;
pub use suggest::settable_keys;

#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The file to read; `None` means built-in defaults only.
    pub file: Option<PathBuf>,
    /// Applied in order, so later entries (flags) win over earlier ones (environment).
    pub overrides: Vec<Override>,
    /// `lk` projects to watch, each a server named after it: they fill what the file's server
    /// of that name leaves out (or become a server of their own), and the overrides win over
    /// them.
    pub lk_projects: Vec<LkProject>,
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
    /// Things worth knowing that need no action now (a key under its former name).
    pub notes: Vec<String>,
}

/// A check of a section the configuration holds as plain data for a layer above it (the
/// dashboard's `keys:`), run with the configuration's own checks so that its problems are
/// placed in the file and listed with theirs.
pub type SectionCheck = fn(&Config) -> Vec<Violation>;

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
        Some(path) => Some(read_secret_text(path).map_err(|err| {
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
    load_layers(
        sources.file.as_deref(),
        text.as_ref().map(|text| text.as_str()),
        &sources.lk_projects,
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
pub fn load_text_checked(
    file: Option<&Path>,
    text: Option<&str>,
    overrides: &[Override],
    check: SectionCheck,
) -> Result<LoadedConfig, ConfigError> {
    load_layers(file, text, &[], overrides, check)
}

/// The file's text, the `lk` projects beneath its values and the overrides above them, decoded
/// and judged.
fn load_layers(
    file: Option<&Path>,
    text: Option<&str>,
    lk_projects: &[LkProject],
    overrides: &[Override],
    check: SectionCheck,
) -> Result<LoadedConfig, ConfigError> {
    let file_label = file.map_or_else(|| PathBuf::from("<config>"), Path::to_path_buf);
    let mut tree = ScrubbedTree::new(match text {
        Some(text) => parse_tree(&file_label, text)?,
        None => Value::Mapping(Mapping::new()),
    });
    let (renamed, rename_problems) = rename_former_keys(&mut tree);
    // Before the projects are written: their secrets are in `lk`'s file, not this one.
    let file_holds_secret = holds_secret(&tree);
    let from_projects = write_projects(&mut tree, lk_projects);
    let every_override: Vec<Override> = from_projects.iter().chain(overrides).cloned().collect();
    let locator = Locator::new(text.unwrap_or_default());
    let place = Placer {
        file: file.map(|_| file_label.as_path()),
        text: text.unwrap_or_default(),
        locator: &locator,
        overrides: &every_override,
        renamed: &renamed,
    };
    let notes: Vec<String> = renamed
        .iter()
        .map(|rename| rename.note(place.file_position(&rename.former)))
        .collect();

    let Layering {
        applied: applied_overrides,
        mut warnings,
        mut issues,
    } = apply_overrides(&mut tree, overrides);
    warnings.extend(replaced_project_values(&from_projects, &applied_overrides));
    issues.extend(
        rename_problems
            .into_iter()
            .map(|violation| place.issue(violation, Target::Key)),
    );
    let applied: Vec<Override> = from_projects.into_iter().chain(applied_overrides).collect();
    issues.extend(
        validate_written(&tree)
            .into_iter()
            .map(|violation| place.issue(violation, Target::Value)),
    );
    let (config, decode_issues) = decode(&mut tree, &place);
    issues.extend(decode_issues);
    let Some(mut config) = config else {
        return Err(sorted(issues));
    };
    let judged = judge(&config, check, &issues, &place);
    issues.extend(judged);
    if !issues.is_empty() {
        return Err(sorted(issues));
    }

    name_unnamed_servers(&mut config.servers);
    if file_holds_secret && let Some(path) = file {
        warnings.extend(readable_by_others_warning(
            path,
            " or move the secret to LIVEKIT_API_SECRET",
        ));
    }
    Ok(LoadedConfig {
        config,
        file: file.map(Path::to_path_buf),
        applied,
        warnings,
        notes,
    })
}

/// The configuration's own checks and `check`, on what decoded. A value refused while
/// decoding (in `reported`) was replaced by its default; judging that default again would only
/// repeat the problem in a more confusing form.
fn judge(
    config: &Config,
    check: SectionCheck,
    reported: &[ConfigIssue],
    place: &Placer<'_>,
) -> Vec<ConfigIssue> {
    let reported: Vec<&KeyPath> = reported
        .iter()
        .filter_map(|issue| issue.key.as_ref())
        .collect();
    validate(config)
        .into_iter()
        .chain(check(config))
        .filter(|violation| !reported.contains(&&violation.key))
        .map(|violation| place.issue(violation, Target::Value))
        .collect()
}

/// Names each server without a name after its URL's host and port (`server-2`, by its place
/// in the list, when the URL has no host), with that number added when two would share a name.
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
