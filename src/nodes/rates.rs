//! Two scrapes of one node turned into the figures an on-call engineer reads: rates over the
//! interval between them (by lktop's clock), percentiles of what the histograms observed in
//! that interval, and the gauges of the later scrape.
//!
//! A counter that went down was reset (the server restarted): its increase is then its new
//! value, as Prometheus' `rate()` counts it.

use std::time::Duration;

use super::node_counters::{Buckets, NodeCounters};

/// The media-plane figures of one node over one interval; `None` where unknown (a family
/// missing, nothing observed, or the first scrape, which has no interval yet).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct MediaFigures {
    pub(crate) bytes_in_per_s: Option<f64>,
    pub(crate) bytes_out_per_s: Option<f64>,
    pub(crate) packets_in_per_s: Option<f64>,
    pub(crate) packets_out_per_s: Option<f64>,
    pub(crate) packet_loss_pct: Option<f64>,
    pub(crate) nack_per_s: Option<f64>,
    pub(crate) pli_per_s: Option<f64>,
    pub(crate) rtt_p50_ms: Option<f64>,
    pub(crate) rtt_p95_ms: Option<f64>,
    pub(crate) jitter_p95_ms: Option<f64>,
    pub(crate) quality_score_p50: Option<f64>,
    pub(crate) join_failures_per_s: Option<f64>,
    pub(crate) twirp_errors_per_s: Option<f64>,
    pub(crate) cpu_pct: Option<f64>,
}

/// How much a counter grew from `before` to `after`.
fn increase(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    let (before, after) = (before?, after?);
    Some(if after < before {
        after
    } else {
        after - before
    })
}

fn per_second(before: Option<f64>, after: Option<f64>, seconds: f64) -> Option<f64> {
    increase(before, after).map(|grown| grown / seconds)
}

/// The histogram's buckets as they grew over the interval; a bucket that went down means the
/// whole histogram was reset.
fn bucket_increase(before: Option<&Buckets>, after: Option<&Buckets>) -> Option<Buckets> {
    let (after, before) = (after?, before?);
    let count_at = |buckets: &Buckets, bound: f64| {
        buckets
            .0
            .iter()
            .find(|(le, _)| le.total_cmp(&bound).is_eq())
            .map_or(0.0, |(_, count)| *count)
    };
    let reset = after
        .0
        .iter()
        .any(|(bound, count)| *count < count_at(before, *bound));
    if reset {
        return Some(after.clone());
    }
    Some(Buckets(
        after
            .0
            .iter()
            .map(|(bound, count)| (*bound, count - count_at(before, *bound)))
            .collect(),
    ))
}

/// The `q` quantile (0–1) of a cumulative histogram, interpolated linearly within the bucket
/// it falls in, as Prometheus' `histogram_quantile` does: the lowest bucket starts at 0 (when
/// its bound is positive), and a quantile in the `+Inf` bucket is the highest finite bound.
/// `None` when nothing was observed.
#[must_use]
pub(crate) fn histogram_quantile(q: f64, buckets: &Buckets) -> Option<f64> {
    let buckets = &buckets.0;
    let total = buckets.last().filter(|(le, _)| le.is_infinite())?.1;
    if total.is_nan() || total <= 0.0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = q * total;
    // Counts that dip (float noise in a sum) are held level, as Prometheus does.
    let mut running_max = 0.0_f64;
    let cumulative: Vec<(f64, f64)> = buckets
        .iter()
        .map(|(le, count)| {
            running_max = running_max.max(*count);
            (*le, running_max)
        })
        .collect();
    let index = cumulative.iter().position(|(_, count)| *count >= rank)?;
    let (upper, count) = cumulative[index];
    if upper.is_infinite() {
        return index.checked_sub(1).map(|previous| cumulative[previous].0);
    }
    let (lower, below) = match index.checked_sub(1) {
        Some(previous) => cumulative[previous],
        None if upper <= 0.0 => return Some(upper),
        None => (0.0, 0.0),
    };
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / in_bucket)
}

