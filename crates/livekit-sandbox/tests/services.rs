//! The sandbox's EgressService, IngressService and AgentDispatchService against the official
//! Rust SDK (`livekit-api`'s `EgressClient`, `IngressClient`, `AgentDispatchClient`): every
//! method, the grants and livekit-server's errors, the state machines over simulated time,
//! the INGRESS, AGENT and SIP participants they bring, and the egress webhooks.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::agent_dispatch::AgentDispatchClient;
use livekit_api::services::egress::{
    EgressClient, EgressListFilter, EgressListOptions, EgressOutput, RoomCompositeOptions,
    TrackEgressOutput,
};
use livekit_api::services::ingress::{
    CreateIngressOptions, IngressClient, IngressListFilter, UpdateIngressOptions,
};
use livekit_api::services::room::{CreateRoomOptions, RoomClient};
use livekit_api::services::{ServerError, ServiceError};
use livekit_protocol as proto;
use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::{Sandbox, SandboxOptions};
use proto::participant_info::Kind;
use secrecy::SecretString;

const KEY: &str = "devkey";
const SECRET: &str = "services-secret-0123456789abcdef";
/// How long a test may take.
const BOUND: Duration = Duration::from_secs(30);
/// Simulated seconds per real second: the state machines' seconds pass in milliseconds.
const SPEED: f64 = 40.0;

async fn sandbox_with(scenario: Scenario, webhook: Option<SocketAddr>) -> Sandbox {
    let secret = SecretString::from(SECRET);
    let mut options = SandboxOptions::new(KEY, &secret).with_scenario(scenario);
    options.speed = Some(SPEED);
    if let Some(addr) = webhook {
        options = options.with_webhooks(vec![format!("http://{addr}/")], KEY, &secret);
    }
    Sandbox::start(options)
        .await
        .expect("the sandbox starts on loopback")
}

/// The SDK's clients of one sandbox, all with the same credentials.
struct Clients {
    rooms: RoomClient,
    egress: EgressClient,
    ingress: IngressClient,
    dispatch: AgentDispatchClient,
}

impl Clients {
    /// Signed with the sandbox's key and secret, as an application's are: every grant.
    fn of(sandbox: &Sandbox) -> Self {
        let url = sandbox.url();
        Self {
            rooms: RoomClient::with_api_key(&url, KEY, SECRET).with_failover(false),
            egress: EgressClient::with_api_key(&url, KEY, SECRET).with_failover(false),
            ingress: IngressClient::with_api_key(&url, KEY, SECRET).with_failover(false),
            dispatch: AgentDispatchClient::with_api_key(&url, KEY, SECRET).with_failover(false),
        }
    }

    /// With a token of `grants` only: what a client lacking one of them is told.
    fn with_grants(sandbox: &Sandbox, grants: VideoGrants) -> Self {
        let url = sandbox.url();
        let token = AccessToken::with_api_key(KEY, SECRET)
            .with_grants(grants)
            .to_jwt()
            .expect("a token signs");
        Self {
            rooms: RoomClient::with_token(&url, &token).with_failover(false),
            egress: EgressClient::with_token(&url, &token).with_failover(false),
            ingress: IngressClient::with_token(&url, &token).with_failover(false),
            dispatch: AgentDispatchClient::with_token(&url, &token).with_failover(false),
        }
    }
}

/// Runs `test` against a sandbox playing `scenario` (and sending its webhooks to `webhook`),
/// then shuts the sandbox down. Bounded: a hang is a failure, not a stuck CI run.
async fn run_in_sandbox_with(
    scenario: Scenario,
    webhook: Option<SocketAddr>,
    test: impl AsyncFnOnce(&Sandbox, &Clients),
) {
    let run = async {
        let sandbox = sandbox_with(scenario, webhook).await;
        test(&sandbox, &Clients::of(&sandbox)).await;
        sandbox.shutdown().await;
    };
    tokio::time::timeout(BOUND, Box::pin(run))
        .await
        .expect("the test finishes in time");
}

/// Runs `test` against a sandbox without a scenario or webhooks.
async fn run_in_sandbox(test: impl AsyncFnOnce(&Sandbox, &Clients)) {
    run_in_sandbox_with(Scenario::empty(), None, test).await;
}

/// The code and message of a Twirp error.
fn twirp(err: &ServiceError) -> (&str, &str) {
    match err {
        ServiceError::Twirp(ServerError::Twirp(code)) => (code.code.as_str(), code.msg.as_str()),
        other => panic!("not a Twirp error: {other:?}"),
    }
}

