//! The scenario keys for what runs in the rooms besides their crowds: recordings and streams
//! (`egress`), agents (`agents`), phone callers (`sip_callers`) and streams sent in
//! (`ingress`).

use std::time::Duration;

use serde::Deserialize;
use yaml_located::ConfigDuration;

use super::offset;
use super::schema::Lifetime;

/// An egress the simulation starts in a fixed room at `at` (and every `every`): a room
/// composite recording to `file` or streaming to `stream`, stopped after `duration`, or
/// failing `fail_after` it became active.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledEgress {
    /// A label for logs.
    #[serde(default)]
    pub name: Option<String>,
    /// A fixed room of the scenario.
    pub room: String,
    #[serde(deserialize_with = "offset::deserialize")]
    pub at: Duration,
    #[serde(default)]
    pub every: Option<ConfigDuration>,
    /// How long it records or streams before it is stopped.
    #[serde(default = "default_egress_duration")]
    pub duration: ConfigDuration,
    /// The file's path (`{room_name}`, `{time}` filled in): a recording.
    #[serde(default)]
    pub file: Option<String>,
    /// An `rtmp://` or `rtmps://` URL with its stream key: a live stream.
    #[serde(default)]
    pub stream: Option<String>,
    /// It fails this long after becoming active instead of being stopped.
    #[serde(default)]
    pub fail_after: Option<ConfigDuration>,
    /// The failure's `error`.
    #[serde(default = "default_egress_error")]
    pub error: String,
}

fn default_egress_duration() -> ConfigDuration {
    ConfigDuration::from_secs(300)
}

fn default_egress_error() -> String {
    "pipeline frozen".to_owned()
}

/// An agent dispatched to a fixed room at `at`, or to each new room of a dynamic group with
/// the chance `odds`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledAgent {
    pub agent_name: String,
    /// A fixed room of the scenario…
    #[serde(default)]
    pub room: Option<String>,
    /// …or the prefix of a dynamic group.
    #[serde(default)]
    pub prefix: Option<String>,
    /// When the fixed room's dispatch is made.
    #[serde(default, deserialize_with = "offset::deserialize")]
    pub at: Duration,
    /// The chance that a new room of the group gets the agent.
    #[serde(default = "always")]
    pub odds: f64,
    #[serde(default)]
    pub metadata: String,
}

fn always() -> f64 {
    1.0
}

/// Phone calls into a fixed room through a SIP trunk.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipCallers {
    /// A fixed room of the scenario.
    pub room: String,
    /// Calls per simulated minute.
    #[serde(default = "default_call_rate")]
    pub call_rate: f64,
    /// Callers in the room at once.
    #[serde(default = "default_max_callers")]
    pub max: u32,
    /// How long a call lasts: uniformly random in this range.
    #[serde(default = "default_call_length")]
    pub call_length: Lifetime,
    /// The trunk's number, the `sip.trunkPhoneNumber` attribute.
    #[serde(default = "default_trunk_number")]
    pub trunk_number: String,
    /// The share of calls that end with the trunk failing (`SIP_TRUNK_FAILURE`).
    #[serde(default)]
    pub trunk_failure: f64,
}

fn default_call_rate() -> f64 {
    0.5
}

fn default_max_callers() -> u32 {
    2
}

fn default_call_length() -> Lifetime {
    Lifetime {
        min: ConfigDuration::from_secs(30),
        max: ConfigDuration::from_secs(180),
    }
}

fn default_trunk_number() -> String {
    "+15105550100".to_owned()
}

/// A stream sent into a fixed room: the ingress exists from the start, its encoder sends
/// from `at` (and every `every`) for `duration`, or breaks `fail_after` it began.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledIngress {
    /// The ingress's name.
    pub name: String,
    /// A fixed room of the scenario.
    pub room: String,
    /// The identity its participant joins with.
    pub identity: String,
    #[serde(default)]
    pub input: IngressInputKind,
    #[serde(deserialize_with = "offset::deserialize")]
    pub at: Duration,
    #[serde(default)]
    pub every: Option<ConfigDuration>,
    #[serde(default = "default_egress_duration")]
    pub duration: ConfigDuration,
    #[serde(default)]
    pub fail_after: Option<ConfigDuration>,
}

/// How a scenario's ingress receives its stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngressInputKind {
    #[default]
    Rtmp,
    Whip,
}
