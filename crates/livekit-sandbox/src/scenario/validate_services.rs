//! The semantic checks of the `egress`, `agents`, `sip_callers` and `ingress` keys: rooms
//! that exist in the scenario, one output per egress, URLs livekit takes, periods longer
//! than what repeats.

use std::collections::HashSet;

use yaml_located::KeyPath;

use super::schema::Scenario;
use super::validate::{check_lifetime, check_period, check_probability, check_rate};

impl Scenario {
    pub(super) fn service_problems(&self, problems: &mut Vec<(KeyPath, String)>) {
        let top = KeyPath::root();
        for (index, egress) in self.egress.iter().enumerate() {
            let at = top.clone().key("egress").index(index);
            self.check_fixed_room_name(&egress.room, &at, problems);
            match (&egress.file, &egress.stream) {
                (Some(_), Some(_)) | (None, None) => problems.push((
                    at.clone(),
                    "an egress records to a `file` or streams to a `stream` URL: give exactly one"
                        .to_owned(),
                )),
                (None, Some(url))
                    if !(url.starts_with("rtmp://") || url.starts_with("rtmps://")) =>
                {
                    problems.push((
                        at.clone().key("stream"),
                        format!("`{url}` is not an rtmp:// or rtmps:// URL"),
                    ));
                }
                _ => {}
            }
            check_period(
                egress.every,
                egress.duration.get(),
                "duration",
                &at,
                problems,
            );
        }
        for (index, agent) in self.agents.iter().enumerate() {
            let at = top.clone().key("agents").index(index);
            match (&agent.room, &agent.prefix) {
                (Some(room), None) => self.check_fixed_room_name(room, &at, problems),
                (None, Some(prefix)) => {
                    if !self
                        .dynamic_rooms
                        .iter()
                        .any(|group| &group.prefix == prefix)
                    {
                        problems.push((
                            at.clone().key("prefix"),
                            format!("no dynamic_rooms group has the prefix `{prefix}`"),
                        ));
                    }
                }
                _ => problems.push((
                    at.clone(),
                    "an agent goes to a fixed `room` or to the rooms of a dynamic `prefix`: give \
                     exactly one"
                        .to_owned(),
                )),
            }
            check_probability(agent.odds, &at.clone().key("odds"), problems);
        }
        for (index, callers) in self.sip_callers.iter().enumerate() {
            let at = top.clone().key("sip_callers").index(index);
            self.check_fixed_room_name(&callers.room, &at, problems);
            check_rate(callers.call_rate, &at.clone().key("call_rate"), problems);
            check_probability(
                callers.trunk_failure,
                &at.clone().key("trunk_failure"),
                problems,
            );
            check_lifetime(&callers.call_length, "call_length", &at, problems);
        }
        let mut identities = HashSet::new();
        for (index, ingress) in self.ingress.iter().enumerate() {
            let at = top.clone().key("ingress").index(index);
            self.check_fixed_room_name(&ingress.room, &at, problems);
            if ingress.identity.is_empty() {
                problems.push((
                    at.clone().key("identity"),
                    "an ingress needs the identity its participant joins with".to_owned(),
                ));
            } else if !identities.insert((&ingress.room, &ingress.identity)) {
                problems.push((
                    at.clone().key("identity"),
                    format!(
                        "identity `{}` is used twice in room `{}`",
                        ingress.identity, ingress.room
                    ),
                ));
            }
            check_period(
                ingress.every,
                ingress.duration.get(),
                "duration",
                &at,
                problems,
            );
        }
    }

    fn check_fixed_room_name(
        &self,
        room: &str,
        at: &KeyPath,
        problems: &mut Vec<(KeyPath, String)>,
    ) {
        if !self.rooms.iter().any(|fixed| fixed.name == room) {
            problems.push((
                at.clone().key("room"),
                format!("`{room}` is not one of the scenario's fixed rooms"),
            ));
        }
    }
}
