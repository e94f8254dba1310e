//! The sandbox registered as a livekit-server node in a real Redis (`redis-server` started by
//! the crate's fixture): `nodes` holds its `livekit.Node`, updated every interval, draining
//! at once, removed on shutdown; and a Redis that is away changes nothing else.

use std::time::Duration;

use livekit_protocol as proto;
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use livekit_sandbox::redis_server::RedisServer;
use livekit_sandbox::{NodeOptions, Sandbox, SandboxOptions};
use prost::Message as _;
use redis::AsyncCommands as _;
use secrecy::SecretString;

const KEY: &str = "devkey";
const SECRET: &str = "registry-test-secret-0123456789abcdef";
const BOUND: Duration = Duration::from_secs(30);
/// Short, so the test takes seconds; livekit's is 2 s.
const INTERVAL: Duration = Duration::from_millis(250);

async fn registered(
    connection: &mut redis::aio::MultiplexedConnection,
    id: &str,
) -> Option<proto::Node> {
    let entry: Option<Vec<u8>> = connection.hget("nodes", id).await.unwrap();
    entry.map(|bytes| proto::Node::decode(bytes.as_slice()).expect("a livekit.Node"))
}

/// Polls until the node's entry satisfies `wanted`, for at most `within`.
async fn until(
    connection: &mut redis::aio::MultiplexedConnection,
    id: &str,
    within: Duration,
    wanted: impl Fn(&proto::Node) -> bool,
) -> proto::Node {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(node) = registered(connection, id).await
            && wanted(&node)
        {
            return node;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the registry did not change in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first stats of one room where alice and bob each publish a camera.
fn check_first_stats(stats: &proto::NodeStats) {
    assert_eq!(
        (
            stats.num_rooms,
            stats.num_clients,
            stats.num_tracks_in,
            stats.num_tracks_out
        ),
        (1, 2, 2, 2)
    );
    assert!(
        stats.packets_out > 0 && stats.bytes_out > stats.bytes_in / 2,
        "{stats:?}"
    );
    assert!(stats.started_at > 0 && stats.updated_at >= stats.started_at);
    assert!((0.0..=1.0).contains(&stats.cpu_load), "{stats:?}");
    assert!(stats.memory_total > 0 && stats.memory_used > 0);
    assert!(stats.participant_signal_connected >= 2);
}

#[tokio::test]
async fn the_node_registers_updates_drains_and_leaves() {
    tokio::time::timeout(
        BOUND,
        Box::pin(async {
            let redis_server = RedisServer::start().await.expect("redis-server starts");
            let options =
                SandboxOptions::new(KEY, &SecretString::from(SECRET)).with_node(NodeOptions {
                    redis_url: Some(SecretString::from(redis_server.url())),
                    node_id: Some("ND_sandboxtest1".to_owned()),
                    region: "eu-central".to_owned(),
                    update_interval: INTERVAL,
                    ..NodeOptions::default()
                });
            let sandbox = Sandbox::start(options).await.unwrap();
            assert_eq!(sandbox.node_id(), "ND_sandboxtest1");
            let join = JoinRequest {
                identity: "alice".into(),
                name: String::new(),
                tracks: vec![TrackRequest {
                    kind: "video".into(),
                    source: None,
                    name: None,
                    muted: false,
                }],
            };
            sandbox.join("standup", &join).unwrap();
            sandbox
                .join(
                    "standup",
                    &JoinRequest {
                        identity: "bob".into(),
                        ..join.clone()
                    },
                )
                .unwrap();

            let client = redis::Client::open(redis_server.url()).unwrap();
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let first = until(
                &mut connection,
                "ND_sandboxtest1",
                Duration::from_secs(5),
                |node| {
                    node.stats
                        .as_ref()
                        .is_some_and(|stats| stats.packets_in > 0 && stats.packets_out > 0)
                },
            )
            .await;
            assert_eq!(first.state, proto::NodeState::Serving as i32);
            assert_eq!(first.r#type, proto::NodeType::Server as i32);
            assert_eq!(
                (first.ip.as_str(), first.region.as_str()),
                ("127.0.0.1", "eu-central")
            );
            assert!(first.num_cpus >= 1);
            let stats = first.stats.clone().unwrap();
            check_first_stats(&stats);
            // updated_at counts whole seconds.
            let later = until(
                &mut connection,
                "ND_sandboxtest1",
                Duration::from_secs(4),
                |node| {
                    node.stats
                        .as_ref()
                        .is_some_and(|later| later.updated_at > stats.updated_at)
                },
            )
            .await;
            assert!(later.stats.unwrap().bytes_in > stats.bytes_in);

            sandbox.drain().await;
            assert_eq!(sandbox.node_state(), proto::NodeState::ShuttingDown);
            let drained = until(&mut connection, "ND_sandboxtest1", INTERVAL, |node| {
                node.state == proto::NodeState::ShuttingDown as i32
            })
            .await;
            assert_eq!(drained.id, "ND_sandboxtest1");
            sandbox.serve().await;
            until(&mut connection, "ND_sandboxtest1", INTERVAL, |node| {
                node.state == proto::NodeState::Serving as i32
            })
            .await;

            sandbox.shutdown().await;
            let gone: bool = connection
                .hexists("nodes", "ND_sandboxtest1")
                .await
                .unwrap();
            assert!(!gone, "a clean shutdown removes the node");
        }),
    )
    .await
    .expect("the test finishes in time");
}

#[tokio::test]
async fn a_registry_that_is_away_changes_nothing_else() {
    tokio::time::timeout(BOUND, async {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = SandboxOptions::new(KEY, &SecretString::from(SECRET))
            .with_metrics("127.0.0.1:0".parse().unwrap(), None)
            .with_node(NodeOptions {
                redis_url: Some(SecretString::from(format!(
                    "redis://:hunter2@127.0.0.1:{port}/"
                ))),
                update_interval: Duration::from_millis(100),
                ..NodeOptions::default()
            });
        let sandbox = Sandbox::start(options).await.unwrap();
        tokio::time::sleep(Duration::from_millis(350)).await;
        let stream = tokio::net::TcpStream::connect(sandbox.addr()).await;
        assert!(stream.is_ok(), "the sandbox still serves");
        assert!(sandbox.metrics_url().is_some());
        sandbox.shutdown().await;
    })
    .await
    .expect("the test finishes in time");
}

#[tokio::test]
async fn a_registry_url_of_another_scheme_is_refused_at_start() {
    let options = SandboxOptions::new(KEY, &SecretString::from(SECRET)).with_node(NodeOptions {
        redis_url: Some(SecretString::from("http://:hunter2@127.0.0.1:6379/")),
        ..NodeOptions::default()
    });
    let err = Sandbox::start(options).await.err().expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("redis://") && !message.contains("hunter2"),
        "{message}"
    );
}
