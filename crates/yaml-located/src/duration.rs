//! Durations as people write them in a YAML file: `30` (seconds), `1.5`, `30s`, `1500ms`, `2m`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A strictly positive duration read from a configuration or scenario file.
///
/// ```
/// use std::time::Duration;
/// use yaml_located::ConfigDuration;
///
/// let interval: ConfigDuration = "1500ms".parse().unwrap();
/// assert_eq!(interval.get(), Duration::from_millis(1500));
/// assert_eq!("30".parse::<ConfigDuration>().unwrap().to_string(), "30s");
/// assert!("0s".parse::<ConfigDuration>().is_err());
/// ```
///
/// Zero and negative values are refused while decoding, so every interval, timeout and delay in
/// the typed config can be used as-is (a zero health-check interval would spin the worker).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigDuration(Duration);

impl ConfigDuration {
    /// # Panics
    /// When `duration` is zero: the type exists to rule that out.
    #[must_use]
    pub const fn new(duration: Duration) -> Self {
        assert!(!duration.is_zero(), "a ConfigDuration is never zero");
        Self(duration)
    }

    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self::new(Duration::from_secs(secs))
    }

    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self::new(Duration::from_millis(millis))
    }

    #[must_use]
    pub const fn get(self) -> Duration {
        self.0
    }
}

impl From<ConfigDuration> for Duration {
    fn from(value: ConfigDuration) -> Self {
        value.0
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `1s 500ms` reads better than `1.5s` in a config dump and parses back unchanged.
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl fmt::Debug for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for ConfigDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if let Ok(secs) = trimmed.parse::<f64>() {
            return from_secs_f64(secs);
        }
        if trimmed.starts_with('-') {
            return Err(format!(
                "`{trimmed}` is negative; write a positive duration such as 30s"
            ));
        }
        let duration = humantime::parse_duration(trimmed).map_err(|_| {
            format!("`{trimmed}` is not a duration; write e.g. 30, 30s, 1500ms or 2m")
        })?;
        if duration.is_zero() {
            return Err(format!(
                "`{trimmed}` is zero; the duration must be positive"
            ));
        }
        if duration > MAX {
            return Err(format!("`{trimmed}` is more than a year"));
        }
        Ok(Self(duration))
    }
}

/// A year is far beyond any sensible interval, and keeps every sum and product of durations
/// (a deadline `Instant::now() + timeout`, a surge's `2 × ramp + duration`) away from overflow.
const MAX: Duration = Duration::from_secs(31_536_000);

fn from_secs_f64(secs: f64) -> Result<ConfigDuration, String> {
    if !secs.is_finite() {
        return Err(format!("`{secs}` is not a finite number of seconds"));
    }
    if secs < 0.0 {
        return Err(format!(
            "`{secs}` is negative; write a positive duration such as 30s"
        ));
    }
    if secs > MAX.as_secs_f64() {
        return Err(format!("`{secs}` seconds is more than a year"));
    }
    let duration = Duration::from_secs_f64(secs);
    if duration.is_zero() {
        return Err(format!("`{secs}` is zero; the duration must be positive"));
    }
    Ok(ConfigDuration(duration))
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = ConfigDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a positive duration: seconds as a number, or a string like 30s or 1500ms",
                )
            }

            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Self::Value, E> {
                #[expect(clippy::cast_precision_loss, reason = "bounds-checked right after")]
                from_secs_f64(secs as f64).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Self::Value, E> {
                #[expect(clippy::cast_precision_loss, reason = "bounds-checked right after")]
                from_secs_f64(secs as f64).map_err(E::custom)
            }

            fn visit_f64<E: de::Error>(self, secs: f64) -> Result<Self::Value, E> {
                from_secs_f64(secs).map_err(E::custom)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                text.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<ConfigDuration, String> {
        serde_yaml::from_str::<ConfigDuration>(yaml).map_err(|err| err.to_string())
    }

    #[test]
    fn accepts_every_documented_spelling() {
        assert_eq!(parse("30").unwrap().get(), Duration::from_secs(30));
        assert_eq!(parse("1.0").unwrap().get(), Duration::from_secs(1));
        assert_eq!(parse("0.25").unwrap().get(), Duration::from_millis(250));
        assert_eq!(parse("30s").unwrap().get(), Duration::from_secs(30));
        assert_eq!(parse("1500ms").unwrap().get(), Duration::from_millis(1500));
        assert_eq!(parse("2m").unwrap().get(), Duration::from_secs(120));
        assert_eq!(parse("\"45\"").unwrap().get(), Duration::from_secs(45));
        assert_eq!(parse("1m 30s").unwrap().get(), Duration::from_secs(90));
    }

    #[test]
    fn refuses_zero_negative_and_nonsense_with_a_hint() {
        for bad in [
            "0",
            "0s",
            "-5",
            "-1.5",
            "\"-3s\"",
            "soon",
            "10 parsecs",
            "true",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                err.contains("positive") || err.contains("duration") || err.contains("negative"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn refuses_more_than_a_year_however_it_is_written() {
        // A surge's `ramp` of u64::MAX seconds, written with a unit, got past the year bound of
        // plain numbers and overflowed `2 × ramp + duration` while the scenario was checked: a
        // panic in the scenario loader (the `scenario_loader` fuzz corpus keeps that file).
        for text in [
            "31536001",
            "366d",
            "18446744073709551615s",
            "\"60000000000y\"",
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("more than a year"), "{text}: {err}");
        }
        assert_eq!(parse("365d").unwrap().get(), MAX);
    }

    #[test]
    fn displays_in_a_form_that_parses_back() {
        for text in ["30s", "1500ms", "2m", "1s 1ms"] {
            let parsed: ConfigDuration = text.parse().unwrap();
            let again: ConfigDuration = parsed.to_string().parse().unwrap();
            assert_eq!(parsed, again);
        }
    }
}
