//! `/metrics` as a Prometheus scraper and a monitoring tool see it: livekit-server's families
//! in Go's text format with the node's labels, loss figures that follow an injected media
//! fault, and basic auth.

#[path = "support/http_client.rs"]
mod http_client;

use http_client::http_client;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use livekit_api::services::room::RoomClient;
use livekit_sandbox::admin::{JoinRequest, TrackRequest};
use livekit_sandbox::faults::{Faults, MediaFault};
use livekit_sandbox::{Sandbox, SandboxOptions};
use secrecy::SecretString;

const KEY: &str = "devkey";
const SECRET: &str = "metrics-test-secret-0123456789abcdef";
const BOUND: Duration = Duration::from_secs(30);

/// Every family `/metrics` must have, with its type.
const FAMILIES: [(&str, &str); 19] = [
    ("livekit_room_total", "gauge"),
    ("livekit_participant_total", "gauge"),
    ("livekit_track_published_total", "gauge"),
    ("livekit_track_subscribed_total", "gauge"),
    ("livekit_packet_total", "counter"),
    ("livekit_packet_bytes", "counter"),
    ("livekit_nack_total", "counter"),
    ("livekit_pli_total", "counter"),
    ("livekit_fir_total", "counter"),
    ("livekit_packet_loss_total", "counter"),
    ("livekit_packet_loss_percent", "histogram"),
    ("livekit_jitter_us", "histogram"),
    ("livekit_rtt_ms", "histogram"),
    ("livekit_quality_rating", "histogram"),
    ("livekit_quality_score", "histogram"),
    ("livekit_participant_join_total", "counter"),
    ("livekit_node_twirp_request_status", "counter"),
    ("process_cpu_seconds_total", "counter"),
    ("process_resident_memory_bytes", "gauge"),
];

fn free_port() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

async fn sandbox_with_metrics(auth: Option<(String, SecretString)>) -> Sandbox {
    let options =
        SandboxOptions::new(KEY, &SecretString::from(SECRET)).with_metrics(free_port(), auth);
    Sandbox::start(options).await.expect("the sandbox starts")
}

/// `rooms` rooms of `people` participants, each with a microphone and a camera.
fn fill(sandbox: &Sandbox, rooms: usize, people: usize) {
    for room in 0..rooms {
        for person in 0..people {
            let join = JoinRequest {
                identity: format!("p{person}"),
                name: String::new(),
                tracks: ["audio", "video"]
                    .into_iter()
                    .map(|kind| TrackRequest {
                        kind: kind.into(),
                        source: None,
                        name: None,
                        muted: false,
                    })
                    .collect(),
            };
            sandbox.join(&format!("room-{room}"), &join).unwrap();
        }
    }
}

async fn scrape(sandbox: &Sandbox) -> String {
    let response = http_client()
        .get(sandbox.metrics_url().expect("metrics are served"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// One sample line: its name, its label pairs in their order, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value = match value {
                "+Inf" => f64::INFINITY,
                value => value.parse().unwrap(),
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').unwrap()),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once("=\"").unwrap();
                    (key.to_owned(), value.trim_end_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

fn label<'a>(sample: &'a Sample, key: &str) -> Option<&'a str> {
    sample
        .labels
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// Sum of `name`'s samples whose labels include every pair of `with`.
fn total(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            with.iter()
                .all(|(key, value)| label(sample, key) == Some(value))
        })
        .map(|sample| sample.value)
        .sum()
}

/// Label pairs sorted by name with `le` last; the node's labels on every `livekit_` series
/// and no room label; none on the process collector's.
/// Two scrapes `span` apart, for what the counters did in between.
struct Window {
    before: Vec<Sample>,
    after: Vec<Sample>,
}

impl Window {
    async fn scraped(sandbox: &Sandbox, span: Duration) -> Self {
        let before = samples(&scrape(sandbox).await);
        tokio::time::sleep(span).await;
        let after = samples(&scrape(sandbox).await);
        Self { before, after }
    }

    fn delta(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        total(&self.after, name, with) - total(&self.before, name, with)
    }

    /// As monitoring tools compute it: lost ÷ (received the first time + lost), incoming.
    fn incoming_loss_pct(&self) -> f64 {
        let lost = self.delta("livekit_packet_loss_total", &[("direction", "incoming")]);
        let received = self.delta(
            "livekit_packet_total",
            &[("direction", "incoming"), ("transmission", "initial")],
        );
        100.0 * lost / (received + lost)
    }
}

fn check_labels(samples: &[Sample], node_id: &str) {
    for sample in samples {
        let names: Vec<&str> = sample.labels.iter().map(|(key, _)| key.as_str()).collect();
        let without_le: Vec<&str> = names.iter().copied().filter(|key| *key != "le").collect();
        let mut sorted = without_le.clone();
        sorted.sort_unstable();
        assert_eq!(without_le, sorted, "labels sorted by name: {sample:?}");
        if names.contains(&"le") {
            assert_eq!(names.last(), Some(&"le"), "le comes last: {sample:?}");
        }
        if sample.name.starts_with("livekit_") {
            assert_eq!(label(sample, "node_id"), Some(node_id), "{sample:?}");
            assert_eq!(label(sample, "node_type"), Some("SERVER"), "{sample:?}");
            assert!(label(sample, "room").is_none());
        } else {
            assert!(sample.labels.is_empty(), "{sample:?}");
        }
    }
}

type Buckets = Vec<(String, f64)>;

/// Every histogram series: cumulative buckets ending at +Inf, which equals `_count`.
fn check_histograms(samples: &[Sample]) {
    // Every histogram series: cumulative buckets ending at +Inf, which equals _count.
    for family in [
        "livekit_packet_loss_percent",
        "livekit_jitter_us",
        "livekit_rtt_ms",
        "livekit_quality_rating",
        "livekit_quality_score",
    ] {
        let mut series: BTreeMap<Vec<(String, String)>, Buckets> = BTreeMap::new();
        for sample in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let key: Vec<_> = sample
                .labels
                .iter()
                .filter(|(k, _)| k != "le")
                .cloned()
                .collect();
            series
                .entry(key)
                .or_default()
                .push((label(sample, "le").unwrap().to_owned(), sample.value));
        }
        assert!(!series.is_empty(), "{family} has series");
        for (key, buckets) in series {
            assert!(
                buckets.windows(2).all(|pair| pair[0].1 <= pair[1].1),
                "{family} {key:?} cumulative: {buckets:?}"
            );
            let (last_le, last_count) = buckets.last().unwrap();
            assert_eq!(last_le, "+Inf");
            let count = samples
                .iter()
                .find(|s| s.name == format!("{family}_count") && s.labels == key)
                .expect("a _count per series")
                .value;
            assert!(
                (count - last_count).abs() < f64::EPSILON,
                "{family} {key:?}"
            );
            assert!(
                samples
                    .iter()
                    .any(|s| s.name == format!("{family}_sum") && s.labels == key)
            );
        }
    }
}

