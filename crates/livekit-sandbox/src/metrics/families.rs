//! livekit-server's metric families, with its names, labels and buckets, filled from the
//! sandbox: the rooms, the media model, the Twirp answers and this process.

use std::collections::BTreeMap;

use super::text::{Family, Kind, Series, Value};
use crate::media::{Histogram, MediaModel, RoomSnapshot, StreamLabels};
use crate::node::host::ProcessUsage;
use crate::server::TwirpStatus;

/// The const labels of every `livekit_` series.
pub(crate) struct NodeLabels<'a> {
    pub node_id: &'a str,
    pub node_type: &'static str,
}

impl NodeLabels<'_> {
    fn with(&self, mut labels: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
        labels.push(("node_id", self.node_id.to_owned()));
        labels.push(("node_type", self.node_type.to_owned()));
        labels
    }
}

/// Every family the sandbox serves.
pub(crate) fn families(
    node: &NodeLabels<'_>,
    media: &MediaModel,
    rooms: &RoomSnapshot,
    twirp: &BTreeMap<TwirpStatus, u64>,
    process: Option<ProcessUsage>,
) -> Vec<Family> {
    let mut families = vec![
        gauge(
            "livekit_room_total",
            vec![(node.with(vec![]), count(rooms.rooms))],
        ),
        gauge(
            "livekit_participant_total",
            vec![(node.with(vec![]), count(rooms.participants.len()))],
        ),
        gauge(
            "livekit_track_published_total",
            by_kind(node, rooms.published),
        ),
        gauge(
            "livekit_track_subscribed_total",
            by_kind(node, rooms.subscribed),
        ),
        counter("livekit_packet_total", packet_series(node, &media.packets)),
        counter("livekit_packet_bytes", packet_series(node, &media.bytes)),
        counter("livekit_nack_total", rtcp_series(node, &media.nacks)),
        counter("livekit_pli_total", rtcp_series(node, &media.plis)),
        counter("livekit_fir_total", rtcp_series(node, &media.firs)),
        counter(
            "livekit_packet_loss_total",
            media
                .lost
                .iter()
                .map(|(labels, lost)| (node.with(stream_labels(labels)), lost.floor()))
                .collect(),
        ),
        histogram(
            "livekit_packet_loss_percent",
            stream_histograms(node, &media.loss_percent),
        ),
        histogram(
            "livekit_jitter_us",
            stream_histograms(node, &media.jitter_us),
        ),
        histogram("livekit_rtt_ms", stream_histograms(node, &media.rtt_ms)),
        counter(
            "livekit_participant_join_total",
            media
                .joins
                .counts()
                .iter()
                .map(|((state, warp), joins)| {
                    let labels = vec![("state", (*state).to_owned()), ("warp", (*warp).to_owned())];
                    (node.with(labels), whole(*joins))
                })
                .collect(),
        ),
        counter(
            "livekit_node_twirp_request_status",
            twirp
                .iter()
                .map(|(status, answers)| {
                    let labels = vec![
                        ("service", "RoomService".to_owned()),
                        ("method", status.method.to_owned()),
                        ("status", status.status.clone()),
                        ("code", status.code.to_owned()),
                    ];
                    (node.with(labels), whole(*answers))
                })
                .collect(),
        ),
        // Plain histograms, not vectors: client_golang shows them before any observation.
        histogram(
            "livekit_quality_rating",
            vec![(node.with(vec![]), &media.quality_rating)],
        ),
        histogram(
            "livekit_quality_score",
            vec![(node.with(vec![]), &media.quality_score)],
        ),
    ];
    if let Some(process) = process {
        families.push(Family {
            name: "process_cpu_seconds_total",
            help: "Total user and system CPU time spent in seconds.",
            kind: Kind::Counter,
            series: vec![Series {
                labels: vec![],
                value: Value::Number(process.cpu_seconds),
            }],
        });
        families.push(Family {
            name: "process_resident_memory_bytes",
            help: "Resident memory size in bytes.",
            kind: Kind::Gauge,
            series: vec![Series {
                labels: vec![],
                value: Value::Number(whole(process.resident_bytes)),
            }],
        });
    }
    families
}

type Labels = Vec<(&'static str, String)>;

fn gauge(name: &'static str, series: Vec<(Labels, f64)>) -> Family {
    numbers(name, Kind::Gauge, series)
}

fn counter(name: &'static str, series: Vec<(Labels, f64)>) -> Family {
    numbers(name, Kind::Counter, series)
}

fn numbers(name: &'static str, kind: Kind, series: Vec<(Labels, f64)>) -> Family {
    Family {
        name,
        // livekit-server sets no help on these; client_golang still writes the line.
        help: "",
        kind,
        series: series
            .into_iter()
            .map(|(labels, value)| Series {
                labels,
                value: Value::Number(value),
            })
            .collect(),
    }
}

fn histogram(name: &'static str, series: Vec<(Labels, &Histogram)>) -> Family {
    Family {
        name,
        help: "",
        kind: Kind::Histogram,
        series: series
            .into_iter()
            .map(|(labels, histogram)| Series {
                labels,
                value: Value::Histogram {
                    buckets: histogram.cumulative().collect(),
                    sum: histogram.sum(),
                    count: histogram.count(),
                },
            })
            .collect(),
    }
}

fn by_kind(node: &NodeLabels<'_>, counts: [usize; 2]) -> Vec<(Labels, f64)> {
    ["audio", "video"]
        .into_iter()
        .zip(counts)
        .map(|(kind, tracks)| (node.with(vec![("kind", kind.to_owned())]), count(tracks)))
        .collect()
}

fn packet_series(
    node: &NodeLabels<'_>,
    counters: &BTreeMap<crate::media::PacketLabels, f64>,
) -> Vec<(Labels, f64)> {
    counters
        .iter()
        .map(|(labels, value)| {
            let pairs = vec![
                ("direction", labels.direction.as_str().to_owned()),
                ("transmission", labels.transmission.as_str().to_owned()),
                ("country", labels.country.to_owned()),
            ];
            (node.with(pairs), value.floor())
        })
        .collect()
}

fn rtcp_series(
    node: &NodeLabels<'_>,
    counters: &BTreeMap<crate::media::RtcpLabels, f64>,
) -> Vec<(Labels, f64)> {
    counters
        .iter()
        .map(|(labels, value)| {
            let pairs = vec![
                ("direction", labels.direction.as_str().to_owned()),
                ("country", labels.country.to_owned()),
            ];
            (node.with(pairs), value.floor())
        })
        .collect()
}

fn stream_labels(labels: &StreamLabels) -> Labels {
    vec![
        ("direction", labels.direction.as_str().to_owned()),
        ("source", labels.source_name().to_owned()),
        ("type", labels.kind_name().to_owned()),
        ("country", labels.country.to_owned()),
    ]
}

fn stream_histograms<'a>(
    node: &NodeLabels<'_>,
    histograms: &'a BTreeMap<StreamLabels, Histogram>,
) -> Vec<(Labels, &'a Histogram)> {
    histograms
        .iter()
        .map(|(labels, histogram)| (node.with(stream_labels(labels)), histogram))
        .collect()
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
fn count(value: usize) -> f64 {
    value as f64
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
fn whole(value: u64) -> f64 {
    value as f64
}
