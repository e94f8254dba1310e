//! A room lifecycle rule's value (`room_limits.lifecycle.solo_timeout`, `empty_timeout`,
//! `max_duration` and their per-room overrides): `off`, or how long a room may be in that state.
//!
//! `off` is a word rather than `null` or `0s` because an override needs three meanings: left
//! out (the global rule applies), `off` (no rule for this room) and a duration. A duration is
//! never zero (`ConfigDuration` refuses it), so `0s` could not have meant "off" anyway.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use yaml_located::ConfigDuration;

/// The word that turns a rule off.
const OFF: &str = "off";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LifecycleLimit {
    /// No rule.
    #[default]
    Off,
    /// A room in the rule's state for longer than this is in violation.
    After(ConfigDuration),
}

impl LifecycleLimit {
    /// The duration, when the rule is on.
    #[must_use]
    pub fn duration(self) -> Option<Duration> {
        match self {
            Self::Off => None,
            Self::After(after) => Some(after.get()),
        }
    }
}

impl fmt::Display for LifecycleLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str(OFF),
            Self::After(after) => write!(f, "{after}"),
        }
    }
}

impl Serialize for LifecycleLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LifecycleLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LimitVisitor;

        impl Visitor<'_> for LimitVisitor {
            type Value = LifecycleLimit;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`off`, or a positive duration such as 90s, 5m or 4h")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LifecycleLimit::Off)
            }

            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Self::Value, E> {
                self.visit_str(&secs.to_string())
            }

            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Self::Value, E> {
                self.visit_str(&secs.to_string())
            }

            fn visit_f64<E: de::Error>(self, secs: f64) -> Result<Self::Value, E> {
                self.visit_str(&secs.to_string())
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                if text.trim().eq_ignore_ascii_case(OFF) {
                    return Ok(LifecycleLimit::Off);
                }
                text.parse::<ConfigDuration>()
                    .map(LifecycleLimit::After)
                    .map_err(|problem| E::custom(format!("{problem}, or `off` for no rule")))
            }
        }

        deserializer.deserialize_any(LimitVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_off_a_duration_or_seconds_and_prints_back_the_same() {
        let read = |text: &str| serde_yaml::from_str::<LifecycleLimit>(text);
        assert_eq!(read("off").unwrap(), LifecycleLimit::Off);
        assert_eq!(read("~").unwrap(), LifecycleLimit::Off);
        let five_minutes = LifecycleLimit::After(ConfigDuration::from_secs(300));
        assert_eq!(read("5m").unwrap(), five_minutes);
        assert_eq!(read("300").unwrap(), five_minutes);
        assert_eq!(five_minutes.to_string(), "5m");
        assert_eq!(read(&five_minutes.to_string()).unwrap(), five_minutes);
        let zero = read("0s").unwrap_err().to_string();
        assert!(zero.contains("zero") && zero.contains("`off`"), "{zero}");
    }
}
