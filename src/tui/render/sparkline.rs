//! Latency histories drawn as sparklines. Only as many samples as there are cells are taken
//! (the newest), and a lost sample (requests made, none answered) is a gap drawn in the "lost"
//! style, never the lowest bar.

use std::collections::VecDeque;
use std::time::Duration;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::SparklineBar;

use crate::quality::LatencyRing;
use crate::tui::theme::Theme;

/// The eight bar heights, lowest first.
pub(crate) const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// What a lost sample looks like, in text and in the sparkline widget.
pub(crate) const GAP: &str = "·";

fn micros(sample: Duration) -> u64 {
    u64::try_from(sample.as_micros()).unwrap_or(u64::MAX)
}

/// The bar for `value` on a scale whose top is `max`: the smallest sample is still a bar.
#[must_use]
pub(crate) fn bar(value: u64, max: u64) -> char {
    if max == 0 {
        return BARS[0];
    }
    let level = (u128::from(value) * 7 + u128::from(max) / 2) / u128::from(max);
    BARS[usize::try_from(level).unwrap_or(7).min(7)]
}

/// A one-line text sparkline of the newest `width` samples of `ring`, newest at the right,
/// scaled to the largest of them.
#[must_use]
pub(crate) fn text(ring: &LatencyRing, width: usize, theme: Theme) -> Line<'static> {
    let max = ring.newest(width).flatten().map(micros).max().unwrap_or(0);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_style: Option<Style> = None;
    for sample in ring.newest(width) {
        let (symbol, style) = match sample {
            Some(latency) => (bar(micros(latency), max), Style::new()),
            None => (GAP.chars().next().unwrap_or(' '), theme.lost()),
        };
        if run_style.is_some_and(|s| s != style) {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                run_style.unwrap_or_default(),
            ));
        }
        run_style = Some(style);
        run.push(symbol);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, run_style.unwrap_or_default()));
    }
    Line::from(spans).right_aligned()
}

/// Bars for ratatui's `Sparkline` drawn right to left: the newest `width` samples of `ring`,
/// newest first; a lost sample is absent (`None`). Heights are logarithmic between the smallest
/// and the largest sample in view, the smallest still a bar, so a 300 ms spike does not flatten
/// the 300 µs around it to nothing and a steady line does not look like a wall.
#[must_use]
pub(crate) fn bars(ring: &LatencyRing, width: usize) -> Vec<SparklineBar> {
    let logs = || ring.newest(width).flatten().map(ln_micros);
    let low = logs().fold(f64::INFINITY, f64::min);
    let high = logs().fold(f64::NEG_INFINITY, f64::max);
    let span = high - low;
    ring.newest(width)
        .rev()
        .map(|sample| {
            SparklineBar::from(sample.map(|latency| {
                // Eighths of the range: the floor keeps the smallest sample visible.
                let share = if span > f64::EPSILON {
                    (ln_micros(latency) - low) / span
                } else {
                    0.5
                };
                to_height(1.0 + share * 7.0)
            }))
        })
        .collect()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "microseconds fit an f64 well enough"
)]
fn ln_micros(sample: Duration) -> f64 {
    (micros(sample) as f64).ln_1p()
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a height between 1 and 8 eighths, times 1000"
)]
fn to_height(eighths: f64) -> u64 {
    (eighths * 1000.0).round() as u64
}

/// Bars for ratatui's `Sparkline` drawn right to left from a series of figures (oldest
/// first): the newest `width`, newest first, on a linear scale from 0 to the largest in view
/// (heights in eighths × 1000, so the widget's maximum is [`LINEAR_TOP`]). An unknown figure
/// is absent, never zero.
#[must_use]
pub(crate) fn linear_bars(series: &VecDeque<Option<f64>>, width: usize) -> Vec<SparklineBar> {
    let newest = || series.iter().rev().take(width);
    let top = newest().flatten().fold(0.0_f64, |a, b| a.max(*b));
    newest()
        .map(|value| {
            SparklineBar::from(value.map(|v| {
                if top > 0.0 {
                    to_height((v.max(0.0) / top) * 8.0)
                } else {
                    0
                }
            }))
        })
        .collect()
}

/// The top of [`linear_bars`]' scale.
pub(crate) const LINEAR_TOP: u64 = 8000;

/// The largest of the newest `width` samples.
#[must_use]
pub(crate) fn peak(ring: &LatencyRing, width: usize) -> Option<Duration> {
    ring.newest(width).flatten().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_never_the_lowest_bar() {
        let mut ring = LatencyRing::new(8);
        for sample in [Some(10), None, Some(40), Some(80)] {
            ring.push(sample.map(Duration::from_millis));
        }
        let line = text(&ring, 8, Theme::new(true));
        let drawn: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(drawn, "▂·▅█");
        let wide = text(&ring, 2, Theme::new(true));
        let drawn: String = wide.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(drawn, "▅█");
        assert_eq!(bars(&ring, 3).len(), 3);
        // Log scale between the smallest (one eighth) and the largest (full) in view.
        let expected: Vec<SparklineBar> = [Some(8000), Some(5667), None, Some(1000)]
            .into_iter()
            .map(SparklineBar::from)
            .collect();
        assert_eq!(bars(&ring, 4), expected);
        assert_eq!(bars(&ring, 3)[2], SparklineBar::from(None));
    }

    #[test]
    fn linear_bars_keep_unknown_apart_from_zero() {
        let series: VecDeque<Option<f64>> = [Some(2.0), None, Some(0.0), Some(4.0)].into();
        let expected: Vec<SparklineBar> = [Some(8000), Some(0), None]
            .into_iter()
            .map(SparklineBar::from)
            .collect();
        assert_eq!(linear_bars(&series, 3), expected);
        assert_eq!(linear_bars(&series, 9).len(), 4);
    }
}
