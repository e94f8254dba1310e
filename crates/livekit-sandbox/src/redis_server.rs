//! A throwaway `redis-server` for tests: a real one on a free loopback port, nothing saved to
//! disk, killed when dropped. lktop's tests use it too, for the node registry.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long a fresh server may take to answer PING.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// Attempts with a new port when another process took the one picked.
const ATTEMPTS: usize = 3;

/// A running `redis-server`; dropping it kills it.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits until it answers PING.
    ///
    /// # Errors
    /// The binary is not installed (the error says which package to install), or the server
    /// did not come up.
    pub async fn start() -> io::Result<Self> {
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            match Self::try_start().await {
                Ok(server) => return Ok(server),
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(err),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    async fn try_start() -> io::Result<Self> {
        let port = {
            let probe = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            probe.local_addr()?.port()
        };
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| {
                if err.kind() == io::ErrorKind::NotFound {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "redis-server is not installed (not found on PATH); install Debian's \
                         `redis-server` package: apt-get install redis-server",
                    )
                } else {
                    err
                }
            })?;
        let mut server = Self {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    async fn wait_until_ready(&mut self) -> io::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server on port {} exited at start ({status})",
                    self.addr.port()
                )));
            }
            if ping(self.addr).await {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "redis-server on {} did not answer PING within {READY_WITHIN:?}",
                        self.addr
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Whether a Redis server at `addr` answers an inline PING.
async fn ping(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await?;
        io::Result::Ok(&answer == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), attempt).await,
        Ok(Ok(true))
    )
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
