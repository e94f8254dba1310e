//! `/sandbox/...`: run-time control of the sandbox, off the Twirp path, for tests, demos and
//! scripts. Every request needs a token signed with one of the sandbox's API keys (any grants).
//!
//! | request | effect |
//! |---|---|
//! | `GET /sandbox/status` | rooms, participants, faults, listener, request counts, metrics address, node |
//! | `GET /sandbox/faults` | the request faults now in force |
//! | `PUT /sandbox/faults` | sets them (JSON of `Faults`) |
//! | `DELETE /sandbox/faults` | clears them |
//! | `POST /sandbox/disruptions` | applies a `Disruption` (`{"kind":"restart","keep_state":true}`, `{"kind":"drain"}`) |
//! | `POST /sandbox/rooms/{room}/participants` | a simulated participant joins (JSON `JoinRequest`) |
//! | `DELETE /sandbox/rooms/{room}/participants/{identity}` | that participant leaves |

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use guarded_listener::GuardedBody;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use livekit_protocol as proto;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::task::TaskTracker;

use super::disruptions::DisruptionOrigin;
use super::faults::{Disruption, Faults};
use super::rooms::TrackSpec;
use super::server::{Body, COUNTED_METHODS, ListenerState, Shared, json, twirp_error};
use super::twirp_error::{TwirpCode, TwirpError};
use super::webhooks::WebhookTally;

const MAX_ADMIN_BODY: usize = 64 * 1024;

/// A simulated participant to add.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JoinRequest {
    pub identity: String,
    pub name: String,
    pub tracks: Vec<TrackRequest>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    /// `audio`, `video` or `data`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `microphone`, `camera`, `screen_share`, `screen_share_audio` or `unknown`.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub muted: bool,
}

impl TrackRequest {
    /// # Errors
    /// An unknown type or source, naming the allowed ones.
    pub(crate) fn to_spec(&self) -> Result<TrackSpec, TwirpError> {
        let kind =
            proto::TrackType::from_str_name(&self.kind.to_ascii_uppercase()).ok_or_else(|| {
                TwirpError::invalid(format!(
                    "track type `{}` is unknown; use audio, video or data",
                    self.kind
                ))
            })?;
        let source = match &self.source {
            Some(source) => proto::TrackSource::from_str_name(&source.to_ascii_uppercase())
                .ok_or_else(|| {
                    TwirpError::invalid(format!(
                        "track source `{source}` is unknown; use microphone, camera, \
                         screen_share, screen_share_audio or unknown"
                    ))
                })?,
            None => match kind {
                proto::TrackType::Audio => proto::TrackSource::Microphone,
                proto::TrackType::Video => proto::TrackSource::Camera,
                proto::TrackType::Data => proto::TrackSource::Unknown,
            },
        };
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| source.as_str_name().to_ascii_lowercase());
        Ok(TrackSpec {
            kind,
            source,
            name,
            muted: self.muted,
            mime_type: String::new(),
            simulcast: source == proto::TrackSource::Camera,
            encrypted: false,
        })
    }
}

#[derive(Serialize)]
struct Status {
    listener: ListenerState,
    rooms: usize,
    participants: usize,
    faults: Faults,
    clock_speed: f64,
    simulated_seconds: f64,
    requests: Counts,
    /// What became of the webhooks, when the sandbox sends them.
    #[serde(skip_serializing_if = "Option::is_none")]
    webhooks: Option<WebhookTally>,
    /// Where `/metrics` is served (`127.0.0.1:9100`), when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<String>,
    node: NodeStatus,
}

/// The sandbox as a livekit-server node.
#[derive(Serialize)]
struct NodeStatus {
    id: String,
    region: String,
    /// `SERVING` or `SHUTTING_DOWN`.
    state: &'static str,
}

#[derive(Serialize)]
struct Counts {
    answered: u64,
    failed: u64,
    injected_errors: u64,
    hung: u64,
    dropped: u64,
    /// Every Twirp request received, by RoomService method (`other` for the rest), whatever
    /// became of it.
    by_method: BTreeMap<&'static str, u64>,
}

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    request: Request<GuardedBody>,
    tasks: &TaskTracker,
) -> Response<Body> {
    match serve(shared, request, tasks).await {
        Ok(response) => response,
        Err(err) => twirp_error(&err),
    }
}

