//! One pool of `RoomService` connections per server.
//!
//! Each connection is a [`RoomApi`] value holding its own keep-alive HTTP connection. Callers
//! check one out exclusively ([`Pool::acquire`]) or let the pool do it around one request
//! ([`Pool::call`], which also records latency and outcome). A background worker per pool
//! (not per request) checks idle connections every `health_check_interval`, checks a
//! connection at once after a transport error, paces reconnection with [`crate::reconnect`],
//! and closes connections above `pool_size` once idle for `idle_timeout`.
//!
//! Checkout policy, in order:
//! 0. while the server's `Retry-After` (on a 429 or 503) lasts: [`PoolError::AskedToWait`] at
//!    once, no request is sent, and no check or reconnection attempt either;
//! 1. an idle Connected connection, the most recently returned first (LIFO keeps the working
//!    set small so extra connections go idle and are shrunk), then an idle Connecting one;
//!    one a caller's transport error flagged waits for its health check instead;
//! 2. while the server rejects the credentials: [`PoolError::Unauthenticated`] at once, no
//!    request is sent;
//! 3. while some connection works (or is being opened): open one more if below
//!    `max_pool_size`, else wait (up to `connection_timeout`) rather than take a broken one;
//! 4. when no connection works: an idle Reconnecting one (the request gets a prompt transport
//!    error, or succeeds and heals it), else wait for the attempts under way, and when every
//!    connection is Failed, [`PoolError::Unavailable`] at once. A Failed connection is never
//!    handed out.
//!
//! Reconnection attempts of every pool in the process draw on one
//! [`ReconnectBudget`](crate::reconnect::ReconnectBudget): fifty servers failing together do
//! not become hundreds of attempts a second. A connection returned by a task that panicked, or
//! whose request was cancelled before its answer was read, is closed rather than reused, and
//! the worker opens another to keep `pool_size`.
//!
//! Every pool event goes out through `try_send`: a full channel drops the event and counts it
//! ([`PoolStatus::events_dropped`]) so a slow consumer never holds up checkouts.

mod checkout;
mod error;
mod events;
mod guard;
mod outcome;
mod shared;
mod slot;
mod stats;
mod status;
mod worker;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use error::{CallError, PoolError};
pub use events::PoolEvent;
pub use guard::PooledConnection;
pub use status::ConnectionInfo;
pub use status::PoolStatus;

use crate::api::{ApiError, RoomApi};
use crate::config::PoolConfig;
use crate::reconnect::{Backoff, ConnectionId, ConnectionState, ReconnectBudget};
use events::EventSink;
use shared::{Factory, PoolState, SharedPool};
use slot::Slot;

/// How a pool is set up, apart from its connection factory.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The server's name, as in the config and in every event and error.
    pub(crate) server: String,
    pub(crate) config: PoolConfig,
    /// Where state changes, growth and shrink go; never waited on.
    pub(crate) events: mpsc::Sender<PoolEvent>,
    /// Seeds the backoff jitter; random when `None`. Tests set it for a reproducible schedule.
    pub(crate) seed: Option<u64>,
    /// Paces reconnection attempts; the engine gives every pool the same one.
    pub(crate) budget: Arc<ReconnectBudget>,
}

impl PoolOptions {
    #[must_use]
    pub fn new(
        server: impl Into<String>,
        config: PoolConfig,
        events: mpsc::Sender<PoolEvent>,
    ) -> Self {
        Self {
            server: server.into(),
            budget: Arc::new(ReconnectBudget::new(config.reconnect_budget)),
            config,
            events,
            seed: None,
        }
    }

    /// Shares `budget` with the other pools that have it, instead of a budget of its own.
    #[must_use]
    pub fn with_budget(mut self, budget: Arc<ReconnectBudget>) -> Self {
        self.budget = budget;
        self
    }

    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// The connection pool of one server. Cloning gives another handle to the same pool.
pub struct Pool<C: RoomApi> {
    shared: Arc<SharedPool<C>>,
}

impl<C: RoomApi> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: RoomApi> fmt::Debug for Pool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("server", &self.shared.server)
            .finish_non_exhaustive()
    }
}