#[tokio::test]
async fn every_family_is_there_in_gos_text_format_with_the_node_labels() {
    tokio::time::timeout(
        BOUND,
        Box::pin(async {
            let sandbox = sandbox_with_metrics(None).await;
            fill(&sandbox, 2, 3);
            let client = RoomClient::with_api_key(&sandbox.url(), KEY, SECRET).with_failover(false);
            client.list_rooms(Vec::new()).await.unwrap();
            assert!(client.delete_room("nowhere").await.is_err());
            // The histograms are observed once a second.
            tokio::time::sleep(Duration::from_millis(1_300)).await;
            let text = scrape(&sandbox).await;
            let node_id = sandbox.node_id();
            assert!(
                node_id.starts_with("ND_") && node_id.len() == 15,
                "{node_id}"
            );

            for (family, kind) in FAMILIES {
                assert!(
                    text.contains(&format!("\n# HELP {family} "))
                        || text.starts_with(&format!("# HELP {family} ")),
                    "no HELP for {family}:\n{text}"
                );
                assert!(
                    text.contains(&format!("# TYPE {family} {kind}\n")),
                    "no TYPE for {family}"
                );
            }
            let samples = samples(&text);
            check_labels(&samples, &node_id);
            check_histograms(&samples);
            // livekit's buckets, as Go writes them.
            assert!(text.contains("le=\"1e+06\""), "jitter's 1 s bucket");
            assert!(
                text.contains("livekit_quality_score_bucket{node_id=\"")
                    && text.contains(",le=\"3.25\"}")
            );

            assert!((total(&samples, "livekit_room_total", &[]) - 2.0).abs() < f64::EPSILON);
            assert!((total(&samples, "livekit_participant_total", &[]) - 6.0).abs() < f64::EPSILON);
            assert!(
                (total(
                    &samples,
                    "livekit_track_published_total",
                    &[("kind", "video")]
                ) - 6.0)
                    .abs()
                    < f64::EPSILON
            );
            assert!(
                (total(
                    &samples,
                    "livekit_track_subscribed_total",
                    &[("kind", "audio")]
                ) - 12.0)
                    .abs()
                    < f64::EPSILON
            );
            assert!(
                total(
                    &samples,
                    "livekit_participant_join_total",
                    &[("state", "rtc_success"), ("warp", "false")]
                ) >= 6.0
            );
            let listed = [
                ("service", "RoomService"),
                ("method", "ListRooms"),
                ("status", "200"),
                ("code", ""),
            ];
            assert!(
                (total(&samples, "livekit_node_twirp_request_status", &listed) - 1.0).abs()
                    < f64::EPSILON,
                "{text}"
            );
            let missing = [
                ("method", "DeleteRoom"),
                ("status", "4xx"),
                ("code", "not_found"),
            ];
            assert!(
                (total(&samples, "livekit_node_twirp_request_status", &missing) - 1.0).abs()
                    < f64::EPSILON
            );
            assert!(total(&samples, "process_resident_memory_bytes", &[]) > 1e6);
            for country in ["US", "DE", "IN"] {
                assert!(
                    text.contains(&format!("country=\"{country}\"")) || country != "US",
                    "{country}"
                );
            }
            assert!(text.contains("source=\"CAMERA\",type=\"VIDEO\""));
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("the test finishes in time");
}

#[tokio::test]
async fn packet_loss_between_two_scrapes_is_the_injected_loss() {
    tokio::time::timeout(
        BOUND,
        Box::pin(async {
            let sandbox = sandbox_with_metrics(None).await;
            fill(&sandbox, 4, 4);
            let fault = MediaFault {
                loss_pct: Some(8.0),
                rtt_ms: Some(250.0),
                jitter_ms: Some(40.0),
            };
            sandbox
                .set_faults(Faults {
                    media: Some(fault),
                    ..Faults::default()
                })
                .await
                .unwrap();
            assert!(!sandbox.faults().is_clear());

            let lossy = Window::scraped(&sandbox, Duration::from_millis(1_500)).await;
            let loss_pct = lossy.incoming_loss_pct();
            assert!((6.5..=9.5).contains(&loss_pct), "loss {loss_pct} %");
            assert!(lossy.delta("livekit_nack_total", &[]) > 0.0);
            assert!(lossy.delta("livekit_packet_total", &[("transmission", "retransmit")]) > 0.0);

            sandbox.clear_faults().await;
            let healthy = Window::scraped(&sandbox, Duration::from_secs(1))
                .await
                .incoming_loss_pct();
            assert!(healthy < 1.0, "healthy loss {healthy} %");
            sandbox.shutdown().await;
        }),
    )
    .await
    .expect("the test finishes in time");
}

#[tokio::test]
async fn basic_auth_refuses_without_the_credentials_as_livekit_does() {
    tokio::time::timeout(BOUND, async {
        let password = SecretString::from("scrape-password");
        let sandbox = sandbox_with_metrics(Some(("prometheus".to_owned(), password))).await;
        let url = sandbox.metrics_url().unwrap();
        let client = http_client();

        let missing = client.get(&url).send().await.unwrap();
        assert_eq!(missing.status(), 401);
        let challenge = missing.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic"), "{challenge}");
        let with = |user: &'static str, password: &'static str| {
            client.get(&url).basic_auth(user, Some(password)).send()
        };
        for (user, password) in [("prometheus", "guess"), ("someone", "scrape-password")] {
            let refused = with(user, password).await.unwrap();
            assert_eq!(refused.status(), 401, "{user}:{password}");
        }

        let right = with("prometheus", "scrape-password").await.unwrap();
        assert_eq!(right.status(), 200);
        assert!(
            right
                .text()
                .await
                .unwrap()
                .contains("# TYPE livekit_room_total gauge")
        );
        sandbox.shutdown().await;
    })
    .await
    .expect("the test finishes in time");
}

fn admin_token() -> String {
    livekit_api::access_token::AccessToken::with_api_key(KEY, SECRET)
        .with_grants(livekit_api::access_token::VideoGrants {
            room_list: true,
            ..Default::default()
        })
        .to_jwt()
        .unwrap()
}

#[tokio::test]
async fn the_admin_endpoint_sets_media_faults_drains_and_shows_the_node() {
    tokio::time::timeout(BOUND, async {
        let sandbox = sandbox_with_metrics(None).await;
        let client = http_client();
        let admin = |path: &str| format!("{}/sandbox/{path}", sandbox.url());
        let token = admin_token();

        let set = client
            .put(admin("faults"))
            .bearer_auth(&token)
            .body(r#"{"media":{"loss_pct":8,"rtt_ms":250,"jitter_ms":40}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), 200);
        let media = sandbox.faults().media.unwrap();
        assert_eq!(
            (media.loss_pct, media.rtt_ms, media.jitter_ms),
            (Some(8.0), Some(250.0), Some(40.0))
        );

        let refused = client
            .put(admin("faults"))
            .bearer_auth(&token)
            .body(r#"{"media":{"loss_pct":101}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["msg"], "media.loss_pct is 101; allowed 0.0..=100.0");

        let drain = client
            .post(admin("disruptions"))
            .bearer_auth(&token)
            .body(r#"{"kind":"drain"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(drain.status(), 202);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while sandbox.node_state() != livekit_protocol::NodeState::ShuttingDown {
            assert!(tokio::time::Instant::now() < deadline, "drained in time");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let status: serde_json::Value = client
            .get(admin("status"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["node"]["id"], sandbox.node_id());
        assert_eq!(status["node"]["region"], "");
        assert_eq!(status["node"]["state"], "SHUTTING_DOWN");
        assert_eq!(
            status["metrics"],
            sandbox.metrics_addr().unwrap().to_string()
        );
        assert_eq!(status["faults"]["media"]["loss_pct"], 8.0);
        sandbox.shutdown().await;
    })
    .await
    .expect("the test finishes in time");
}
