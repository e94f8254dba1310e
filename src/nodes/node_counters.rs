//! One scrape of livekit-server's Prometheus endpoint reduced to what the node view needs,
//! per node: the gauges as read, the counters and histogram buckets as cumulative totals
//! (rates come from two of these, see `rates`).

use std::collections::BTreeMap;

use super::exposition::{Exposition, Sample};

/// A histogram summed over every label set but `le`: `(upper bound, cumulative count)` in
/// ascending order of bound, `+Inf` last.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Buckets(pub(crate) Vec<(f64, f64)>);

impl Buckets {
    fn add(&mut self, bound: f64, count: f64) {
        match self
            .0
            .iter_mut()
            .find(|(le, _)| le.total_cmp(&bound).is_eq())
        {
            Some((_, total)) => *total += count,
            None => self.0.push((bound, count)),
        }
    }

    fn sort(&mut self) {
        self.0.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
}

/// A node's figures at one scrape; `None` where its family was missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NodeCounters {
    pub(crate) node_type: Option<String>,
    pub(crate) rooms: Option<f64>,
    pub(crate) participants: Option<f64>,
    pub(crate) tracks_published: Option<f64>,
    pub(crate) tracks_subscribed: Option<f64>,
    pub(crate) rss_bytes: Option<f64>,
    pub(crate) bytes_in: Option<f64>,
    pub(crate) bytes_out: Option<f64>,
    pub(crate) packets_in: Option<f64>,
    pub(crate) packets_out: Option<f64>,
    /// `livekit_packet_total{direction="incoming",transmission="initial"}`: the denominator
    /// of packet loss with the lost packets.
    pub(crate) packets_in_initial: Option<f64>,
    pub(crate) lost_in: Option<f64>,
    pub(crate) nacks: Option<f64>,
    pub(crate) plis: Option<f64>,
    pub(crate) join_failures: Option<f64>,
    pub(crate) twirp_errors: Option<f64>,
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) rtt_ms: Option<Buckets>,
    pub(crate) jitter_us: Option<Buckets>,
    pub(crate) quality_score: Option<Buckets>,
}

fn add(slot: &mut Option<f64>, value: f64) {
    // A NaN sample would poison every sum after it.
    if value.is_finite() {
        *slot = Some(slot.unwrap_or(0.0) + value);
    } else {
        slot.get_or_insert(0.0);
    }
}

fn direction_is(sample: &Sample<'_>, direction: &str) -> bool {
    sample.label("direction").as_deref() == Some(direction)
}

impl NodeCounters {
    fn take(&mut self, sample: &Sample<'_>) {
        let value = sample.value;
        match sample.name {
            "livekit_room_total" => add(&mut self.rooms, value),
            "livekit_participant_total" => add(&mut self.participants, value),
            "livekit_track_published_total" => add(&mut self.tracks_published, value),
            "livekit_track_subscribed_total" => add(&mut self.tracks_subscribed, value),
            "process_resident_memory_bytes" => add(&mut self.rss_bytes, value),
            "process_cpu_seconds_total" => add(&mut self.cpu_seconds, value),
            "livekit_packet_bytes" => {
                if direction_is(sample, "incoming") {
                    add(&mut self.bytes_in, value);
                } else {
                    add(&mut self.bytes_out, value);
                }
            }
            "livekit_packet_total" => {
                if direction_is(sample, "incoming") {
                    add(&mut self.packets_in, value);
                    if sample.label("transmission").as_deref() == Some("initial") {
                        add(&mut self.packets_in_initial, value);
                    }
                } else {
                    add(&mut self.packets_out, value);
                }
            }
            "livekit_packet_loss_total" => {
                if direction_is(sample, "incoming") {
                    add(&mut self.lost_in, value);
                } else {
                    // The family is there: a node with no incoming loss has a loss of 0.
                    self.lost_in.get_or_insert(0.0);
                }
            }
            "livekit_nack_total" => add(&mut self.nacks, value),
            "livekit_pli_total" => add(&mut self.plis, value),
            "livekit_participant_join_total" => {
                let failed = sample
                    .label("state")
                    .is_some_and(|state| state.ends_with("failed") || state.ends_with("failure"));
                add(&mut self.join_failures, if failed { value } else { 0.0 });
            }
            "livekit_node_twirp_request_status" => {
                let error = sample.label("code").is_some_and(|code| !code.is_empty());
                add(&mut self.twirp_errors, if error { value } else { 0.0 });
            }
            "livekit_rtt_ms_bucket" => bucket(&mut self.rtt_ms, sample),
            "livekit_jitter_us_bucket" => bucket(&mut self.jitter_us, sample),
            "livekit_quality_score_bucket" => bucket(&mut self.quality_score, sample),
            _ => {}
        }
    }

