//! The sandbox's simulated media, as livekit-server's telemetry would count it: packets and
//! bytes of every published track in and out, losses, NACKs, PLIs, RTT, jitter, a quality
//! score, and participants' joins.
//!
//! The model is driven by the live rooms (a [`RoomSnapshot`] per step) and the media fault in
//! force, and advanced by real elapsed time: counters grow by rate × elapsed, histograms get
//! one observation per stream per second. Counters are kept exact (fractional) and shown
//! rounded down, so they are whole numbers that only grow and whose ratios are as drawn: the
//! incoming loss `lost ÷ (received + lost)` is the loss each stream was given.
//!
//! Here the model and its step; `labels` has the label values, `snapshot` what is read from
//! the rooms, `conditions` the network each stream meets, `histogram` and `joins` their
//! counts, `live` the model of a running sandbox.

mod conditions;
mod histogram;
mod joins;
mod labels;
pub(crate) mod live;
mod snapshot;

use std::collections::BTreeMap;
use std::time::Duration;

use livekit_protocol as proto;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) use conditions::Conditions;
use conditions::StreamConditions;
pub(crate) use histogram::Histogram;
pub(crate) use joins::Joins;
pub(crate) use labels::{Direction, PacketLabels, RtcpLabels, StreamLabels, Transmission};
pub(crate) use snapshot::RoomSnapshot;

use crate::faults::MediaFault;

/// livekit's `livekit_packet_loss_percent` buckets.
pub(crate) const LOSS_PERCENT_BUCKETS: &[f64] =
    &[0.0, 0.1, 0.3, 0.5, 0.7, 1.0, 5.0, 10.0, 40.0, 100.0];
/// livekit's `livekit_jitter_us` buckets.
pub(crate) const JITTER_US_BUCKETS: &[f64] = &[
    1_000.0,
    10_000.0,
    30_000.0,
    50_000.0,
    70_000.0,
    100_000.0,
    300_000.0,
    600_000.0,
    1_000_000.0,
];
/// livekit's `livekit_rtt_ms` buckets.
pub(crate) const RTT_MS_BUCKETS: &[f64] = &[
    50.0, 100.0, 150.0, 200.0, 250.0, 500.0, 750.0, 1_000.0, 5_000.0, 10_000.0,
];
/// livekit's `livekit_quality_rating` buckets.
pub(crate) const QUALITY_RATING_BUCKETS: &[f64] = &[0.0, 1.0, 2.0];
/// livekit's `livekit_quality_score` buckets.
pub(crate) const QUALITY_SCORE_BUCKETS: &[f64] =
    &[1.0, 2.0, 2.5, 3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5];

/// NACKs sent per packet lost: most losses are asked for again.
const NACKS_PER_LOSS: f64 = 0.9;
/// Retransmissions per NACK: some come too late to be worth sending.
const RETRANSMITS_PER_NACK: f64 = 0.8;
/// PLIs per second of a video stream with no loss, and how many more per unit of loss.
const PLI_PER_SEC: (f64, f64) = (0.02, 3.0);
/// FIRs per second of a video stream: rare, from old clients.
const FIR_PER_SEC: f64 = 0.002;
/// Histograms are observed once per stream per this much time, as livekit's stats workers do.
const OBSERVE_EVERY: Duration = Duration::from_secs(1);

/// Running totals of the whole node, as livekit-server keeps them for `NodeStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct NodeTotals {
    pub bytes_in: f64,
    pub bytes_out: f64,
    pub packets_in: f64,
    pub packets_out: f64,
    pub retransmit_bytes_out: f64,
    pub retransmit_packets_out: f64,
    pub nack_total: f64,
}

/// Everything the media families count.
#[derive(Debug, Clone)]
pub(crate) struct MediaModel {
    rng: ChaCha8Rng,
    since_observed: Duration,
    pub(crate) packets: BTreeMap<PacketLabels, f64>,
    pub(crate) bytes: BTreeMap<PacketLabels, f64>,
    pub(crate) nacks: BTreeMap<RtcpLabels, f64>,
    pub(crate) plis: BTreeMap<RtcpLabels, f64>,
    pub(crate) firs: BTreeMap<RtcpLabels, f64>,
    pub(crate) lost: BTreeMap<StreamLabels, f64>,
    pub(crate) loss_percent: BTreeMap<StreamLabels, Histogram>,
    pub(crate) jitter_us: BTreeMap<StreamLabels, Histogram>,
    pub(crate) rtt_ms: BTreeMap<StreamLabels, Histogram>,
    pub(crate) quality_rating: Histogram,
    pub(crate) quality_score: Histogram,
    pub(crate) joins: Joins,
    pub(crate) totals: NodeTotals,
}

/// What one stream (a track's way in, or its way out to one subscriber) carried in a step.
struct StreamStep {
    labels: StreamLabels,
    conditions: StreamConditions,
    /// Packets that arrived (incoming) or were sent (outgoing), first transmissions.
    packets: f64,
    lost: f64,
    bytes_per_packet: f64,
    video: bool,
}

