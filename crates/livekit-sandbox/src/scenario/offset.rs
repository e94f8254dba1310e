//! Simulated offsets from the start: like [`ConfigDuration`], but zero is allowed.

use std::fmt;
use std::time::Duration;

use serde::Deserializer;
use serde::de::{self, Visitor};
use yaml_located::ConfigDuration;

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    struct OffsetVisitor;

    impl Visitor<'_> for OffsetVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a time from the start: seconds as a number, or a string like 90s or 2m")
        }

        fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(secs))
        }

        fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Duration, E> {
            u64::try_from(secs)
                .map(Duration::from_secs)
                .map_err(|_| E::custom(format!("`{secs}` is negative; write e.g. 0, 90s or 2m")))
        }

        fn visit_f64<E: de::Error>(self, secs: f64) -> Result<Duration, E> {
            if secs == 0.0 {
                return Ok(Duration::ZERO);
            }
            secs.to_string()
                .parse::<ConfigDuration>()
                .map(ConfigDuration::get)
                .map_err(E::custom)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            if humantime::parse_duration(text.trim()).is_ok_and(|d| d.is_zero())
                || text.trim().parse::<f64>().is_ok_and(|secs| secs == 0.0)
            {
                return Ok(Duration::ZERO);
            }
            text.parse::<ConfigDuration>()
                .map(ConfigDuration::get)
                .map_err(E::custom)
        }
    }

    deserializer.deserialize_any(OffsetVisitor)
}
