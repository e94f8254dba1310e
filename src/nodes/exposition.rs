//! Prometheus' text exposition format (version 0.0.4, what livekit-server's Go client
//! writes), read without copying: a sample borrows its name and label text from the body.
//!
//! Written here rather than taken from a crate: `prometheus-parse` splits label pairs on `,`
//! and `=` (a label value holding either, or an escaped quote, comes out wrong),
//! `prom_text_format_parser` keeps escapes in values and has not changed since 2023, and
//! `openmetrics-parser` is LGPL-3.0. The format is small and this reader is held to it by
//! the tests below and a fuzz target.
//!
//! Like Prometheus, a scrape with one malformed line is refused whole, with that line's
//! number: figures computed from a half-read exposition would be wrong without saying so.

use std::borrow::Cow;
use std::fmt;

/// What `# TYPE` says a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl MetricType {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "summary" => Self::Summary,
            "untyped" | "unknown" => Self::Untyped,
            _ => return None,
        })
    }
}

/// One sample line: `name{label="value",…} 12.5 [timestamp]`.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub name: &'a str,
    /// The text between the braces, already checked to be well formed.
    labels: &'a str,
    pub value: f64,
}

impl<'a> Sample<'a> {
    /// The value of label `name`, unescaped; `None` when the sample has no such label.
    #[must_use]
    pub fn label(&self, name: &str) -> Option<Cow<'a, str>> {
        self.labels()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// Every label pair in the order written.
    pub fn labels(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> + use<'a> {
        let mut rest = self.labels;
        std::iter::from_fn(move || {
            let (pair, after) = label_pair(rest).ok().flatten()?;
            rest = after;
            Some(pair)
        })
    }
}

/// A malformed exposition: the first bad line, counted from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpositionError {
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for ExpositionError {}

/// A parsed exposition: its samples and the types its `# TYPE` lines declare.
#[derive(Debug, Default)]
pub struct Exposition<'a> {
    pub samples: Vec<Sample<'a>>,
    pub types: Vec<(&'a str, MetricType)>,
}

impl<'a> Exposition<'a> {
    /// Parses a whole exposition.
    ///
    /// # Errors
    /// The first line that is neither a comment, a blank line nor a well-formed sample.
    pub fn parse(text: &'a str) -> Result<Self, ExpositionError> {
        let mut exposition = Exposition {
            samples: Vec::with_capacity(text.len() / 64),
            types: Vec::new(),
        };
        for (index, line) in text.lines().enumerate() {
            let fail = |problem: String| ExpositionError {
                line: index + 1,
                problem,
            };
            let line = line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(declared) = type_line(comment).map_err(fail)? {
                    exposition.types.push(declared);
                }
                continue;
            }
            exposition.samples.push(sample_line(line).map_err(fail)?);
        }
        Ok(exposition)
    }

    /// The type `# TYPE` declares for family `name`.
    #[must_use]
    pub fn type_of(&self, name: &str) -> Option<MetricType> {
        self.types
            .iter()
            .find(|(family, _)| *family == name)
            .map(|(_, kind)| *kind)
    }
}

/// `# TYPE name kind` → `Some`; any other comment (`# HELP`, `# EOF`, free text) → `None`.
fn type_line(comment: &str) -> Result<Option<(&str, MetricType)>, String> {
    let mut words = comment.split_ascii_whitespace();
    if words.next() != Some("TYPE") {
        return Ok(None);
    }
    let (Some(name), Some(kind)) = (words.next(), words.next()) else {
        return Err("a TYPE line needs a metric name and a type".to_owned());
    };
    let kind = MetricType::parse(kind)
        .ok_or_else(|| format!("`{kind}` is not a metric type (TYPE {name})"))?;
    Ok(Some((name, kind)))
}

fn sample_line(line: &str) -> Result<Sample<'_>, String> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`{}` is not a sample", shorten(line)));
    }
    let mut rest = line[name_end..].trim_start_matches([' ', '\t']);
    let mut labels = "";
    if let Some(after_brace) = rest.strip_prefix('{') {
        let end = labels_end(after_brace).map_err(|problem| format!("{name}: {problem}"))?;
        labels = &after_brace[..end];
        rest = &after_brace[end + 1..];
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| format!("{name} has no value"))?;
    let value = parse_value(value).ok_or_else(|| format!("{name}: `{value}` is not a number"))?;
    if let Some(timestamp) = fields.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err(format!("{name}: `{timestamp}` is not a timestamp"));
    }
    if fields.next().is_some() {
        return Err(format!("{name}: text after the value and timestamp"));
    }
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// Go writes `NaN`, `+Inf`, `-Inf`; Rust's parser takes those and every Go float.
fn parse_value(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// Where the label set that starts right after `{` ends (the index of its `}`), having checked
/// every pair.
fn labels_end(text: &str) -> Result<usize, String> {
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t', ',']);
        if trimmed.starts_with('}') {
            return Ok(text.len() - trimmed.len());
        }
        match label_pair(rest)? {
            Some((_, after)) => rest = after,
            None => return Err("the labels have no closing `}`".to_owned()),
        }
    }
}

