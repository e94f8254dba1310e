//! Binding, with a word when the address is reachable from other machines.

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Binds `addr` for the listener called `what`. A loopback address is the quiet default; any
/// other was asked for, and is logged as such, since every client on the network can now
/// reach the listener.
///
/// # Errors
/// The address cannot be bound (the error is the operating system's; callers say which
/// address of theirs it was).
pub async fn bind(addr: SocketAddr, what: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "{what} listens on a non-loopback address: other machines can reach it"
        );
    }
    Ok(listener)
}
