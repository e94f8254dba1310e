//! The most recent request latencies in a fixed ring, failures kept as gaps: what a sparkline
//! draws.

use std::time::Duration;

/// The most recent request latencies, oldest first, in a fixed-capacity ring.
///
/// `None` is a failed request, so a sparkline draws a gap there, not a zero. Pushing is O(1) and
/// never allocates; once full, each push overwrites the oldest sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyRing {
    slots: Box<[Option<Duration>]>,
    /// Where the next sample goes; once the ring is full this is also the oldest sample.
    next: usize,
    len: usize,
}

impl LatencyRing {
    /// An empty ring holding at most `capacity` samples.
    ///
    /// # Panics
    /// When `capacity` is zero: a history that can hold nothing is a programming error.
    #[must_use]
    pub(crate) fn new(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "a latency ring needs room for at least one sample"
        );
        Self {
            slots: vec![None; capacity].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[must_use]
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a sample (`None` for a failed request), dropping the oldest when full.
    pub(crate) fn push(&mut self, sample: Option<Duration>) {
        self.slots[self.next] = sample;
        self.next = (self.next + 1) % self.slots.len();
        self.len = (self.len + 1).min(self.slots.len());
    }

    /// The newest sample: `None` when the ring is empty, `Some(None)` when the last request failed.
    #[must_use]
    pub fn latest(&self) -> Option<Option<Duration>> {
        if self.is_empty() {
            return None;
        }
        let capacity = self.slots.len();
        Some(self.slots[(self.next + capacity - 1) % capacity])
    }

    /// Every sample, oldest first.
    #[must_use = "iterators are lazy"]
    #[cfg(test)]
    pub(crate) fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = Option<Duration>> + ExactSizeIterator + '_ {
        self.newest(self.len)
    }

    /// The newest `count` samples (fewer when the ring holds fewer), oldest first: what a
    /// sparkline `count` cells wide draws.
    #[must_use = "iterators are lazy"]
    pub fn newest(
        &self,
        count: usize,
    ) -> impl DoubleEndedIterator<Item = Option<Duration>> + ExactSizeIterator + '_ {
        let capacity = self.slots.len();
        let count = count.min(self.len);
        let first = (self.next + capacity - count) % capacity;
        (0..count).map(move |offset| self.slots[(first + offset) % capacity])
    }

    #[cfg(test)]
    pub(crate) fn clear(&mut self) {
        self.slots.fill(None);
        self.next = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::tests::ms;

    #[test]
    fn ring_wraps_and_keeps_order() {
        let mut ring = LatencyRing::new(3);
        for millis in 1..=5 {
            ring.push(Some(ms(millis)));
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(
            ring.iter().collect::<Vec<_>>(),
            [Some(ms(3)), Some(ms(4)), Some(ms(5))]
        );
        assert_eq!(
            ring.newest(2).collect::<Vec<_>>(),
            [Some(ms(4)), Some(ms(5))]
        );
        assert_eq!(ring.newest(10).len(), 3);
        assert_eq!(ring.latest(), Some(Some(ms(5))));
        assert_eq!(ring.iter().next_back(), Some(Some(ms(5))));
    }

    #[test]
    fn ring_before_it_fills_holds_only_what_was_pushed() {
        let mut ring = LatencyRing::new(5);
        assert!(ring.is_empty());
        assert_eq!(ring.latest(), None);
        ring.push(Some(ms(1)));
        ring.push(Some(ms(2)));
        assert_eq!(ring.iter().collect::<Vec<_>>(), [Some(ms(1)), Some(ms(2))]);
        assert_eq!(ring.newest(1).collect::<Vec<_>>(), [Some(ms(2))]);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.iter().len(), 0);
    }

    #[test]
    fn ring_keeps_failures_as_gaps() {
        let mut ring = LatencyRing::new(4);
        ring.push(Some(ms(10)));
        ring.push(None);
        ring.push(Some(ms(30)));
        assert_eq!(
            ring.iter().collect::<Vec<_>>(),
            [Some(ms(10)), None, Some(ms(30))]
        );
        ring.push(None);
        assert_eq!(ring.latest(), Some(None));
    }

    #[test]
    fn ring_memory_is_bounded_after_a_million_samples() {
        let mut ring = LatencyRing::new(600);
        for index in 0..1_000_000_u64 {
            // Every index ending in 3 is a failed request.
            ring.push((index % 10 != 3).then(|| Duration::from_micros(index)));
        }
        assert_eq!(ring.len(), 600);
        assert_eq!(ring.capacity(), 600);
        assert_eq!(ring.latest(), Some(Some(Duration::from_micros(999_999))));
        assert_eq!(
            ring.iter().next(),
            Some(Some(Duration::from_micros(999_400)))
        );
        assert_eq!(ring.iter().nth(3), Some(None));
    }
}
