//! `livekit.Node` and its `NodeStats`, filled from the live rooms, the media model and the
//! host, with per-second figures over the last update and livekit-server's `rates` windows.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livekit_protocol as proto;
use tokio::time::Instant;

use super::NodeIdentity;
use super::host;
use crate::media::{MediaModel, NodeTotals, RoomSnapshot};

#[must_use]
pub(crate) fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The CPUs this process may use, as Go's `runtime.NumCPU`.
#[must_use]
pub(crate) fn num_cpus() -> u32 {
    std::thread::available_parallelism()
        .map_or(1, |count| u32::try_from(count.get()).unwrap_or(u32::MAX))
}

/// What the next stats are measured against: the previous update, and the history the
/// `rates` windows are taken from.
#[derive(Debug)]
pub(crate) struct StatsHistory {
    rate_interval: Duration,
    /// Enough past updates to span `rate_interval`, oldest first.
    history: VecDeque<proto::NodeStats>,
    capacity: usize,
    last: Sample,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    totals: NodeTotals,
    cpu_seconds: Option<f64>,
}

impl StatsHistory {
    /// Starts measuring now: the first update's CPU load and rates are over the time since.
    #[must_use]
    pub(crate) fn new(update_interval: Duration, rate_interval: Duration) -> Self {
        let updates_per_window = rate_interval.as_secs_f64() / update_interval.as_secs_f64();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a small positive count"
        )]
        let capacity = updates_per_window.ceil().clamp(1.0, 10_000.0) as usize + 2;
        Self {
            rate_interval,
            history: VecDeque::with_capacity(capacity),
            capacity,
            last: Sample {
                at: Instant::now(),
                totals: NodeTotals::default(),
                cpu_seconds: host::process_usage().map(|usage| usage.cpu_seconds),
            },
        }
    }

    /// The stats of now, remembered for the next ones.
    // The per-second fields are deprecated in favour of `rates`, which livekit-server fills
    // only once a whole window has passed; they give a monitor figures from the second update.
    #[expect(deprecated, reason = "the per-second fields, filled on purpose")]
    pub(crate) fn next(
        &mut self,
        rooms: &RoomSnapshot,
        media: &MediaModel,
        started_at: i64,
    ) -> proto::NodeStats {
        let now = Sample {
            at: Instant::now(),
            totals: media.totals,
            cpu_seconds: host::process_usage().map(|usage| usage.cpu_seconds),
        };
        let elapsed = now.at.duration_since(self.last.at).as_secs_f64();
        let per_sec = |later: f64, earlier: f64| {
            if elapsed > 0.0 {
                narrow((later - earlier).max(0.0) / elapsed)
            } else {
                0.0
            }
        };
        let cpus = num_cpus();
        let cpu_load = match (now.cpu_seconds, self.last.cpu_seconds) {
            (Some(later), Some(earlier)) if elapsed > 0.0 => {
                narrow(((later - earlier) / elapsed / f64::from(cpus)).clamp(0.0, 1.0))
            }
            _ => 0.0,
        };
        let memory = host::memory_usage();
        let load = host::load_average().unwrap_or_default();
        let (totals, before) = (now.totals, self.last.totals);
        let joins = &media.joins;
        let mut stats = proto::NodeStats {
            started_at,
            updated_at: unix_seconds(),
            num_rooms: count(rooms.rooms),
            num_clients: count(rooms.participants.len()),
            num_tracks_in: count(rooms.tracks_in()),
            num_tracks_out: count(rooms.tracks_out()),
            bytes_in: whole(totals.bytes_in),
            bytes_out: whole(totals.bytes_out),
            packets_in: whole(totals.packets_in),
            packets_out: whole(totals.packets_out),
            nack_total: whole(totals.nack_total),
            retransmit_bytes_out: whole(totals.retransmit_bytes_out),
            retransmit_packets_out: whole(totals.retransmit_packets_out),
            bytes_in_per_sec: per_sec(totals.bytes_in, before.bytes_in),
            bytes_out_per_sec: per_sec(totals.bytes_out, before.bytes_out),
            packets_in_per_sec: per_sec(totals.packets_in, before.packets_in),
            packets_out_per_sec: per_sec(totals.packets_out, before.packets_out),
            nack_per_sec: per_sec(totals.nack_total, before.nack_total),
            retransmit_bytes_out_per_sec: per_sec(
                totals.retransmit_bytes_out,
                before.retransmit_bytes_out,
            ),
            retransmit_packets_out_per_sec: per_sec(
                totals.retransmit_packets_out,
                before.retransmit_packets_out,
            ),
            participant_signal_connected: joins.reached("signal_connected"),
            participant_rtc_init: joins.reached("rtc_init"),
            participant_rtc_connected: joins.reached("rtc_connected"),
            participant_rtc_active: joins.reached("rtc_active"),
            num_cpus: cpus,
            cpu_load,
            memory_total: memory.map_or(0, |memory| memory.total),
            memory_used: memory.map_or(0, |memory| memory.used),
            load_avg_last1min: load[0],
            load_avg_last5min: load[1],
            load_avg_last15min: load[2],
            ..proto::NodeStats::default()
        };
        if let Some(rate) = self.rate(&stats) {
            stats.rates.push(rate);
        }
        self.last = now;
        if self.history.len() == self.capacity {
            self.history.pop_front();
        }
        self.history.push_back(stats.clone());
        stats
    }

    /// livekit-server's rate over the newest past update at least `rate_interval` before
    /// `stats`, through every update since: none until one is that old.
    fn rate(&self, stats: &proto::NodeStats) -> Option<proto::NodeStatsRate> {
        let window = i64::try_from(self.rate_interval.as_secs()).unwrap_or(i64::MAX);
        let start = self
            .history
            .iter()
            .rposition(|past| stats.updated_at - past.updated_at >= window)?;
        let span: Vec<&proto::NodeStats> = self
            .history
            .iter()
            .skip(start)
            .chain(std::iter::once(stats))
            .collect();
        let (earlier, later) = (span[0], stats);
        let elapsed = later.updated_at - earlier.updated_at;
        if elapsed <= 0 {
            return None;
        }
        // Time-weighted averages of the gauges, as livekit's getNodeStatsRate.
        let (mut cpu_load, mut memory_used, mut memory_total, mut memory_load) =
            (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        for pair in span.windows(2) {
            #[expect(clippy::cast_precision_loss, reason = "seconds between two updates")]
            let seconds = (pair[1].updated_at - pair[0].updated_at) as f64;
            if seconds <= 0.0 {
                continue;
            }
            cpu_load += f64::from(pair[1].cpu_load) * seconds;
            memory_used += whole_f64(pair[1].memory_used) * seconds;
            memory_total += whole_f64(pair[1].memory_total) * seconds;
            if pair[1].memory_total > 0 {
                memory_load +=
                    whole_f64(pair[1].memory_used) / whole_f64(pair[1].memory_total) * seconds;
            }
        }
        #[expect(clippy::cast_precision_loss, reason = "seconds of a rate window")]
        let seconds = elapsed as f64;
        let per_sec =
            |later: u64, earlier: u64| narrow(whole_f64(later.saturating_sub(earlier)) / seconds);
        Some(proto::NodeStatsRate {
            started_at: earlier.updated_at,
            ended_at: later.updated_at,
            duration: elapsed,
            bytes_in: per_sec(later.bytes_in, earlier.bytes_in),
            bytes_out: per_sec(later.bytes_out, earlier.bytes_out),
            packets_in: per_sec(later.packets_in, earlier.packets_in),
            packets_out: per_sec(later.packets_out, earlier.packets_out),
            retransmit_bytes_out: per_sec(later.retransmit_bytes_out, earlier.retransmit_bytes_out),
            retransmit_packets_out: per_sec(
                later.retransmit_packets_out,
                earlier.retransmit_packets_out,
            ),
            nack_total: per_sec(later.nack_total, earlier.nack_total),
            participant_signal_connected: per_sec(
                later.participant_signal_connected,
                earlier.participant_signal_connected,
            ),
            participant_rtc_init: per_sec(later.participant_rtc_init, earlier.participant_rtc_init),
            participant_rtc_connected: per_sec(
                later.participant_rtc_connected,
                earlier.participant_rtc_connected,
            ),
            participant_rtc_active: per_sec(
                later.participant_rtc_active,
                earlier.participant_rtc_active,
            ),
            cpu_load: narrow(cpu_load / seconds),
            memory_load: narrow(memory_load / seconds),
            memory_used: narrow(memory_used / seconds),
            memory_total: narrow(memory_total / seconds),
            ..proto::NodeStatsRate::default()
        })
    }
}

/// The node as the registry holds it.
#[must_use]
pub(crate) fn node(identity: &NodeIdentity, stats: proto::NodeStats) -> proto::Node {
    proto::Node {
        id: identity.id.clone(),
        ip: identity.ip.clone(),
        num_cpus: stats.num_cpus,
        stats: Some(stats),
        r#type: proto::NodeType::Server as i32,
        state: identity.state() as i32,
        region: identity.region.clone(),
    }
}

fn count(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A counter kept exact, as the whole number it is shown as.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "non-negative totals far below 2^64"
)]
fn whole(value: f64) -> u64 {
    value.max(0.0).floor() as u64
}

#[expect(clippy::cast_precision_loss, reason = "byte counts as rates")]
fn whole_f64(value: u64) -> f64 {
    value as f64
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "the protocol's fields are f32"
)]
fn narrow(value: f64) -> f32 {
    value as f32
}
