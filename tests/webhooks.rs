//! Webhooks end to end on loopback: the sandbox sends them as livekit-server does and the
//! engine's listener takes them; rooms change before the next poll; signatures, sizes and
//! malformed bodies are refused and said once per cause; every event kind is applied,
//! duplicates and late events dropped; drift is found when the sandbox drops webhooks; a burst
//! of 10,000 is taken whole while polling goes on.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/engine_harness.rs"]
#[allow(
    dead_code,
    reason = "the webhook tests use the engine harness without configuration files"
)]
mod harness;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use configs::{KEY, SECRET, TestConfig, TestSandbox, room_api};
use harness::{EventStream, SERVER, WAIT, bounded, person, start, stop};
use livekit_api::access_token::{AccessToken, Claims};
use livekit_protocol as proto;
use livekit_sandbox::faults::Faults;
use lktop::api::RoomApi;
use lktop::events::{EventKind, now_ms};
use lktop::webhooks::{DriftKind, WebhookTotals};
use sha2::{Digest, Sha256};

/// A free loopback address for the listener.
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

fn client() -> reqwest::Client {
    lktop::api::build_http_client().expect("an HTTP client")
}

/// The body of `event` as livekit-server sends it, and its token signed by `key`/`secret`
/// valid for `ttl` seconds from now (negative: expired that long ago).
fn signed(event: &proto::WebhookEvent, key: &str, secret: &str, ttl: i64) -> (String, String) {
    let body = serde_json::to_string(event).expect("events encode");
    (body.clone(), token_for(&body, key, secret, ttl))
}

fn token_for(body: &str, key: &str, secret: &str, ttl: i64) -> String {
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
    let now = now_ms() / 1000;
    let claims = Claims {
        exp: usize::try_from(now + ttl).unwrap_or(0),
        nbf: usize::try_from(now - 600).unwrap_or(0),
        iss: key.to_owned(),
        sha256,
        ..Claims::default()
    };
    // The first token livekit-api signs installs the JWT crypto provider this one uses too.
    AccessToken::with_api_key(key, secret)
        .to_jwt()
        .expect("the provider is installed");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("the token signs")
}

async fn post(to: SocketAddr, body: impl Into<reqwest::Body>, token: Option<&str>) -> u16 {
    let mut request = client()
        .post(format!("http://{to}/"))
        .header("Content-Type", "application/webhook+json")
        .body(body);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    request
        .send()
        .await
        .expect("the listener answers")
        .status()
        .as_u16()
}

fn room(name: &str) -> proto::Room {
    proto::Room {
        name: name.into(),
        sid: format!("RM_{name}"),
        ..Default::default()
    }
}

fn participant(identity: &str) -> proto::ParticipantInfo {
    proto::ParticipantInfo {
        sid: format!("PA_{identity}"),
        identity: identity.into(),
        state: proto::participant_info::State::Active as i32,
        ..Default::default()
    }
}

fn webhook(kind: &str, id: &str, at: i64, room_name: &str) -> proto::WebhookEvent {
    proto::WebhookEvent {
        event: kind.into(),
        id: id.into(),
        created_at: at,
        room: Some(room(room_name)),
        ..Default::default()
    }
}

/// Waits for the webhook event of `kind` about `room`; returns its totals.
async fn webhook_event(events: &mut EventStream, kind: &str, room: &str) -> WebhookTotals {
    events
        .wait_for(
            WAIT,
            &format!("webhook {kind} about {room}"),
            |event| match event {
                EventKind::Webhook { webhook, .. }
                    if webhook.event == kind && webhook.room == room =>
                {
                    Some(webhook.totals)
                }
                _ => None,
            },
        )
        .await
}

/// The first poll's rooms have arrived.
async fn first_poll(events: &mut EventStream) {
    events
        .until("the first poll", |event| {
            matches!(event, EventKind::Rooms { .. })
        })
        .await;
}

/// Where a test's webhooks go: a sandbox that sends them there, or none (the test posts its
/// own).
enum Webhooks {
    FromTheSandbox,
    PostedByTheTest,
}

/// A sandbox, and an engine watching it that takes webhooks on a free loopback port, polling
/// every `every` and reporting drift after `drift_after`; returned after the first poll.
async fn watched(
    webhooks: Webhooks,
    every: Duration,
    drift_after: Option<Duration>,
) -> (
    livekit_sandbox::Sandbox,
    SocketAddr,
    lktop::engine::Engine,
    EventStream,
) {
    let listen = free_addr();
    let sandbox = match webhooks {
        Webhooks::FromTheSandbox => {
            TestSandbox::new()
                .sending_webhooks_to(&format!("http://{listen}/"))
                .start()
                .await
        }
        Webhooks::PostedByTheTest => configs::sandbox().await,
    };
    let config = TestConfig::new()
        .server(SERVER, &sandbox.url())
        .polling_interval(every)
        .webhooks(listen, drift_after)
        .build();
    let (engine, mut events) = start(config).await;
    first_poll(&mut events).await;
    (sandbox, listen, engine, events)
}

