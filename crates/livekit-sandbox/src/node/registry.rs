//! The node's entry in a Redis node registry, as livekit-server's `RedisRouter` keeps it:
//! `HSET nodes <id> <livekit.Node>` every update interval and at once when the state
//! changes, `HDEL nodes <id>` on a clean shutdown. Nothing is ever read from Redis.
//!
//! Redis being away is said once, then retried every interval without a word until it is
//! back; the sandbox goes on either way.

use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use secrecy::{ExposeSecret, SecretString};
use tokio_util::task::TaskTracker;

use super::stats::{StatsHistory, node};
use super::{redacted, scrub};
use crate::server::Shared;

/// livekit-server's hash of nodes.
pub const NODES_KEY: &str = "nodes";
/// How long one connection attempt or command may take before it counts as a failure.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The registry's connection and whether its absence was already reported.
pub(crate) struct Registry {
    client: redis::Client,
    /// The URL with its password hidden, for logs.
    shown_url: String,
    /// To hide the password in error messages, should one quote it.
    url: SecretString,
    connection: Option<MultiplexedConnection>,
    complained: bool,
}

/// Checks the URL; nothing is connected yet.
///
/// # Errors
/// A URL that is not `redis://` or `rediss://`, or that redis cannot read.
pub(crate) fn open(url: &SecretString) -> Result<Registry, String> {
    let url = url.expose_secret();
    let shown_url = redacted(url);
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(format!(
            "node registry URL {shown_url} is not a redis:// or rediss:// URL"
        ));
    }
    if url.starts_with("rediss://") {
        // redis builds its TLS config from the process's default provider; install ring (the
        // workspace's) unless the application chose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let client = redis::Client::open(url).map_err(|err| {
        format!(
            "node registry URL {shown_url}: {}",
            scrub(&err.to_string(), url)
        )
    })?;
    Ok(Registry {
        client,
        shown_url,
        url: SecretString::from(url.to_owned()),
        connection: None,
        complained: false,
    })
}

/// Registers the node every `update_interval` until the sandbox shuts down, then removes it.
pub(crate) fn start(
    shared: &Arc<Shared>,
    mut registry: Registry,
    (update_interval, rate_interval): (Duration, Duration),
    tasks: &TaskTracker,
) {
    let shared = Arc::clone(shared);
    let interval = update_interval.max(Duration::from_millis(10));
    tasks.spawn(async move {
        let mut history = StatsHistory::new(interval, rate_interval);
        let mut state_changes = shared.node.state.subscribe();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                // A drain is written at once, not at the next tick.
                changed = state_changes.changed() => if changed.is_err() { return },
                () = shared.shutdown.cancelled() => break,
            }
            let entry = shared.media_now(|media, rooms| {
                let stats = history.next(rooms, media, shared.node.started_at);
                node(&shared.node, stats).encode_to_vec()
            });
            registry.write(&shared.node.id, entry).await;
        }
        registry.remove(&shared.node.id).await;
    });
}

impl Registry {
    async fn write(&mut self, node_id: &str, entry: Vec<u8>) {
        let result = match self.connected().await {
            Ok(connection) => {
                let command = connection.hset::<_, _, _, ()>(NODES_KEY, node_id, entry);
                match tokio::time::timeout(REDIS_TIMEOUT, command).await {
                    Ok(result) => result.map_err(|err| err.to_string()),
                    Err(_) => Err("no answer in time".to_owned()),
                }
            }
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => {
                if self.complained {
                    tracing::info!(url = %self.shown_url, node_id, "node registry reachable again");
                }
                self.complained = false;
            }
            Err(err) => {
                // A new connection next time: this one may be broken.
                self.connection = None;
                if !self.complained {
                    self.complained = true;
                    tracing::warn!(
                        url = %self.shown_url,
                        node_id,
                        err = %scrub(&err, self.url.expose_secret()),
                        "node registry unreachable; retrying every update interval"
                    );
                }
            }
        }
    }

    /// `HDEL nodes <id>`: a clean shutdown takes the node out of the registry.
    async fn remove(&mut self, node_id: &str) {
        let Ok(connection) = self.connected().await else {
            return;
        };
        let command = connection.hdel::<_, _, ()>(NODES_KEY, node_id);
        match tokio::time::timeout(REDIS_TIMEOUT, command).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(url = %self.shown_url, node_id, err = %scrub(&err.to_string(), self.url.expose_secret()), "node not removed from the registry");
            }
            Err(_) => {
                tracing::warn!(url = %self.shown_url, node_id, "node not removed from the registry: no answer in time");
            }
        }
    }

    async fn connected(&mut self) -> Result<&mut MultiplexedConnection, String> {
        if self.connection.is_none() {
            let connecting = self.client.get_multiplexed_async_connection();
            let connection = tokio::time::timeout(REDIS_TIMEOUT, connecting)
                .await
                .map_err(|_| "no connection in time".to_owned())?
                .map_err(|err| err.to_string())?;
            self.connection = Some(connection);
        }
        self.connection
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }
}
