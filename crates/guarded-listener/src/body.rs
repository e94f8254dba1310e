//! A request body as the handler gets it: limited however the client sends it, and read whole
//! in one call that tells a body over the limit from a broken one.

use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// The body a guarded listener hands its handler. One whose `Content-Length` is over the
/// listener's `max_body_bytes` fails at once, before a byte of it is read; any other fails once
/// more than that many bytes have arrived.
#[derive(Debug)]
pub struct GuardedBody {
    inner: Limited<Incoming>,
    declared_over_limit: bool,
}

impl GuardedBody {
    pub(crate) fn new(incoming: Incoming, max_body_bytes: usize) -> Self {
        let declared = incoming.size_hint().lower();
        Self {
            declared_over_limit: usize::try_from(declared)
                .map_or(true, |declared| declared > max_body_bytes),
            inner: Limited::new(incoming, max_body_bytes),
        }
    }

    /// Whether the request declared a body over the limit: a handler that never reads bodies
    /// answers 413 on this.
    #[must_use]
    pub fn declared_over_limit(&self) -> bool {
        self.declared_over_limit
    }
}

/// The error of a body declared over the limit.
#[derive(Debug)]
struct DeclaredOverLimit;

impl fmt::Display for DeclaredOverLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the declared length of the body is over the limit")
    }
}

impl Error for DeclaredOverLimit {}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = Box<dyn Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.declared_over_limit {
            return Poll::Ready(Some(Err(Box::new(DeclaredOverLimit))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        !self.declared_over_limit && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// More bytes than the listener takes, declared or sent: answer `413`.
    TooLarge,
    /// The client broke off, or sent something that is not HTTP/1 framing.
    Unreadable(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("the request body is larger than this server takes"),
            Self::Unreadable(why) => write!(f, "the request body could not be read: {why}"),
        }
    }
}

impl Error for BodyError {}

/// The whole body. One over the limit is refused without reading the rest; the connection is
/// then closed after the answer (hyper does not drain a body nobody read).
///
/// # Errors
/// [`BodyError::TooLarge`] past the listener's limit, [`BodyError::Unreadable`] when the
/// connection fails first.
pub async fn read_body(body: GuardedBody) -> Result<Bytes, BodyError> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() || err.is::<DeclaredOverLimit>() => {
            Err(BodyError::TooLarge)
        }
        Err(err) => Err(BodyError::Unreadable(err.to_string())),
    }
}
