//! The semantic checks of a decoded scenario: what serde cannot see (min above max, a
//! probability of 1.5, duplicate names, a surge longer than its period), every problem with
//! the key that holds it.

use std::collections::HashSet;
use std::time::Duration;

use yaml_located::{ConfigDuration, KeyPath};

use super::MAX_TICK;
use super::schema::{
    DynamicRooms, FixedRoom, Lifetime, ParticipantModel, PublishOdds, Scenario, Surge,
};
use crate::faults::Disruption;
use crate::rooms::ServerLimits;

impl Scenario {
    /// Every semantic problem, with the key that holds it.
    pub(super) fn problems(&self) -> Vec<(KeyPath, String)> {
        let mut problems = Vec::new();
        let top = KeyPath::root();
        if !(self.speed.is_finite() && self.speed > 0.0) {
            problems.push((
                top.clone().key("speed"),
                format!("speed is {}; it must be a positive number", self.speed),
            ));
        }

        if self.tick.get() > MAX_TICK {
            problems.push((
                top.clone().key("tick"),
                format!(
                    "tick is {}; at most {} keeps the simulation smooth",
                    self.tick,
                    humantime::format_duration(MAX_TICK)
                ),
            ));
        }
        let mut names = HashSet::new();
        for (index, room) in self.rooms.iter().enumerate() {
            let at = top.clone().key("rooms").index(index);
            self.check_fixed_room(room, &at, &mut names, &mut problems);
        }
        let mut prefixes = HashSet::new();
        for (index, group) in self.dynamic_rooms.iter().enumerate() {
            let at = top.clone().key("dynamic_rooms").index(index);
            check_group(group, &at, &mut prefixes, &mut problems);
        }

        for (index, fault) in self.faults.iter().enumerate() {
            let at = top.clone().key("faults").index(index);
            if let Disruption::Faults { faults, .. } = &fault.apply
                && let Err(problem) = faults.validate()
            {
                problems.push((at.clone().key("apply"), problem));
            }
        }
        self.service_problems(&mut problems);
        problems
    }

    fn check_fixed_room<'a>(
        &self,
        room: &'a FixedRoom,
        at: &KeyPath,
        names: &mut HashSet<&'a str>,
        problems: &mut Vec<(KeyPath, String)>,
    ) {
        let limits = ServerLimits::default();
        let name_key = at.clone().key("name");
        if room.name.is_empty() {
            problems.push((
                name_key.clone(),
                "the room name must not be empty".to_owned(),
            ));
        } else if room.name.chars().count() > limits.max_room_name_length {
            problems.push((
                name_key.clone(),
                format!(
                    "the room name is longer than the server allows ({} characters)",
                    limits.max_room_name_length
                ),
            ));
        }
        if !names.insert(room.name.as_str()) {
            problems.push((
                name_key.clone(),
                format!(
                    "room `{}` is named twice; room names must be unique",
                    room.name
                ),
            ));
        }
        if let Some(group) = self
            .dynamic_rooms
            .iter()
            .find(|group| !group.prefix.is_empty() && room.name.starts_with(&group.prefix))
        {
            problems.push((
                name_key,
                format!(
                    "room `{}` starts with the dynamic prefix `{}`; the group could create a \
                     room of the same name",
                    room.name, group.prefix
                ),
            ));
        }
        check_metadata(&room.metadata, at, &limits, problems);
        check_participants(
            &room.participants,
            room.max_participants,
            &at.clone().key("participants"),
            problems,
        );
        if let Some(surge) = &room.surge {
            check_surge(surge, &at.clone().key("surge"), problems);
        }
    }
}

fn check_group<'a>(
    group: &'a DynamicRooms,
    at: &KeyPath,
    prefixes: &mut HashSet<&'a str>,
    problems: &mut Vec<(KeyPath, String)>,
) {
    let limits = ServerLimits::default();
    let prefix_key = at.clone().key("prefix");
    if group.prefix.is_empty() {
        problems.push((prefix_key, "the prefix must not be empty".to_owned()));
    } else if group.prefix.chars().count() + 8 > limits.max_room_name_length {
        problems.push((
            prefix_key,
            "the prefix leaves no room for a number within the server's name limit".to_owned(),
        ));
    } else if !prefixes.insert(group.prefix.as_str()) {
        problems.push((
            prefix_key,
            format!(
                "prefix `{}` is used twice; prefixes must be unique",
                group.prefix
            ),
        ));
    }
    if group.initial > group.max_rooms {
        problems.push((
            at.clone().key("initial"),
            format!(
                "initial ({}) is greater than max_rooms ({})",
                group.initial, group.max_rooms
            ),
        ));
    }
    check_rate(group.create_rate, &at.clone().key("create_rate"), problems);
    check_lifetime(&group.lifetime, "lifetime", at, problems);
    check_metadata(&group.metadata, at, &limits, problems);
    check_participants(
        &group.participants,
        group.max_participants,
        &at.clone().key("participants"),
        problems,
    );
    if let Some(surge) = &group.surge {
        let surge_key = at.clone().key("surge");
        if surge.rooms == 0 {
            problems.push((
                surge_key.clone().key("rooms"),
                "a surge of 0 rooms does nothing; write at least 1".to_owned(),
            ));
        }
        check_period(
            surge.every,
            surge.duration.get(),
            "the surge itself",
            &surge_key,
            problems,
        );
    }
}

