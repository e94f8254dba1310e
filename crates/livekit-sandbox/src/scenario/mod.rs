//! Scenario files: what the sandbox simulates.
//!
//! A scenario is a YAML file (this crate's `assets/demo.yaml`, [`Scenario::demo`], is the
//! commented reference of the format). Every key is optional unless marked *required*;
//! unknown keys are refused.
//!
//! ```yaml
//! seed: 42            # decides every random choice: same seed, same simulation
//! speed: 1.0          # simulated seconds per real second (> 0)
//! tick: 250ms         # simulation step, in simulated time
//! rooms:              # fixed rooms, created at start and kept alive
//!   - name: standup                     # required, unique
//!     max_participants: 0               # 0 = no limit; joins beyond it are refused
//!     empty_timeout: 5m                 # server default (300s) when absent
//!     departure_timeout: 20s            # server default (20s) when absent
//!     metadata: '{"team":"core"}'
//!     participants:
//!       initial: 6                      # joined at start; min <= initial <= max
//!       min: 3                          # random departures stop here
//!       max: 12                         # random joins stop here
//!       join_rate: 1.5                  # joins per simulated minute (per room)
//!       leave_rate: 0.1                 # departures per minute per participant (0.1: ~10 min stay)
//!       publish: { audio: 0.9, video: 0.6, screen_share: 0.05, muted: 0.3 }  # probabilities at join
//!       mute_rate: 0.5                  # per minute per unmuted track
//!       unmute_rate: 0.5                # per minute per muted track
//!     surge:                            # optional: the room goes far above max at known times
//!       at: 3m                          # simulated time from start (0 allowed)
//!       participants: 64                # target head count
//!       ramp: 45s                       # time to climb to the target, and to fall back to the
//!                                       # head count from before (newest participants leave)
//!       duration: 2m                    # time held at the target
//!       every: 15m                      # optional repeat period
//!       publish: { audio: 1.0, muted: 0.9 }  # optional: what surge joiners publish
//! dynamic_rooms:      # rooms that come and go
//!   - prefix: call-                     # required, non-empty: rooms are call-0001, call-0002, ...
//!     initial: 2                        # rooms created at start
//!     max_rooms: 3                      # concurrent rooms of this group (outside surges)
//!     create_rate: 0.5                  # new rooms per simulated minute
//!     lifetime: { min: 2m, max: 6m }    # each room lives a random time in this range
//!     on_end: leave                     # leave: everyone leaves, departure_timeout closes the
//!                                       # room; delete: the room is deleted (DeleteRoom)
//!     max_participants / empty_timeout / departure_timeout / metadata / participants: as above
//!     surge: { at: 8m, rooms: 7, duration: 2m, every: 15m }  # optional: many rooms at once
//! faults:             # scheduled disruptions
//!   - name: latency spike               # optional, for logs
//!     at: 1m                            # required: simulated time from start (0 allowed)
//!     every: 6m                         # optional repeat period
//!     apply: { kind: faults, latency_ms: 400, jitter_ms: 200, duration: 20s }  # a Disruption
//! ```
//!
//! Durations are written `30` (seconds), `30s`, `1500ms`, `2m` or `1m 30s`, and are simulated
//! time throughout, including the `duration` and `downtime` of a disruption.
//!
//! Errors name the file, the line and column, and the key, e.g.
//! `assets/x.yaml:12:5: rooms[1].participants.max: invalid type: string "ten", expected u32`;
//! semantic problems (min above max, a probability of 1.5, duplicate room names) are all
//! reported at once.
//!
//! The files: `schema` (the types a file decodes into), `offset` (times from the start, zero
//! allowed), `load` (reading and decoding, with positions in errors), `validate` (the semantic
//! checks) and `error` ([`ScenarioError`]).

mod error;
mod load;
mod offset;
mod schema;
mod services;
mod validate;
mod validate_services;

use std::time::Duration;

pub use error::ScenarioError;
pub use schema::{
    DynamicRooms, FixedRoom, Lifetime, ParticipantModel, PublishOdds, RoomEnd, RoomsSurge,
    Scenario, ScheduledFault, Surge,
};
pub use services::{
    IngressInputKind, ScheduledAgent, ScheduledEgress, ScheduledIngress, SipCallers,
};

/// The demo scenario, compiled in.
pub(crate) const DEMO_YAML: &str = include_str!("../../assets/demo.yaml");

/// How errors in the built-in demo name it.
pub(crate) const DEMO_LABEL: &str = "livekit-sandbox/assets/demo.yaml (built in)";

/// The longest simulation step: a step covers at most this much simulated time (longer
/// stalls are skipped rather than replayed), so a longer `tick` would lose time.
pub(crate) const MAX_TICK: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests;
