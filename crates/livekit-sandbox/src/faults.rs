//! Faults the sandbox can inject, set at run time (admin endpoint, Rust API) or scheduled by a
//! scenario.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::twirp_error::TwirpCode;

/// Faults applied to every RoomService request while set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every answer.
    pub latency_ms: u64,
    /// A further uniformly random delay in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Fraction (0..=1) of requests answered with `error_code`.
    pub error_rate: f64,
    pub error_code: TwirpCode,
    /// Fraction of requests accepted and never answered.
    pub hang_rate: f64,
    /// Fraction of answers cut off mid-body, the connection closed.
    pub drop_rate: f64,
    /// Fraction of webhooks never sent.
    pub webhook_drop_rate: f64,
    /// Added before each webhook is sent (the order is kept).
    pub webhook_delay_ms: u64,
    /// Fraction of webhooks sent twice, with the same id.
    pub webhook_duplicate_rate: f64,
    /// Each webhook goes out after the one that follows it.
    pub webhook_reorder: bool,
    /// Seconds the sandbox's wall clock is set off from the machine's (negative: behind), as a
    /// server whose clock drifted: tokens are checked against it, with livekit-server's
    /// one-minute leeway, and every answer's `Date` header tells it.
    pub clock_offset_secs: i64,
    /// Bad network conditions for the simulated media: what `/metrics` and the node registry
    /// report, not the requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaFault>,
}

/// Network conditions forced on every simulated media stream; each value absent keeps the
/// healthy baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaFault {
    /// Packets lost, in percent (0..=100), on the way in and out.
    pub loss_pct: Option<f64>,
    /// Round-trip time the streams center on.
    pub rtt_ms: Option<f64>,
    /// Jitter the streams center on.
    pub jitter_ms: Option<f64>,
}

impl MediaFault {
    /// Whether it changes anything.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        *self == Self::default()
    }

    /// # Errors
    /// A value out of its range, with its key.
    fn validate(&self) -> Result<(), String> {
        if let Some(loss) = self.loss_pct
            && !(0.0..=100.0).contains(&loss)
        {
            return Err(format!("media.loss_pct is {loss}; allowed 0.0..=100.0"));
        }
        for (key, value) in [("rtt_ms", self.rtt_ms), ("jitter_ms", self.jitter_ms)] {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0)
            {
                return Err(format!("media.{key} is {value}; allowed 0 or more"));
            }
        }
        Ok(())
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            error_code: TwirpCode::Unavailable,
            hang_rate: 0.0,
            drop_rate: 0.0,
            webhook_drop_rate: 0.0,
            webhook_delay_ms: 0,
            webhook_duplicate_rate: 0.0,
            webhook_reorder: false,
            clock_offset_secs: 0,
            media: None,
        }
    }
}

/// What happens to one request under the current faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Answer,
    Fail(TwirpCode),
    Hang,
    Drop,
}

impl Faults {
    /// No fault of any kind: a media fault that changes nothing counts as none.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        Self {
            media: self.media.filter(|media| !media.is_clear()),
            ..*self
        } == Self::default()
    }

    /// The media fault in force, if it changes anything.
    #[must_use]
    pub fn media_fault(&self) -> Option<MediaFault> {
        self.media.filter(|media| !media.is_clear())
    }

    /// # Errors
    /// A rate outside 0..=1, with the key that holds it.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (key, rate) in [
            ("error_rate", self.error_rate),
            ("hang_rate", self.hang_rate),
            ("drop_rate", self.drop_rate),
            ("webhook_drop_rate", self.webhook_drop_rate),
            ("webhook_duplicate_rate", self.webhook_duplicate_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{key} is {rate}; allowed 0.0..=1.0"));
            }
        }
        self.media.as_ref().map_or(Ok(()), MediaFault::validate)
    }

    /// The delay and fate of one request.
    pub(crate) fn roll(&self, rng: &mut impl Rng) -> (Duration, Fate) {
        let jitter = if self.jitter_ms > 0 {
            rng.random_range(0..=self.jitter_ms)
        } else {
            0
        };
        let delay = Duration::from_millis(self.latency_ms + jitter);
        let roll: f64 = rng.random();
        let fate = if roll < self.hang_rate {
            Fate::Hang
        } else if roll < self.hang_rate + self.error_rate {
            Fate::Fail(self.error_code)
        } else if roll < self.hang_rate + self.error_rate + self.drop_rate {
            Fate::Drop
        } else {
            Fate::Answer
        };
        (delay, fate)
    }
}

/// A change to the running sandbox, from a scenario's schedule or the admin endpoint.
///
/// Durations are simulated time, like the scenario's schedule: at speed 10 a 20 s latency spike
/// lasts 2 s of real time. At the default speed of 1 the two are the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Disruption {
    /// Sets the request faults; after `duration` they are cleared again.
    Faults {
        #[serde(flatten)]
        faults: Faults,
        #[serde(default, with = "humantime_serde_opt")]
        duration: Option<Duration>,
    },
    /// Clears every request fault.
    Clear,
    /// Closes the listener and every open connection: new connections are refused. It comes
    /// back after `duration` (or on `ListenerUp`).
    ListenerDown {
        #[serde(default, with = "humantime_serde_opt")]
        duration: Option<Duration>,
    },
    ListenerUp,
    /// Listener down for `downtime`, then up again; rooms are kept or lost.
    Restart {
        keep_state: bool,
        #[serde(default, with = "humantime_serde_opt")]
        downtime: Option<Duration>,
    },
    /// The node announces it is shutting down (`SHUTTING_DOWN` in the node registry), as
    /// livekit-server does on its first stop signal; it keeps serving meanwhile.
    Drain,
    /// The node is `SERVING` again.
    Serve,
}

/// `Option<Duration>` written as `"500ms"` or a number of seconds.
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use yaml_located::ConfigDuration;

    #[expect(clippy::ref_option, reason = "serde's `with` hands over &Option<T>")]
    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .map(|duration| humantime::format_duration(duration).to_string())
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<ConfigDuration>::deserialize(d)?.map(ConfigDuration::get))
    }
}
