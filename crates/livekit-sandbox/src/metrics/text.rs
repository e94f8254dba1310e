//! Prometheus' text exposition format (0.0.4) exactly as Go's `client_golang` writes it: every
//! family with `# HELP` (empty help still written, with its space) and `# TYPE`, families
//! sorted by name, series by their label values, label pairs by name with `le` last, and
//! numbers as Go's `strconv.FormatFloat(v, 'g', -1, 64)`.

use std::fmt::Write as _;

/// The `Content-Type` of the format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// One series' value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Number(f64),
    /// Cumulative counts per upper bound (`+Inf` left out: it is `count`), sum and count.
    Histogram {
        buckets: Vec<(f64, u64)>,
        sum: f64,
        count: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Label pairs in any order; written sorted by name.
    pub labels: Vec<(&'static str, String)>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub series: Vec<Series>,
}

/// The exposition of `families`; a family without series is left out, as `client_golang`
/// leaves out a vector nothing was recorded in.
#[must_use]
pub(crate) fn render(mut families: Vec<Family>) -> String {
    families.retain(|family| !family.series.is_empty());
    families.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = String::new();
    for mut family in families {
        for series in &mut family.series {
            series.labels.sort_by(|a, b| a.0.cmp(b.0));
        }
        family.series.sort_by(|a, b| {
            a.labels
                .iter()
                .map(|(_, value)| value)
                .cmp(b.labels.iter().map(|(_, value)| value))
        });
        let _ = writeln!(out, "# HELP {} {}", family.name, escape(family.help, false));
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        for series in &family.series {
            write_series(&mut out, family.name, series);
        }
    }
    out
}

fn write_series(out: &mut String, name: &str, series: &Series) {
    match &series.value {
        Value::Number(value) => {
            write_sample(out, name, "", &series.labels, None, &go_float(*value));
        }
        Value::Histogram {
            buckets,
            sum,
            count,
        } => {
            for (bound, cumulative) in buckets {
                write_sample(
                    out,
                    name,
                    "_bucket",
                    &series.labels,
                    Some(&go_float(*bound)),
                    &cumulative.to_string(),
                );
            }
            write_sample(
                out,
                name,
                "_bucket",
                &series.labels,
                Some("+Inf"),
                &count.to_string(),
            );
            write_sample(out, name, "_sum", &series.labels, None, &go_float(*sum));
            write_sample(
                out,
                name,
                "_count",
                &series.labels,
                None,
                &count.to_string(),
            );
        }
    }
}

fn write_sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&'static str, String)],
    le: Option<&str>,
    value: &str,
) {
    out.push_str(name);
    out.push_str(suffix);
    let pairs = labels
        .iter()
        .map(|(key, value)| (*key, escape(value, true)))
        .chain(le.map(|le| ("le", le.to_owned())));
    let mut first = true;
    for (key, value) in pairs {
        out.push(if first { '{' } else { ',' });
        first = false;
        let _ = write!(out, "{key}=\"{value}\"");
    }
    if !first {
        out.push('}');
    }
    out.push(' ');
    out.push_str(value);
    out.push('\n');
}

/// Backslash and newline escaped, and `"` too in a label value.
fn escape(text: &str, quotes: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '"' if quotes => escaped.push_str("\\\""),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits that read back as `v`, in
/// exponent form when the exponent is below -4 or at least 6, with a sign and at least
/// two exponent digits (`1e+06`, `1.5e-07`); `client_golang` writes `+Inf`, `-Inf`, `NaN`.
#[must_use]
pub(crate) fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` is the shortest round-trip form too: "1.234567e6", "-5e-7".
    let scientific = format!("{value:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific;
    };
    // Go's 'g' with the shortest precision uses %e when exp < -4 || exp >= 6 (its `eprec`
    // is 6 for the shortest form).
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    // Plain digits: Rust's Display of f64 never uses an exponent and is shortest too.
    format!("{value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_gos_format_g() {
        for (value, expected) in [
            (12.0, "12"),
            (0.5, "0.5"),
            (1.0, "1"),
            (0.0, "0"),
            (1_234_567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (999_999.0, "999999"),
            (123_456.7, "123456.7"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.000_012_5, "1.25e-05"),
            (-2.5e-7, "-2.5e-07"),
            (3.25, "3.25"),
            (1e100, "1e+100"),
            (f64::INFINITY, "+Inf"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(go_float(value), expected, "{value}");
        }
    }

    #[test]
    fn families_sort_and_histograms_end_at_inf() {
        let text = render(vec![
            Family {
                name: "b_total",
                help: "",
                kind: Kind::Counter,
                series: vec![
                    Series {
                        labels: vec![("z", "2".into()), ("a", "x\"y".into())],
                        value: Value::Number(3.0),
                    },
                    Series {
                        labels: vec![("z", "1".into()), ("a", "x\"y".into())],
                        value: Value::Number(1.5),
                    },
                ],
            },
            Family {
                name: "a_hist",
                help: "Some help.",
                kind: Kind::Histogram,
                series: vec![Series {
                    labels: vec![],
                    value: Value::Histogram {
                        buckets: vec![(0.5, 1), (1.0, 2)],
                        sum: 1.75,
                        count: 3,
                    },
                }],
            },
            Family {
                name: "c_empty",
                help: "",
                kind: Kind::Gauge,
                series: vec![],
            },
        ]);
        assert_eq!(
            text,
            "# HELP a_hist Some help.\n# TYPE a_hist histogram\n\
             a_hist_bucket{le=\"0.5\"} 1\na_hist_bucket{le=\"1\"} 2\n\
             a_hist_bucket{le=\"+Inf\"} 3\na_hist_sum 1.75\na_hist_count 3\n\
             # HELP b_total \n# TYPE b_total counter\n\
             b_total{a=\"x\\\"y\",z=\"1\"} 1.5\nb_total{a=\"x\\\"y\",z=\"2\"} 3\n"
        );
    }
}
