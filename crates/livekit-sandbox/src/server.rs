//! The sandbox's HTTP/1.1 server: accepts connections on loopback, keeps them alive like
//! livekit-server, routes Twirp and admin requests, and injects faults — latency, errors,
//! hangs, answers cut off mid-body, and a listener that goes down and comes back.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use guarded_listener::{BodyError, ConnectionCap, GuardedBody, ListenerLimits, accept_until};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use livekit_api::access_token::Claims;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::auth::ApiKeys;
use super::clock::SimClock;
use super::codec::Encoding;
use super::disruptions::{DisruptionNotice, UnderWay};
use super::faults::{Fate, Faults};
use super::media::live::LiveMedia;
use super::node::NodeIdentity;
use super::rooms::RoomStore;
use super::service::{self, Call};
use super::twirp_error::{TwirpCode, TwirpError};
use super::webhooks::WebhookCounts;

pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// The Twirp services the sandbox serves, by the prefix of their paths.
const TWIRP_SERVICES: [(&str, TwirpService); 4] = [
    ("/twirp/livekit.RoomService/", TwirpService::Room),
    ("/twirp/livekit.Egress/", TwirpService::Egress),
    ("/twirp/livekit.Ingress/", TwirpService::Ingress),
    (
        "/twirp/livekit.AgentDispatchService/",
        TwirpService::AgentDispatch,
    ),
];

/// A Twirp service: each has its methods' handler, all share decoding, auth and encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TwirpService {
    Room,
    Egress,
    Ingress,
    AgentDispatch,
}

impl TwirpService {
    fn handle(self, method: &str, call: &Call<'_>) -> Result<Bytes, TwirpError> {
        match self {
            Self::Room => service::handle(method, call),
            Self::Egress => super::egress::service::handle(method, call),
            Self::Ingress => super::ingress::service::handle(method, call),
            Self::AgentDispatch => super::agents::service::handle(method, call),
        }
    }
}
/// livekit-server's largest API request body: what a client that works against livekit-server
/// may send, and some 150 times the largest legitimate one (metadata and attributes of 64 KiB,
/// livekit's `limit.max_metadata_size`, base64 in JSON).
pub(crate) const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;
/// Open connections by default: a pool of lktop's (`max_pool_size` at most 1024), a few SDK
/// clients and a load test, with room to spare. Where the open-file limit is lower (1024 is a
/// common soft limit), accepts fail first and are retried: raise `ulimit -n` with the cap.
pub(crate) const MAX_CONNECTIONS: usize = 4096;
/// Notices a slow listener may fall behind by before it misses some.
const NOTICE_CAPACITY: usize = 64;
/// A hung request is answered by closing its connection after this long, so a test or demo
/// that forgets a hang does not pile up sockets forever.
const HANG_LIMIT: Duration = Duration::from_secs(300);

/// Whether the listener accepts connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListenerState {
    Up,
    Down,
}

/// The RoomService methods counted one by one; any other path counts as `other`.
pub(crate) const COUNTED_METHODS: [&str; 13] = [
    "ListRooms",
    "CreateRoom",
    "DeleteRoom",
    "UpdateRoomMetadata",
    "ListParticipants",
    "GetParticipant",
    "RemoveParticipant",
    "MutePublishedTrack",
    "UpdateParticipant",
    "UpdateSubscriptions",
    "SendData",
    "ForwardParticipant",
    "MoveParticipant",
];

/// Requests seen, by what happened to them, and every Twirp request received by method: what
/// a client costs this server, counted here rather than by the client.
#[derive(Debug, Default)]
pub(crate) struct RequestCounts {
    pub answered: AtomicU64,
    pub failed: AtomicU64,
    pub injected_errors: AtomicU64,
    pub hung: AtomicU64,
    pub dropped: AtomicU64,
    pub by_method: [AtomicU64; COUNTED_METHODS.len()],
    pub other_methods: AtomicU64,
    /// Answers by what livekit-server's `livekit_node_twirp_request_status` counts them by.
    pub statuses: Mutex<BTreeMap<TwirpStatus, u64>>,
}

/// An answer as `livekit_node_twirp_request_status` labels it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TwirpStatus {
    /// A RoomService method, or empty for a path that names none (as Twirp leaves it when
    /// the route is unknown).
    pub method: &'static str,
    /// `200`, `4xx` or `5xx` (livekit's `httpStatusFamily`).
    pub status: String,
    /// The Twirp error code; empty on success.
    pub code: &'static str,
}

