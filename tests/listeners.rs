//! Every HTTP listener lktop runs — the sandbox's API, `/metrics` and the webhook listener —
//! held to the same promises over real sockets on loopback, one table of listeners run through
//! each case: a slowloris client is cut off after the header timeout; a 50 MB body is answered
//! 413 without being read; 5,000 idle connections leave a normal client served; 10,000 headers
//! get 431; a connection over the cap is closed at once and the listener serves again below it.
//!
//! The cases run one at a time (they measure latency and memory, which a neighbour would
//! disturb) and print their figures: `cargo test --test listeners -- --nocapture`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::config::{Config, ConfigDuration};
use lktop::engine::{Engine, EngineOptions};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// One case at a time across the whole file.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// What catches "never": far above any figure these cases print.
const NEVER: Duration = Duration::from_secs(30);
const FIFTY_MB: usize = 50 * 1024 * 1024;
const IDLE_CONNECTIONS: usize = 5_000;

#[derive(Debug, Clone, Copy)]
enum Listener {
    Sandbox,
    Metrics,
    Webhooks,
}

const LISTENERS: [Listener; 3] = [Listener::Sandbox, Listener::Metrics, Listener::Webhooks];

/// A listener started for a case, and what stops it.
struct Running {
    addr: SocketAddr,
    stop: Stop,
}

enum Stop {
    Sandbox(Sandbox),
    Engine(Engine),
}

impl Running {
    async fn stop(self) {
        match self.stop {
            Stop::Sandbox(sandbox) => sandbox.shutdown().await,
            Stop::Engine(engine) => engine.shutdown(Duration::from_secs(1)).await,
        }
    }
}

impl Listener {
    /// Starts this listener alone with these limits, on a loopback port.
    async fn start(self, max_connections: u32, header_read_timeout: Duration) -> Running {
        match self {
            Self::Sandbox => {
                let mut options = SandboxOptions::new("devkey", &SecretString::from("secret"));
                options.listener = SandboxOptions::DEFAULT_LISTENER_LIMITS
                    .with_max_connections(max_connections as usize)
                    .with_header_read_timeout(header_read_timeout);
                let sandbox = Sandbox::start(options).await.expect("the sandbox starts");
                Running {
                    addr: sandbox.addr(),
                    stop: Stop::Sandbox(sandbox),
                }
            }
            Self::Metrics | Self::Webhooks => {
                let addr = free_addr();
                let timeout = ConfigDuration::new(header_read_timeout);
                let mut config = Config::default();
                if matches!(self, Self::Metrics) {
                    config.metrics.listen = Some(addr);
                    config.metrics.max_connections = max_connections;
                    config.metrics.header_read_timeout = timeout;
                } else {
                    config.webhooks.listen = Some(addr);
                    config.webhooks.max_connections = max_connections;
                    config.webhooks.header_read_timeout = timeout;
                }
                let (engine, events) = Engine::start(EngineOptions {
                    config,
                    sources: None,
                    watch_config: false,
                    sandbox: None,
                })
                .await
                .expect("the engine starts");
                // The engine's events are lossy when nobody reads them.
                drop(events);
                Running {
                    addr,
                    stop: Stop::Engine(engine),
                }
            }
        }
    }

    /// A request every client may send, and the status it gets.
    fn normal_request(self) -> (&'static str, u16) {
        match self {
            Self::Sandbox => (
                "GET / HTTP/1.1\r\nHost: lktop\r\nConnection: close\r\n\r\n",
                200,
            ),
            Self::Metrics => (
                "GET /metrics HTTP/1.1\r\nHost: lktop\r\nConnection: close\r\n\r\n",
                200,
            ),
            // No token: refused before the body is read, as any stray request is.
            Self::Webhooks => (
                "POST / HTTP/1.1\r\nHost: lktop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                401,
            ),
        }
    }

    /// The head of a request that carries a body to this listener's handler, with `framing`
    /// (`Content-Length: …` or `Transfer-Encoding: chunked`).
    fn head_with_body(self, framing: &str) -> String {
        let start = match self {
            Self::Sandbox => {
                "POST /twirp/livekit.RoomService/ListRooms HTTP/1.1\r\nContent-Type: application/json\r\n"
            }
            Self::Metrics => "GET /metrics HTTP/1.1\r\n",
            Self::Webhooks => "POST / HTTP/1.1\r\nAuthorization: Bearer read-after-the-body\r\n",
        };
        format!("{start}Host: lktop\r\n{framing}\r\n\r\n")
    }

