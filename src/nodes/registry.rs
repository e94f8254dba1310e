//! The node registry of a multi-node deployment: every livekit-server writes its
//! `livekit.Node` (protobuf) into the Redis hash `nodes`, field = node id, every
//! `stats_update_interval` (livekit/livekit `pkg/routing/redisrouter.go`). lktop only reads it
//! (`HGETALL nodes`), never writes.

use std::collections::HashMap;
use std::time::Duration;

use livekit_protocol::{Node, NodeState, NodeType};
use prost::Message;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError};

use super::health::SourceState;
use crate::config::RedisUrl;

/// livekit-server's key of the registry hash.
pub(crate) const NODES_KEY: &str = "nodes";

/// A node as the registry holds it, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegisteredNode {
    pub(crate) id: String,
    pub(crate) node_type: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) num_cpus: Option<u32>,
    /// Unix seconds, as the node writes it.
    pub(crate) updated_at: Option<i64>,
    pub(crate) rooms: Option<u64>,
    pub(crate) clients: Option<u64>,
    pub(crate) tracks_in: Option<u64>,
    pub(crate) tracks_out: Option<u64>,
    pub(crate) bytes_in_per_s: Option<f64>,
    pub(crate) bytes_out_per_s: Option<f64>,
    pub(crate) packets_in_per_s: Option<f64>,
    pub(crate) packets_out_per_s: Option<f64>,
    pub(crate) nack_per_s: Option<f64>,
    pub(crate) cpu_load: Option<f64>,
    pub(crate) load_avg: Option<[f64; 3]>,
    pub(crate) memory_used: Option<u64>,
    pub(crate) memory_total: Option<u64>,
}

impl RegisteredNode {
    fn from_node(node: &Node) -> Self {
        let stats = node.stats.as_ref();
        // The per-second figures of the latest measurement window (the flat `*_per_sec`
        // fields are deprecated in favour of these).
        let latest_rates = stats.and_then(|s| s.rates.last());
        let state_name = NodeState::try_from(node.state).map_or_else(
            |_| format!("UNKNOWN_{}", node.state),
            |s| s.as_str_name().to_owned(),
        );
        let node_type = NodeType::try_from(node.r#type).map_or_else(
            |_| format!("UNKNOWN_{}", node.r#type),
            |t| t.as_str_name().to_owned(),
        );
        Self {
            id: node.id.clone(),
            node_type: Some(node_type),
            state: Some(state_name),
            region: Some(node.region.clone()).filter(|region| !region.is_empty()),
            num_cpus: Some(node.num_cpus).filter(|&cpus| cpus > 0),
            updated_at: stats.map(|s| s.updated_at).filter(|&at| at > 0),
            rooms: stats.and_then(|s| u64::try_from(s.num_rooms).ok()),
            clients: stats.and_then(|s| u64::try_from(s.num_clients).ok()),
            tracks_in: stats.and_then(|s| u64::try_from(s.num_tracks_in).ok()),
            tracks_out: stats.and_then(|s| u64::try_from(s.num_tracks_out).ok()),
            bytes_in_per_s: latest_rates.map(|r| f64::from(r.bytes_in)),
            bytes_out_per_s: latest_rates.map(|r| f64::from(r.bytes_out)),
            packets_in_per_s: latest_rates.map(|r| f64::from(r.packets_in)),
            packets_out_per_s: latest_rates.map(|r| f64::from(r.packets_out)),
            nack_per_s: latest_rates.map(|r| f64::from(r.nack_total)),
            cpu_load: stats.map(|s| f64::from(s.cpu_load)),
            load_avg: stats.map(|s| {
                [
                    f64::from(s.load_avg_last1min),
                    f64::from(s.load_avg_last5min),
                    f64::from(s.load_avg_last15min),
                ]
            }),
            memory_used: stats.map(|s| s.memory_used).filter(|&m| m > 0),
            memory_total: stats.map(|s| s.memory_total).filter(|&m| m > 0),
        }
    }
}

/// Why the registry could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryError {
    pub(crate) state: SourceState,
    pub(crate) message: String,
}

/// A read-only client of one server's registry; it reconnects on the next read after a
/// failure.
pub(crate) struct Registry {
    client: Client,
    url: RedisUrl,
    connection: Option<MultiplexedConnection>,
    timeout: Duration,
}

impl Registry {
    /// # Errors
    /// The URL is not one the Redis client accepts (validation catches this first).
    pub(crate) fn new(url: &RedisUrl, timeout: Duration) -> Result<Self, String> {
        let client = Client::open(url.expose())
            .map_err(|err| format!("redis_url {}: {}", url.masked(), scrub(&err, url)))?;
        Ok(Self {
            client,
            url: url.clone(),
            connection: None,
            timeout,
        })
    }

    /// The Redis URL as shown (password masked).
    pub(crate) fn target(&self) -> String {
        self.url.masked()
    }

    /// Every node in the registry; a value that does not decode is an error naming its field.
    ///
    /// # Errors
    /// Redis cannot be reached, refuses the credentials, or holds something that is not a
    /// `livekit.Node`.
    pub(crate) async fn read(&mut self) -> Result<Vec<RegisteredNode>, RegistryError> {
        if self.connection.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.timeout))
                .set_response_timeout(Some(self.timeout));
            let opened = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|err| self.error(&err))?;
            self.connection = Some(opened);
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(self.error(&RedisError::from((ErrorKind::Client, "no connection"))));
        };
        let read: Result<HashMap<String, Vec<u8>>, RedisError> = redis::cmd("HGETALL")
            .arg(NODES_KEY)
            .query_async(connection)
            .await;
        let fields = match read {
            Ok(fields) => fields,
            Err(err) => {
                self.connection = None;
                return Err(self.error(&err));
            }
        };
        let mut nodes = Vec::with_capacity(fields.len());
        for (field, value) in &fields {
            let node = Node::decode(value.as_slice()).map_err(|err| RegistryError {
                state: SourceState::Down,
                message: format!(
                    "the `{NODES_KEY}` hash's field {field} is not a livekit.Node ({err}); \
                     is redis_url the Redis livekit-server uses?"
                ),
            })?;
            let mut registered = RegisteredNode::from_node(&node);
            if registered.id.is_empty() {
                registered.id.clone_from(field);
            }
            nodes.push(registered);
        }
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(nodes)
    }

    fn error(&self, err: &RedisError) -> RegistryError {
        let refused_credentials = err.kind() == ErrorKind::AuthenticationFailed
            || matches!(err.code(), Some("NOAUTH" | "WRONGPASS"));
        RegistryError {
            state: if refused_credentials {
                SourceState::Unauthenticated
            } else {
                SourceState::Down
            },
            message: if refused_credentials {
                format!(
                    "Redis refused the credentials ({}); set the password in redis_url",
                    scrub(err, &self.url)
                )
            } else if err.is_timeout() {
                format!("Redis did not answer within {:?}", self.timeout)
            } else {
                scrub(err, &self.url)
            },
        }
    }
}

/// The error's text without the URL's password, should the client ever quote it.
fn scrub(err: &RedisError, url: &RedisUrl) -> String {
    let text = err.to_string();
    match url::Url::parse(url.expose())
        .ok()
        .and_then(|parsed| parsed.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => text.replace(&password, crate::config::MASK),
        _ => text,
    }
}
