//! A Prometheus histogram with fixed buckets, as `client_golang` keeps one.

/// Counts per bucket (not cumulative; the exposition adds them up), the sum and the count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    #[must_use]
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    /// A value goes into the first bucket whose upper bound is at least the value (`le`).
    pub(crate) fn observe(&mut self, value: f64) {
        if let Some(index) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[index] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// Upper bounds with the cumulative count of each, `+Inf` left out (it is `count`).
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.bounds
            .iter()
            .zip(&self.counts)
            .scan(0, |total, (bound, count)| {
                *total += count;
                Some((*bound, *total))
            })
    }

    #[must_use]
    pub(crate) fn sum(&self) -> f64 {
        self.sum
    }

    #[must_use]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_inclusive_of_their_bound() {
        let mut histogram = Histogram::new(&[1.0, 2.0]);
        for value in [0.5, 1.0, 1.5, 3.0] {
            histogram.observe(value);
        }
        assert_eq!(
            histogram.cumulative().collect::<Vec<_>>(),
            [(1.0, 2), (2.0, 3)]
        );
        assert_eq!((histogram.count(), histogram.sum()), (4, 6.0));
    }
}
