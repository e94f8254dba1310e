//! The label values of livekit-server's media families: which way a packet went, whether it
//! was a retransmission, and the stream it belongs to.

use livekit_protocol as proto;

/// Where the sandbox's simulated clients are, with their share of participants in tenths:
/// a few countries so the `country` label has the cardinality of a real deployment.
const COUNTRIES: [(&str, u64); 3] = [("US", 5), ("DE", 3), ("IN", 2)];

/// The `country` of a participant, stable for its sid.
#[must_use]
pub(crate) fn country_of(participant_sid: &str) -> &'static str {
    let mut tenth = stable_hash(participant_sid) % 10;
    for (country, share) in COUNTRIES {
        if tenth < share {
            return country;
        }
        tenth -= share;
    }
    COUNTRIES[0].0
}

/// A hash that is the same in every run and on every platform (FNV-1a), so what depends on a
/// sid follows from the seed the sids came from.
#[must_use]
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Direction {
    /// From publishers to the server.
    Incoming,
    /// From the server to subscribers.
    Outgoing,
}

impl Direction {
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Transmission {
    Initial,
    Retransmit,
}

impl Transmission {
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Retransmit => "retransmit",
        }
    }
}

/// `{direction, transmission, country}` of `livekit_packet_total` and `livekit_packet_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PacketLabels {
    pub direction: Direction,
    pub transmission: Transmission,
    pub country: &'static str,
}

/// `{direction, country}` of the RTCP counters (NACK, PLI, FIR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RtcpLabels {
    pub direction: Direction,
    pub country: &'static str,
}

/// `{direction, source, type, country}` of the per-stream families (loss, jitter, RTT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct StreamLabels {
    pub direction: Direction,
    pub source: proto::TrackSource,
    pub kind: proto::TrackType,
    pub country: &'static str,
}

impl StreamLabels {
    /// `source` as livekit-server writes it: the protobuf enum's name, `CAMERA`.
    #[must_use]
    pub(crate) fn source_name(&self) -> &'static str {
        self.source.as_str_name()
    }

    /// `type`: `AUDIO` or `VIDEO`.
    #[must_use]
    pub(crate) fn kind_name(&self) -> &'static str {
        self.kind.as_str_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_follow_the_sid_and_use_every_country() {
        assert_eq!(country_of("PA_abc"), country_of("PA_abc"));
        let seen: std::collections::BTreeSet<&str> = (0..200)
            .map(|index| country_of(&format!("PA_{index}")))
            .collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["DE", "IN", "US"]);
    }
}