/// Asserts that a call failed with the Twirp error `code` and `msg`.
#[track_caller]
fn assert_twirp_error<T: Debug>(result: Result<T, ServiceError>, code: &str, msg: &str) {
    let err = result.expect_err("the call fails");
    assert_eq!(twirp(&err), (code, msg));
}

/// Asserts that a call was refused for a missing grant, in livekit-server's words.
#[track_caller]
fn assert_denied<T: Debug>(result: Result<T, ServiceError>) {
    assert_twirp_error(result, "unauthenticated", "permissions denied");
}

/// Asks `check` every few milliseconds until it gives a value.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..1_000 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never happened");
}

async fn one_egress(client: &EgressClient, egress_id: &str) -> proto::EgressInfo {
    let options = EgressListOptions {
        filter: EgressListFilter::Egress(egress_id.to_owned()),
        ..EgressListOptions::default()
    };
    let mut items = client
        .list_egress(options)
        .await
        .expect("ListEgress answers");
    assert_eq!(items.len(), 1);
    items.remove(0)
}

async fn status_reached(
    client: &EgressClient,
    egress_id: &str,
    status: proto::EgressStatus,
) -> proto::EgressInfo {
    eventually(status.as_str_name(), async || {
        let info = one_egress(client, egress_id).await;
        (info.status == status as i32).then_some(info)
    })
    .await
}

/// A recording of the new room `room` to the file `path`, once it is active.
async fn active_recording(clients: &Clients, room: &str, path: &str) -> proto::EgressInfo {
    clients
        .rooms
        .create_room(room, CreateRoomOptions::default())
        .await
        .unwrap();
    let info = clients
        .egress
        .start_room_composite_egress(
            room,
            vec![file_output(path)],
            RoomCompositeOptions::default(),
        )
        .await
        .unwrap();
    status_reached(
        &clients.egress,
        &info.egress_id,
        proto::EgressStatus::EgressActive,
    )
    .await
}

fn file_output(path: &str) -> EgressOutput {
    EgressOutput::File(proto::EncodedFileOutput {
        filepath: path.to_owned(),
        ..proto::EncodedFileOutput::default()
    })
}

