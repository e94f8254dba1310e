//! The small HTTP/1 servers lktop runs itself (`/metrics`, the webhook listener): a listener
//! bound before anything else starts, so a taken port is an error at start, and an accept loop
//! that serves each connection on its own task until shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Binds `listen` and serves every request with `answer` until `shutdown`; returns the bound
/// address. `what` names the server in the log when an accept fails.
///
/// # Errors
/// The address cannot be bound.
pub(crate) async fn serve<F, A>(
    listen: SocketAddr,
    what: &'static str,
    shutdown: CancellationToken,
    answer: F,
) -> std::io::Result<SocketAddr>
where
    F: Fn(Request<Incoming>) -> A + Clone + Send + Sync + 'static,
    A: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        tracing::warn!(%err, "{what}: accept failed");
                        continue;
                    }
                },
                () = shutdown.cancelled() => return,
            };
            let answer = answer.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let answer = answer.clone();
                    async move { Ok::<_, Infallible>(answer(request).await) }
                });
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    () = shutdown.cancelled() => {}
                }
            });
        }
    });
    Ok(bound)
}
