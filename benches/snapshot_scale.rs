//! Time for one full rooms + participants snapshot of 10,000 rooms / 100,000 participants
//! through the pool, at pool sizes 1, 5, 10 and 20, against the sandbox on loopback.
//!
//! `cargo bench --bench snapshot_scale` prints the median of three polls per pool size, then
//! the server's own cost of the same requests (token check, decoding, the room store, encoding,
//! called in-process without HTTP) and what lktop and HTTP on loopback add per request on top of
//! it (pool size 1, so requests run one after another).

#[path = "support/allocator.rs"]
mod allocator;

use std::time::{Duration, Instant};

use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_sandbox::auth::ApiKeys;
use livekit_sandbox::codec::Encoding;
use livekit_sandbox::rooms::TrackSpec;
use livekit_sandbox::service::{self, Call};
use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::api::{LiveKitRoomApi, proto};
use lktop::config::{Config, ConfigDuration, QualityConfig, RoomLimitsConfig};
use lktop::engine::MeasuredRoomService;
use lktop::poller::RoomsPoller;
use lktop::pool::{Pool, PoolOptions};
use lktop::read_plan::ReadPolicy;
use prost::Message;
use secrecy::{ExposeSecret, SecretString};

const ROOMS: usize = 10_000;
const PARTICIPANTS_PER_ROOM: usize = 10;
const RUNS: usize = 3;

#[tokio::main]
async fn main() {
    let secret = SecretString::from("bench-secret-0123456789abcdef0123");
    let sandbox = Sandbox::start(SandboxOptions::new("bench", &secret))
        .await
        .expect("the sandbox starts");
    fill(&sandbox);
    println!(
        "full snapshot, {ROOMS} rooms / {} participants, sandbox on loopback, median of {RUNS}",
        ROOMS * PARTICIPANTS_PER_ROOM
    );
    println!(
        "{:>9} | {:>10} | {:>10}",
        "pool size", "median", "vs size 1"
    );
    let mut baseline = None;
    for size in [1_u32, 5, 10, 20] {
        let median = snapshot_time(&sandbox, &secret, size).await;
        let base = *baseline.get_or_insert(median);
        println!(
            "{size:>9} | {:>8.0}ms | {:>9.2}x",
            median.as_secs_f64() * 1000.0,
            base.as_secs_f64() / median.as_secs_f64()
        );
    }
    let serial = baseline.expect("pool size 1 ran");
    let server = server_cost(&sandbox, &secret);
    #[expect(clippy::cast_precision_loss, reason = "request counts are small")]
    let requests = (ROOMS + 1) as f64;
    let per_request = |total: Duration| total.as_secs_f64() * 1e6 / requests;
    println!(
        "\nper request ({} requests: ListRooms + ListParticipants per room)",
        ROOMS + 1
    );
    println!(
        "  server's own cost (in-process, no HTTP): {:>7.1} µs",
        per_request(server)
    );
    println!(
        "  through lktop's pool, size 1:            {:>7.1} µs",
        per_request(serial)
    );
    println!(
        "  added by lktop + HTTP on loopback:       {:>7.1} µs",
        per_request(serial.saturating_sub(server))
    );
    sandbox.shutdown().await;
}

/// The sandbox's own work for one snapshot's requests, median of `RUNS`: verifying each
/// request's token, decoding it, reading the room store and encoding the answer, as the server
/// does after HTTP has delivered the body. Tokens and bodies are made beforehand (they are the
/// client's work).
fn server_cost(sandbox: &Sandbox, secret: &SecretString) -> Duration {
    let keys = ApiKeys::new([("bench".to_owned(), secret.clone())]);
    let bearer = |grants: VideoGrants| {
        let jwt = AccessToken::with_api_key("bench", secret.expose_secret())
            .with_grants(grants)
            .to_jwt()
            .expect("a token");
        format!("Bearer {jwt}")
    };
    let mut requests = vec![(
        "ListRooms",
        bearer(VideoGrants {
            room_list: true,
            ..VideoGrants::default()
        }),
        proto::ListRoomsRequest::default().encode_to_vec(),
    )];
    for index in 0..ROOMS {
        let room = format!("room-{index:05}");
        requests.push((
            "ListParticipants",
            bearer(VideoGrants {
                room_admin: true,
                room: room.clone(),
                ..VideoGrants::default()
            }),
            proto::ListParticipantsRequest { room }.encode_to_vec(),
        ));
    }
    let store = sandbox.rooms();
    let clock = sandbox.clock();
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        for (method, authorization, body) in &requests {
            let claims = keys.verify(Some(authorization)).expect("a valid token");
            let answer = service::handle(
                method,
                &Call {
                    encoding: Encoding::Protobuf,
                    claims: &claims,
                    body,
                    store: &store,
                    clock: &clock,
                },
            )
            .expect("the request is answered");
            std::hint::black_box(answer);
        }
        times.push(started.elapsed());
    }
    times.sort();
    times[RUNS / 2]
}

fn fill(sandbox: &Sandbox) {
    let store = sandbox.rooms();
    let mut store = store.lock().expect("the room store");
    let now = sandbox.clock().now_ms();
    for index in 0..ROOMS {
        let room = format!("room-{index:05}");
        let request = proto::CreateRoomRequest {
            name: room.clone(),
            empty_timeout: 86_400,
            departure_timeout: 86_400,
            ..Default::default()
        };
        store.create_room(&request, now).expect("room created");
        for person in 0..PARTICIPANTS_PER_ROOM {
            let identity = format!("user-{person}");
            store
                .join(&room, &identity, &identity, now)
                .expect("joined");
            store
                .publish(&room, &identity, &TrackSpec::microphone())
                .expect("published");
        }
    }
}

async fn snapshot_time(sandbox: &Sandbox, secret: &SecretString, size: u32) -> Duration {
    let mut config = Config::default().connection_pool;
    config.pool_size = size;
    config.max_pool_size = size;
    config.connection_timeout = ConfigDuration::from_secs(30);
    let (events, _drain) = tokio::sync::mpsc::channel(1024);
    let (url, secret) = (sandbox.url(), secret.clone());
    let pool = Pool::start(PoolOptions::new("bench", config, events), move || {
        LiveKitRoomApi::new(&url, "bench", &secret, Duration::from_secs(30))
    })
    .expect("the pool starts");
    let api = MeasuredRoomService::new(
        "bench".into(),
        sandbox.url(),
        pool.clone(),
        QualityConfig::default(),
        None,
    );
    let mut poller = RoomsPoller::new("bench", size as usize);
    let limits = RoomLimitsConfig::default();
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let result = poller
            .poll(&api, 0, &ReadPolicy::every_room(&limits))
            .await
            .expect("the poll succeeds");
        times.push(started.elapsed());
        assert_eq!(result.snapshot.rooms.len(), ROOMS);
        assert!(
            result.stats.failed_rooms.is_empty(),
            "{:?}",
            result.stats.failed_rooms
        );
    }
    pool.shutdown().await;
    times.sort();
    times[RUNS / 2]
}