/// Participants of `room` on the dashboard fed by the stream.
fn shown_participants(events: &EventStream, room: &str) -> Option<Vec<String>> {
    let snapshot = events.app.live.servers[0].snapshot.as_ref()?;
    let room = snapshot.rooms.get(room)?;
    Some(
        room.participants
            .iter()
            .flatten()
            .map(|p| p.identity.clone())
            .collect(),
    )
}

/// With polling every minute, only webhooks can tell of a change: each arrives as a `webhook`
/// event and the dashboard's rooms change with it.
#[tokio::test]
async fn the_sandboxs_webhooks_change_the_rooms_before_the_next_poll() {
    bounded(Duration::from_secs(60), async {
        let (sandbox, _, engine, mut events) =
            watched(Webhooks::FromTheSandbox, Duration::from_secs(60), None).await;

        sandbox.join("standup", &person("ann", &["audio"])).unwrap();
        webhook_event(&mut events, "room_started", "standup").await;
        webhook_event(&mut events, "participant_joined", "standup").await;
        let totals = webhook_event(&mut events, "track_published", "standup").await;
        assert_eq!(totals.taken, 3);
        assert_eq!(
            shown_participants(&events, "standup"),
            Some(vec!["ann".into()])
        );
        let standup = &events.app.live.servers[0].snapshot.as_ref().unwrap().rooms["standup"];
        assert_eq!(standup.tracks.audio, 1, "the track came by webhook");

        let api = room_api(&sandbox.url(), Duration::from_secs(5));
        api.remove_participant("standup", "ann").await.unwrap();
        webhook_event(&mut events, "participant_left", "standup").await;
        assert_eq!(shown_participants(&events, "standup"), Some(Vec::new()));
        api.delete_room("standup").await.unwrap();
        webhook_event(&mut events, "room_finished", "standup").await;
        assert_eq!(
            shown_participants(&events, "standup"),
            None,
            "the room is gone"
        );
        let finished = events
            .wait_for(WAIT, "standup in the room history", |event| match event {
                EventKind::RoomFinished { room, .. } if room.room == "standup" => {
                    Some(room.clone())
                }
                _ => None,
            })
            .await;
        assert_eq!(finished.told_by, "webhook");
        assert_eq!(
            (
                finished.peak_participants,
                finished.participants_seen,
                finished.tracks_published
            ),
            (1, 1, 1)
        );
        assert_eq!(
            finished.disconnect_reasons,
            BTreeMap::from([("PARTICIPANT_REMOVED".to_owned(), 1)])
        );
        assert_eq!(events.app.history.len(), 1, "on the History screen");

        let json = serde_json::to_value(lktop::events::EngineEvent {
            at_ms: 0,
            kind: EventKind::Webhook {
                server: SERVER.into(),
                webhook: lktop::webhooks::WebhookNote::of(
                    &webhook("room_finished", "EV_x", 1, "standup"),
                    2,
                    WebhookTotals::default(),
                ),
                update: None,
            },
        })
        .unwrap();
        assert_eq!(json["type"], "webhook", "as `lktop watch` prints it");
        stop(engine, sandbox).await;
    })
    .await;
}

/// Every cause the refusals test provokes, with its status.
fn expected_refusals() -> BTreeMap<String, u16> {
    [
        ("bad_signature", 401),
        ("body_changed", 401),
        ("expired", 401),
        ("no_token", 401),
        ("unknown_key", 401),
        ("too_large", 413),
        ("malformed", 400),
        ("not_post", 405),
    ]
    .into_iter()
    .map(|(cause, status)| (cause.to_owned(), status))
    .collect()
}

