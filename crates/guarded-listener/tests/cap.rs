//! The cap from the listener's side: what it counts while a client is turned away, and that a
//! permit comes back when a connection ends. (Every limit from the client's side, on every
//! listener that uses this crate, is lktop's `tests/listeners.rs`.)

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use guarded_listener::{ConnectionCap, ListenerLimits, accept_until};
use http::{Request, Response};
use http_body_util::Full;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Far above anything here; only catches "never".
const NEVER: Duration = Duration::from_secs(20);

async fn hello<B>(_: Request<B>) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"hello")))
}

/// Reads until the server closes the connection; what came.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(NEVER, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection")
        .ok();
    received
}

#[tokio::test]
async fn one_connection_over_the_cap_is_counted_and_closed_and_a_permit_comes_back() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cap = Arc::new(ConnectionCap::new("test listener", 1));
    let limits = ListenerLimits::new(1024, 1).with_header_read_timeout(Duration::from_secs(60));
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let server = {
        let cap = Arc::clone(&cap);
        let stop = stop.clone();
        let tasks = tasks.clone();
        tokio::spawn(async move {
            accept_until(&listener, &cap, limits, hello, stop, &tasks).await;
        })
    };

    let held = TcpStream::connect(addr).await.unwrap();
    let mut over = TcpStream::connect(addr).await.unwrap();
    assert!(
        until_closed(&mut over).await.is_empty(),
        "answered over the cap"
    );
    assert_eq!(cap.refused(), 1);
    assert_eq!(cap.open(), 1);

    drop(held);
    let answer = tokio::time::timeout(NEVER, async {
        loop {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let answer = until_closed(&mut client).await;
            if !answer.is_empty() {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("served once the held connection ended");
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");

    stop.cancel();
    server.await.unwrap();
    tasks.close();
    tokio::time::timeout(NEVER, tasks.wait())
        .await
        .expect("every connection ends with the stop");
    assert_eq!(cap.open(), 0);
}