impl RequestCounts {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn received_for(&self, method: &str) -> u64 {
        let counter = match COUNTED_METHODS.iter().position(|known| *known == method) {
            Some(index) => &self.by_method[index],
            None => &self.other_methods,
        };
        counter.load(Ordering::Relaxed)
    }

    /// An answer to a request for `method` went out with `status` (and `code` if it failed).
    fn answered(&self, method: &str, status: StatusCode, code: Option<TwirpCode>) {
        let method = COUNTED_METHODS
            .iter()
            .find(|known| **known == method)
            .copied()
            .unwrap_or_default();
        let status = match status.as_u16() {
            400..=499 => "4xx".to_owned(),
            500..=599 => "5xx".to_owned(),
            other => other.to_string(),
        };
        let key = TwirpStatus {
            method,
            status,
            code: code.map_or("", TwirpCode::as_str),
        };
        *self
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
    }

    fn received(&self, method: &str) {
        match COUNTED_METHODS.iter().position(|known| *known == method) {
            Some(index) => Self::bump(&self.by_method[index]),
            None => Self::bump(&self.other_methods),
        }
    }
}

/// State shared by the listener, every connection and the control API.
pub(crate) struct Shared {
    /// Behind a lock so a secret can be rotated while clients are connected.
    keys: RwLock<ApiKeys>,
    pub store: Arc<Mutex<RoomStore>>,
    pub clock: SimClock,
    pub counts: RequestCounts,
    faults: Mutex<(Faults, u64)>,
    fault_rng: Mutex<ChaCha8Rng>,
    desired: watch::Sender<ListenerState>,
    actual: watch::Sender<ListenerState>,
    /// Told after a restart that lost the rooms, so the simulation can set its rooms up again.
    pub state_lost: tokio::sync::Notify,
    pub shutdown: CancellationToken,
    /// Every disruption's beginning and end.
    pub(super) notices: broadcast::Sender<DisruptionNotice>,
    pub(super) under_way: Mutex<UnderWay>,
    next_disruption: AtomicU64,
    /// Set when the sandbox sends webhooks.
    pub(crate) webhooks: std::sync::OnceLock<Arc<WebhookCounts>>,
    /// The simulated media of the rooms, for `/metrics` and the node registry.
    pub(crate) media: Mutex<LiveMedia>,
    /// The sandbox as a livekit-server node.
    pub(crate) node: NodeIdentity,
    /// Where `/metrics` is served, once it is.
    pub(crate) metrics_addr: std::sync::OnceLock<SocketAddr>,
}

