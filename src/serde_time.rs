//! Durations and instants in engine events (pool, polls), as plain numbers that read well in NDJSON
//! and in any JSON tool: durations in milliseconds (fractional, loopback latencies are well
//! under one), wall-clock times in milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The wall clock in milliseconds since the Unix epoch, as every event's time is written.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn to_millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn from_millis<'de, D: Deserializer<'de>>(millis: f64) -> Result<Duration, D::Error> {
    Duration::try_from_secs_f64(millis / 1000.0)
        .map_err(|_| D::Error::custom(format!("{millis} is not a duration in milliseconds")))
}

/// `Option<Duration>` as milliseconds or `null`.
pub mod opt_millis {
    use super::{
        Deserialize, Deserializer, Duration, Serialize, Serializer, from_millis, to_millis,
    };

    #[expect(clippy::ref_option, reason = "serde's `with` hands over &Option<T>")]
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.map(to_millis).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(from_millis::<D>)
            .transpose()
    }
}

/// `Duration` as milliseconds.
pub mod millis {
    use super::{Deserialize, Deserializer, Duration, Serializer, from_millis, to_millis};

    pub(crate) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(to_millis(*value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        from_millis::<D>(f64::deserialize(d)?)
    }
}

fn epoch_millis(time: SystemTime) -> u64 {
    // A clock set before 1970 shows as 0 rather than failing a whole status report.
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// `SystemTime` as milliseconds since the Unix epoch.
pub mod epoch_ms {
    use super::{
        Deserialize, Deserializer, Duration, Serializer, SystemTime, UNIX_EPOCH, epoch_millis,
    };

    pub(crate) fn serialize<S: Serializer>(value: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(epoch_millis(*value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        Ok(UNIX_EPOCH + Duration::from_millis(u64::deserialize(d)?))
    }
}

/// `Option<SystemTime>` as milliseconds since the Unix epoch or `null`.
pub mod opt_epoch_ms {
    use super::{
        Deserialize, Deserializer, Duration, Serialize, Serializer, SystemTime, UNIX_EPOCH,
        epoch_millis,
    };

    #[expect(clippy::ref_option, reason = "serde's `with` hands over &Option<T>")]
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value.map(epoch_millis).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)))
    }
}