impl MediaModel {
    #[must_use]
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            // Its own stream, so the media does not shift the simulation's random choices.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x3ed1_a000),
            since_observed: Duration::ZERO,
            packets: BTreeMap::new(),
            bytes: BTreeMap::new(),
            nacks: BTreeMap::new(),
            plis: BTreeMap::new(),
            firs: BTreeMap::new(),
            lost: BTreeMap::new(),
            loss_percent: BTreeMap::new(),
            jitter_us: BTreeMap::new(),
            rtt_ms: BTreeMap::new(),
            quality_rating: Histogram::new(QUALITY_RATING_BUCKETS),
            quality_score: Histogram::new(QUALITY_SCORE_BUCKETS),
            joins: Joins::default(),
            totals: NodeTotals::default(),
        }
    }

    /// Counts `elapsed` of media flowing as `rooms` has it, under `fault`.
    pub(crate) fn advance(
        &mut self,
        rooms: &RoomSnapshot,
        fault: Option<MediaFault>,
        elapsed: Duration,
    ) {
        let conditions = Conditions::new(fault);
        let failure_rate = conditions.join_failure_rate();
        self.joins.observe(
            rooms.participants.iter().map(|(sid, _)| sid.as_str()),
            failure_rate,
            &mut self.rng,
        );
        self.since_observed += elapsed;
        let observe = self.since_observed >= OBSERVE_EVERY;
        if observe {
            self.since_observed = Duration::ZERO;
        }
        let seconds = elapsed.as_secs_f64();
        for flow in &rooms.flows {
            let video = flow.kind == proto::TrackType::Video;
            let sent = flow.packets_per_sec * seconds;
            let incoming = conditions.draw(&mut self.rng);
            let received = sent * (1.0 - incoming.loss);
            let inbound = StreamStep {
                labels: StreamLabels {
                    direction: Direction::Incoming,
                    source: flow.source,
                    kind: flow.kind,
                    country: flow.country,
                },
                conditions: incoming,
                packets: received,
                lost: sent * incoming.loss,
                bytes_per_packet: flow.bytes_per_packet,
                video,
            };
            self.count(&inbound, seconds, observe);
            for subscriber in &flow.subscribers {
                let outgoing = conditions.draw(&mut self.rng);
                let outbound = StreamStep {
                    labels: StreamLabels {
                        direction: Direction::Outgoing,
                        country: subscriber,
                        ..inbound.labels
                    },
                    conditions: outgoing,
                    // What arrived is forwarded; the subscriber's link loses its share.
                    packets: received,
                    lost: received * outgoing.loss,
                    bytes_per_packet: flow.bytes_per_packet,
                    video,
                };
                self.count(&outbound, seconds, observe);
            }
        }
        if observe {
            for _ in &rooms.participants {
                let score = conditions.draw(&mut self.rng).mos();
                self.quality_score.observe(score);
                self.quality_rating.observe(StreamConditions::rating(score));
            }
        }
    }

    fn count(&mut self, step: &StreamStep, seconds: f64, observe: bool) {
        let StreamLabels {
            direction, country, ..
        } = step.labels;
        let rtcp = RtcpLabels { direction, country };
        let nacks = step.lost * NACKS_PER_LOSS;
        let retransmits = nacks * RETRANSMITS_PER_NACK;
        for (transmission, packets) in [
            (Transmission::Initial, step.packets),
            (Transmission::Retransmit, retransmits),
        ] {
            let labels = PacketLabels {
                direction,
                transmission,
                country,
            };
            *self.packets.entry(labels).or_default() += packets;
            *self.bytes.entry(labels).or_default() += packets * step.bytes_per_packet;
        }
        *self.nacks.entry(rtcp).or_default() += nacks;
        *self.lost.entry(step.labels).or_default() += step.lost;
        if step.video {
            let plis = (PLI_PER_SEC.0 + PLI_PER_SEC.1 * step.conditions.loss) * seconds;
            *self.plis.entry(rtcp).or_default() += plis;
            *self.firs.entry(rtcp).or_default() += FIR_PER_SEC * seconds;
        }

        let packets = step.packets + retransmits;
        let bytes = packets * step.bytes_per_packet;
        let totals = &mut self.totals;
        match direction {
            Direction::Incoming => {
                totals.packets_in += packets;
                totals.bytes_in += bytes;
            }
            Direction::Outgoing => {
                totals.packets_out += packets;
                totals.bytes_out += bytes;
                totals.retransmit_packets_out += retransmits;
                totals.retransmit_bytes_out += retransmits * step.bytes_per_packet;
            }
        }
        totals.nack_total += nacks;

        if observe {
            let noise: f64 = self.rng.random_range(0.9..=1.1);
            self.loss_percent
                .entry(step.labels)
                .or_insert_with(|| Histogram::new(LOSS_PERCENT_BUCKETS))
                .observe(step.conditions.loss * 100.0);
            self.jitter_us
                .entry(step.labels)
                .or_insert_with(|| Histogram::new(JITTER_US_BUCKETS))
                .observe((step.conditions.jitter_ms * 1_000.0 * noise).round());
            self.rtt_ms
                .entry(step.labels)
                .or_insert_with(|| Histogram::new(RTT_MS_BUCKETS))
                .observe(step.conditions.rtt_ms.round());
        }
    }
}

#[cfg(test)]
mod tests;