impl<C: RoomApi> Pool<C> {
    /// Opens `pool_size` connections with `factory` and starts the pool's worker, which checks
    /// them right away.
    ///
    /// # Errors
    /// [`PoolError::Connect`] when the factory fails: its errors (an invalid URL, an empty key)
    /// do not go away by trying again.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start<F, E>(options: PoolOptions, factory: F) -> Result<Self, PoolError>
    where
        F: Fn() -> Result<C, E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        let PoolOptions {
            server,
            config,
            events,
            seed,
            budget,
        } = options;
        let factory: Factory<C> = Box::new(move || factory().map_err(|err| err.to_string()));
        let mut connections = Vec::new();
        for _ in 0..config.pool_size {
            connections.push(factory().map_err(|reason| PoolError::Connect {
                server: server.clone(),
                reason,
            })?);
        }
        let shared = Arc::new(SharedPool {
            backoff: Backoff::from_config(&config),
            budget,
            state: Mutex::new(PoolState {
                slots: Vec::new(),
                next_id: 0,
                opening: 0,
                waiters: 0,
                rng: ChaCha8Rng::seed_from_u64(seed.unwrap_or_else(rand::random)),
                unauthenticated: None,
                asked_to_wait: None,
                next_auth_check: None,
                last_error: None,
                closed: false,
            }),
            server,
            config,
            factory,
            available: Notify::new(),
            worker_wake: Arc::new(Notify::new()),
            events: EventSink::new(events),
            shutdown: CancellationToken::new(),
            worker: Mutex::new(None),
        });
        {
            let mut state = shared.lock();
            let now = Instant::now();
            for api in connections {
                shared.open_slot(&mut state, api, now, "opened with the pool");
            }
        }
        let handle = tokio::spawn(worker::run(
            Arc::downgrade(&shared),
            Arc::clone(&shared.worker_wake),
            shared.shutdown.clone(),
        ));
        *shared.worker.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(Self { shared })
    }

    /// An exclusive connection, returned to the pool when the guard is dropped (whatever way
    /// the caller ends: success, error, panic, or its future being dropped).
    ///
    /// # Errors
    /// Nothing free within `connection_timeout` ([`PoolError::Timeout`]), every connection
    /// Failed, credentials rejected, a connection that could not be opened, or a shut-down
    /// pool.
    pub async fn acquire(&self) -> Result<PooledConnection<C>, PoolError> {
        checkout::acquire(&self.shared).await
    }

    /// Runs one request on a pooled connection and records its latency and outcome on that
    /// connection. A transport error has the connection checked at once.
    ///
    /// ```no_run
    /// # async fn demo(pool: lktop::pool::Pool<lktop::api::LiveKitRoomApi>) {
    /// use lktop::api::RoomApi;
    /// let rooms = pool.call(|conn| async move { conn.list_rooms(vec![]).await }).await;
    /// # }
    /// ```
    ///
    /// # Errors
    /// No connection ([`CallError::Pool`]) or the request failed ([`CallError::Api`]).
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T, CallError>
    where
        F: FnOnce(Arc<C>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let connection = self.acquire().await?;
        Ok(connection.call(request).await?)
    }

    #[must_use]
    pub fn status(&self) -> PoolStatus {
        let state = self.shared.lock();
        let count = |wanted: ConnectionState| {
            state
                .slots
                .iter()
                .filter(|slot| slot.state() == wanted)
                .count()
        };
        PoolStatus {
            server: self.shared.server.clone(),
            total: state.slots.len(),
            in_use: state
                .slots
                .iter()
                .filter(|slot| slot.holder == slot::Holder::Caller)
                .count(),
            healthy: count(ConnectionState::Connected),
            failed: count(ConnectionState::Failed),
            waiters: state.waiters,
            max: self.shared.max_size(),
            unauthenticated: state.unauthenticated.clone(),
            events_dropped: self.shared.events.dropped(),
            connections: state.slots.iter().map(Slot::info).collect(),
        }
    }

    /// Stores the quality worker's score for a connection; false when it is gone.
    #[must_use = "false means the connection was closed meanwhile"]
    pub(crate) fn set_quality_score(&self, connection: ConnectionId, score: Option<f64>) -> bool {
        let mut state = self.shared.lock();
        match state.slots.iter_mut().find(|slot| slot.id == connection) {
            Some(slot) => {
                slot.quality_score = score;
                true
            }
            None => false,
        }
    }

    /// The reconnect budget this pool's attempts draw on (shared by every pool it was given to).
    #[must_use]
    pub fn reconnect_budget(&self) -> &ReconnectBudget {
        &self.shared.budget
    }

    /// Makes every Reconnecting and Failed connection due for an attempt now, including the
    /// check of rejected credentials (for an operator's "retry", or after fixing the server).
    /// The operator's word also ends a wait the server asked for.
    pub(crate) fn retry_now(&self) {
        {
            let mut state = self.shared.lock();
            let now = Instant::now();
            state.next_auth_check = None;
            state.asked_to_wait = None;
            for slot in &mut state.slots {
                if slot.retry_at.is_some() {
                    slot.retry_at = Some(now);
                }
            }
        }
        self.shared.worker_wake.notify_one();
    }

    /// Stops the worker, closes idle connections (checked-out ones close when returned) and
    /// fails current and future checkouts with [`PoolError::ShutDown`].
    pub async fn shutdown(&self) {
        self.shared.close();
        self.shared.shutdown.cancel();
        let worker = self
            .shared
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            // The worker only ends by returning; a panic in it has been logged by tokio.
            let _ = worker.await;
        }
        self.shared.available.notify_waiters();
    }
}