impl Shared {
    #[must_use]
    pub(crate) fn new(
        keys: ApiKeys,
        store: RoomStore,
        clock: SimClock,
        seed: u64,
        node: NodeIdentity,
    ) -> Self {
        Self {
            keys: RwLock::new(keys),
            store: Arc::new(Mutex::new(store)),
            clock,
            counts: RequestCounts::default(),
            faults: Mutex::new((Faults::default(), 0)),
            // Its own stream, so faults do not shift the simulation's random choices.
            fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_fa17)),
            desired: watch::Sender::new(ListenerState::Up),
            actual: watch::Sender::new(ListenerState::Down),
            state_lost: tokio::sync::Notify::new(),
            shutdown: CancellationToken::new(),
            notices: broadcast::Sender::new(NOTICE_CAPACITY),
            under_way: Mutex::new(UnderWay::default()),
            next_disruption: AtomicU64::new(1),
            webhooks: std::sync::OnceLock::new(),
            media: Mutex::new(LiveMedia::new(seed)),
            node,
            metrics_addr: std::sync::OnceLock::new(),
        }
    }

    /// Sets the node's state; the registry writes it at once.
    pub(crate) fn set_node_state(&self, state: livekit_protocol::NodeState) {
        self.node.state.send_replace(state);
    }

    pub(super) fn next_disruption_id(&self) -> u64 {
        self.next_disruption.fetch_add(1, Ordering::Relaxed)
    }

    /// Notices of every disruption from now on.
    #[must_use]
    pub(crate) fn subscribe_notices(&self) -> broadcast::Receiver<DisruptionNotice> {
        self.notices.subscribe()
    }

    /// Verifies a request's `Authorization` header against the current keys and the
    /// sandbox's wall clock.
    ///
    /// # Errors
    /// `unauthenticated` with the reason, as [`ApiKeys::verify`].
    pub(crate) fn verify(&self, authorization: Option<&str>) -> Result<Claims, TwirpError> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .verify_at(authorization, self.wall_clock())
    }

    /// The server's idea of the time: the machine's, set off by the `clock_offset_secs` fault.
    #[must_use]
    pub(crate) fn wall_clock(&self) -> SystemTime {
        let offset = self.faults().clock_offset_secs;
        let by = Duration::from_secs(offset.unsigned_abs());
        let now = SystemTime::now();
        if offset < 0 {
            now.checked_sub(by).unwrap_or(UNIX_EPOCH)
        } else {
            now.checked_add(by).unwrap_or(now)
        }
    }

    /// Adds an API key or replaces its secret; requests signed with the old secret are
    /// refused from the next one on, as after a secret rotation on a real server.
    pub(crate) fn set_api_secret(&self, key: &str, secret: SecretString) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, secret);
    }

    #[must_use]
    pub(crate) fn faults(&self) -> Faults {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).0
    }

    /// Sets the faults as those of disruption `id`, so a timed revert only clears its own.
    pub(super) fn set_faults(&self, faults: Faults, id: u64) {
        let mut current = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        *current = (faults, id);
    }

    pub(super) fn clear_faults_of(&self, generation: u64) {
        let mut current = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        if current.1 == generation {
            current.0 = Faults::default();
        }
    }

    #[must_use]
    pub(crate) fn listener_state(&self) -> ListenerState {
        *self.actual.borrow()
    }

    /// Waits for the first bind to be announced by the listener task.
    pub(crate) async fn listener_reached_up(&self) {
        self.listener_reached(ListenerState::Up).await;
    }

    pub(super) fn want_listener(&self, state: ListenerState) {
        self.desired.send_replace(state);
    }

    /// Waits until the listener is in `state` (or the sandbox shuts down).
    pub(super) async fn listener_reached(&self, state: ListenerState) {
        let mut actual = self.actual.subscribe();
        tokio::select! {
            _ = wanted(&mut actual, state) => {}
            () = self.shutdown.cancelled() => {}
        }
    }
}

/// Accepts connections while the listener is wanted up, within `limits`; closes it and every
/// open connection when it is wanted down, and binds the same address again when it is wanted
/// up.
pub(crate) async fn run_listener(
    shared: Arc<Shared>,
    first: TcpListener,
    addr: SocketAddr,
    limits: ListenerLimits,
    tasks: TaskTracker,
) {
    let mut listener = Some(first);
    let mut desired = shared.desired.subscribe();
    let cap = Arc::new(ConnectionCap::new("sandbox", limits.max_connections));
    loop {
        let current = if let Some(listener) = listener.take() {
            listener
        } else {
            tokio::select! {
                _ = wanted(&mut desired, ListenerState::Up) => {}
                () = shared.shutdown.cancelled() => return,
            }
            match bind_again(addr, &shared.shutdown).await {
                Some(listener) => listener,
                None => return,
            }
        };
        shared.actual.send_replace(ListenerState::Up);
        let generation = shared.shutdown.child_token();
        let handler = {
            let shared = Arc::clone(&shared);
            let tasks = tasks.clone();
            move |request| {
                let shared = Arc::clone(&shared);
                let tasks = tasks.clone();
                async move {
                    let mut response = route(Arc::clone(&shared), request, &tasks).await;
                    // hyper would write the machine's time; a server's `Date` is its own clock's.
                    if let Ok(date) =
                        header::HeaderValue::from_str(&httpdate::fmt_http_date(shared.wall_clock()))
                    {
                        response.headers_mut().insert(header::DATE, date);
                    }
                    response
                }
            }
        };
        tokio::select! {
            () = accept_until(&current, &cap, limits, handler, generation.clone(), &tasks) => {}
            _ = wanted(&mut desired, ListenerState::Down) => {}
        }
        // Every connection of this generation closes at once: what a dying server does.
        generation.cancel();
        drop(current);
        shared.actual.send_replace(ListenerState::Down);
        if shared.shutdown.is_cancelled() {
            return;
        }
    }
}

/// Waits for `state`; `false` when the sender is gone. The watch guard is dropped inside, so
/// the future stays `Send`.
async fn wanted(receiver: &mut watch::Receiver<ListenerState>, state: ListenerState) -> bool {
    receiver.wait_for(|current| *current == state).await.is_ok()
}

