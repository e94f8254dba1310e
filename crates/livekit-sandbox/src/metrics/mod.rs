//! `/metrics`: livekit-server's Prometheus endpoint, on a listener of its own, in Go's text
//! format (`text`), with livekit's families (`families`), behind the same optional basic auth
//! (`listener`).

mod families;
mod listener;
pub(crate) mod text;

use std::net::SocketAddr;
use std::sync::PoisonError;

use secrecy::SecretString;

pub(crate) use listener::serve;

use crate::server::Shared;

/// Where `/metrics` is served and who may read it.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// Port 0 picks a free port.
    pub listen: SocketAddr,
    /// livekit-server's `prometheus: {username, password}`: basic auth when set.
    pub auth: Option<(String, SecretString)>,
}

/// Binds the metrics address.
///
/// # Errors
/// The address cannot be bound; the error names it.
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    guarded_listener::bind(addr, "sandbox metrics")
        .await
        .map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("the metrics address {addr} cannot be bound: {err}"),
            )
        })
}

/// The exposition of the sandbox now.
pub(crate) fn exposition(shared: &Shared) -> String {
    let twirp = shared
        .counts
        .statuses
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let process = crate::node::host::process_usage();
    let node = families::NodeLabels {
        node_id: &shared.node.id,
        node_type: livekit_protocol::NodeType::Server.as_str_name(),
    };
    let families =
        shared.media_now(|media, rooms| families::families(&node, media, rooms, &twirp, process));
    text::render(families)
}
