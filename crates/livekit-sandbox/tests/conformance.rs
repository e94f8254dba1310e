//! The sandbox against the official Rust SDK (`livekit-api`'s `RoomClient`) and raw HTTP: every
//! RoomService method, both encodings, auth answers, each kind of fault, the listener going
//! down and restarts, and the admin endpoint.

#[path = "support/http_client.rs"]
mod http_client;

use http_client::http_client;
use std::time::Duration;

use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::room::{
    CreateRoomOptions, RoomClient, SendDataOptions, UpdateParticipantOptions,
};
use livekit_api::services::{ServerError, ServiceError};
use livekit_protocol as proto;
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use livekit_sandbox::faults::Faults;
use livekit_sandbox::twirp_error::TwirpCode;
use livekit_sandbox::{Sandbox, SandboxOptions};
use secrecy::SecretString;

const KEY: &str = "devkey";
const SECRET: &str = "conformance-secret-0123456789abcdef";
/// Every test is bounded; a hang is a failure, not a stuck CI run. The tests' futures are
/// boxed: the SDK's futures are large.
const BOUND: Duration = Duration::from_secs(30);

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::new(KEY, &SecretString::from(SECRET)))
        .await
        .expect("the sandbox starts on loopback")
}

fn client(sandbox: &Sandbox) -> RoomClient {
    RoomClient::with_api_key(&sandbox.url(), KEY, SECRET)
        .with_failover(false)
        .with_request_timeout(Duration::from_secs(5))
}

fn twirp_code(err: &ServiceError) -> Option<&str> {
    match err {
        ServiceError::Twirp(ServerError::Twirp(code)) => Some(code.code.as_str()),
        _ => None,
    }
}

fn alice() -> JoinRequest {
    JoinRequest {
        identity: "alice".into(),
        name: "Alice".into(),
        tracks: vec![
            TrackRequest {
                kind: "audio".into(),
                source: Some("microphone".into()),
                name: Some("mic".into()),
                muted: false,
            },
            TrackRequest {
                kind: "video".into(),
                source: Some("camera".into()),
                name: Some("cam".into()),
                muted: false,
            },
        ],
    }
}

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(BOUND, test)
        .await
        .expect("the test finishes in time");
}

/// Runs `test` against a fresh sandbox, bounded, and shuts the sandbox down after it.
async fn with_sandbox(test: impl AsyncFnOnce(&Sandbox)) {
    bounded(Box::pin(async {
        let sandbox = sandbox().await;
        test(&sandbox).await;
        sandbox.shutdown().await;
    }))
    .await;
}

#[tokio::test]
async fn rooms_round_trip_through_the_official_rust_sdk() {
    with_sandbox(async |sandbox| {
        let rooms = client(sandbox);
        let created = rooms
            .create_room(
                "r1",
                CreateRoomOptions {
                    empty_timeout: 600,
                    max_participants: 20,
                    metadata: r#"{"a":1}"#.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(created.name, "r1");
        assert_eq!(created.empty_timeout, 600);
        assert_eq!(created.max_participants, 20);
        assert_eq!(created.metadata, r#"{"a":1}"#);
        assert_eq!(created.departure_timeout, 20, "server default");
        assert!(created.sid.starts_with("RM_"));
        assert!(created.creation_time > 1_600_000_000);

        let again = rooms
            .create_room("r1", CreateRoomOptions::default())
            .await
            .unwrap();
        assert_eq!(
            again.sid, created.sid,
            "create on an existing room returns it"
        );
        rooms
            .create_room("r2", CreateRoomOptions::default())
            .await
            .unwrap();

        let all = rooms.list_rooms(Vec::new()).await.unwrap();
        let mut names: Vec<_> = all.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["r1", "r2"]);
        let only = rooms.list_rooms(vec!["r1".into()]).await.unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].sid, created.sid);
        assert!(
            rooms
                .list_rooms(vec!["nope".into()])
                .await
                .unwrap()
                .is_empty()
        );

        let updated = rooms
            .update_room_metadata("r1", "new-metadata")
            .await
            .unwrap();
        assert_eq!(updated.metadata, "new-metadata");
        let listed = rooms.list_rooms(vec!["r1".into()]).await.unwrap();
        assert_eq!(
            listed[0].metadata, "new-metadata",
            "visible in a later list"
        );

        let err = rooms
            .update_room_metadata("missing", "x")
            .await
            .unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"));

        rooms.delete_room("r1").await.unwrap();
        let err = rooms.delete_room("r1").await.unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"), "delete again");
    })
    .await;
}