/// The port was ours a moment ago; another process may grab it, so retry briefly.
async fn bind_again(addr: SocketAddr, shutdown: &CancellationToken) -> Option<TcpListener> {
    let mut delay = Duration::from_millis(20);
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(err) => {
                tracing::warn!(%err, %addr, "sandbox could not bind again; retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.cancelled() => return None,
                }
                delay = (delay * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn route(
    shared: Arc<Shared>,
    request: Request<GuardedBody>,
    tasks: &TaskTracker,
) -> Response<Body> {
    if request.body().declared_over_limit() {
        let err = TwirpError::new(
            TwirpCode::Malformed,
            "the request body is over the sandbox's limit".to_owned(),
        );
        return too_large(&err);
    }
    let path = request.uri().path().to_owned();
    for (prefix, twirp_service) in TWIRP_SERVICES {
        if let Some(method) = path.strip_prefix(prefix) {
            let method = method.to_owned();
            return twirp(&shared, request, twirp_service, &method).await;
        }
    }
    if path.starts_with("/sandbox/") {
        return super::admin::handle(&shared, request, tasks).await;
    }
    if path == "/" && request.method() == Method::GET {
        return text(
            StatusCode::OK,
            "livekit-sandbox: LiveKit RoomService, Egress, Ingress and AgentDispatchService \
             under /twirp/livekit.*/\n",
        );
    }
    twirp_error(&TwirpError::new(
        TwirpCode::BadRoute,
        format!("no handler for path \"{path}\""),
    ))
}

async fn twirp(
    shared: &Arc<Shared>,
    request: Request<GuardedBody>,
    twirp_service: TwirpService,
    method: &str,
) -> Response<Body> {
    shared.counts.received(method);
    let (response, code) = answer_twirp(shared, request, twirp_service, method).await;
    shared.counts.answered(method, response.status(), code);
    response
}

/// The answer, and its Twirp error code when it is an error.
async fn answer_twirp(
    shared: &Arc<Shared>,
    request: Request<GuardedBody>,
    twirp_service: TwirpService,
    method: &str,
) -> (Response<Body>, Option<TwirpCode>) {
    let failed = |err: &TwirpError| (twirp_error(err), Some(err.code));
    let encoding = match twirp_encoding(&request) {
        Ok(encoding) => encoding,
        Err(err) => return failed(&err),
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err((response, err)) => return (response, Some(err.code)),
    };
    let fate = match injected_fault(shared, method, encoding).await {
        ControlFlow::Continue(fate) => fate,
        ControlFlow::Break(answer) => return answer,
    };
    let answer = shared.verify(authorization.as_deref()).and_then(|claims| {
        twirp_service.handle(
            method,
            &Call {
                encoding,
                claims: &claims,
                body: &body,
                store: &shared.store,
                clock: &shared.clock,
            },
        )
    });
    match (answer, fate) {
        (Ok(bytes), Fate::Drop) => {
            RequestCounts::bump(&shared.counts.dropped);
            (cut_off(&bytes, encoding), None)
        }
        (Ok(bytes), _) => {
            RequestCounts::bump(&shared.counts.answered);
            (ok(encoding, bytes), None)
        }
        (Err(err), _) => {
            RequestCounts::bump(&shared.counts.failed);
            tracing::debug!(method, code = err.code.as_str(), msg = %err.msg, "sandbox refused a call");
            failed(&err)
        }
    }
}

/// The body's encoding, for a POST whose Content-Type is one Twirp speaks.
fn twirp_encoding(request: &Request<GuardedBody>) -> Result<Encoding, TwirpError> {
    if request.method() != Method::POST {
        return Err(TwirpError::new(
            TwirpCode::BadRoute,
            format!(
                "unsupported method {} (only POST is allowed)",
                request.method()
            ),
        ));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    Encoding::from_content_type(content_type).ok_or_else(|| {
        TwirpError::new(
            TwirpCode::BadRoute,
            format!("unexpected Content-Type: \"{content_type}\""),
        )
    })
}

/// What the faults injected into every request do to this one: after their added latency, it
/// hangs or fails here (the answer it then gets), or goes on to be answered or cut off.
async fn injected_fault(
    shared: &Arc<Shared>,
    method: &str,
    encoding: Encoding,
) -> ControlFlow<(Response<Body>, Option<TwirpCode>), Fate> {
    let (delay, fate) = {
        let faults = shared.faults();
        let mut rng = shared
            .fault_rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        faults.roll(&mut *rng)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match fate {
        Fate::Hang => {
            RequestCounts::bump(&shared.counts.hung);
            tokio::time::sleep(HANG_LIMIT).await;
            ControlFlow::Break((cut_off(&Bytes::new(), encoding), None))
        }
        Fate::Fail(code) => {
            RequestCounts::bump(&shared.counts.injected_errors);
            let err = TwirpError::new(
                code,
                format!("injected by the sandbox: {method} failed on purpose"),
            );
            ControlFlow::Break((twirp_error(&err), Some(code)))
        }
        Fate::Answer | Fate::Drop => ControlFlow::Continue(fate),
    }
}

async fn read_body(body: GuardedBody) -> Result<Bytes, (Response<Body>, TwirpError)> {
    guarded_listener::read_body(body).await.map_err(|err| {
        let twirp = TwirpError::new(
            TwirpCode::Malformed,
            format!("the request body could not be read: {err}"),
        );
        let response = match err {
            BodyError::TooLarge => too_large(&twirp),
            BodyError::Unreadable(_) => twirp_error(&twirp),
        };
        (response, twirp)
    })
}

/// `413` with a Twirp error: Twirp has no code for a body too large, so the status says it.
fn too_large(err: &TwirpError) -> Response<Body> {
    respond(
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json",
        Bytes::from(err.to_json()),
    )
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A 200 answer in the request's encoding. Exactly 200: the Python SDK treats any other 2xx
/// as an error.
pub(super) fn ok(encoding: Encoding, bytes: Bytes) -> Response<Body> {
    respond(StatusCode::OK, encoding.content_type(), bytes)
}

/// A Twirp error: `Content-Type: application/json` exactly (the Node SDK ignores the JSON
/// when a charset follows), `{"code","msg"}`, the status of the code.
pub(super) fn twirp_error(err: &TwirpError) -> Response<Body> {
    let status =
        StatusCode::from_u16(err.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(status, "application/json", Bytes::from(err.to_json()))
}

pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    respond(status, "application/json", Bytes::from(bytes))
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    respond(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(body.as_bytes()),
    )
}

fn respond(status: StatusCode, content_type: &'static str, bytes: Bytes) -> Response<Body> {
    let length = bytes.len();
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(length));
    response
}

/// A 200 whose body stops half way: the headers promise more bytes than ever come, then the
/// connection is closed, as when a server dies mid-answer.
fn cut_off(bytes: &Bytes, encoding: Encoding) -> Response<Body> {
    let promised = bytes.len().max(16);
    let sent = bytes.slice(..bytes.len() / 2);
    let frames: Vec<Result<Frame<Bytes>, io::Error>> = vec![
        Ok(Frame::data(sent)),
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "answer cut off by the sandbox",
        )),
    ];
    let body = StreamBody::new(tokio_stream::iter(frames)).boxed();
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(encoding.content_type()),
    );
    headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(promised));
    response
}

#[cfg(test)]
mod tests {
    use livekit_api::access_token::VideoGrants;

    use super::*;
    use crate::rooms::ServerLimits;

    #[test]
    fn every_listed_method_has_a_handler_and_others_are_bad_routes() {
        let listed: [(TwirpService, &[&str]); 4] = [
            (TwirpService::Room, &service::METHODS),
            (TwirpService::Egress, &crate::egress::service::METHODS),
            (TwirpService::Ingress, &crate::ingress::service::METHODS),
            (
                TwirpService::AgentDispatch,
                &crate::agents::service::METHODS,
            ),
        ];
        let store = Mutex::new(RoomStore::new(
            ServerLimits::default(),
            ChaCha8Rng::seed_from_u64(1),
        ));
        // Every grant, so that only routing can answer `bad_route`.
        let claims = Claims {
            video: VideoGrants {
                room_admin: true,
                room_create: true,
                room_list: true,
                room_record: true,
                ingress_admin: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let clock = SimClock::new(1.0);
        for (twirp_service, methods) in listed {
            let call = |method: &str| {
                twirp_service.handle(
                    method,
                    &Call {
                        encoding: Encoding::Json,
                        claims: &claims,
                        body: b"{}",
                        store: &store,
                        clock: &clock,
                    },
                )
            };
            for method in methods {
                if let Err(err) = call(method) {
                    assert_ne!(err.code, TwirpCode::BadRoute, "{twirp_service:?} {method}");
                }
            }
            assert_eq!(
                call("Nope").unwrap_err().code,
                TwirpCode::BadRoute,
                "{twirp_service:?}"
            );
        }
    }
}
