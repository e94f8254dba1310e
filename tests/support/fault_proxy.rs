//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, in front of a server on loopback, for the
//! faults a server cannot produce by itself: a reset mid-answer, a half-open connection, an
//! answer trickled a few bytes at a time, and canned answers (a proxy's HTML 502, a 200 full of
//! garbage).
//!
//! The mode is read for every request, not every connection: clients keep their HTTP
//! connections alive, and a fault switched on must reach the connections they already hold.
//! Each request gets a fresh upstream connection, closed once its answer is read.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy does with the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyMode {
    /// The request reaches the server and its whole answer comes back.
    PassThrough,
    /// The request reaches the server; the first half of its answer comes back, then the
    /// connection is reset (RST, not FIN): a middlebox or a crashing server killing it.
    ResetMidAnswer,
    /// The connection is accepted and read, but nothing ever comes back, neither data nor a
    /// FIN: a peer that vanished without closing.
    HalfOpen,
    /// The server's answer comes back `chunk` bytes at a time, one chunk every `every`.
    Trickle { chunk: usize, every: Duration },
    /// Every request is answered with these bytes (a whole HTTP response, which should say
    /// `Connection: close`), then the connection is closed.
    Canned(Vec<u8>),
    /// Requests for this RoomService method (`MutePublishedTrack`) are answered like `Canned`;
    /// every other request passes through: a server that refuses one kind of request.
    #[allow(
        dead_code,
        reason = "each test file that includes the proxy uses only some of its modes"
    )]
    Refuse { method: String, answer: Vec<u8> },
}

/// Serves until dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<Mutex<ProxyMode>>,
    faulted: Arc<AtomicUsize>,
    accept_loop: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`, passing requests through
    /// until told otherwise.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let mode = Arc::new(Mutex::new(ProxyMode::PassThrough));
        let faulted = Arc::new(AtomicUsize::new(0));
        let (shared_mode, shared_faulted) = (Arc::clone(&mode), Arc::clone(&faulted));
        let accept_loop = tokio::spawn(async move {
            // Owned by this task, so aborting it drops every connection it serves.
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                connections.spawn(serve(
                    client,
                    upstream,
                    Arc::clone(&shared_mode),
                    Arc::clone(&shared_faulted),
                ));
                // Reaps finished connections so a long run does not keep their results.
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            mode,
            faulted,
            accept_loop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies to every request read from now on, on new and open connections alike.
    pub fn set_mode(&self, mode: ProxyMode) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Requests that met a fault (any mode but pass-through): proof a fault was exercised.
    pub fn faulted_requests(&self) -> usize {
        self.faulted.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    mode: Arc<Mutex<ProxyMode>>,
    faulted: Arc<AtomicUsize>,
) {
    let mut pending = Vec::new();
    loop {
        let Some(request) = read_message(&mut client, &mut pending).await else {
            return;
        };
        let mut mode = mode.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let ProxyMode::Refuse { method, answer } = mode {
            mode = if is_call_of(&request, &method) {
                ProxyMode::Canned(answer)
            } else {
                ProxyMode::PassThrough
            };
        }
        if mode != ProxyMode::PassThrough {
            faulted.fetch_add(1, Ordering::Relaxed);
        }
        match mode {
            ProxyMode::PassThrough => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                if client.write_all(&answer).await.is_err() {
                    return;
                }
            }
            ProxyMode::ResetMidAnswer => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                let _ = client.write_all(&answer[..answer.len() / 2]).await;
                // SO_LINGER 0: dropping the socket sends RST instead of FIN.
                let _ = client.set_zero_linger();
                return;
            }
            ProxyMode::HalfOpen => {
                // Reads until the client gives up and closes, so the task ends with it.
                let mut sink = [0_u8; 4096];
                while matches!(client.read(&mut sink).await, Ok(read) if read > 0) {}
                return;
            }
            ProxyMode::Trickle { chunk, every } => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                for piece in answer.chunks(chunk.max(1)) {
                    tokio::time::sleep(every).await;
                    // A client that gave up has closed the connection: the write fails.
                    if client.write_all(piece).await.is_err() {
                        return;
                    }
                }
            }
            ProxyMode::Canned(answer) => {
                let _ = client.write_all(&answer).await;
                let _ = client.shutdown().await;
                return;
            }
            ProxyMode::Refuse { .. } => unreachable!("decided above"),
        }
    }
}

/// Whether `request` calls the Twirp method `method` (`POST /twirp/livekit.RoomService/{method}`).
fn is_call_of(request: &[u8], method: &str) -> bool {
    let head = String::from_utf8_lossy(request);
    head.lines().next().is_some_and(|line| {
        line.split_whitespace()
            .nth(1)
            .is_some_and(|path| path.ends_with(&format!("/{method}")))
    })
}

/// Sends one request to the server on a fresh connection and reads its whole answer.
async fn exchange(upstream: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.set_nodelay(true).ok()?;
    server.write_all(request).await.ok()?;
    read_message(&mut server, &mut Vec::new()).await
}

/// One HTTP/1.1 message (request or answer) with its bytes as they came: the head up to the
/// blank line, then `Content-Length` bytes of body. Bytes read past it stay in `pending` for
/// the next message. `None` when the peer closes or fails first.
async fn read_message(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(pos) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..read]);
    };
    let length = content_length(&pending[..head_end]);
    while pending.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        pending.extend_from_slice(&chunk[..read]);
    }
    Some(pending.drain(..head_end + length).collect())
}

/// The `Content-Length` of a message head; 0 when absent (the requests and answers this
/// proxy carries always say it when they have a body).
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A whole HTTP/1.1 answer that closes its connection.
pub fn http_response(status_line: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status_line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}
