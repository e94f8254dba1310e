//! The nodes behind a server, end to end on loopback: two sandboxes registered in one real
//! `redis-server` (Debian's package, started on a free port) make a two-node cluster, each
//! serving livekit-server's Prometheus format; the engine scrapes both and reads the
//! registry. One node is drained and the other given a media fault: the engine reports the
//! drained node as `SHUTTING_DOWN`, the injected loss, and the limits it breaks, and says when
//! the registry goes away.

#[path = "support/configs.rs"]
mod configs;
#[path = "support/engine_harness.rs"]
#[allow(
    dead_code,
    reason = "the node tests use the engine harness without files"
)]
mod harness;

use std::net::SocketAddr;
use std::time::Duration;

use configs::{KEY, SECRET, TestConfig};
use harness::{EventStream, SERVER, bounded, person, start};
use livekit_sandbox::faults::{Faults, MediaFault};
use livekit_sandbox::redis_server::RedisServer;
use livekit_sandbox::{NodeOptions, Sandbox, SandboxOptions};
use lktop::config::{ConfigDuration, MetricsUrls, RedisUrl};
use lktop::events::EventKind;
use lktop::nodes::{NodeChange, NodeHealth, NodeSource, SourceState};
use secrecy::SecretString;

const INTERVAL: Duration = Duration::from_secs(1);

/// Every figure the `node_health` event must carry, `null` where unknown.
const FIELDS: [&str; 25] = [
    "node_id",
    "node_type",
    "state",
    "region",
    "rooms",
    "participants",
    "tracks_published",
    "tracks_subscribed",
    "bytes_in_per_s",
    "bytes_out_per_s",
    "packets_in_per_s",
    "packets_out_per_s",
    "packet_loss_pct",
    "nack_per_s",
    "pli_per_s",
    "rtt_p50_ms",
    "rtt_p95_ms",
    "jitter_p95_ms",
    "quality_score_p50",
    "join_failures_per_s",
    "twirp_errors_per_s",
    "cpu_pct",
    "rss_bytes",
    "cpu_load",
    "sources",
];

async fn node(redis: &RedisServer, id: &str, region: &str) -> Sandbox {
    let options = SandboxOptions::new(KEY, &SecretString::from(SECRET))
        .with_metrics(SocketAddr::from(([127, 0, 0, 1], 0)), None)
        .with_node(NodeOptions {
            redis_url: Some(SecretString::from(redis.url())),
            node_id: Some(id.to_owned()),
            region: region.to_owned(),
            update_interval: Duration::from_millis(300),
            ..NodeOptions::default()
        });
    let sandbox = Sandbox::start(options)
        .await
        .expect("a sandbox node starts");
    for index in 0..6 {
        sandbox
            .join(
                &format!("{id}-room"),
                &person(&format!("p{index}"), &["audio", "video"]),
            )
            .expect("a participant joins");
    }
    sandbox
}

/// The next `node_health` of the test server.
async fn reading(events: &mut EventStream) -> (Vec<NodeHealth>, Vec<lktop::nodes::SourceStatus>) {
    events
        .wait_for(Duration::from_secs(10), "node_health", |kind| match kind {
            EventKind::NodeHealth {
                server,
                nodes,
                sources,
            } if server == SERVER => Some((nodes.clone(), sources.clone())),
            _ => None,
        })
        .await
}