#[tokio::test]
async fn participants_round_trip_through_the_official_rust_sdk() {
    with_sandbox(async |sandbox| {
        let rooms = client(sandbox);
        rooms
            .create_room("r", CreateRoomOptions::default())
            .await
            .unwrap();
        let joined = sandbox.join("r", &alice()).unwrap();
        assert_eq!(joined.tracks.len(), 2);

        let participants = rooms.list_participants("r").await.unwrap();
        assert_eq!(participants.len(), 1);
        let listed = &participants[0];
        assert_eq!(listed.identity, "alice");
        let kinds: Vec<_> = listed
            .tracks
            .iter()
            .map(|t| (t.r#type(), t.source()))
            .collect();
        assert_eq!(
            kinds,
            [
                (proto::TrackType::Audio, proto::TrackSource::Microphone),
                (proto::TrackType::Video, proto::TrackSource::Camera)
            ]
        );
        let room = &rooms.list_rooms(vec!["r".into()]).await.unwrap()[0];
        assert_eq!((room.num_participants, room.num_publishers), (1, 1));

        let got = rooms.get_participant("r", "alice").await.unwrap();
        assert_eq!(got.sid, joined.sid);

        let audio_sid = joined.tracks[0].sid.clone();
        let muted = rooms
            .mute_published_track("r", "alice", &audio_sid, true)
            .await
            .unwrap();
        assert!(muted.muted);
        let got = rooms.get_participant("r", "alice").await.unwrap();
        assert!(
            got.tracks[0].muted && !got.tracks[1].muted,
            "per-track mute"
        );

        let updated = rooms
            .update_participant(
                "r",
                "alice",
                UpdateParticipantOptions {
                    metadata: "meta".into(),
                    name: "Alice B".into(),
                    attributes: [("role".to_owned(), "host".to_owned())].into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (updated.metadata.as_str(), updated.name.as_str()),
            ("meta", "Alice B")
        );
        assert_eq!(updated.attributes["role"], "host");

        rooms
            .update_subscriptions("r", "alice", vec![audio_sid.clone()], true)
            .await
            .unwrap();
        let err = rooms
            .update_subscriptions("r", "alice", vec!["TR_missing".into()], true)
            .await
            .unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"));

        rooms
            .send_data("r", b"hello".to_vec(), SendDataOptions::default())
            .await
            .unwrap();

        let err = rooms.get_participant("r", "bob").await.unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"));
        rooms.remove_participant("r", "alice").await.unwrap();
        let err = rooms.get_participant("r", "alice").await.unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"));
        let err = rooms.list_participants("missing").await.unwrap_err();
        assert_eq!(twirp_code(&err), Some("not_found"));
    })
    .await;
}

#[tokio::test]
async fn unimplemented_methods_say_why() {
    with_sandbox(async |sandbox| {
        let err = client(sandbox)
            .forward_participant("r", "alice", "other")
            .await
            .unwrap_err();
        assert_eq!(twirp_code(&err), Some("unimplemented"));
    })
    .await;
}

#[tokio::test]
async fn wrong_secrets_missing_grants_and_garbage_get_401() {
    with_sandbox(async |sandbox| {
        let wrong = RoomClient::with_api_key(&sandbox.url(), KEY, "not-the-secret-at-all")
            .with_failover(false);
        let err = wrong.list_rooms(Vec::new()).await.unwrap_err();
        assert_eq!(twirp_code(&err), Some("unauthenticated"));

        let http = http_client();
        let endpoint = format!("{}/twirp/livekit.RoomService/ListRooms", sandbox.url());
        let join_only = AccessToken::with_api_key(KEY, SECRET)
            .with_identity("someone")
            .with_grants(VideoGrants {
                room_join: true,
                room: "x".into(),
                ..Default::default()
            })
            .to_jwt()
            .unwrap();
        for authorization in [
            format!("Bearer {join_only}"),
            "Bearer garbage".to_owned(),
            "Basic Zm9vOmJhcg==".to_owned(),
        ] {
            let answer = http
                .post(&endpoint)
                .header("content-type", "application/json")
                .header("authorization", &authorization)
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 401, "{authorization}");
            assert_eq!(answer.headers()["content-type"], "application/json");
            let body: serde_json::Value = answer.json().await.unwrap();
            assert_eq!(body["code"], "unauthenticated");
        }
        let missing_grant = http
            .post(&endpoint)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {join_only}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = missing_grant.json().await.unwrap();
        assert_eq!(body["msg"], "permissions denied");
    })
    .await;
}

fn admin_token() -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_grants(VideoGrants {
            room_list: true,
            room_create: true,
            ..Default::default()
        })
        .to_jwt()
        .unwrap()
}

#[tokio::test]
async fn json_encoding_follows_twirp_and_proto3_json() {
    with_sandbox(async |sandbox| {
        let http = http_client();
        let call = |method: &str, content_type: &str, body: &str| {
            http.post(format!(
                "{}/twirp/livekit.RoomService/{method}",
                sandbox.url()
            ))
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {}", admin_token()))
            .body(body.to_owned())
            .send()
        };
        let created = call(
            "CreateRoom",
            "application/json;charset=UTF-8",
            r#"{"name":"j","emptyTimeout":30,"max_participants":4,"unknownField":1}"#,
        )
        .await
        .unwrap();
        assert_eq!(created.status(), 200);
        assert_eq!(created.headers()["content-type"], "application/json");
        let room: serde_json::Value = created.json().await.unwrap();
        assert_eq!(room["name"], "j");
        assert_eq!(room["emptyTimeout"], 30);
        assert_eq!(room["maxParticipants"], 4);
        assert!(room["creationTime"].is_string(), "int64 as a string");

        let deleted = call("DeleteRoom", "application/json", r#"{"room":"j"}"#)
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        assert_eq!(deleted.text().await.unwrap(), "{}", "JSON is never empty");

        let protobuf_empty = call("ListRooms", "application/protobuf", "").await.unwrap();
        assert_eq!(protobuf_empty.status(), 200);
        assert_eq!(
            protobuf_empty.headers()["content-type"],
            "application/protobuf"
        );

        let wrong_type = call("ListRooms", "text/plain", "").await.unwrap();
        assert_eq!(wrong_type.status(), 404);
        let body: serde_json::Value = wrong_type.json().await.unwrap();
        assert_eq!(body["code"], "bad_route");

        let unknown = call("NoSuchMethod", "application/json", "{}")
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
        let body: serde_json::Value = unknown.json().await.unwrap();
        assert_eq!(body["code"], "bad_route");

        let malformed = call("CreateRoom", "application/json", "{oops")
            .await
            .unwrap();
        assert_eq!(malformed.status(), 400);
        let body: serde_json::Value = malformed.json().await.unwrap();
        assert_eq!(body["code"], "malformed");

        let get = http
            .get(format!(
                "{}/twirp/livekit.RoomService/ListRooms",
                sandbox.url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn max_participants_refuses_a_simulated_join() {
    with_sandbox(async |sandbox| {
        client(sandbox)
            .create_room(
                "tiny",
                CreateRoomOptions {
                    max_participants: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        sandbox.join("tiny", &alice()).unwrap();
        let bob = JoinRequest {
            identity: "bob".into(),
            ..Default::default()
        };
        let err = sandbox.join("tiny", &bob).unwrap_err();
        assert_eq!(err.code, TwirpCode::ResourceExhausted);
    })
    .await;
}

/// A client that gives up on a request after `timeout`.
fn client_with_timeout(sandbox: &Sandbox, timeout: Duration) -> RoomClient {
    client(sandbox).with_request_timeout(timeout)
}

/// The transport error under an SDK error, when the request got no Twirp answer.
fn request_error(err: &ServiceError) -> Option<&reqwest::Error> {
    match err {
        ServiceError::Twirp(ServerError::Request(err)) => Some(err),
        _ => None,
    }
}

/// Whether the SDK saw a failed request as it should.
type Seen = fn(&ServiceError) -> bool;

#[tokio::test]
async fn injected_errors_latency_hangs_and_drops_reach_the_sdk() {
    let unavailable = Faults {
        error_rate: 1.0,
        error_code: TwirpCode::Unavailable,
        ..Faults::default()
    };
    let failures: [(Faults, Seen, &str); 3] = [
        (
            unavailable,
            |err| twirp_code(err) == Some("unavailable"),
            "the injected Twirp error",
        ),
        (
            Faults {
                hang_rate: 1.0,
                ..Faults::default()
            },
            |err| request_error(err).is_some_and(reqwest::Error::is_timeout),
            "a hung request times out",
        ),
        (
            Faults {
                drop_rate: 1.0,
                ..Faults::default()
            },
            |err| request_error(err).is_some_and(|err| !err.is_timeout()),
            "a dropped answer breaks off at once",
        ),
    ];
    with_sandbox(async |sandbox| {
        let client = client_with_timeout(sandbox, Duration::from_millis(800));
        for (faults, seen, what) in failures {
            sandbox.set_faults(faults).await.unwrap();
            let err = client.list_rooms(Vec::new()).await.unwrap_err();
            assert!(seen(&err), "{what}: {err}");
        }

        sandbox.set_faults(unavailable).await.unwrap();
        let raw = http_client()
            .post(format!(
                "{}/twirp/livekit.RoomService/ListRooms",
                sandbox.url()
            ))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", admin_token()))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 503, "unavailable is HTTP 503");

        sandbox
            .set_faults(Faults {
                latency_ms: 150,
                ..Faults::default()
            })
            .await
            .unwrap();
        let started = std::time::Instant::now();
        client.list_rooms(Vec::new()).await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "latency is added"
        );

        assert!(
            sandbox
                .set_faults(Faults {
                    error_rate: 1.5,
                    ..Faults::default()
                })
                .await
                .is_err(),
            "rates outside 0..=1 are refused"
        );
        sandbox.clear_faults().await;
        client.list_rooms(Vec::new()).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_listener_goes_down_refusing_and_comes_back_on_the_same_port() {
    with_sandbox(async |sandbox| {
        let client = client_with_timeout(sandbox, Duration::from_secs(2));
        client
            .create_room("kept", CreateRoomOptions::default())
            .await
            .unwrap();
        let port = sandbox.addr().port();

        sandbox.listener_down().await;
        let err = client.list_rooms(Vec::new()).await.unwrap_err();
        assert!(
            request_error(&err).is_some_and(|err| !err.is_timeout()),
            "refused or reset, not left waiting: {err}"
        );
        sandbox.listener_up().await;
        assert_eq!(sandbox.addr().port(), port);
        let rooms = client.list_rooms(Vec::new()).await.unwrap();
        assert_eq!(rooms.len(), 1, "state kept while the listener was down");

        sandbox.restart(true, Duration::from_millis(100)).await;
        assert_eq!(client.list_rooms(Vec::new()).await.unwrap().len(), 1);
        sandbox.restart(false, Duration::from_millis(100)).await;
        assert!(
            client.list_rooms(Vec::new()).await.unwrap().is_empty(),
            "a restart that loses state forgets the rooms"
        );
    })
    .await;
}

#[tokio::test]
async fn the_admin_endpoint_controls_faults_and_needs_a_valid_token() {
    with_sandbox(async |sandbox| {
        let http = http_client();
        let url = |path: &str| format!("{}/sandbox/{path}", sandbox.url());

        let anonymous = http.get(url("status")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);

        let token = format!("Bearer {}", admin_token());
        let set = http
            .put(url("faults"))
            .header("authorization", &token)
            .body(r#"{"latency_ms":5,"error_rate":0.25,"error_code":"internal"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), 200);
        let faults = sandbox.faults();
        assert_eq!(faults.latency_ms, 5);
        assert_eq!(faults.error_code, TwirpCode::Internal);

        let status: serde_json::Value = http
            .get(url("status"))
            .header("authorization", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["listener"], "up");
        assert_eq!(status["faults"]["error_rate"], 0.25);

        let joined = http
            .post(url("rooms/hook%20room/participants"))
            .header("authorization", &token)
            .body(r#"{"identity":"carol","tracks":[{"type":"audio"}]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(joined.status(), 200);
        let participant: serde_json::Value = joined.json().await.unwrap();
        assert_eq!(participant["identity"], "carol");
        assert!(
            participant["tracks"][0]["sid"]
                .as_str()
                .unwrap()
                .starts_with("TR_")
        );
        assert_eq!(participant["tracks"][0]["source"], "MICROPHONE");

        let cleared = http
            .delete(url("faults"))
            .header("authorization", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(cleared.status(), 200);
        assert!(sandbox.faults().is_clear());

        let bad = http
            .put(url("faults"))
            .header("authorization", &token)
            .body(r#"{"hang_rate":2}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
    })
    .await;
}