fn stream_output(url: &str) -> EgressOutput {
    EgressOutput::Stream(proto::StreamOutput {
        protocol: proto::StreamProtocol::Rtmp as i32,
        urls: vec![url.to_owned()],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_goes_from_starting_to_complete_and_refuses_what_livekit_server_refuses() {
    run_in_sandbox(async |_, clients| {
        let room = clients
            .rooms
            .create_room("standup", CreateRoomOptions::default())
            .await
            .unwrap();
        let client = &clients.egress;
        let info = client
            .start_room_composite_egress(
                "standup",
                vec![
                    file_output("recordings/{room_name}.mp4"),
                    stream_output("rtmp://live.example.com/app/secret-stream-key"),
                ],
                RoomCompositeOptions {
                    layout: "grid".into(),
                    ..RoomCompositeOptions::default()
                },
            )
            .await
            .unwrap();
        assert!(info.egress_id.starts_with("EG_"), "{}", info.egress_id);
        assert_eq!(info.status, proto::EgressStatus::EgressStarting as i32);
        assert_eq!(
            (info.room_id.as_str(), info.room_name.as_str()),
            (room.sid.as_str(), "standup")
        );
        assert_eq!(info.source_type, proto::EgressSourceType::Web as i32);
        assert_eq!(info.file_results[0].filename, "recordings/standup.mp4");
        // livekit/protocol's RedactStreamKey: the first and last three characters.
        assert_eq!(
            info.stream_results[0].url,
            "rtmp://live.example.com/app/{sec...key}"
        );
        assert!(matches!(
            info.request,
            Some(proto::egress_info::Request::RoomComposite(_))
        ));

        let active =
            status_reached(client, &info.egress_id, proto::EgressStatus::EgressActive).await;
        assert!(active.started_at > 0);
        let laid_out = client
            .update_layout(&info.egress_id, "speaker")
            .await
            .unwrap();
        let Some(proto::egress_info::Request::RoomComposite(request)) = laid_out.request else {
            panic!("a room composite request");
        };
        assert_eq!(request.layout, "speaker");
        let by_room = EgressListOptions {
            filter: EgressListFilter::Room("standup".into()),
            active: true,
            ..EgressListOptions::default()
        };
        assert_eq!(client.list_egress(by_room.clone()).await.unwrap().len(), 1);

        let stopped = client.stop_egress(&info.egress_id).await.unwrap();
        assert_eq!(stopped.status, proto::EgressStatus::EgressEnding as i32);
        assert_twirp_error(
            client.stop_egress(&info.egress_id).await,
            "failed_precondition",
            "egress with status EGRESS_ENDING cannot be stopped",
        );
        let complete =
            status_reached(client, &info.egress_id, proto::EgressStatus::EgressComplete).await;
        assert!(complete.ended_at > complete.started_at);
        assert!(complete.file_results[0].size > 0 && complete.file_results[0].duration > 0);
        assert_eq!(
            complete.stream_results[0].status,
            proto::stream_info::Status::Finished as i32
        );
        let ended = client.stop_egress(&info.egress_id).await.unwrap_err();
        assert_eq!(
            twirp(&ended).1,
            "egress with status EGRESS_COMPLETE cannot be stopped"
        );
        assert!(
            client.list_egress(by_room).await.unwrap().is_empty(),
            "no longer active"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_publishes_as_an_ingress_participant_until_it_is_deleted() {
    run_in_sandbox(async |_, clients| {
        let client = &clients.ingress;
        let info = client
            .create_ingress(
                proto::IngressInput::RtmpInput,
                CreateIngressOptions {
                    name: "stage camera".into(),
                    room_name: "stage".into(),
                    participant_identity: "stage-cam".into(),
                    participant_name: "Stage camera".into(),
                    ..CreateIngressOptions::default()
                },
            )
            .await
            .unwrap();
        assert!(info.ingress_id.starts_with("IN_"));
        assert_eq!(info.stream_key.len(), 12);
        assert_eq!(info.url, "rtmp://127.0.0.1:1935/x");
        assert!(info.reusable);
        let inactive = proto::ingress_state::Status::EndpointInactive as i32;
        assert_eq!(info.state.as_ref().map(|s| s.status), Some(inactive));

        let publishing = eventually("ENDPOINT_PUBLISHING", async || {
            let items = client
                .list_ingress(IngressListFilter::IngressId(info.ingress_id.clone()))
                .await
                .unwrap();
            let state = items[0].state.clone()?;
            (state.status == proto::ingress_state::Status::EndpointPublishing as i32)
                .then_some(state)
        })
        .await;
        assert_eq!(publishing.tracks.len(), 2);
        let participants = clients.rooms.list_participants("stage").await.unwrap();
        let camera = participants
            .iter()
            .find(|p| p.identity == "stage-cam")
            .expect("the ingress joined");
        assert_eq!(camera.kind, Kind::Ingress as i32);
        let mut mimes: Vec<&str> = camera.tracks.iter().map(|t| t.mime_type.as_str()).collect();
        mimes.sort_unstable();
        assert_eq!(mimes, ["audio/opus", "video/H264"]);

        let by_room = client
            .list_ingress(IngressListFilter::Room("stage".into()))
            .await
            .unwrap();
        assert_eq!(by_room.len(), 1);
        assert!(
            client
                .list_ingress(IngressListFilter::Room("other".into()))
                .await
                .unwrap()
                .is_empty()
        );
        let renamed = client
            .update_ingress(
                &info.ingress_id,
                UpdateIngressOptions {
                    name: "main stage".into(),
                    ..UpdateIngressOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "main stage");

        let deleted = client.delete_ingress(&info.ingress_id).await.unwrap();
        assert_eq!(deleted.state.map(|s| s.status), Some(inactive));
        let left = clients.rooms.list_participants("stage").await.unwrap();
        assert!(
            left.iter().all(|p| p.identity != "stage-cam"),
            "the ingress left"
        );
        assert_twirp_error(
            client.delete_ingress(&info.ingress_id).await,
            "not_found",
            "ingress does not exist",
        );
        let listed = client
            .list_ingress(IngressListFilter::IngressId("IN_missing".into()))
            .await
            .unwrap_err();
        assert_eq!(twirp(&listed).0, "not_found");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_refuses_a_missing_id_a_missing_room_and_a_missing_grant() {
    run_in_sandbox(async |sandbox, clients| {
        clients
            .rooms
            .create_room("standup", CreateRoomOptions::default())
            .await
            .unwrap();
        let client = &clients.egress;
        assert_twirp_error(
            client.stop_egress("EG_missing").await,
            "not_found",
            "egress does not exist",
        );
        let no_room = client
            .start_room_composite_egress(
                "nowhere",
                vec![file_output("x.mp4")],
                RoomCompositeOptions::default(),
            )
            .await;
        assert_twirp_error(no_room, "not_found", "requested room does not exist");
        let track = client
            .start_track_egress(
                "standup",
                TrackEgressOutput::WebSocket("wss://sink/ws".into()),
                "TR_x",
            )
            .await
            .unwrap();
        assert_eq!(track.source_type, proto::EgressSourceType::Sdk as i32);

        let without_record = Clients::with_grants(
            sandbox,
            VideoGrants {
                room_admin: true,
                room_list: true,
                room_create: true,
                ingress_admin: true,
                ..VideoGrants::default()
            },
        );
        assert_denied(
            without_record
                .egress
                .list_egress(EgressListOptions::default())
                .await,
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_refuses_a_missing_identity_and_a_missing_grant() {
    run_in_sandbox(async |sandbox, clients| {
        let client = &clients.ingress;
        let nameless = client
            .create_ingress(
                proto::IngressInput::WhipInput,
                CreateIngressOptions::default(),
            )
            .await;
        assert_twirp_error(nameless, "invalid_argument", "no participant identity");

        let without_ingress_admin = Clients::with_grants(
            sandbox,
            VideoGrants {
                room_admin: true,
                room_record: true,
                ..VideoGrants::default()
            },
        );
        assert_denied(
            without_ingress_admin
                .ingress
                .list_ingress(IngressListFilter::All)
                .await,
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_brings_an_agent_and_deleting_it_takes_the_agent_away() {
    run_in_sandbox(async |sandbox, clients| {
        let client = &clients.dispatch;
        let created = client
            .create_dispatch(proto::CreateAgentDispatchRequest {
                agent_name: "support-bot".into(),
                room: "help".into(),
                metadata: r#"{"lang":"en"}"#.into(),
                ..proto::CreateAgentDispatchRequest::default()
            })
            .await
            .unwrap();
        assert!(created.id.starts_with("AD_"));
        let agent = eventually("the agent joining", async || {
            let participants = clients.rooms.list_participants("help").await.ok()?;
            participants
                .into_iter()
                .find(|p| p.kind == Kind::Agent as i32)
        })
        .await;
        assert!(
            agent.identity.starts_with("agent-AJ_"),
            "{}",
            agent.identity
        );
        assert_eq!(
            agent.attributes.get("lk.agent.state").map(String::as_str),
            Some("listening")
        );
        assert_eq!(agent.tracks[0].mime_type, "audio/opus");

        let listed = client.list_dispatch("help").await.unwrap();
        let jobs = &listed[0].state.as_ref().expect("a dispatch state").jobs;
        let job_state = jobs[0].state.as_ref().expect("a job state");
        assert_eq!(job_state.participant_identity, agent.identity);
        assert_eq!(job_state.status, proto::JobStatus::JsRunning as i32);
        assert!(
            client
                .get_dispatch(&created.id, "help")
                .await
                .unwrap()
                .is_some()
        );

        client.delete_dispatch(&created.id, "help").await.unwrap();
        let after = clients.rooms.list_participants("help").await.unwrap();
        assert!(
            after.iter().all(|p| p.kind != Kind::Agent as i32),
            "the agent left"
        );
        assert_twirp_error(
            client.delete_dispatch(&created.id, "help").await,
            "not_found",
            "dispatch ID not found",
        );

        // roomAdmin of another room is not enough.
        let other_room = Clients::with_grants(
            sandbox,
            VideoGrants {
                room_admin: true,
                room: "elsewhere".into(),
                ..VideoGrants::default()
            },
        );
        assert_denied(other_room.dispatch.list_dispatch("help").await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_room_ends_its_egress_and_its_dispatches() {
    run_in_sandbox(async |_, clients| {
        let room_client = &clients.rooms;
        let client = &clients.egress;
        let info = active_recording(clients, "review", "").await;
        let listed = room_client.list_rooms(vec!["review".into()]).await.unwrap();
        assert!(listed[0].active_recording, "the room shows it is recorded");
        clients
            .dispatch
            .create_dispatch(proto::CreateAgentDispatchRequest {
                agent_name: "notes".into(),
                room: "review".into(),
                ..proto::CreateAgentDispatchRequest::default()
            })
            .await
            .unwrap();

        room_client.delete_room("review").await.unwrap();
        let complete =
            status_reached(client, &info.egress_id, proto::EgressStatus::EgressComplete).await;
        assert_eq!(complete.details, "End reason: Source closed");
        let gone = clients.dispatch.list_dispatch("review").await.unwrap_err();
        assert_eq!(twirp(&gone).0, "not_found");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_brings_callers_agents_an_ingress_and_a_failing_recording() {
    let scenario = Scenario::from_yaml(
            "rooms:\n\
             \x20 - name: lobby\n\
             \x20   participants: { initial: 2, min: 2, max: 4 }\n\
             egress:\n\
             \x20 - { room: lobby, at: 0, stream: 'rtmp://live.example.com/app/lobby-key', fail_after: 5s, error: encoder crashed }\n\
             agents:\n\
             \x20 - { agent_name: greeter, room: lobby }\n\
             sip_callers:\n\
             \x20 - { room: lobby, call_rate: 600, max: 1, call_length: { min: 10m, max: 10m } }\n\
             ingress:\n\
             \x20 - { name: lobby camera, room: lobby, identity: lobby-cam, at: 0, duration: 10m }\n",
            "services.yaml",
        )
        .unwrap_or_else(|err| panic!("{err}"));
    run_in_sandbox_with(scenario, None, async |_, clients| {
        let participants = eventually(
            "an agent, a caller and an ingress in the lobby",
            async || {
                let participants = clients.rooms.list_participants("lobby").await.ok()?;
                let kinds: Vec<i32> = participants.iter().map(|p| p.kind).collect();
                [Kind::Agent, Kind::Sip, Kind::Ingress, Kind::Standard]
                    .iter()
                    .all(|kind| kinds.contains(&(*kind as i32)))
                    .then_some(participants)
            },
        )
        .await;
        let caller = participants
            .iter()
            .find(|p| p.kind == Kind::Sip as i32)
            .unwrap();
        assert!(caller.identity.starts_with("sip_+1"), "{}", caller.identity);
        let attribute = |key: &str| caller.attributes.get(key).map(String::as_str);
        assert_eq!(attribute("sip.trunkPhoneNumber"), Some("+15105550100"));
        assert_eq!(attribute("sip.callStatus"), Some("active"));
        assert!(attribute("sip.callID").is_some_and(|id| id.starts_with("SCL_")));
        assert_eq!(
            attribute("sip.phoneNumber"),
            Some(&caller.identity["sip_".len()..])
        );

        let failed = eventually("the recording failing", async || {
            let items = clients
                .egress
                .list_egress(EgressListOptions::default())
                .await
                .ok()?;
            items
                .into_iter()
                .find(|i| i.status == proto::EgressStatus::EgressFailed as i32)
        })
        .await;
        assert_eq!(
            (failed.error.as_str(), failed.error_code),
            ("encoder crashed", 500)
        );
        assert_eq!(
            failed.stream_results[0].status,
            proto::stream_info::Status::Failed as i32
        );
    })
    .await;
}

/// Webhook bodies received, in order.
type Received = Arc<Mutex<Vec<proto::WebhookEvent>>>;

/// A webhook receiver on loopback that keeps every event it is sent.
async fn webhook_receiver() -> (SocketAddr, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Received::default();
    let keep = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = Arc::clone(&keep);
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let keep = Arc::clone(&keep);
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        if let Ok(event) = serde_json::from_slice::<proto::WebhookEvent>(&body) {
                            keep.lock().unwrap().push(event);
                        }
                        Ok::<_, hyper::Error>(hyper::Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_webhooks_go_out_when_it_starts_changes_and_ends() {
    use proto::EgressStatus as S;

    let (addr, received) = webhook_receiver().await;
    run_in_sandbox_with(Scenario::empty(), Some(addr), async |_, clients| {
        let client = &clients.egress;
        let info = active_recording(clients, "webinar", "w.mp4").await;
        client.stop_egress(&info.egress_id).await.unwrap();
        let statuses = eventually("egress_ended", async || {
            let events = received.lock().unwrap().clone();
            let ours: Vec<(String, i32)> = events
                .iter()
                .filter_map(|e| {
                    let egress = e.egress_info.as_ref()?;
                    (egress.egress_id == info.egress_id).then(|| (e.event.clone(), egress.status))
                })
                .collect();
            ours.iter()
                .any(|(event, _)| event == "egress_ended")
                .then_some(ours)
        })
        .await;
        let expected: Vec<(String, i32)> = [
            ("egress_started", S::EgressStarting),
            ("egress_updated", S::EgressActive),
            ("egress_updated", S::EgressEnding),
            ("egress_ended", S::EgressComplete),
        ]
        .iter()
        .map(|(event, status)| ((*event).to_owned(), *status as i32))
        .collect();
        assert_eq!(statuses, expected);
        let by_kind: HashMap<String, usize> =
            received
                .lock()
                .unwrap()
                .iter()
                .fold(HashMap::new(), |mut counts, e| {
                    *counts.entry(e.event.clone()).or_default() += 1;
                    counts
                });
        assert_eq!(by_kind.get("room_started"), Some(&1));
    })
    .await;
}