    fn finish(&mut self) {
        for buckets in [
            &mut self.rtt_ms,
            &mut self.jitter_us,
            &mut self.quality_score,
        ]
        .into_iter()
        .flatten()
        {
            buckets.sort();
        }
    }

    /// Fills what this node's exposition left out from the process-wide series (which carry
    /// no `node_id`).
    fn take_process(&mut self, process: &NodeCounters) {
        if self.rss_bytes.is_none() {
            self.rss_bytes = process.rss_bytes;
        }
        if self.cpu_seconds.is_none() {
            self.cpu_seconds = process.cpu_seconds;
        }
    }
}

/// Whether `NodeCounters::take` reads samples named `name`.
fn is_read(name: &str) -> bool {
    matches!(
        name,
        "livekit_room_total"
            | "livekit_participant_total"
            | "livekit_track_published_total"
            | "livekit_track_subscribed_total"
            | "process_resident_memory_bytes"
            | "process_cpu_seconds_total"
            | "livekit_packet_bytes"
            | "livekit_packet_total"
            | "livekit_packet_loss_total"
            | "livekit_nack_total"
            | "livekit_pli_total"
            | "livekit_participant_join_total"
            | "livekit_node_twirp_request_status"
            | "livekit_rtt_ms_bucket"
            | "livekit_jitter_us_bucket"
            | "livekit_quality_score_bucket"
    )
}

fn bucket(slot: &mut Option<Buckets>, sample: &Sample<'_>) {
    let Some(bound) = sample.label("le").and_then(|le| le.parse::<f64>().ok()) else {
        return;
    };
    slot.get_or_insert_with(Buckets::default)
        .add(bound, sample.value);
}

