//! Numbers as the log writes them: in words an operator reads aloud during an incident
//! (`37 s`, `4 min 12 s`, `487 ms`, `92.0 %`), with a space before every unit. The tables on
//! the other screens use the compact forms of `render::format` instead.

use std::time::Duration;

/// A span of time: `0.8 s` and `5.0 s` below ten seconds (retries and short outages, where
/// the tenth matters), then `37 s`, `4 min 12 s`, `1 h 3 min`, `2 d 5 h`; a zero lower unit is
/// left out (`4 min`).
#[must_use]
pub(crate) fn span(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 9_950 {
        let tenths = (ms + 50) / 100;
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let secs = (ms + 500) / 1000;
    let (big, small, big_unit, small_unit) = if secs < 60 {
        return format!("{secs} s");
    } else if secs < 3_600 {
        (secs / 60, secs % 60, "min", "s")
    } else if secs < 86_400 {
        (secs / 3_600, secs % 3_600 / 60, "h", "min")
    } else {
        (secs / 86_400, secs % 86_400 / 3_600, "d", "h")
    };
    if small == 0 {
        format!("{big} {big_unit}")
    } else {
        format!("{big} {big_unit} {small} {small_unit}")
    }
}

/// [`span`] of a count of milliseconds.
#[must_use]
pub(crate) fn span_ms(ms: u64) -> String {
    span(Duration::from_millis(ms))
}

/// A request's latency: `850 µs`, `12.3 ms`, `487 ms`, `1.2 s`.
#[must_use]
pub(crate) fn latency(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros < 1_000 {
        return format!("{micros} µs");
    }
    let tenths_ms = (micros + 50) / 100;
    if tenths_ms < 1_000 {
        return format!("{}.{} ms", tenths_ms / 10, tenths_ms % 10);
    }
    let ms = (micros + 500) / 1_000;
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    span(duration)
}

/// A ratio in 0..=1 as a percentage with one decimal: `92.0 %`, `100 %` only when it is.
#[must_use]
pub(crate) fn percent(ratio: f64) -> String {
    if ratio >= 1.0 {
        "100 %".to_owned()
    } else {
        // Never rounded up to a perfect 100.0 that it is not.
        format!("{:.1} %", (ratio * 100.0).clamp(0.0, 99.9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_spoken() {
        let s = Duration::from_secs;
        assert_eq!(span(Duration::from_millis(800)), "0.8 s");
        assert_eq!(span(Duration::from_secs(5)), "5.0 s");
        assert_eq!(span(Duration::from_millis(9_940)), "9.9 s");
        assert_eq!(span(Duration::from_millis(9_960)), "10 s");
        assert_eq!(span(s(37)), "37 s");
        assert_eq!(span(s(60)), "1 min");
        assert_eq!(span(s(252)), "4 min 12 s");
        assert_eq!(span(s(3_780)), "1 h 3 min");
        assert_eq!(span(s(7_200)), "2 h");
        assert_eq!(span(s(190_800)), "2 d 5 h");
        assert_eq!(span_ms(37_400), "37 s");
    }

    #[test]
    fn latencies_and_percentages() {
        assert_eq!(latency(Duration::from_micros(850)), "850 µs");
        assert_eq!(latency(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(latency(Duration::from_micros(487_200)), "487 ms");
        assert_eq!(latency(Duration::from_millis(1_240)), "1.2 s");
        assert_eq!(percent(0.92), "92.0 %");
        assert_eq!(percent(0.9999), "99.9 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.0), "0.0 %");
    }
}