pub(super) fn check_rate(rate: f64, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if !(rate.is_finite() && rate >= 0.0) {
        problems.push((
            key.clone(),
            format!(
                "{} is {rate}; a rate per minute must be 0 or more",
                leaf(key)
            ),
        ));
    }
}

pub(super) fn check_probability(value: f64, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if !(0.0..=1.0).contains(&value) {
        problems.push((
            key.clone(),
            format!(
                "{} is {value}; a probability must be within 0.0..=1.0",
                leaf(key)
            ),
        ));
    }
}

fn leaf(key: &KeyPath) -> &str {
    key.leaf().unwrap_or("the value")
}

fn check_publish(odds: &PublishOdds, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    for (name, value) in [
        ("audio", odds.audio),
        ("video", odds.video),
        ("screen_share", odds.screen_share),
        ("muted", odds.muted),
    ] {
        check_probability(value, &key.clone().key(name), problems);
    }
}

fn check_participants(
    model: &ParticipantModel,
    max_participants: u32,
    key: &KeyPath,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if model.min > model.max {
        problems.push((
            key.clone().key("min"),
            format!("min ({}) is greater than max ({})", model.min, model.max),
        ));
    } else if !(model.min..=model.max).contains(&model.initial) {
        problems.push((
            key.clone().key("initial"),
            format!(
                "initial ({}) is outside min..=max ({}..={})",
                model.initial, model.min, model.max
            ),
        ));
    }
    if max_participants > 0 && model.min > max_participants {
        problems.push((
            key.clone().key("min"),
            format!(
                "min ({}) is above the room's max_participants ({max_participants}); the room \
                 could never hold it",
                model.min
            ),
        ));
    }
    check_rate(model.join_rate, &key.clone().key("join_rate"), problems);
    check_rate(model.leave_rate, &key.clone().key("leave_rate"), problems);
    check_rate(model.mute_rate, &key.clone().key("mute_rate"), problems);
    check_rate(model.unmute_rate, &key.clone().key("unmute_rate"), problems);
    check_publish(&model.publish, &key.clone().key("publish"), problems);
}

fn check_surge(surge: &Surge, key: &KeyPath, problems: &mut Vec<(KeyPath, String)>) {
    if surge.participants == 0 {
        problems.push((
            key.clone().key("participants"),
            "a surge to 0 participants does nothing; write the head count to reach".to_owned(),
        ));
    }
    if let Some(publish) = &surge.publish {
        check_publish(publish, &key.clone().key("publish"), problems);
    }
    check_period(surge.every, surge.span(), "the surge itself", key, problems);
}

/// A range of lengths (a room's lifetime, a call's length) must not end before it starts.
pub(super) fn check_lifetime(
    lifetime: &Lifetime,
    name: &str,
    at: &KeyPath,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if lifetime.min > lifetime.max {
        problems.push((
            at.clone().key(name).key("min"),
            format!(
                "{name}.min ({}) is longer than {name}.max ({})",
                lifetime.min, lifetime.max
            ),
        ));
    }
}

/// What repeats (a surge, a recording, a stream sent in) must be over before it starts again.
pub(super) fn check_period(
    every: Option<ConfigDuration>,
    span: Duration,
    what: &str,
    key: &KeyPath,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if let Some(every) = every
        && every.get() <= span
    {
        problems.push((
            key.clone().key("every"),
            format!(
                "every ({every}) must be longer than {what} ({})",
                humantime::format_duration(span)
            ),
        ));
    }
}

fn check_metadata(
    metadata: &str,
    key: &KeyPath,
    limits: &ServerLimits,
    problems: &mut Vec<(KeyPath, String)>,
) {
    if metadata.len() > limits.max_metadata_size {
        problems.push((
            key.clone().key("metadata"),
            format!(
                "metadata is {} bytes; the server allows {}",
                metadata.len(),
                limits.max_metadata_size
            ),
        ));
    }
}