async fn serve(
    shared: &Arc<Shared>,
    request: Request<GuardedBody>,
    tasks: &TaskTracker,
) -> Result<Response<Body>, TwirpError> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    shared.verify(authorization)?;

    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let segments: Vec<String> = path
        .trim_start_matches("/sandbox/")
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    match (&method, segments.as_slice()) {
        (&Method::GET, ["status"]) => Ok(json(StatusCode::OK, &status(shared))),
        (&Method::GET, ["faults"]) => Ok(json(StatusCode::OK, &shared.faults())),
        (&Method::PUT, ["faults"]) => {
            let faults: Faults = read_json(request).await?;
            apply(
                shared,
                tasks,
                Disruption::Faults {
                    faults,
                    duration: None,
                },
            )
            .await?;
            Ok(json(StatusCode::OK, &shared.faults()))
        }
        (&Method::DELETE, ["faults"]) => {
            apply(shared, tasks, Disruption::Clear).await?;
            Ok(json(StatusCode::OK, &shared.faults()))
        }
        (&Method::POST, ["disruptions"]) => {
            let disruption: Disruption = read_json(request).await?;
            // Answered before a listener-down takes the connection with it; the disruption
            // runs on the sandbox's own task.
            let (id, _) = shared.begin_disruption(disruption, DisruptionOrigin::Admin, None, tasks);
            Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "id": id })))
        }
        (&Method::POST, ["rooms", room, "participants"]) => {
            let join: JoinRequest = read_json(request).await?;
            let participant = join_room(shared, room, &join)?;
            Ok(super::server::ok(
                super::codec::Encoding::Json,
                super::codec::Encoding::Json.encode(&participant),
            ))
        }
        (&Method::DELETE, ["rooms", room, "participants", identity]) => {
            let now = shared.clock.now_ms();
            shared
                .store
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove_participant(
                    room,
                    identity,
                    proto::DisconnectReason::ClientInitiated,
                    now,
                )?;
            Ok(json(StatusCode::OK, &serde_json::json!({})))
        }
        _ => Err(TwirpError::new(
            TwirpCode::BadRoute,
            format!("no sandbox handler for {method} {path}"),
        )),
    }
}

/// Adds a simulated participant with its tracks.
///
/// # Errors
/// What the room refuses (full, duplicate identity), or a bad track description.
pub(crate) fn join_room(
    shared: &Shared,
    room: &str,
    join: &JoinRequest,
) -> Result<proto::ParticipantInfo, TwirpError> {
    let specs = join
        .tracks
        .iter()
        .map(TrackRequest::to_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let now = shared.clock.now_ms();
    let mut store = shared.store.lock().unwrap_or_else(PoisonError::into_inner);
    let name = if join.name.is_empty() {
        join.identity.clone()
    } else {
        join.name.clone()
    };
    store.join(room, &join.identity, &name, now)?;
    for spec in &specs {
        store.publish(room, &join.identity, spec)?;
    }
    store.get_participant(room, &join.identity)
}

async fn apply(
    shared: &Arc<Shared>,
    tasks: &TaskTracker,
    disruption: Disruption,
) -> Result<(), TwirpError> {
    shared
        .disrupt(disruption, tasks)
        .await
        .map(drop)
        .map_err(TwirpError::invalid)
}

fn status(shared: &Shared) -> Status {
    let (rooms, participants) = {
        let store = shared.store.lock().unwrap_or_else(PoisonError::into_inner);
        (store.room_count(), store.participant_count())
    };
    let load =
        |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
    Status {
        listener: shared.listener_state(),
        rooms,
        participants,
        faults: shared.faults(),
        clock_speed: shared.clock.speed(),
        simulated_seconds: shared.clock.elapsed().as_secs_f64(),
        requests: Counts {
            answered: load(&shared.counts.answered),
            failed: load(&shared.counts.failed),
            injected_errors: load(&shared.counts.injected_errors),
            hung: load(&shared.counts.hung),
            dropped: load(&shared.counts.dropped),
            by_method: COUNTED_METHODS
                .iter()
                .zip(&shared.counts.by_method)
                .map(|(method, count)| (*method, load(count)))
                .chain(std::iter::once((
                    "other",
                    load(&shared.counts.other_methods),
                )))
                .filter(|(_, count)| *count > 0)
                .collect(),
        },
        webhooks: shared.webhooks.get().map(|counts| counts.tally()),
        metrics: shared.metrics_addr.get().map(ToString::to_string),
        node: NodeStatus {
            id: shared.node.id.clone(),
            region: shared.node.region.clone(),
            state: shared.node.state().as_str_name(),
        },
    }
}

async fn read_json<T: DeserializeOwned>(request: Request<GuardedBody>) -> Result<T, TwirpError> {
    let bytes: Bytes = Limited::new(request.into_body(), MAX_ADMIN_BODY)
        .collect()
        .await
        .map_err(|err| TwirpError::new(TwirpCode::Malformed, format!("unreadable body: {err}")))?
        .to_bytes();
    let text = if bytes.is_empty() {
        &b"{}"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(text)
        .map_err(|err| TwirpError::new(TwirpCode::Malformed, format!("invalid JSON: {err}")))
}
