//! One connection, served by hyper with every limit set.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::body::GuardedBody;
use crate::cap::Admitted;
use crate::limits::ListenerLimits;

/// Serves `admitted` with `handler` until the client closes it or a limit does. The handler
/// gets each request with a [`GuardedBody`]: it answers `413` when [`read_body`] says the body
/// is too large, or, if it never reads bodies, when the body declares itself too large.
///
/// [`read_body`]: crate::read_body
///
/// # Errors
/// The connection failed: the client left mid-request, the head did not arrive in time, or it
/// was malformed (hyper answered `400` or `431` first when it could).
pub async fn serve_connection<H, F, B>(
    admitted: Admitted,
    limits: &ListenerLimits,
    handler: H,
) -> Result<(), hyper::Error>
where
    H: Fn(Request<GuardedBody>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let max_body_bytes = limits.max_body_bytes;
    let service = service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            let request = request.map(|body| GuardedBody::new(body, max_body_bytes));
            Ok::<_, Infallible>(handler(request).await)
        }
    });
    http1::Builder::new()
        // Without a timer hyper ignores `header_read_timeout` and waits for a head forever.
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .keep_alive(true)
        .serve_connection(TokioIo::new(admitted.stream), service)
        .await
}