/// Every way a webhook can be wrong gets its status, changes nothing, and is said once per
/// cause; a good one next to them is taken.
#[tokio::test]
async fn bad_webhooks_are_refused_by_cause_and_said_once() {
    bounded(Duration::from_secs(60), async {
        let (sandbox, listen, engine, mut events) =
            watched(Webhooks::PostedByTheTest, Duration::from_secs(60), None).await;
        let now = now_ms() / 1000;
        let event = webhook("room_started", "EV_good", now, "signed");

        let (body, token) = signed(&event, KEY, SECRET, 300);
        assert_eq!(post(listen, body.clone(), Some(&token)).await, 200, "valid");
        let (_, wrong) = signed(&event, KEY, "another-secret-0123456789abcdefghij", 300);
        assert_eq!(
            post(listen, body.clone(), Some(&wrong)).await,
            401,
            "wrong secret"
        );
        assert_eq!(post(listen, body.clone(), Some(&wrong)).await, 401, "again");
        let changed = body.replace("signed", "forged");
        assert_eq!(
            post(listen, changed, Some(&token)).await,
            401,
            "body changed"
        );
        let (_, expired) = signed(&event, KEY, SECRET, -600);
        assert_eq!(
            post(listen, body.clone(), Some(&expired)).await,
            401,
            "expired"
        );
        assert_eq!(post(listen, body.clone(), None).await, 401, "no header");
        let (_, stranger) = signed(&event, "not-a-key", SECRET, 300);
        assert_eq!(
            post(listen, body.clone(), Some(&stranger)).await,
            401,
            "unknown key"
        );
        let huge = "x".repeat(2 * 1024 * 1024);
        let huge_token = token_for(&huge, KEY, SECRET, 300);
        assert_eq!(
            post(listen, huge, Some(&huge_token)).await,
            413,
            "over 1 MiB"
        );
        let garbage = "{\"event\": 42".to_owned();
        let garbage_token = token_for(&garbage, KEY, SECRET, 300);
        assert_eq!(
            post(listen, garbage, Some(&garbage_token)).await,
            400,
            "malformed"
        );
        let got = client()
            .get(format!("http://{listen}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status().as_u16(), 405, "not a POST");

        let seen = events.during(Duration::from_millis(500)).await;
        let mut refused: BTreeMap<String, u16> = BTreeMap::new();
        for event in &seen {
            if let EventKind::WebhookRefused { cause, status, .. } = &event.kind {
                assert!(
                    refused.insert(cause.clone(), *status).is_none(),
                    "{cause} said twice"
                );
            }
        }
        assert_eq!(refused, expected_refusals());
        let applied_rooms: Vec<&str> = seen
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Webhook { webhook, .. } => Some(webhook.room.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            applied_rooms.is_empty() || applied_rooms == ["signed"],
            "{applied_rooms:?}"
        );
        assert!(
            shown_participants(&events, "forged").is_none(),
            "a refused webhook changes nothing"
        );
        stop(engine, sandbox).await;
    })
    .await;
}

/// Each kind livekit-server sends is taken; one sent twice is applied once, one that comes
/// after a newer one about the same participant is dropped.
#[tokio::test]
async fn every_kind_is_applied_and_duplicates_and_late_ones_are_dropped() {
    bounded(Duration::from_secs(60), async {
        let (sandbox, listen, engine, mut events) =
            watched(Webhooks::PostedByTheTest, Duration::from_secs(60), None).await;
        let at = now_ms() / 1000;
        let send = |event: proto::WebhookEvent| async move {
            let (body, token) = signed(&event, KEY, SECRET, 300);
            assert_eq!(
                post(listen, body, Some(&token)).await,
                200,
                "{}",
                event.event
            );
        };
        let with_participant =
            |kind: &str, id: &str, at: i64, identity: &str| proto::WebhookEvent {
                participant: Some(participant(identity)),
                ..webhook(kind, id, at, "ops")
            };
        let track = proto::TrackInfo {
            sid: "TR_cam".into(),
            r#type: proto::TrackType::Video as i32,
            ..Default::default()
        };

        send(webhook("room_started", "EV_1", at, "ops")).await;
        send(with_participant("participant_joined", "EV_2", at, "ann")).await;
        send(with_participant("participant_joined", "EV_3", at, "ben")).await;
        send(proto::WebhookEvent {
            track: Some(track.clone()),
            ..with_participant("track_published", "EV_4", at, "ann")
        })
        .await;
        webhook_event(&mut events, "track_published", "ops").await;
        assert_eq!(
            events_room(&events, "ops").map(|r| (r.num_participants, r.tracks.video)),
            Some((2, 1))
        );

        send(proto::WebhookEvent {
            track: Some(track),
            ..with_participant("track_unpublished", "EV_5", at + 1, "ann")
        })
        .await;
        send(with_participant("participant_left", "EV_6", at + 1, "ann")).await;
        send(with_participant(
            "participant_connection_aborted",
            "EV_7",
            at + 1,
            "ben",
        ))
        .await;
        for (kind, id) in [
            ("egress_started", "EV_8"),
            ("egress_updated", "EV_9"),
            ("egress_ended", "EV_10"),
            ("ingress_started", "EV_11"),
            ("ingress_ended", "EV_12"),
        ] {
            send(webhook(kind, id, at + 1, "ops")).await;
        }
        // A duplicate, and ann's join again from before she left.
        send(with_participant("participant_left", "EV_6", at + 1, "ann")).await;
        send(with_participant("participant_joined", "EV_13", at, "ann")).await;
        send(webhook("room_finished", "EV_14", at + 2, "ops")).await;
        let totals = webhook_event(&mut events, "room_finished", "ops").await;
        assert_eq!(
            (totals.taken, totals.duplicates, totals.out_of_order),
            (13, 1, 1),
            "every kind taken once; the repeat and the late join dropped"
        );
        assert!(events_room(&events, "ops").is_none(), "the room finished");
        stop(engine, sandbox).await;
    })
    .await;
}

fn events_room(events: &EventStream, name: &str) -> Option<lktop::snapshot::RoomSummary> {
    events.app.live.servers[0]
        .snapshot
        .as_ref()?
        .rooms
        .get(name)
        .map(|room| (**room).clone())
}

/// The sandbox drops every webhook: a participant who joined is found by polling, and after
/// `drift_after` that is reported as drift.
#[tokio::test]
async fn a_change_without_its_webhook_is_reported_as_drift() {
    bounded(Duration::from_secs(60), async {
        let (sandbox, _, engine, mut events) = watched(
            Webhooks::FromTheSandbox,
            Duration::from_millis(200),
            Some(Duration::from_millis(400)),
        )
        .await;
        let api = room_api(&sandbox.url(), Duration::from_secs(5));
        api.create_room("quiet", lktop::api::CreateRoomOptions::default())
            .await
            .unwrap();
        webhook_event(&mut events, "room_started", "quiet").await;
        sandbox
            .set_faults(Faults {
                webhook_drop_rate: 1.0,
                ..Faults::default()
            })
            .await
            .unwrap();
        sandbox.join("quiet", &person("ghost", &[])).unwrap();
        let (kind, identity) = events
            .wait_for(WAIT, "drift about ghost", |event| match event {
                EventKind::WebhookDrift { drift, .. } if drift.identity.is_some() => {
                    Some((drift.kind, drift.identity.clone()))
                }
                _ => None,
            })
            .await;
        assert_eq!(kind, DriftKind::PresentWithoutJoinWebhook);
        assert_eq!(identity.as_deref(), Some("ghost"));
        assert!(
            sandbox.webhooks().unwrap().dropped_by_fault >= 1,
            "the sandbox dropped the join on purpose"
        );
        stop(engine, sandbox).await;
    })
    .await;
}

/// 10,000 webhooks from 32 senders at once: every one answered 200 and taken, and polls went
/// on meanwhile.
#[tokio::test]
async fn a_burst_of_ten_thousand_webhooks_is_taken_whole_while_polling_goes_on() {
    bounded(Duration::from_secs(120), async {
        const BURST: usize = 10_000;
        let (sandbox, listen, engine, mut events) =
            watched(Webhooks::PostedByTheTest, Duration::from_millis(100), None).await;
        let at = now_ms() / 1000;
        let requests: Vec<(String, String)> = (0..BURST)
            .map(|index| {
                let event = proto::WebhookEvent {
                    participant: Some(participant(&format!("p{index}"))),
                    ..webhook(
                        "participant_joined",
                        &format!("EV_burst_{index}"),
                        at,
                        &format!("burst-{}", index % 100),
                    )
                };
                signed(&event, KEY, SECRET, 300)
            })
            .collect();
        let sender = tokio::spawn(async move {
            use futures_util::StreamExt as _;
            futures_util::stream::iter(requests)
                .map(|(body, token)| async move { post(listen, body, Some(&token)).await })
                .buffer_unordered(32)
                .collect::<Vec<u16>>()
                .await
        });
        let mut polls_during = 0;
        let mut taken = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while taken < BURST as u64 {
            let Some(event) = events.next_before(deadline).await else {
                panic!("only {taken} of {BURST} webhooks taken");
            };
            match event.kind {
                EventKind::Webhook { webhook, .. } => taken = webhook.totals.taken,
                EventKind::Rooms { .. } if taken > 0 => polls_during += 1,
                _ => {}
            }
        }
        let statuses = sender.await.unwrap();
        assert!(statuses.iter().all(|status| *status == 200));
        assert!(polls_during >= 1, "polling went on during the burst");
        stop(engine, sandbox).await;
    })
    .await;
}
