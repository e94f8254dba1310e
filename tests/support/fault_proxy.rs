//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, in front of a server on loopback, for the
//! faults a server cannot produce by itself: a reset mid-answer, an answer cut (FIN) after a
//! number of bytes, a half-open connection, an answer trickled a few bytes at a time or sliced
//! at random byte boundaries, a close held back after a whole answer, a request read one byte
//! at a time, and canned answers (a proxy's HTML 502, a 429 with `Retry-After`, a 200 full of
//! garbage).
//!
//! The mode is read for every request, not every connection: clients keep their HTTP
//! connections alive, and a fault switched on must reach the connections they already hold.
//! Each request gets a fresh upstream connection, closed once its answer is read.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the proxy does with the next request.
#[allow(
    dead_code,
    reason = "each test file that includes the proxy uses only some of its modes"
)]
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
    /// The request reaches the server; the first `n` bytes of its answer come back, then the
    /// connection is closed (FIN): an answer cut short at any byte.
    CutAfter(usize),
    /// The server's answer comes back `chunk` bytes at a time, one chunk every `every`.
    Trickle { chunk: usize, every: Duration },
    /// The request goes to the server and the answer comes back in pieces of 1 to `max` bytes
    /// drawn at random (each connection's from its own seed), `pause` between pieces: every
    /// byte boundary a parser may meet.
    Slice { max: usize, pause: Duration },
    /// The whole answer comes back, saying `Connection: close`, but the connection is only
    /// closed `hold` later: a server slow to close.
    SlowClose { hold: Duration },
    /// The request is read one byte every `every` (the client's writes land in the socket
    /// buffers and wait there), then passed on and answered: a server stalling on the request.
    /// It takes effect from the next request a connection sends.
    ReadRequestSlowly { every: Duration },
    /// Every request is answered with these bytes (a whole HTTP response, which should say
    /// `Connection: close`), then the connection is closed.
    Canned(Vec<u8>),
    /// Requests for this RoomService method (`MutePublishedTrack`) are answered like `Canned`;
    /// every other request passes through: a server that refuses one kind of request.
    Refuse { method: String, answer: Vec<u8> },
}

/// Serves until dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<Mutex<ProxyMode>>,
    faulted: Arc<AtomicUsize>,
    last_answer: Arc<AtomicUsize>,
    accept_loop: JoinHandle<()>,
}

/// What a connection's task shares with the proxy.
struct Shared {
    upstream: SocketAddr,
    mode: Arc<Mutex<ProxyMode>>,
    faulted: Arc<AtomicUsize>,
    /// The length of the last answer the server gave, whole, before any fault.
    last_answer: Arc<AtomicUsize>,
    /// Seeds the slicing of each connection in turn, so a run is the same every time.
    connections: AtomicU64,
}

impl Shared {
    fn mode(&self) -> ProxyMode {
        self.mode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
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
        let last_answer = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            upstream,
            mode: Arc::clone(&mode),
            faulted: Arc::clone(&faulted),
            last_answer: Arc::clone(&last_answer),
            connections: AtomicU64::new(0),
        });
        let accept_loop = tokio::spawn(async move {
            // Owned by this task, so aborting it drops every connection it serves.
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                connections.spawn(serve(client, Arc::clone(&shared)));
                // Reaps finished connections so a long run does not keep their results.
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            mode,
            faulted,
            last_answer,
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

    /// The length of the last answer the server gave, as it came before any fault.
    pub fn last_answer_len(&self) -> usize {
        self.last_answer.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let seed = shared.connections.fetch_add(1, Ordering::Relaxed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let upstream = shared.upstream;
    let mut pending = Vec::new();
    loop {
        let Some(request) = next_request(&mut client, &mut pending, &shared).await else {
            return;
        };
        let mut mode = shared.mode();
        if let ProxyMode::Refuse { method, answer } = mode {
            mode = if is_call_of(&request, &method) {
                ProxyMode::Canned(answer)
            } else {
                ProxyMode::PassThrough
            };
        }
        if !matches!(
            mode,
            ProxyMode::PassThrough | ProxyMode::ReadRequestSlowly { .. }
        ) {
            shared.faulted.fetch_add(1, Ordering::Relaxed);
        }
        match mode {
            // A request read slowly is passed on like any other once it is whole.
            ProxyMode::PassThrough | ProxyMode::ReadRequestSlowly { .. } => {
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
            ProxyMode::CutAfter(bytes) => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                shared.last_answer.store(answer.len(), Ordering::Relaxed);
                let _ = client.write_all(&answer[..bytes.min(answer.len())]).await;
                let _ = client.shutdown().await;
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
            ProxyMode::Slice { max, pause } => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                if write_sliced(&mut client, &answer, max, pause, &mut rng)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            ProxyMode::SlowClose { hold } => {
                let Some(answer) = exchange(upstream, &request).await else {
                    return;
                };
                let _ = client.write_all(&saying_connection_close(&answer)).await;
                tokio::time::sleep(hold).await;
                let _ = client.shutdown().await;
                return;
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

/// The client's next request, read slowly when the mode says so.
async fn next_request(
    client: &mut TcpStream,
    pending: &mut Vec<u8>,
    shared: &Shared,
) -> Option<Vec<u8>> {
    match shared.mode() {
        ProxyMode::ReadRequestSlowly { every } => {
            shared.faulted.fetch_add(1, Ordering::Relaxed);
            read_message_slowly(client, pending, every).await
        }
        _ => read_message(client, pending).await,
    }
}

/// Writes `bytes` in pieces of 1 to `max` bytes, `pause` after each.
async fn write_sliced(
    client: &mut TcpStream,
    bytes: &[u8],
    max: usize,
    pause: Duration,
    rng: &mut ChaCha8Rng,
) -> std::io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let (piece, after) = rest.split_at(rng.random_range(1..=max.max(1)).min(rest.len()));
        client.write_all(piece).await?;
        rest = after;
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// The answer with `Connection: close` after its status line.
fn saying_connection_close(answer: &[u8]) -> Vec<u8> {
    let line_end = answer
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(answer.len(), |pos| pos + 2);
    let mut closing = answer[..line_end].to_vec();
    closing.extend_from_slice(b"Connection: close\r\n");
    closing.extend_from_slice(&answer[line_end..]);
    closing
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

/// As `read_message`, one byte every `every`.
async fn read_message_slowly(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    every: Duration,
) -> Option<Vec<u8>> {
    let mut byte = [0_u8; 1];
    loop {
        if let Some(head_end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let whole = head_end + 4 + content_length(&pending[..head_end + 4]);
            if pending.len() >= whole {
                return Some(pending.drain(..whole).collect());
            }
        }
        tokio::time::sleep(every).await;
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        pending.push(byte[0]);
    }
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
    http_response_with(status_line, &[], content_type, body)
}

/// A whole HTTP/1.1 answer that closes its connection, with `headers` besides.
pub fn http_response_with(
    status_line: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let extra = headers
        .iter()
        .fold(String::new(), |mut extra, (name, value)| {
            let _ = write!(extra, "{name}: {value}\r\n");
            extra
        });
    let mut response = format!(
        "HTTP/1.1 {status_line}\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}