    /// Whether the handler reads a body (the metrics endpoints never do).
    fn reads_body(self) -> bool {
        !matches!(self, Self::Metrics)
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// What came back on a connection until the server closed it.
struct Answer {
    /// The status of the first response, if one came.
    status: Option<u16>,
    /// Since the request began, when the first byte of the answer (or the close) came.
    first_byte: Duration,
    /// The server closed the connection (end of stream or reset), rather than the wait ending.
    closed: bool,
}

/// Reads until the server closes the connection, at most [`NEVER`].
async fn read_answer(stream: &mut (impl AsyncReadExt + Unpin), since: Instant) -> Answer {
    let mut received = Vec::new();
    let mut first_byte = None;
    let mut buffer = vec![0u8; 16 * 1024];
    let closed = loop {
        match tokio::time::timeout_at((since + NEVER).into(), stream.read(&mut buffer)).await {
            Err(_) => break false,
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(read)) => {
                first_byte.get_or_insert_with(|| since.elapsed());
                if received.len() < 64 * 1024 {
                    received.extend_from_slice(&buffer[..read]);
                }
            }
        }
    };
    let status = std::str::from_utf8(received.get(9..12).unwrap_or_default())
        .ok()
        .and_then(|code| code.parse().ok())
        .filter(|_| received.starts_with(b"HTTP/1.1 "));
    Answer {
        status,
        first_byte: first_byte.unwrap_or_else(|| since.elapsed()),
        closed,
    }
}

/// The normal request on a new connection: its status and how long the answer took.
async fn normal_request(listener: Listener, addr: SocketAddr) -> (Option<u16>, Duration) {
    let (request, _) = listener.normal_request();
    let since = Instant::now();
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return (None, since.elapsed());
    };
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (None, since.elapsed());
    }
    let answer = read_answer(&mut stream, since).await;
    (answer.status, since.elapsed())
}

/// Serves the normal request as it should, within [`NEVER`]; returns how long it took.
async fn assert_serves(listener: Listener, addr: SocketAddr, when: &str) -> Duration {
    let (_, expected) = listener.normal_request();
    let (status, took) = normal_request(listener, addr).await;
    assert_eq!(status, Some(expected), "{listener:?} {when}");
    took
}

