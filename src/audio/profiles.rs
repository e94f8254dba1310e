//! The profiles the engine applies: a default for every room and the rooms' own.

use std::collections::BTreeMap;

use super::error::AudioError;
use super::profile::check_profile;
use crate::config::AudioProfile;

/// The default profile plus per-room overrides: what the engine applies to each room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AudioProfiles {
    default: AudioProfile,
    rooms: BTreeMap<String, AudioProfile>,
}

impl AudioProfiles {
    /// # Errors
    /// [`AudioError::InvalidProfile`] when `default` is out of the configuration's ranges.
    pub(crate) fn new(default: AudioProfile) -> Result<Self, AudioError> {
        check_profile(&default).map_err(AudioError::InvalidProfile)?;
        Ok(Self {
            default,
            rooms: BTreeMap::new(),
        })
    }

    /// The profile for rooms without an override (new rooms included).
    #[must_use]
    pub(crate) fn default_profile(&self) -> AudioProfile {
        self.default
    }

    /// Replaces the default, e.g. after a configuration reload; overrides stay.
    ///
    /// # Errors
    /// [`AudioError::InvalidProfile`], leaving the current default in place.
    pub(crate) fn set_default(&mut self, profile: AudioProfile) -> Result<(), AudioError> {
        check_profile(&profile).map_err(AudioError::InvalidProfile)?;
        self.default = profile;
        Ok(())
    }

    /// The room's override, else the default.
    #[must_use]
    pub(crate) fn profile_for(&self, room: &str) -> AudioProfile {
        self.room_override(room).unwrap_or(self.default)
    }

    #[must_use]
    pub(crate) fn room_override(&self, room: &str) -> Option<AudioProfile> {
        self.rooms.get(room).copied()
    }

    /// Gives `room` its own profile; returns the override it replaces.
    ///
    /// # Errors
    /// [`AudioError::InvalidProfile`], leaving the room's current profile in place.
    pub(crate) fn set_room(
        &mut self,
        room: impl Into<String>,
        profile: AudioProfile,
    ) -> Result<Option<AudioProfile>, AudioError> {
        check_profile(&profile).map_err(AudioError::InvalidProfile)?;
        Ok(self.rooms.insert(room.into(), profile))
    }

    /// Returns `room` to the default profile; returns the override it had.
    pub(crate) fn clear_room(&mut self, room: &str) -> Option<AudioProfile> {
        self.rooms.remove(room)
    }

    /// Every room with its own profile, by room name.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn overrides(&self) -> impl ExactSizeIterator<Item = (&str, AudioProfile)> {
        self.rooms
            .iter()
            .map(|(room, profile)| (room.as_str(), *profile))
    }
}
