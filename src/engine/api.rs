//! A server's RoomService as the engine uses it: every call goes through the pool, and its
//! latency and outcome feed the server's quality monitor and the metrics.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::api::{
    ApiError, ApiErrorKind, CreateRoomOptions, EgressQuery, JobsApi, LiveKitRoomApi, NewDispatch,
    RoomApi, UpdateParticipantOptions, proto,
};
use crate::config::QualityConfig;
use crate::events::CheckoutReport;
use crate::metrics::Metrics;
use crate::pool::{Pool, PoolError};
use crate::quality::{DEFAULT_WINDOW, QualityMonitor, QualityWindow, ScoreModel};

/// One server's RoomService through its pool, each call timed on the wire and graded.
#[derive(Clone)]
pub struct MeasuredRoomService {
    pub(crate) server: String,
    pub(crate) endpoint: String,
    pub(crate) pool: Pool<LiveKitRoomApi>,
    /// The server's quality: every request's time on the wire and outcome.
    pub(crate) quality: Arc<Mutex<QualityMonitor>>,
    /// lktop's own share: how long requests waited for a pooled connection.
    pub(crate) checkout: Arc<Mutex<QualityWindow>>,
    pub(crate) metrics: Option<Metrics>,
}

impl MeasuredRoomService {
    /// The server's API over `pool`, with empty quality and checkout windows.
    #[must_use]
    pub fn new(
        server: String,
        endpoint: String,
        pool: Pool<LiveKitRoomApi>,
        quality: QualityConfig,
        metrics: Option<Metrics>,
    ) -> Self {
        Self {
            server,
            endpoint,
            pool,
            quality: Arc::new(Mutex::new(QualityMonitor::new(
                quality,
                ScoreModel::default(),
                DEFAULT_WINDOW,
            ))),
            checkout: Arc::new(Mutex::new(QualityWindow::new(DEFAULT_WINDOW))),
            metrics,
        }
    }

    async fn run<T, F, Fut>(&self, method: &'static str, request: F) -> Result<T, ApiError>
    where
        F: FnOnce(Arc<LiveKitRoomApi>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let waiting = Instant::now();
        let connection = self.pool.acquire().await;
        let waited = waiting.elapsed();
        let connection = match connection {
            Ok(connection) => {
                self.record_checkout(Some(waited));
                connection
            }
            Err(err) => return Err(self.checkout_failed(method, &err, waited)),
        };
        let started = Instant::now();
        let result = connection.call(request).await;
        let elapsed = started.elapsed();
        drop(connection);
        // An answer from the server — even not_found — shows a working connection; only
        // failures to get one count against quality. A 200 that does not decode is not an
        // answer lktop can use: counted as one, a server answering garbage to every call
        // would be graded excellent.
        let (latency, outcome) = match &result {
            Ok(_) => (Some(elapsed), "ok"),
            Err(err)
                // A missing grant is an answer too: the server works, the call is not allowed.
                if !err.is_transient()
                    && err.kind() != ApiErrorKind::Unauthenticated
                    && err.kind() != ApiErrorKind::Malformed =>
            {
                (Some(elapsed), err.kind().label())
            }
            Err(err) => (None, err.kind().label()),
        };
        self.record_quality(latency);
        if let Some(metrics) = &self.metrics {
            metrics.observe_request(&self.server, elapsed.as_secs_f64(), outcome);
        }
        result
    }

    fn record_quality(&self, latency: Option<std::time::Duration>) {
        self.quality
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(latency, Instant::now());
    }

    fn record_checkout(&self, waited: Option<std::time::Duration>) {
        self.checkout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(waited, Instant::now());
    }

    /// No connection for the request. Only the pool's verdict on the server (every
    /// connection failed, credentials rejected) counts against the server's quality; a wait
    /// for a busy pool or a connection lktop could not build is lktop's own.
    fn checkout_failed(
        &self,
        method: &'static str,
        err: &PoolError,
        waited: std::time::Duration,
    ) -> ApiError {
        match err {
            PoolError::Unavailable { .. }
            | PoolError::Unauthenticated { .. }
            | PoolError::AskedToWait { .. } => {
                self.record_checkout(Some(waited));
                self.record_quality(None);
            }
            PoolError::Timeout { .. } => self.record_checkout(None),
            PoolError::Connect { .. } | PoolError::ShutDown { .. } => {}
        }
        if let Some(metrics) = &self.metrics {
            metrics.observe_request(&self.server, waited.as_secs_f64(), "pool");
        }
        self.pool_error(method, err)
    }

    /// The checkout figures over the window, for the quality event.
    pub(crate) fn checkout_report(&self) -> CheckoutReport {
        let mut window = self.checkout.lock().unwrap_or_else(PoisonError::into_inner);
        window.advance(Instant::now());
        let stats = window.stats();
        CheckoutReport {
            checkouts: stats.samples(),
            timeouts: stats.failures,
            wait_p50: stats.p50,
            wait_p95: stats.p95,
        }
    }

    fn pool_error(&self, method: &'static str, err: &PoolError) -> ApiError {
        let kind = match err {
            PoolError::Timeout { waited, .. } => ApiErrorKind::Timeout {
                after: Some(*waited),
            },
            PoolError::Unauthenticated { .. } => ApiErrorKind::Unauthenticated,
            // The server's own verdict on itself, as its 429 or 503 was.
            PoolError::AskedToWait { .. } => ApiErrorKind::Server,
            PoolError::Unavailable { .. }
            | PoolError::Connect { .. }
            | PoolError::ShutDown { .. } => ApiErrorKind::Unreachable,
        };
        let error = ApiError::new(method, kind, None, self.endpoint.clone(), err.to_string());
        if matches!(err, PoolError::Timeout { .. }) {
            error.into_busy_pool()
        } else {
            error
        }
    }
}

impl RoomApi for MeasuredRoomService {
    async fn list_rooms(&self, names: Vec<String>) -> Result<Vec<proto::Room>, ApiError> {
        self.run(
            "ListRooms",
            |conn| async move { conn.list_rooms(names).await },
        )
        .await
    }

