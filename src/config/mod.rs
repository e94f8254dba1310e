//! lktop's configuration: the typed schema, its defaults, loading with layered overrides and
//! validation that reports every problem at once.
//!
//! Precedence, lowest first: built-in defaults, `lk` projects asked for with `--project` or
//! `--all-projects` (beneath the file's server of the same name, or a server of their own),
//! the file (`--config`, else `config/performance.yaml` in the working directory, else
//! `$XDG_CONFIG_HOME/lktop/performance.yaml`), environment variables (`LIVEKIT_URL` / `LIVEKIT_API_KEY` / `LIVEKIT_API_SECRET` for the first
//! server, `LKTOP_<SECTION>__<KEY>` for any key), command-line flags.

mod changes;
mod echoed_line;
mod error;
mod key_list;
mod lifecycle_limit;
mod lk_projects;
mod load;
mod mask;
mod node_urls;
mod scalar_text;
mod schema;
mod scrubbed_tree;
mod secret_file;
mod validate;
mod watch;

use std::path::{Path, PathBuf};

pub(crate) use changes::changes;
pub use error::{ConfigError, ConfigIssue};
pub use key_list::KeyList;
pub(crate) use key_list::KeyText;
pub use lifecycle_limit::LifecycleLimit;
pub use lk_projects::{LkCliConfig, LkProject, ProjectChoice};
pub use load::{
    ConfigSources, LoadedConfig, Override, SectionCheck, env_overrides, load, load_text,
    load_text_checked, render_masked, settable_keys,
};
pub(crate) use load::{load_checked, winning_overrides};
pub use node_urls::{MetricsUrls, RedisUrl};
pub use schema::{
    AudioProfile, Config, EnforcementMode, HistoryConfig, LifecycleConfig, MASK, MediaLimitsConfig,
    MetricsConfig, PollingConfig, PoolConfig, QualityConfig, QualityThresholds, RoomAlertsConfig,
    RoomLimitOverride, RoomLimitsConfig, ServerConfig, WebhooksConfig, is_secret_key,
};
pub use validate::{
    BUFFER_SIZE_MS, JITTER_BUFFER_MS, TARGET_LATENCY_MS, Violation as ValidationProblem, validate,
};
pub(crate) use validate::{MAX_ROOM_NAME_LENGTH, ROOM_LIMIT};
pub(crate) use watch::{ConfigWatcher, Reload, watch};
/// Where values are and how problems say so, shared with the sandbox's scenarios.
pub use yaml_located::{ConfigDuration, KeyPath, Origin, Position, Segment};

/// The commented default configuration, as `lktop print-config-template` prints it.
pub const TEMPLATE: &str = include_str!("../../config/performance.yaml");

/// Where the configuration is looked for when `--config` is not given.
pub(crate) const DEFAULT_FILE: &str = "config/performance.yaml";

/// The first existing default location: `config/performance.yaml` under `working_dir`, then
/// `lktop/performance.yaml` under the user's configuration directory.
#[must_use]
pub(crate) fn find_default_file(
    working_dir: &Path,
    user_config_dir: Option<&Path>,
) -> Option<PathBuf> {
    let local = working_dir.join(DEFAULT_FILE);
    if local.is_file() {
        return Some(local);
    }
    let user = user_config_dir?.join("lktop").join("performance.yaml");
    user.is_file().then_some(user)
}

/// `$XDG_CONFIG_HOME`, else `~/.config`, as every XDG-following tool resolves it.
#[must_use]
pub(crate) fn user_config_dir(
    xdg_config_home: Option<&str>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    match xdg_config_home {
        Some(dir) if Path::new(dir).is_absolute() => Some(PathBuf::from(dir)),
        _ => home.map(|home| home.join(".config")),
    }
}