/// Every node an exposition describes, by `node_id`.
///
/// # Errors
/// The exposition has no `livekit_` series with a `node_id`: it is not livekit-server's.
pub(crate) fn node_counters(
    exposition: &Exposition<'_>,
) -> Result<BTreeMap<String, NodeCounters>, String> {
    let mut nodes: BTreeMap<String, NodeCounters> = BTreeMap::new();
    let mut process = NodeCounters::default();
    // The node of the previous sample: series of one family come together, so most samples
    // need no map lookup.
    let mut current: Option<(String, NodeCounters)> = None;
    for sample in &exposition.samples {
        // Most of an exposition is families lktop does not read (Go runtime, latency and
        // loss-percent histograms): skipped before any label is looked at.
        if !is_read(sample.name) {
            continue;
        }
        let Some(node_id) = sample.label("node_id") else {
            process.take(sample);
            continue;
        };
        if current.as_ref().is_none_or(|(id, _)| *id != *node_id) {
            if let Some((id, counters)) = current.take() {
                nodes.insert(id, counters);
            }
            let id = node_id.into_owned();
            let counters = nodes.remove(&id).unwrap_or_default();
            current = Some((id, counters));
        }
        if let Some((_, counters)) = current.as_mut() {
            if counters.node_type.is_none() {
                counters.node_type = sample.label("node_type").map(std::borrow::Cow::into_owned);
            }
            counters.take(sample);
        }
    }
    if let Some((id, counters)) = current {
        nodes.insert(id, counters);
    }
    if nodes.is_empty() {
        return Err(
            "no livekit_ series with a node_id: this is not livekit-server's Prometheus \
             endpoint (its `prometheus.port`)"
                .to_owned(),
        );
    }
    // One process per endpoint: its CPU and memory belong to the node it serves, and cannot
    // be split when an endpoint speaks for more than one.
    if nodes.len() == 1
        && let Some(only) = nodes.values_mut().next()
    {
        only.take_process(&process);
    }
    for counters in nodes.values_mut() {
        counters.finish();
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_label_but_direction_and_keeps_nodes_apart() {
        let text = r#"
livekit_packet_total{country="US",direction="incoming",node_id="ND_a",node_type="SERVER",transmission="initial"} 900
livekit_packet_total{country="DE",direction="incoming",node_id="ND_a",node_type="SERVER",transmission="retransmit"} 100
livekit_packet_total{country="US",direction="outgoing",node_id="ND_a",node_type="SERVER",transmission="initial"} 5000
livekit_packet_loss_total{country="US",direction="incoming",node_id="ND_a",node_type="SERVER",source="CAMERA",type="VIDEO"} 10
livekit_participant_join_total{node_id="ND_a",node_type="SERVER",state="signal_failed",warp=""} 2
livekit_participant_join_total{node_id="ND_a",node_type="SERVER",state="rtc_failure",warp="false"} 1
livekit_participant_join_total{node_id="ND_a",node_type="SERVER",state="rtc_success",warp="false"} 40
livekit_node_twirp_request_status{code="",method="ListRooms",node_id="ND_a",node_type="SERVER",service="RoomService",status="200"} 50
livekit_node_twirp_request_status{code="not_found",method="DeleteRoom",node_id="ND_a",node_type="SERVER",service="RoomService",status="4xx"} 3
livekit_rtt_ms_bucket{country="US",direction="incoming",le="50",node_id="ND_a",node_type="SERVER",source="CAMERA",type="VIDEO"} 4
livekit_rtt_ms_bucket{country="US",direction="incoming",le="+Inf",node_id="ND_a",node_type="SERVER",source="CAMERA",type="VIDEO"} 5
livekit_rtt_ms_bucket{country="DE",direction="incoming",le="50",node_id="ND_a",node_type="SERVER",source="CAMERA",type="VIDEO"} 1
livekit_rtt_ms_bucket{country="DE",direction="incoming",le="+Inf",node_id="ND_a",node_type="SERVER",source="CAMERA",type="VIDEO"} 3
livekit_room_total{node_id="ND_b",node_type="SERVER"} 7
process_cpu_seconds_total 12.5
"#;
        let nodes = node_counters(&Exposition::parse(text).unwrap()).unwrap();
        let a = &nodes["ND_a"];
        assert_eq!(a.node_type.as_deref(), Some("SERVER"));
        assert_eq!(a.packets_in, Some(1000.0));
        assert_eq!(a.packets_in_initial, Some(900.0));
        assert_eq!(a.packets_out, Some(5000.0));
        assert_eq!(a.lost_in, Some(10.0));
        assert_eq!(a.join_failures, Some(3.0), "signal_failed and rtc_failure");
        assert_eq!(a.twirp_errors, Some(3.0));
        assert_eq!(
            a.rtt_ms,
            Some(Buckets(vec![(50.0, 5.0), (f64::INFINITY, 8.0)]))
        );
        assert_eq!(a.rooms, None, "a missing family is unknown, not zero");
        assert_eq!(nodes["ND_b"].rooms, Some(7.0));
        assert_eq!(
            a.cpu_seconds, None,
            "two nodes share the endpoint's process"
        );
    }

    #[test]
    fn an_exposition_without_livekit_series_is_refused() {
        let text = "go_goroutines 12\nprocess_cpu_seconds_total 3\n";
        let error = node_counters(&Exposition::parse(text).unwrap()).unwrap_err();
        assert!(error.contains("not livekit-server's"), "{error}");
    }
}
