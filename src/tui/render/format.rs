//! Numbers, durations and times as the screens print them, and fitting text into cells.

use std::borrow::Cow;
use std::time::Duration;

use ratatui::text::Span;

const MS_PER_DAY: i64 = 86_400_000;

/// A latency or a short span: `850µs`, `12.3ms`, `123ms`, `1.2s`, then as an age (`3m12s`).
#[must_use]
pub(crate) fn duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1000 {
        return format!("{micros}µs");
    }
    let hundred_micros = (micros + 50) / 100;
    if hundred_micros < 1000 {
        return format!("{}.{}ms", hundred_micros / 10, hundred_micros % 10);
    }
    let ms = (micros + 500) / 1000;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let deciseconds = (ms + 50) / 100;
    if deciseconds < 600 {
        return format!("{}.{}s", deciseconds / 10, deciseconds % 10);
    }
    age(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// An optional latency; `—` when there is none.
#[must_use]
pub(crate) fn opt_duration(d: Option<Duration>) -> String {
    d.map_or_else(|| "—".to_owned(), duration)
}

/// How long ago, from milliseconds: `42s`, `3m12s`, `2h05m`, `3d04h`.
#[must_use]
pub(crate) fn age(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs < 86_400 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else {
        format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600)
    }
}

/// The time of day of a Unix millisecond timestamp, in UTC: `14:03:07`.
#[must_use]
pub(crate) fn clock(unix_ms: i64) -> String {
    let secs = unix_ms.rem_euclid(MS_PER_DAY) / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A position in a recording: `03:12`, or `1:03:12` past an hour.
#[must_use]
pub(crate) fn mmss(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    if secs < 3600 {
        format!("{:02}:{:02}", secs / 60, secs % 60)
    } else {
        format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

/// A ratio in 0..=1 as a percentage: `97.5%`, `100%`.
#[must_use]
pub(crate) fn percent(ratio: f64) -> String {
    if ratio >= 0.9995 {
        "100%".to_owned()
    } else {
        format!("{:.1}%", (ratio * 100.0).max(0.0))
    }
}

/// A count against its limit: `64/50`.
#[must_use]
pub(crate) fn count(actual: impl std::fmt::Display, limit: impl std::fmt::Display) -> String {
    format!("{actual}/{limit}")
}

/// A 0..=1 score: `0.84`.
#[must_use]
pub(crate) fn score(value: f64) -> String {
    format!("{value:.2}")
}

/// A playback speed without trailing zeros: `2`, `0.5`.
#[must_use]
pub(crate) fn speed(speed: f64) -> String {
    format!("{speed}")
}

/// `n thing` or `n things`.
#[must_use]
pub(crate) fn plural(n: impl Into<u64>, thing: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// Display width of one character.
fn char_width(c: char) -> usize {
    let mut buf = [0_u8; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

/// Display width of `text` in cells.
#[must_use]
pub(crate) fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// `text` cut to `max` cells, ending in `…` when something was cut; the start is kept.
#[must_use]
pub(crate) fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if width(text) <= max {
        return Cow::Borrowed(text);
    }
    if max == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

/// `text` broken into lines of at most `max` cells, at spaces where possible.
#[must_use]
pub(crate) fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w = width(word);
        if used > 0 && used + 1 + w <= max {
            line.push(' ');
            line.push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if w <= max {
            line.push_str(word);
            used = w;
            continue;
        }
        // A word wider than the line: split it wherever it has to be.
        for c in word.chars() {
            let cw = char_width(c);
            if used + cw > max {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if used > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pads or cuts `text` to exactly `cells` cells (left-aligned).
#[must_use]
pub(crate) fn pad(text: &str, cells: usize) -> String {
    let cut = truncate(text, cells);
    let w = width(&cut);
    format!("{cut}{}", " ".repeat(cells.saturating_sub(w)))
}

/// `42 standard, 3 agents, 2 sip, 1 ingress`: standard clients first, then the other kinds,
/// most numerous first.
pub(crate) fn participant_kinds(
    counts: &std::collections::BTreeMap<crate::snapshot::ParticipantKind, u64>,
    include_standard: bool,
) -> String {
    use crate::snapshot::ParticipantKind;
    let mut kinds: Vec<(ParticipantKind, u64)> = counts
        .iter()
        .filter(|(kind, _)| include_standard || **kind != ParticipantKind::Standard)
        .map(|(kind, count)| (*kind, *count))
        .collect();
    kinds.sort_by_key(|(kind, count)| {
        (
            *kind != ParticipantKind::Standard,
            std::cmp::Reverse(*count),
        )
    });
    kinds
        .iter()
        .map(|(kind, count)| {
            let plural = *count != 1
                && matches!(
                    kind,
                    ParticipantKind::Agent | ParticipantKind::Connector | ParticipantKind::Bridge
                );
            format!("{count} {}{}", kind.label(), if plural { "s" } else { "" })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_micros(850)), "850µs");
        assert_eq!(duration(Duration::from_micros(12_340)), "12.3ms");
        assert_eq!(duration(Duration::from_micros(123_400)), "123ms");
        assert_eq!(duration(Duration::from_millis(1_240)), "1.2s");
        assert_eq!(duration(Duration::from_secs(192)), "3m12s");
    }

    #[test]
    fn ages_clock_and_counts() {
        assert_eq!(age(42_000), "42s");
        assert_eq!(age(192_000), "3m12s");
        assert_eq!(age(7_500_000), "2h05m");
        assert_eq!(age(-5), "0s");
        assert_eq!(
            clock(1_764_000_000_000 + 3_600_000 * 22 + 187_000),
            "14:03:07"
        );
        assert_eq!(clock(-1000), "23:59:59");
        assert_eq!(percent(0.975), "97.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(count(64, 50), "64/50");
        assert_eq!(mmss(192_000), "03:12");
        assert_eq!(speed(2.0), "2");
        assert_eq!(speed(0.5), "0.5");
    }

    #[test]
    fn text_is_cut_with_an_ellipsis_and_wrapped_at_spaces() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(
            wrap("delete room a on b", 8),
            vec!["delete", "room a", "on b"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(pad("ab", 4), "ab  ");
    }
}
