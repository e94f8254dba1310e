//! The accept loop: every connection within the cap served on its own task.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Body;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::body::GuardedBody;
use crate::cap::ConnectionCap;
use crate::connection::serve_connection;
use crate::limits::ListenerLimits;

/// After a failed accept (most often: the process is out of file descriptors), so the loop
/// does not spin while connections close.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Accepts on `listener` until `stop`, serving each connection `cap` admits with `handler`
/// on a task of `tasks`; `stop` also closes every connection still open.
pub async fn accept_until<H, F, B>(
    listener: &TcpListener,
    cap: &Arc<ConnectionCap>,
    limits: ListenerLimits,
    handler: H,
    stop: CancellationToken,
    tasks: &TaskTracker,
) where
    H: Fn(Request<GuardedBody>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(%err, "{}: accept failed", cap.what());
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        // Answers are small; Nagle's algorithm would hold each back for 40 ms.
        let _ = stream.set_nodelay(true);
        let Some(admitted) = cap.admit(stream) else {
            continue;
        };
        let handler = handler.clone();
        let stop = stop.clone();
        let what = cap.what();
        tasks.spawn(async move {
            tokio::select! {
                result = serve_connection(admitted, &limits, handler) => {
                    if let Err(err) = result {
                        tracing::debug!(%err, "{what}: a connection ended with an error");
                    }
                }
                // Dropping the connection closes its socket at once.
                () = stop.cancelled() => {}
            }
        });
    }
}
