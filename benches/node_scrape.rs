//! What watching a 16-node cluster's media plane costs lktop: each scrape of each node's
//! Prometheus endpoint is parsed and turned into rates and percentiles against the previous
//! one. The expositions are the size of a busy livekit-server's: every family lktop reads plus
//! the ones it skips (packet-loss and out-of-order histograms, Twirp latency, Go runtime),
//! stream labels over 20 countries and three track sources, 30 Twirp methods.
//!
//! The peer is `prometheus-parse`, the most used Rust reader of the format, parsing the same
//! bytes (parse only: it computes no rates).
//!
//! `cargo bench --bench node_scrape` prints µs per node-exposition (median of 200 scrapes of
//! all 16 nodes), its size, and the share of one core this takes at a 10 s interval.

#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::too_many_lines,
    reason = "a bench: small counts printed as floats; the exposition writer is one long list"
)]

#[path = "support/machine.rs"]
mod machine;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use lktop::nodes::NodeScrape;

const NODES: usize = 16;
const ROUNDS: usize = 200;
const INTERVAL: Duration = Duration::from_secs(10);
const COUNTRIES: [&str; 20] = [
    "US", "DE", "IN", "BR", "GB", "FR", "JP", "SG", "AU", "CA", "NL", "ES", "IT", "KR", "MX", "ZA",
    "SE", "PL", "TR", "AE",
];
const STREAMS: [(&str, &str); 3] = [
    ("CAMERA", "VIDEO"),
    ("MICROPHONE", "AUDIO"),
    ("SCREEN_SHARE", "VIDEO"),
];

