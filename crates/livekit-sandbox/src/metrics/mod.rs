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
    tokio::net::TcpListener::bind(addr).await.map_err(|err| {
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

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use secrecy::SecretString;

    use crate::admin::{JoinRequest, TrackRequest};
    use crate::{Sandbox, SandboxOptions};

    /// Prints an exposition, for a person to compare with livekit-server's:
    /// `cargo test -p livekit-sandbox print_an_exposition -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "prints, checks nothing"]
    async fn print_an_exposition() {
        let options = SandboxOptions::new("devkey", &SecretString::from("s"))
            .with_metrics(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), None);
        let sandbox = Sandbox::start(options).await.unwrap();
        let join = JoinRequest {
            identity: "alice".into(),
            name: String::new(),
            tracks: vec![TrackRequest {
                kind: "video".into(),
                source: None,
                name: None,
                muted: false,
            }],
        };
        sandbox.join("a", &join).unwrap();
        let bob = JoinRequest {
            identity: "bob".into(),
            ..join
        };
        sandbox.join("a", &bob).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        println!("{}", super::exposition(&sandbox.shared));
        sandbox.shutdown().await;
    }
}
