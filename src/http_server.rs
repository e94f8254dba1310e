//! The small HTTP/1 servers lktop runs itself (`/metrics`, the webhook listener): a listener
//! bound before anything else starts, so a taken port is an error at start, and the guarded
//! accept loop of the `guarded-listener` crate (header timeout, body limit, connection cap)
//! serving each connection until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use guarded_listener::{ConnectionCap, GuardedBody, ListenerLimits, accept_until};
use http::{Request, Response};
use http_body_util::Full;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Binds `listen` and serves every request with `answer`, within `limits`, until `shutdown`;
/// returns the bound address. `what` names the server in log lines.
///
/// # Errors
/// The address cannot be bound.
pub(crate) async fn serve<F, A>(
    listen: SocketAddr,
    what: &'static str,
    limits: ListenerLimits,
    shutdown: CancellationToken,
    answer: F,
) -> std::io::Result<SocketAddr>
where
    F: Fn(Request<GuardedBody>) -> A + Clone + Send + Sync + 'static,
    A: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = guarded_listener::bind(listen, what).await?;
    let bound = listener.local_addr()?;
    let cap = Arc::new(ConnectionCap::new(what, limits.max_connections));
    // Connections end with `shutdown`; nobody waits for them.
    let connections = TaskTracker::new();
    tokio::spawn(async move {
        accept_until(&listener, &cap, limits, answer, shutdown, &connections).await;
    });
    Ok(bound)
}