fn find<'a>(nodes: &'a [NodeHealth], id: &str) -> Option<&'a NodeHealth> {
    nodes.iter().find(|node| node.node_id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_and_a_lossy_node_of_a_two_node_cluster_are_reported() {
    bounded(Duration::from_secs(90), async {
        let redis = RedisServer::start()
            .await
            .expect("redis-server runs (Debian package redis-server)");
        let alpha = node(&redis, "ND_alpha", "eu-west").await;
        let beta = node(&redis, "ND_beta", "us-east").await;

        let mut config = TestConfig::new().server(SERVER, &alpha.url()).build();
        config.quality_monitoring.metrics_interval =
            Some(ConfigDuration::from_secs(INTERVAL.as_secs()));
        let server = &mut config.servers[0];
        server.metrics_url = MetricsUrls(vec![
            alpha.metrics_url().expect("alpha serves metrics"),
            beta.metrics_url().expect("beta serves metrics"),
        ]);
        server.redis_url = Some(RedisUrl::new(&redis.url()));
        let (engine, mut events) = start(config).await;

        both_nodes_serving(&mut events).await;

        beta.drain().await;
        alpha
            .set_faults(Faults {
                media: Some(MediaFault {
                    loss_pct: Some(8.0),
                    rtt_ms: Some(250.0),
                    jitter_ms: Some(40.0),
                }),
                ..Faults::default()
            })
            .await
            .expect("the media fault is valid");

        // The reading under way may straddle the fault; the two after it cover it whole.
        // Every event on the way is looked at: the drain and the breach are also said as
        // changes.
        let AfterFaults {
            drained,
            lossy,
            drain_said,
            breach_said,
        } = three_readings(&mut events).await;
        assert!(drained, "beta is reported SHUTTING_DOWN");
        assert!(drain_said, "beta's move to SHUTTING_DOWN is an event");
        assert!(breach_said, "alpha past max_packet_loss_pct is an event");
        let lossy = lossy.expect("alpha is reported");
        let loss = lossy.packet_loss_pct.expect("a loss figure");
        assert!((loss - 8.0).abs() < 2.0, "injected 8 %, reported {loss}");
        assert!(
            lossy.rtt_p95_ms.is_some_and(|rtt| rtt >= 200.0),
            "{lossy:#?}"
        );
        assert!(
            lossy.nack_per_s.is_some_and(|rate| rate > 0.0),
            "NACKs grow with loss: {lossy:#?}"
        );
        let dashboard = events.app.server().expect("the dashboard holds the server");
        assert!(
            dashboard.nodes.nodes().iter().any(NodeHealth::is_draining),
            "the dashboard shows the drained node"
        );

        // The registry goes away: said once, with the cause; the nodes' metrics go on.
        drop(redis);
        let (state, cause) = events
            .wait_for(
                Duration::from_secs(15),
                "the registry down",
                |kind| match kind {
                    EventKind::NodeSourceState {
                        source: NodeSource::Redis,
                        state,
                        cause,
                        ..
                    } => Some((*state, cause.clone())),
                    _ => None,
                },
            )
            .await;
        assert_eq!(state, SourceState::Down, "{cause:?}");
        let (nodes, sources) = reading(&mut events).await;
        assert_eq!(nodes.len(), 2, "a source down removes no node: {nodes:#?}");
        assert!(
            sources
                .iter()
                .any(|s| s.source == NodeSource::Redis && s.state == SourceState::Down)
        );

        engine.shutdown(Duration::from_secs(2)).await;
        alpha.shutdown().await;
        beta.shutdown().await;
    })
    .await;
}

/// What the three readings after the drain and the media fault showed.
struct AfterFaults {
    drained: bool,
    lossy: Option<NodeHealth>,
    drain_said: bool,
    breach_said: bool,
}

async fn three_readings(events: &mut EventStream) -> AfterFaults {
    let mut drained = false;
    let mut lossy = None;
    let mut drain_said = false;
    let mut breach_said = false;
    let mut readings = 0;
    while readings < 3 {
        let event = events
            .next_before(tokio::time::Instant::now() + Duration::from_secs(10))
            .await
            .expect("the engine keeps reporting");
        match event.kind {
            EventKind::NodeHealth { nodes, .. } => {
                readings += 1;
                drained |= find(&nodes, "ND_beta").is_some_and(NodeHealth::is_draining);
                lossy = find(&nodes, "ND_alpha").cloned();
            }
            EventKind::NodeChanged {
                node_id,
                change: NodeChange::State { to, .. },
                ..
            } => drain_said |= node_id == "ND_beta" && to.as_deref() == Some("SHUTTING_DOWN"),
            EventKind::MediaViolations { violations, .. } => {
                breach_said |= violations
                    .iter()
                    .any(|v| v.node_id == "ND_alpha" && v.limit == "max_packet_loss_pct");
            }
            _ => {}
        }
    }
    AfterFaults {
        drained,
        lossy,
        drain_said,
        breach_said,
    }
}

/// Waits for a reading of both nodes from both sources with rates, and checks it.
async fn both_nodes_serving(events: &mut EventStream) {
    // Both nodes, from both sources, with every field; rates from the second reading on.
    let mut nodes = Vec::new();
    for _ in 0..5 {
        (nodes, _) = reading(events).await;
        if nodes.len() == 2 && nodes.iter().all(|n| n.packet_loss_pct.is_some()) {
            break;
        }
    }
    assert_eq!(nodes.len(), 2, "{nodes:#?}");
    for node in &nodes {
        assert_eq!(
            node.sources,
            [NodeSource::Metrics, NodeSource::Redis],
            "{node:#?}"
        );
        assert_eq!(node.state.as_deref(), Some("SERVING"));
        assert_eq!(node.participants, Some(6));
        assert!(
            node.bytes_in_per_s.is_some_and(|rate| rate > 0.0),
            "{node:#?}"
        );
        assert!(
            node.cpu_pct.is_some() && node.rss_bytes.is_some(),
            "{node:#?}"
        );
        let json = serde_json::to_value(node).unwrap();
        for field in FIELDS {
            assert!(
                json.get(field).is_some(),
                "node_health lacks {field}: {json}"
            );
        }
    }
    assert_eq!(
        find(&nodes, "ND_beta").and_then(|n| n.region.as_deref()),
        Some("us-east")
    );
}