type LabelPair<'a> = ((&'a str, Cow<'a, str>), &'a str);

/// The next `name="value"` at the start of `text` (after separators) and what follows it;
/// `None` at the end of the label set.
fn label_pair(text: &str) -> Result<Option<LabelPair<'_>>, String> {
    let text = text.trim_start_matches([' ', '\t', ',']);
    if text.is_empty() || text.starts_with('}') {
        return Ok(None);
    }
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.is_empty() {
        return Err(format!("`{}` is not a label", shorten(text)));
    }
    let rest = text[name_end..].trim_start_matches([' ', '\t']);
    let rest = rest
        .strip_prefix('=')
        .ok_or_else(|| format!("label {name} has no `=`"))?
        .trim_start_matches([' ', '\t']);
    let body = rest
        .strip_prefix('"')
        .ok_or_else(|| format!("the value of label {name} is not quoted"))?;
    let bytes = body.as_bytes();
    let mut escaped = false;
    let mut end = None;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => {
                if !matches!(bytes.get(index + 1), Some(b'\\' | b'"' | b'n')) {
                    return Err(format!(
                        "label {name}: `\\` must be followed by \\, \" or n"
                    ));
                }
                escaped = true;
                index += 2;
            }
            b'"' => {
                end = Some(index);
                break;
            }
            _ => index += 1,
        }
    }
    let Some(end) = end else {
        return Err(format!("the value of label {name} has no closing quote"));
    };
    let raw = &body[..end];
    let value = if escaped {
        Cow::Owned(unescape(raw))
    } else {
        Cow::Borrowed(raw)
    };
    Ok(Some(((name, value), &body[end + 1..])))
}

fn unescape(raw: &str) -> String {
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => value.push('\n'),
                Some(other) => value.push(other),
                None => {}
            }
        } else {
            value.push(c);
        }
    }
    value
}

fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_formats_own_example() {
        // From the Prometheus documentation of the text format.
        let text = r#"
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
not_a_number NaN
"#;
        let exposition = Exposition::parse(text).unwrap();
        assert_eq!(exposition.samples.len(), 10);
        let file = exposition.samples[2];
        assert_eq!(file.label("path").unwrap(), r"C:\DIR\FILE.TXT");
        assert_eq!(
            file.label("error").unwrap(),
            "Cannot find file:\n\"FILE.TXT\""
        );
        assert!((file.value - 1.458_255_915e9).abs() < 1.0);
        assert!(exposition.samples[4].value.is_infinite());
        assert_eq!(exposition.samples[0].label("code").unwrap(), "200");
        assert!(exposition.samples[9].value.is_nan());
        assert_eq!(
            exposition.type_of("http_request_duration_seconds"),
            Some(MetricType::Histogram)
        );
        assert_eq!(exposition.samples[5].label("le").unwrap(), "0.05");
        assert_eq!(
            exposition.samples[5]
                .labels()
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
            ["le"]
        );
    }

    #[test]
    fn label_values_may_hold_commas_braces_equals_and_escaped_quotes() {
        let text = r#"x{a="1,b=2}",b="say \"hi\"",c=""} 5"#;
        let sample = Exposition::parse(text).unwrap().samples[0];
        assert_eq!(sample.label("a").unwrap(), "1,b=2}");
        assert_eq!(sample.label("b").unwrap(), "say \"hi\"");
        assert_eq!(sample.label("c").unwrap(), "");
        assert_eq!(sample.label("d"), None);
        assert!((sample.value - 5.0).abs() < f64::EPSILON);
        let trailing = Exposition::parse(r#"x{a="1",} 2"#).unwrap();
        assert_eq!(trailing.samples[0].label("a").unwrap(), "1");
        let backslash_last = Exposition::parse(r#"x{a="C:\\"} 1"#).unwrap();
        assert_eq!(backslash_last.samples[0].label("a").unwrap(), r"C:\");
    }

    #[test]
    fn a_malformed_line_refuses_the_scrape_with_its_number() {
        for (text, line, says) in [
            ("ok 1\n<!DOCTYPE html>\n", 2, "is not a sample"),
            (
                "<html><body>502 Bad Gateway</body></html>",
                1,
                "is not a sample",
            ),
            ("x{a=\"1\"", 1, "no closing"),
            ("x{a=1} 2", 1, "not quoted"),
            ("x 1.2.3", 1, "not a number"),
            ("x", 1, "has no value"),
            ("x{a=\"\\q\"} 1", 1, "must be followed by"),
            ("# TYPE x meter", 1, "not a metric type"),
            ("x 1 2 3", 1, "text after"),
        ] {
            let error = Exposition::parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text}: {error}");
            assert!(error.problem.contains(says), "{text}: {error}");
        }
    }
}