/// The figures of a node between two scrapes taken `elapsed` apart.
#[must_use]
pub(crate) fn media_figures(
    before: &NodeCounters,
    after: &NodeCounters,
    elapsed: Duration,
) -> MediaFigures {
    let seconds = elapsed.as_secs_f64();
    if seconds.is_nan() || seconds <= 0.0 {
        return MediaFigures::default();
    }
    let rate =
        |pick: fn(&NodeCounters) -> Option<f64>| per_second(pick(before), pick(after), seconds);
    let lost = increase(before.lost_in, after.lost_in);
    let sent = increase(before.packets_in_initial, after.packets_in_initial);
    let packet_loss_pct = match (lost, sent) {
        (Some(lost), Some(sent)) if lost + sent > 0.0 => Some(100.0 * lost / (lost + sent)),
        // Nothing came in: no loss can be measured.
        _ => None,
    };
    let observed =
        |pick: fn(&NodeCounters) -> Option<&Buckets>| bucket_increase(pick(before), pick(after));
    let rtt = observed(|c| c.rtt_ms.as_ref());
    let jitter = observed(|c| c.jitter_us.as_ref());
    let quality = observed(|c| c.quality_score.as_ref());
    MediaFigures {
        bytes_in_per_s: rate(|c| c.bytes_in),
        bytes_out_per_s: rate(|c| c.bytes_out),
        packets_in_per_s: rate(|c| c.packets_in),
        packets_out_per_s: rate(|c| c.packets_out),
        packet_loss_pct,
        nack_per_s: rate(|c| c.nacks),
        pli_per_s: rate(|c| c.plis),
        rtt_p50_ms: rtt.as_ref().and_then(|b| histogram_quantile(0.5, b)),
        rtt_p95_ms: rtt.as_ref().and_then(|b| histogram_quantile(0.95, b)),
        jitter_p95_ms: jitter
            .as_ref()
            .and_then(|b| histogram_quantile(0.95, b))
            .map(|us| us / 1000.0),
        quality_score_p50: quality.as_ref().and_then(|b| histogram_quantile(0.5, b)),
        join_failures_per_s: rate(|c| c.join_failures),
        twirp_errors_per_s: rate(|c| c.twirp_errors),
        cpu_pct: rate(|c| c.cpu_seconds).map(|share| share * 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Buckets {
        Buckets(pairs.to_vec())
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket_like_histogram_quantile() {
        // 10 observations ≤ 50, 10 more in (50, 100]: the median is the top of the first
        // bucket, p75 halfway through the second.
        let h = buckets(&[(50.0, 10.0), (100.0, 20.0), (f64::INFINITY, 20.0)]);
        assert_eq!(histogram_quantile(0.5, &h), Some(50.0));
        assert_eq!(histogram_quantile(0.75, &h), Some(75.0));
        assert_eq!(
            histogram_quantile(0.25, &h),
            Some(25.0),
            "the lowest bucket starts at 0"
        );
        // Above the highest finite bound: that bound, as Prometheus answers.
        let tail = buckets(&[(50.0, 1.0), (100.0, 2.0), (f64::INFINITY, 10.0)]);
        assert_eq!(histogram_quantile(0.95, &tail), Some(100.0));
        assert_eq!(
            histogram_quantile(0.5, &buckets(&[(f64::INFINITY, 0.0)])),
            None
        );
        assert_eq!(
            histogram_quantile(0.5, &buckets(&[(50.0, 3.0)])),
            None,
            "no +Inf bucket"
        );
        let only_inf = buckets(&[(f64::INFINITY, 4.0)]);
        assert_eq!(histogram_quantile(0.5, &only_inf), None);
        // A bucket bound at 0 (livekit's packet-loss histogram) answers 0 when it holds the rank.
        let zero = buckets(&[(0.0, 8.0), (0.1, 10.0), (f64::INFINITY, 10.0)]);
        assert_eq!(histogram_quantile(0.5, &zero), Some(0.0));
    }

    fn counters(lost: f64, initial: f64, cpu: f64, rtt: &[(f64, f64)]) -> NodeCounters {
        NodeCounters {
            lost_in: Some(lost),
            packets_in_initial: Some(initial),
            packets_in: Some(initial),
            cpu_seconds: Some(cpu),
            rtt_ms: Some(buckets(rtt)),
            ..NodeCounters::default()
        }
    }

    #[test]
    fn loss_is_lost_over_lost_plus_received_in_the_interval() {
        let before = counters(100.0, 10_000.0, 5.0, &[(50.0, 10.0), (f64::INFINITY, 10.0)]);
        let after = counters(180.0, 10_920.0, 5.5, &[(50.0, 10.0), (f64::INFINITY, 30.0)]);
        let figures = media_figures(&before, &after, Duration::from_secs(2));
        let loss = figures.packet_loss_pct.unwrap();
        assert!((loss - 8.0).abs() < 1e-9, "{loss}");
        assert_eq!(figures.packets_in_per_s, Some(460.0));
        assert_eq!(figures.cpu_pct, Some(25.0));
        // Only the 20 new observations count, all above 50 ms.
        assert_eq!(figures.rtt_p95_ms, Some(50.0));
    }

    #[test]
    fn a_restarted_server_counts_from_zero_not_negative() {
        let before = counters(
            5_000.0,
            900_000.0,
            300.0,
            &[(50.0, 90.0), (f64::INFINITY, 100.0)],
        );
        let after = counters(10.0, 990.0, 1.0, &[(50.0, 2.0), (f64::INFINITY, 4.0)]);
        let figures = media_figures(&before, &after, Duration::from_secs(10));
        assert!((figures.packet_loss_pct.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(figures.cpu_pct, Some(10.0));
        assert_eq!(figures.packets_in_per_s, Some(99.0));
        assert_eq!(figures.rtt_p50_ms, Some(50.0));
    }

    #[test]
    fn nothing_received_means_no_loss_figure_and_a_missing_family_stays_unknown() {
        let same = counters(10.0, 100.0, 1.0, &[(f64::INFINITY, 0.0)]);
        let figures = media_figures(&same, &same, Duration::from_secs(1));
        assert_eq!(figures.packet_loss_pct, None);
        assert_eq!(figures.rtt_p95_ms, None);
        assert_eq!(figures.nack_per_s, None, "no NACK family in either scrape");
    }
}