/// The process's resident memory, from /proc (Linux); 0 elsewhere.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// The soft limit on open files, from /proc (Linux).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn runtime_bound(what: &str) -> impl FnOnce(tokio::time::error::Elapsed) -> String {
    let what = what.to_owned();
    move |_| format!("{what} did not finish within {NEVER:?} x 4")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_off_after_the_header_timeout() {
    let _one = ONE_AT_A_TIME.lock().await;
    let header_read_timeout = Duration::from_secs(1);
    for listener in LISTENERS {
        let running = listener.start(64, header_read_timeout).await;
        let mut stream = TcpStream::connect(running.addr).await.expect("connects");
        let (mut reading, mut writing) = stream.split();
        // 60 bytes of head at one byte per second: a minute, if nothing cuts it off.
        let head = format!(
            "GET / HTTP/1.1\r\nHost: lktop\r\nX-Slow: {}\r\n\r\n",
            "a".repeat(19)
        );
        assert_eq!(head.len(), 60);
        let since = Instant::now();
        let trickle = async {
            let mut sent = 0;
            for byte in head.as_bytes() {
                if writing.write_all(&[*byte]).await.is_err() {
                    break;
                }
                sent += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            sent
        };
        let (answer, sent) = tokio::time::timeout(NEVER * 4, async {
            tokio::select! {
                answer = read_answer(&mut reading, since) => (answer, None),
                sent = trickle => (read_answer(&mut reading, since).await, Some(sent)),
            }
        })
        .await
        .map_err(runtime_bound("slowloris"))
        .unwrap();
        let cut_off = since.elapsed();
        println!(
            "slowloris: {listener:?} closed the connection {cut_off:.2?} after its first byte \
             (header_read_timeout {header_read_timeout:?}; the head takes 60 s)"
        );
        assert!(
            answer.closed,
            "{listener:?} kept a slowloris connection open"
        );
        assert_eq!(sent, None, "{listener:?} read the whole trickled head");
        assert_ne!(
            answer.status,
            Some(200),
            "{listener:?} answered a head never finished"
        );
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_body_is_refused_with_413_without_being_read() {
    let _one = ONE_AT_A_TIME.lock().await;
    for listener in LISTENERS {
        let running = listener.start(64, Duration::from_secs(10)).await;
        let before = resident_bytes();
        let head = listener.head_with_body(&format!("Content-Length: {FIFTY_MB}"));
        let (answer, written) = send_body(running.addr, &head, Framing::Declared).await;
        let grown = resident_bytes().saturating_sub(before);
        println!(
            "50 MB body: {listener:?} answered {:?} after {:.2?}, {} MiB written before it \
             closed the connection, resident memory grew {} MiB",
            answer.status,
            answer.first_byte,
            written / (1024 * 1024),
            grown / (1024 * 1024)
        );
        assert_eq!(answer.status, Some(413), "{listener:?}");
        assert!(answer.closed, "{listener:?} kept the connection after 413");
        assert!(written < FIFTY_MB, "{listener:?} read the whole body");
        assert!(
            grown < 40 * 1024 * 1024,
            "{listener:?}: memory grew {grown} bytes, as if the body was kept"
        );
        assert_serves(listener, running.addr, "after a 50 MB body").await;
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_refused_with_413() {
    let _one = ONE_AT_A_TIME.lock().await;
    for listener in LISTENERS.into_iter().filter(|l| l.reads_body()) {
        let running = listener.start(64, Duration::from_secs(10)).await;
        let head = listener.head_with_body("Transfer-Encoding: chunked");
        let (answer, written) = send_body(running.addr, &head, Framing::Chunked).await;
        println!(
            "50 MB chunked body: {listener:?} answered {:?} after {:.2?}, {} MiB written",
            answer.status,
            answer.first_byte,
            written / (1024 * 1024)
        );
        assert_eq!(answer.status, Some(413), "{listener:?}");
        assert!(answer.closed, "{listener:?} kept the connection after 413");
        assert!(written < FIFTY_MB, "{listener:?} read the whole body");
        assert_serves(listener, running.addr, "after a chunked body").await;
        running.stop().await;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    Declared,
    Chunked,
}

/// Sends `head` and then 50 MB of body while reading the answer; the answer and the body
/// bytes written before the server stopped taking them.
async fn send_body(addr: SocketAddr, head: &str, framing: Framing) -> (Answer, usize) {
    const CHUNK: usize = 64 * 1024;
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let (mut reading, mut writing) = stream.split();
    let since = Instant::now();
    let zeros = vec![b'0'; CHUNK];
    let pour = async {
        let mut written = 0;
        if writing.write_all(head.as_bytes()).await.is_err() {
            return written;
        }
        while written < FIFTY_MB {
            let sent = match framing {
                Framing::Declared => writing.write_all(&zeros).await,
                Framing::Chunked => {
                    let framed = [format!("{CHUNK:x}\r\n").as_bytes(), &zeros, b"\r\n"].concat();
                    writing.write_all(&framed).await
                }
            };
            if sent.is_err() {
                break;
            }
            written += CHUNK;
        }
        written
    };
    let (answer, written) = tokio::time::timeout(NEVER * 4, async {
        tokio::join!(read_answer(&mut reading, since), pour)
    })
    .await
    .map_err(runtime_bound("the 50 MB body"))
    .unwrap();
    (answer, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_idle_connections_leave_a_normal_client_served() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Each idle connection is two descriptors here: the client's and the server's.
    let needed = IDLE_CONNECTIONS as u64 * 2 + 500;
    match open_files_limit() {
        Some(limit) if limit >= needed => {}
        limit => {
            eprintln!(
                "SKIPPED five_thousand_idle_connections_leave_a_normal_client_served: the open \
                 file limit is {limit:?}, {needed} are needed; raise it with `ulimit -n {needed}`"
            );
            return;
        }
    }
    for listener in LISTENERS {
        // A cap above the idle connections, and a timeout longer than the case.
        let cap = u32::try_from(IDLE_CONNECTIONS + 100).expect("small");
        let running = listener.start(cap, Duration::from_secs(120)).await;
        let alone = latencies(listener, running.addr, "alone").await;
        let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
        for _ in 0..IDLE_CONNECTIONS {
            idle.push(
                TcpStream::connect(running.addr)
                    .await
                    .expect("an idle connection"),
            );
        }
        let crowded = latencies(listener, running.addr, "beside 5,000 idle").await;
        println!(
            "normal client: {listener:?} median {:.2?} (max {:.2?}) alone, median {:.2?} \
             (max {:.2?}) with {IDLE_CONNECTIONS} idle connections open",
            alone.0, alone.1, crowded.0, crowded.1
        );
        // Still open: the listener served the client beside them, not instead of them.
        let mut probe = [0u8; 1];
        let still_open = idle
            .iter()
            .filter(|stream| matches!(stream.try_read(&mut probe), Err(err) if err.kind() == std::io::ErrorKind::WouldBlock))
            .count();
        assert_eq!(
            still_open, IDLE_CONNECTIONS,
            "{listener:?} closed idle connections"
        );
        drop(idle);
        running.stop().await;
    }
}

/// Median and longest of 20 normal requests, each within [`NEVER`].
async fn latencies(listener: Listener, addr: SocketAddr, when: &str) -> (Duration, Duration) {
    let mut took = Vec::new();
    for _ in 0..20 {
        took.push(assert_serves(listener, addr, when).await);
    }
    took.sort();
    (took[took.len() / 2], took[took.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_headers_get_431_and_the_listener_serves_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut head = String::from("GET / HTTP/1.1\r\nHost: lktop\r\n");
    for index in 0..10_000 {
        let _ = write!(head, "X-Filler-{index}: {index}\r\n");
    }
    head.push_str("\r\n");
    for listener in LISTENERS {
        let running = listener.start(64, Duration::from_secs(10)).await;
        let mut stream = TcpStream::connect(running.addr).await.expect("connects");
        let (mut reading, mut writing) = stream.split();
        let since = Instant::now();
        let (answer, ()) = tokio::time::timeout(NEVER * 4, async {
            tokio::join!(read_answer(&mut reading, since), async {
                // The server may stop reading once it has seen too many.
                let _ = writing.write_all(head.as_bytes()).await;
            })
        })
        .await
        .map_err(runtime_bound("10,000 headers"))
        .unwrap();
        println!(
            "10,000 headers: {listener:?} answered {:?} after {:.2?}",
            answer.status, answer.first_byte
        );
        assert_eq!(answer.status, Some(431), "{listener:?}");
        assert!(answer.closed, "{listener:?} kept the connection");
        assert_serves(listener, running.addr, "after 10,000 headers").await;
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_cap_is_closed_at_once_and_served_below_it() {
    const CAP: u32 = 4;
    let _one = ONE_AT_A_TIME.lock().await;
    for listener in LISTENERS {
        let running = listener.start(CAP, Duration::from_secs(60)).await;
        // Accepted in the order they connect: these hold the cap.
        let mut held = Vec::new();
        for _ in 0..CAP {
            held.push(TcpStream::connect(running.addr).await.expect("connects"));
        }
        let since = Instant::now();
        let mut over = TcpStream::connect(running.addr).await.expect("connects");
        let refused = read_answer(&mut over, since).await;
        println!(
            "over the cap: {listener:?} closed connection {} after {:.2?}",
            CAP + 1,
            refused.first_byte
        );
        assert!(
            refused.closed,
            "{listener:?} left the connection over the cap hanging"
        );
        assert_eq!(refused.status, None, "{listener:?} served over its cap");
        // One connection ends; once the server has seen it end, the client is served.
        drop(held.pop());
        let served = tokio::time::timeout(NEVER, async {
            loop {
                let (status, _) = normal_request(listener, running.addr).await;
                if status.is_some() {
                    break status;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .map_err(runtime_bound("a request below the cap"))
        .unwrap();
        assert_eq!(served, Some(listener.normal_request().1), "{listener:?}");
        drop(held);
        running.stop().await;
    }
}