/// One node's exposition at `tick` (counters grow with it), in `client_golang`'s format.
fn exposition(node: usize, tick: u64) -> String {
    let labels = format!("node_id=\"ND_bench{node:02}\",node_type=\"SERVER\"");
    let mut out = String::with_capacity(1 << 20);
    let grow = |base: u64| base * (tick + 1);
    let histogram = |out: &mut String, name: &str, bounds: &[f64], stream: &str| {
        let mut cumulative = 0;
        for (index, bound) in bounds.iter().enumerate() {
            cumulative += grow(10 + index as u64);
            let _ = writeln!(
                out,
                "{name}_bucket{{{stream},le=\"{bound}\",{labels}}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{stream},le=\"+Inf\",{labels}}} {cumulative}"
        );
        let _ = writeln!(out, "{name}_sum{{{stream},{labels}}} {}", cumulative * 37);
        let _ = writeln!(out, "{name}_count{{{stream},{labels}}} {cumulative}");
    };
    for index in 0..60 {
        let _ = writeln!(out, "# HELP go_memstats_{index} Go runtime figure {index}.");
        let _ = writeln!(
            out,
            "# TYPE go_memstats_{index} gauge\ngo_memstats_{index} {}",
            grow(1000)
        );
    }
    out.push_str("# TYPE livekit_room_total gauge\n");
    let _ = writeln!(out, "livekit_room_total{{{labels}}} 120");
    out.push_str("# TYPE livekit_participant_total gauge\n");
    let _ = writeln!(out, "livekit_participant_total{{{labels}}} 2400");
    for family in ["published", "subscribed"] {
        let _ = writeln!(out, "# TYPE livekit_track_{family}_total gauge");
        for kind in ["audio", "video"] {
            let _ = writeln!(
                out,
                "livekit_track_{family}_total{{kind=\"{kind}\",{labels}}} 900"
            );
        }
    }
    for family in ["livekit_packet_total", "livekit_packet_bytes"] {
        let _ = writeln!(out, "# TYPE {family} counter");
        for country in COUNTRIES {
            for direction in ["incoming", "outgoing"] {
                for transmission in ["initial", "retransmit"] {
                    let _ = writeln!(
                        out,
                        "{family}{{country=\"{country}\",direction=\"{direction}\",{labels},transmission=\"{transmission}\"}} {}",
                        grow(1_000_000)
                    );
                }
            }
        }
    }
    for family in [
        "livekit_nack_total",
        "livekit_pli_total",
        "livekit_fir_total",
    ] {
        let _ = writeln!(out, "# TYPE {family} counter");
        for country in COUNTRIES {
            for direction in ["incoming", "outgoing"] {
                let _ = writeln!(
                    out,
                    "{family}{{country=\"{country}\",direction=\"{direction}\",{labels}}} {}",
                    grow(500)
                );
            }
        }
    }
    let histograms: [(&str, &[f64]); 5] = [
        (
            "livekit_packet_loss_percent",
            &[0.0, 0.1, 0.3, 0.5, 0.7, 1.0, 5.0, 10.0, 40.0, 100.0],
        ),
        (
            "livekit_packet_out_of_order_percent",
            &[0.0, 0.1, 0.3, 0.5, 0.7, 1.0, 5.0, 10.0, 40.0, 100.0],
        ),
        (
            "livekit_jitter_us",
            &[1e3, 1e4, 3e4, 5e4, 7e4, 1e5, 3e5, 6e5, 1e6],
        ),
        (
            "livekit_rtt_ms",
            &[
                50.0, 100.0, 150.0, 200.0, 250.0, 500.0, 750.0, 1000.0, 5000.0, 10000.0,
            ],
        ),
        ("livekit_packet_loss_total", &[]),
    ];
    for (family, bounds) in histograms {
        let kind = if bounds.is_empty() {
            "counter"
        } else {
            "histogram"
        };
        let _ = writeln!(out, "# TYPE {family} {kind}");
        for country in COUNTRIES {
            for direction in ["incoming", "outgoing"] {
                for (source, track) in STREAMS {
                    let stream = format!(
                        "country=\"{country}\",direction=\"{direction}\",source=\"{source}\",type=\"{track}\""
                    );
                    if bounds.is_empty() {
                        let _ = writeln!(out, "{family}{{{stream},{labels}}} {}", grow(300));
                    } else {
                        histogram(&mut out, family, bounds, &stream);
                    }
                }
            }
        }
    }
    out.push_str("# TYPE livekit_quality_score histogram\n");
    histogram(
        &mut out,
        "livekit_quality_score",
        &[1.0, 2.0, 2.5, 3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5],
        "kind=\"all\"",
    );
    out.push_str("# TYPE livekit_participant_join_total counter\n");
    for state in [
        "signal_connected",
        "signal_failed",
        "rtc_init",
        "rtc_connected",
        "rtc_active",
        "rtc_success",
        "rtc_failure",
    ] {
        let _ = writeln!(
            out,
            "livekit_participant_join_total{{{labels},state=\"{state}\",warp=\"false\"}} {}",
            grow(40)
        );
    }
    out.push_str("# TYPE livekit_node_twirp_request_status counter\n");
    out.push_str("# TYPE livekit_node_twirp_request_latency_ms histogram\n");
    for method in 0..30 {
        let call = format!("method=\"Method{method}\",service=\"RoomService\"");
        let _ = writeln!(
            out,
            "livekit_node_twirp_request_status{{code=\"\",{call},{labels},status=\"200\"}} {}",
            grow(900)
        );
        let _ = writeln!(
            out,
            "livekit_node_twirp_request_status{{code=\"not_found\",{call},{labels},status=\"4xx\"}} {}",
            grow(3)
        );
        histogram(
            &mut out,
            "livekit_node_twirp_request_latency_ms",
            &[
                5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
                30000.0, 60000.0,
            ],
            &format!("{call},status=\"200\""),
        );
    }
    let _ = writeln!(
        out,
        "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}",
        grow(7)
    );
    let _ = writeln!(
        out,
        "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 7.4e+08"
    );
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    println!("{}", machine::machine_line());
    let rounds: Vec<Vec<String>> = (0..2)
        .map(|tick| (0..NODES).map(|node| exposition(node, tick)).collect())
        .collect();
    let bytes = rounds[1][0].len();
    let lines = rounds[1][0].lines().count();
    let before: Vec<NodeScrape> = rounds[0]
        .iter()
        .map(|text| NodeScrape::parse(text).expect("the bench's exposition parses"))
        .collect();

    let mut ours = Vec::with_capacity(ROUNDS);
    let mut peer = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for (text, earlier) in rounds[1].iter().zip(&before) {
            let now = NodeScrape::parse(text).expect("parses");
            black_box(now.health_since(earlier, INTERVAL));
        }
        ours.push(started.elapsed() / NODES as u32);

        let started = Instant::now();
        for text in &rounds[1] {
            let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
                .expect("the peer parses it");
            black_box(scrape.samples.len());
        }
        peer.push(started.elapsed() / NODES as u32);
    }
    let ours = median(ours);
    let peer = median(peer);
    let share = ours.as_secs_f64() * NODES as f64 / INTERVAL.as_secs_f64() * 100.0;
    println!(
        "node exposition: {bytes} bytes, {lines} lines; {NODES} nodes, median of {ROUNDS} scrapes"
    );
    println!(
        "lktop parse + rates + percentiles: {:>8.0} µs per node-exposition ({:.0} MB/s)",
        ours.as_secs_f64() * 1e6,
        bytes as f64 / ours.as_secs_f64() / 1e6
    );
    println!(
        "prometheus-parse, parse only:      {:>8.0} µs per node-exposition ({:.1}x lktop's time)",
        peer.as_secs_f64() * 1e6,
        peer.as_secs_f64() / ours.as_secs_f64()
    );
    println!(
        "{NODES} nodes every {}s: {share:.3} % of one core (goal: under 2 ms per node-exposition, under 1 %)",
        INTERVAL.as_secs()
    );
}