    async fn list_participants(&self, room: &str) -> Result<Vec<proto::ParticipantInfo>, ApiError> {
        let room = room.to_owned();
        self.run("ListParticipants", |conn| async move {
            conn.list_participants(&room).await
        })
        .await
    }

    async fn create_room(
        &self,
        name: &str,
        options: CreateRoomOptions,
    ) -> Result<proto::Room, ApiError> {
        let name = name.to_owned();
        self.run("CreateRoom", |conn| async move {
            conn.create_room(&name, options).await
        })
        .await
    }

    async fn delete_room(&self, room: &str) -> Result<(), ApiError> {
        let room = room.to_owned();
        self.run(
            "DeleteRoom",
            |conn| async move { conn.delete_room(&room).await },
        )
        .await
    }

    async fn update_room_metadata(
        &self,
        room: &str,
        metadata: &str,
    ) -> Result<proto::Room, ApiError> {
        let (room, metadata) = (room.to_owned(), metadata.to_owned());
        self.run("UpdateRoomMetadata", |conn| async move {
            conn.update_room_metadata(&room, &metadata).await
        })
        .await
    }

    async fn remove_participant(&self, room: &str, identity: &str) -> Result<(), ApiError> {
        let (room, identity) = (room.to_owned(), identity.to_owned());
        self.run("RemoveParticipant", |conn| async move {
            conn.remove_participant(&room, &identity).await
        })
        .await
    }

    async fn mute_published_track(
        &self,
        room: &str,
        identity: &str,
        track_sid: &str,
        muted: bool,
    ) -> Result<proto::TrackInfo, ApiError> {
        let (room, identity, track_sid) =
            (room.to_owned(), identity.to_owned(), track_sid.to_owned());
        self.run("MutePublishedTrack", |conn| async move {
            conn.mute_published_track(&room, &identity, &track_sid, muted)
                .await
        })
        .await
    }

    async fn update_participant(
        &self,
        room: &str,
        identity: &str,
        options: UpdateParticipantOptions,
    ) -> Result<proto::ParticipantInfo, ApiError> {
        let (room, identity) = (room.to_owned(), identity.to_owned());
        self.run("UpdateParticipant", |conn| async move {
            conn.update_participant(&room, &identity, options).await
        })
        .await
    }
}

/// Egress, ingress and agent dispatch through the same pool, timed and graded like the rooms'
/// calls: they are requests to the same server.
impl JobsApi for MeasuredRoomService {
    async fn list_egress(&self, query: EgressQuery) -> Result<Vec<proto::EgressInfo>, ApiError> {
        self.run(
            "ListEgress",
            |conn| async move { conn.list_egress(query).await },
        )
        .await
    }

    async fn stop_egress(&self, egress_id: &str) -> Result<proto::EgressInfo, ApiError> {
        let egress_id = egress_id.to_owned();
        self.run("StopEgress", |conn| async move {
            conn.stop_egress(&egress_id).await
        })
        .await
    }

    async fn list_ingress(&self, room: Option<&str>) -> Result<Vec<proto::IngressInfo>, ApiError> {
        let room = room.map(str::to_owned);
        self.run("ListIngress", |conn| async move {
            conn.list_ingress(room.as_deref()).await
        })
        .await
    }

    async fn list_dispatch(&self, room: &str) -> Result<Vec<proto::AgentDispatch>, ApiError> {
        let room = room.to_owned();
        self.run("ListDispatch", |conn| async move {
            conn.list_dispatch(&room).await
        })
        .await
    }

    async fn create_dispatch(
        &self,
        dispatch: NewDispatch,
    ) -> Result<proto::AgentDispatch, ApiError> {
        self.run("CreateDispatch", |conn| async move {
            conn.create_dispatch(dispatch).await
        })
        .await
    }

    async fn delete_dispatch(
        &self,
        room: &str,
        dispatch_id: &str,
    ) -> Result<proto::AgentDispatch, ApiError> {
        let (room, dispatch_id) = (room.to_owned(), dispatch_id.to_owned());
        self.run("DeleteDispatch", |conn| async move {
            conn.delete_dispatch(&room, &dispatch_id).await
        })
        .await
    }
}
