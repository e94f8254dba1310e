//! A connection that fails every request must reach its health check even while a caller
//! keeps the pool busy, as the rooms poller does: found by the fault matrix (a half-open
//! server left one connection Connected for good, and the dashboard said "degraded" instead of
//! "down"). A caller's transport error only flags the connection for the check; the pool used
//! to hand the flagged connection straight back to the next caller, so the check never got it.
//! And while every connection is flagged, more callers are no reason to grow the pool.

#[macro_use]
#[path = "support/answering_api.rs"]
mod answering_api;
#[path = "support/configs.rs"]
mod configs;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use configs::TestConfig;
use lktop::api::{ApiError, ApiErrorKind, RoomApi};
use lktop::config::PoolConfig;
use lktop::pool::{Pool, PoolEvent, PoolOptions};
use lktop::reconnect::ConnectionState;
use tokio::sync::mpsc;

const BOUND: Duration = Duration::from_secs(10);
/// How long the scripted server takes to answer or to fail: long enough for other tasks to
/// run meanwhile, as with a real request.
const ANSWER_TIME: Duration = Duration::from_millis(5);

/// Answers every call after `ANSWER_TIME`, or times out on every call once broken.
struct Breakable {
    broken: Arc<AtomicBool>,
}

impl Breakable {
    fn answer<T: Default + Send>(
        &self,
        method: &'static str,
    ) -> impl Future<Output = Result<T, ApiError>> + Send + use<T> {
        let broken = self.broken.load(Ordering::SeqCst);
        async move {
            tokio::time::sleep(ANSWER_TIME).await;
            if broken {
                Err(ApiError::new(
                    method,
                    ApiErrorKind::Timeout {
                        after: Some(ANSWER_TIME),
                    },
                    None,
                    "scripted://",
                    "no answer",
                ))
            } else {
                Ok(T::default())
            }
        }
    }
}

room_api_by_answer!(Breakable);

/// One connection and no periodic checks: only a caller's error can get it checked.
fn one_connection() -> PoolConfig {
    TestConfig::new()
        .pool_size(1, 1)
        .health_check_interval(Duration::from_secs(600))
        .connection_timeout(Duration::from_secs(1))
        .max_reconnect_attempts(3)
        .idle_timeout(Duration::from_secs(600))
        .pool()
}

/// Waits for a state change to `to`.
async fn state_change(events: &mut mpsc::Receiver<PoolEvent>, to: ConnectionState) {
    loop {
        match events.recv().await.expect("the pool is running") {
            PoolEvent::StateChanged { change, .. } if change.to == to => return,
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_failing_connection_reaches_its_health_check_under_back_to_back_callers() {
    tokio::time::timeout(BOUND, async {
        let broken = Arc::new(AtomicBool::new(false));
        let shared = Arc::clone(&broken);
        let (sender, mut events) = mpsc::channel(1024);
        let pool = Pool::start(
            PoolOptions::new("scripted", one_connection(), sender),
            move || {
                Ok::<_, String>(Breakable {
                    broken: Arc::clone(&shared),
                })
            },
        )
        .expect("the pool starts");
        state_change(&mut events, ConnectionState::Connected).await;

        broken.store(true, Ordering::SeqCst);
        let caller = pool.clone();
        // Asks again the moment an answer (or an error) is back, like a poller running late;
        // bounded, and aborted below in any case.
        let busy = tokio::spawn(async move {
            for _ in 0..10_000 {
                let _ = caller
                    .call(|conn| async move { conn.list_rooms(Vec::new()).await })
                    .await;
            }
        });
        state_change(&mut events, ConnectionState::Reconnecting).await;
        busy.abort();

        let status = pool.status();
        assert_eq!(status.healthy, 0, "{status:?}");
        assert!(
            status.connections[0]
                .last_error
                .as_deref()
                .is_some_and(|error| error.contains("timed out")),
            "{status:?}"
        );
        pool.shutdown().await;
    })
    .await
    .expect("the flagged connection is checked and found broken in time");
}

/// A server that stops answering under several callers is an outage, not load: while its
/// connections are flagged and wait for their checks, the callers wait too, and the pool does
/// not open connections to it (it used to grow to its maximum, `pool grew … opened under
/// load`, in the first seconds of every outage).
#[tokio::test]
async fn flagged_connections_under_several_callers_do_not_grow_the_pool() {
    tokio::time::timeout(BOUND, async {
        let broken = Arc::new(AtomicBool::new(false));
        let shared = Arc::clone(&broken);
        let (sender, mut events) = mpsc::channel(4096);
        let config = TestConfig::new()
            .pool_size(2, 6)
            .health_check_interval(Duration::from_secs(600))
            .connection_timeout(Duration::from_millis(300))
            .max_reconnect_attempts(3)
            .idle_timeout(Duration::from_secs(600))
            .pool();
        let pool = Pool::start(PoolOptions::new("scripted", config, sender), move || {
            Ok::<_, String>(Breakable {
                broken: Arc::clone(&shared),
            })
        })
        .expect("the pool starts");
        for _ in 0..2 {
            state_change(&mut events, ConnectionState::Connected).await;
        }

        // The server stops answering; the first call finds out and flags its connection.
        broken.store(true, Ordering::SeqCst);
        let _ = pool
            .call(|conn| async move { conn.list_rooms(Vec::new()).await })
            .await;
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let caller = pool.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let _ = caller
                            .call(|conn| async move { conn.list_rooms(Vec::new()).await })
                            .await;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        for caller in &callers {
            caller.abort();
        }
        let mut grew = Vec::new();
        while let Ok(event) = events.try_recv() {
            if matches!(event, PoolEvent::Grew { .. }) {
                grew.push(event);
            }
        }
        assert!(grew.is_empty(), "the pool grew during an outage: {grew:?}");
        assert_eq!(pool.status().connections.len(), 2);
        pool.shutdown().await;
    })
    .await
    .expect("bounded");
}
