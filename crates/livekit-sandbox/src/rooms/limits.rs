//! livekit-server's limits on names, metadata and attributes, and the checks of a request
//! against them.

use livekit_protocol as proto;

use super::RoomStore;
use crate::twirp_error::TwirpError;

/// livekit-server's `room` and `limit` defaults (pkg/config/config.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub empty_timeout_secs: u32,
    pub departure_timeout_secs: u32,
    pub max_metadata_size: usize,
    pub max_room_name_length: usize,
    pub max_participant_identity_length: usize,
    pub max_participant_name_length: usize,
    pub max_attributes_size: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            empty_timeout_secs: 300,
            departure_timeout_secs: 20,
            max_metadata_size: 512 * 1024,
            max_room_name_length: 256,
            max_participant_identity_length: 256,
            max_participant_name_length: 256,
            max_attributes_size: 64 * 1024,
        }
    }
}

impl RoomStore {
    pub(super) fn check_room_name(&self, name: &str) -> Result<(), TwirpError> {
        if name.is_empty() {
            return Err(TwirpError::invalid("room name must not be empty"));
        }
        if name.chars().count() > self.limits.max_room_name_length {
            return Err(TwirpError::invalid(format!(
                "room name length exceeds limits ({})",
                self.limits.max_room_name_length
            )));
        }
        Ok(())
    }

    pub(super) fn check_metadata(&self, metadata: &str) -> Result<(), TwirpError> {
        if metadata.len() > self.limits.max_metadata_size {
            return Err(TwirpError::invalid(format!(
                "metadata size exceeds limits ({} bytes)",
                self.limits.max_metadata_size
            )));
        }
        Ok(())
    }

    /// UpdateParticipant's values: metadata, name and attributes within the server's limits.
    pub(super) fn check_participant_update(
        &self,
        request: &proto::UpdateParticipantRequest,
    ) -> Result<(), TwirpError> {
        self.check_metadata(&request.metadata)?;
        let limits = self.limits;
        if request.name.chars().count() > limits.max_participant_name_length {
            return Err(TwirpError::invalid(format!(
                "name length exceeds limits ({})",
                limits.max_participant_name_length
            )));
        }
        let attributes_size: usize = request
            .attributes
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum();
        if attributes_size > limits.max_attributes_size {
            return Err(TwirpError::invalid(format!(
                "attributes size exceeds limits ({} bytes)",
                limits.max_attributes_size
            )));
        }
        Ok(())
    }

    /// A joining identity: not empty, and not longer than the server allows.
    pub(super) fn check_identity(&self, identity: &str) -> Result<(), TwirpError> {
        if identity.is_empty()
            || identity.chars().count() > self.limits.max_participant_identity_length
        {
            return Err(TwirpError::invalid(format!(
                "identity must have 1..={} characters",
                self.limits.max_participant_identity_length
            )));
        }
        Ok(())
    }
}
