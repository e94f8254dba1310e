//! The sandbox as a livekit-server node: its id, region and state, the stats it reports, and
//! its entry in a Redis node registry, as livekit-server keeps one in multi-node mode.
//!
//! `host` reads this process's and the machine's load, `stats` makes a `livekit.Node` of it
//! and the media model, `registry` writes that to Redis.

pub(crate) mod host;
pub(crate) mod registry;
pub(crate) mod stats;

use std::time::Duration;

use livekit_protocol as proto;
use rand::Rng;
use secrecy::SecretString;
use tokio::sync::watch;

/// livekit-server's `node_stats.stats_update_interval`: how often a node writes itself.
pub const STATS_UPDATE_INTERVAL: Duration = Duration::from_secs(2);
/// livekit-server's `node_stats.stats_rate_measurement_intervals`: the window of
/// `NodeStats.rates`.
pub const STATS_RATE_INTERVAL: Duration = Duration::from_secs(10);

/// Who the sandbox is as a node, and where it registers.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// `redis://` or `rediss://` (with a password if any: it is never printed); none: the
    /// node is in no registry, and its id only labels the metrics.
    pub redis_url: Option<SecretString>,
    /// `ND_` and 12 random letters and digits when absent, as livekit-server makes them.
    pub node_id: Option<String>,
    /// livekit-server's `region`; empty by default.
    pub region: String,
    /// How often the node writes itself to the registry.
    pub update_interval: Duration,
    /// The window of `NodeStats.rates`.
    pub rate_interval: Duration,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            redis_url: None,
            node_id: None,
            region: String::new(),
            update_interval: STATS_UPDATE_INTERVAL,
            rate_interval: STATS_RATE_INTERVAL,
        }
    }
}

/// The node as the running sandbox knows it.
#[derive(Debug)]
pub(crate) struct NodeIdentity {
    pub id: String,
    pub region: String,
    /// The address the sandbox listens on, as the node's `ip`.
    pub ip: String,
    /// Unix seconds.
    pub started_at: i64,
    pub state: watch::Sender<proto::NodeState>,
}

impl NodeIdentity {
    pub(crate) fn new(options: &NodeOptions, ip: String) -> Self {
        Self {
            id: options.node_id.clone().unwrap_or_else(random_node_id),
            region: options.region.clone(),
            ip,
            started_at: crate::node::stats::unix_seconds(),
            state: watch::Sender::new(proto::NodeState::Serving),
        }
    }

    #[must_use]
    pub(crate) fn state(&self) -> proto::NodeState {
        *self.state.borrow()
    }
}

/// `ND_` and 12 letters and digits, as livekit's `guid.New("ND_")`. From the OS's randomness,
/// not the scenario's seed: two sandboxes with the same seed must still be two nodes in one
/// registry.
#[must_use]
pub(crate) fn random_node_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("ND_{suffix}")
}

/// The URL with its password replaced by `***`, for logs and errors.
#[must_use]
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redis URL>".to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// The URL's password, when it has one.
fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `text` (an error message) with the URL's password, should it appear, hidden.
#[must_use]
pub(crate) fn scrub(text: &str, url: &str) -> String {
    match password_of(url) {
        Some(password) => text.replace(password, "***"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_look_like_livekits() {
        let id = random_node_id();
        assert_eq!(id.len(), 15, "{id}");
        assert!(id.starts_with("ND_"));
        assert!(id[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, random_node_id());
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redacted("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redacted("rediss://bob:hunter2@cache:6380"),
            "rediss://bob:***@cache:6380"
        );
        assert_eq!(redacted("redis://127.0.0.1/"), "redis://127.0.0.1/");
        assert_eq!(
            scrub("auth failed for hunter2", "redis://:hunter2@h/"),
            "auth failed for ***"
        );
        assert_eq!(scrub("refused", "redis://h/"), "refused");
    }
}
