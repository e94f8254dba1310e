//! Popups: help, confirmation of destructive actions, a one-line text prompt, and the editors
//! for room limits and audio profiles. Each editor validates its values as they change, with
//! the same checks the engine applies, so an invalid value is explained before it is sent.

use std::ops::RangeInclusive;

use crate::audio;
use crate::config::{
    AudioProfile, BUFFER_SIZE_MS, Config, EnforcementMode, JITTER_BUFFER_MS, MAX_ROOM_NAME_LENGTH,
    ROOM_LIMIT, RoomLimitOverride, RoomLimitsConfig, TARGET_LATENCY_MS,
};
use crate::events::Command;

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help { scroll: usize },
    Confirm(Confirm),
    Input(TextInput),
    Limits(LimitsEditor),
    Audio(AudioEditor),
}

/// "Are you sure?" before a command that cannot be undone.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub(crate) title: String,
    pub message: String,
    pub(crate) command: Command,
}

/// A one-line prompt: a new room's name, or an agent to dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextInput {
    pub(crate) title: String,
    pub(crate) server: String,
    pub value: String,
    pub(crate) purpose: InputPurpose,
}

/// What a prompt's text becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputPurpose {
    NewRoom,
    /// `agent-name` then, after a space, the job's metadata as written.
    DispatchAgent {
        room: String,
    },
}

impl TextInput {
    /// The command the text asks for, once it can be used.
    #[must_use]
    pub(crate) fn command(&self) -> Option<Command> {
        if self.problem().is_some() {
            return None;
        }
        let text = self.value.trim();
        Some(match &self.purpose {
            InputPurpose::NewRoom => Command::CreateRoom {
                server: self.server.clone(),
                room: text.to_owned(),
            },
            InputPurpose::DispatchAgent { room } => {
                let (agent_name, metadata) = text.split_once(' ').unwrap_or((text, ""));
                Command::CreateDispatch {
                    server: self.server.clone(),
                    room: room.clone(),
                    agent_name: agent_name.to_owned(),
                    metadata: metadata.trim().to_owned(),
                }
            }
        })
    }

    /// The keys line under the prompt.
    #[must_use]
    pub(crate) fn hint(&self) -> &'static str {
        match self.purpose {
            InputPurpose::NewRoom => "enter create · esc cancel",
            InputPurpose::DispatchAgent { .. } => {
                "agent name, a space, then metadata · enter dispatch · esc cancel"
            }
        }
    }

    /// Why the current value cannot be used, if it cannot.
    #[must_use]
    pub(crate) fn problem(&self) -> Option<String> {
        if let InputPurpose::DispatchAgent { .. } = self.purpose {
            return self
                .value
                .trim()
                .is_empty()
                .then(|| "type the agent's name (as it registered), then any metadata".to_owned());
        }
        let name = self.value.trim();
        if name.is_empty() {
            return Some("type a room name".to_owned());
        }
        if name.len() > MAX_ROOM_NAME_LENGTH {
            return Some(format!(
                "{} bytes is too long; LiveKit allows {MAX_ROOM_NAME_LENGTH}",
                name.len()
            ));
        }
        None
    }
}

/// The limits the editor changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitsScope {
    Global,
    Room(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitField {
    ConcurrentRooms,
    Participants,
    AudioTracks,
    VideoTracks,
    Enforcement,
}

impl LimitField {
    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::ConcurrentRooms => "Concurrent rooms",
            Self::Participants => "Participants per room",
            Self::AudioTracks => "Audio tracks per room",
            Self::VideoTracks => "Video tracks per room",
            Self::Enforcement => "Enforcement",
        }
    }
}

/// Edits the global limits or one room's overrides; left/right step, digits type a value,
/// backspace on a room's value goes back to the global one.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsEditor {
    pub scope: LimitsScope,
    /// The limits as they were when the editor opened; the candidate starts from them.
    pub(crate) limits: RoomLimitsConfig,
    pub(crate) selected: usize,
    /// Digits typed into the selected field, not yet committed.
    pub(crate) typing: Option<String>,
}

impl LimitsEditor {
    #[must_use]
    pub(crate) fn new(scope: LimitsScope, limits: RoomLimitsConfig) -> Self {
        Self {
            scope,
            limits,
            selected: 0,
            typing: None,
        }
    }

    #[must_use]
    pub(crate) fn fields(&self) -> &'static [LimitField] {
        match self.scope {
            LimitsScope::Global => &[
                LimitField::ConcurrentRooms,
                LimitField::Participants,
                LimitField::AudioTracks,
                LimitField::VideoTracks,
                LimitField::Enforcement,
            ],
            LimitsScope::Room(_) => &[
                LimitField::Participants,
                LimitField::AudioTracks,
                LimitField::VideoTracks,
            ],
        }
    }

    #[must_use]
    pub(crate) fn field(&self) -> LimitField {
        let fields = self.fields();
        fields[self.selected.min(fields.len() - 1)]
    }

    fn room_override(&self) -> Option<RoomLimitOverride> {
        match &self.scope {
            LimitsScope::Global => None,
            LimitsScope::Room(room) => {
                Some(self.limits.overrides.get(room).copied().unwrap_or_default())
            }
        }
    }

    /// A numeric field's value: `(value, inherited)` where `inherited` means the room has no
    /// value of its own and the global one applies.
    #[must_use]
    pub(crate) fn value(&self, field: LimitField) -> (u32, bool) {
        let global = match field {
            LimitField::ConcurrentRooms => self.limits.max_concurrent_rooms,
            LimitField::Participants => self.limits.max_participants_per_room,
            LimitField::AudioTracks => self.limits.max_audio_tracks_per_room,
            LimitField::VideoTracks => self.limits.max_video_tracks_per_room,
            LimitField::Enforcement => 0,
        };
        let own = self.room_override().and_then(|o| match field {
            LimitField::Participants => o.max_participants,
            LimitField::AudioTracks => o.max_audio_tracks,
            LimitField::VideoTracks => o.max_video_tracks,
            LimitField::ConcurrentRooms | LimitField::Enforcement => None,
        });
        match (&self.scope, own) {
            (LimitsScope::Room(_), Some(value)) => (value, false),
            (LimitsScope::Room(_), None) => (global, true),
            (LimitsScope::Global, _) => (global, false),
        }
    }

    /// Sets a numeric field; `None` makes a room's value inherit the global one again.
    pub(crate) fn set(&mut self, field: LimitField, value: Option<u32>) {
        match self.scope.clone() {
            LimitsScope::Global => {
                let value = value.unwrap_or_else(|| self.value(field).0);
                match field {
                    LimitField::ConcurrentRooms => self.limits.max_concurrent_rooms = value,
                    LimitField::Participants => self.limits.max_participants_per_room = value,
                    LimitField::AudioTracks => self.limits.max_audio_tracks_per_room = value,
                    LimitField::VideoTracks => self.limits.max_video_tracks_per_room = value,
                    LimitField::Enforcement => {}
                }
            }
            LimitsScope::Room(room) => {
                let entry = self.limits.overrides.entry(room.clone()).or_default();
                match field {
                    LimitField::Participants => entry.max_participants = value,
                    LimitField::AudioTracks => entry.max_audio_tracks = value,
                    LimitField::VideoTracks => entry.max_video_tracks = value,
                    LimitField::ConcurrentRooms | LimitField::Enforcement => {}
                }
                if *entry == RoomLimitOverride::default() {
                    self.limits.overrides.remove(&room);
                }
            }
        }
    }

    /// Left/right: one step (ten with shift); enforcement toggles.
    pub(crate) fn step(&mut self, delta: i64) {
        self.commit_typing();
        let field = self.field();
        if field == LimitField::Enforcement {
            self.limits.enforcement = match self.limits.enforcement {
                EnforcementMode::Observe => EnforcementMode::Enforce,
                EnforcementMode::Enforce => EnforcementMode::Observe,
            };
            return;
        }
        let (value, _) = self.value(field);
        let next = (i64::from(value) + delta)
            .clamp(i64::from(*ROOM_LIMIT.start()), i64::from(*ROOM_LIMIT.end()));
        self.set(
            field,
            Some(u32::try_from(next).unwrap_or(*ROOM_LIMIT.start())),
        );
    }

    pub(crate) fn type_digit(&mut self, digit: char) {
        if self.field() == LimitField::Enforcement {
            return;
        }
        let typing = self.typing.get_or_insert_with(String::new);
        if typing.len() < 10 {
            typing.push(digit);
        }
    }

    /// Backspace: removes a typed digit, or makes a room's value inherit the global one.
    pub(crate) fn backspace(&mut self) {
        match &mut self.typing {
            Some(typing) => {
                typing.pop();
                if typing.is_empty() {
                    self.typing = None;
                }
            }
            None => {
                if matches!(self.scope, LimitsScope::Room(_)) {
                    self.set(self.field(), None);
                }
            }
        }
    }

    /// Moves typed digits into the field (a number too large to parse is kept as typed so
    /// the problem shows).
    pub(crate) fn commit_typing(&mut self) {
        if let Some(typing) = self.typing.take() {
            match typing.parse::<u32>() {
                Ok(value) => self.set(self.field(), Some(value)),
                Err(_) => self.typing = Some(typing),
            }
        }
    }

    pub(crate) fn select(&mut self, delta: isize) {
        self.commit_typing();
        if self.typing.is_none() {
            let len = self.fields().len();
            self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
        }
    }

    /// The problems of the limits as edited, by the configuration's own checks.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        if let Some(typing) = &self.typing
            && typing.parse::<u32>().is_err()
        {
            return vec![format!(
                "{typing} is not a number in {}..={}",
                ROOM_LIMIT.start(),
                ROOM_LIMIT.end()
            )];
        }
        let mut candidate = Config::default();
        candidate.room_limits = self.candidate();
        crate::config::validate(&candidate)
            .into_iter()
            .filter(|problem| problem.key.to_string().starts_with("room_limits"))
            .map(|problem| format!("{}: {}", problem.key, problem.problem))
            .collect()
    }

    /// The limits to send, typed digits included.
    #[must_use]
    pub(crate) fn candidate(&self) -> RoomLimitsConfig {
        let mut editor = self.clone();
        editor.commit_typing();
        editor.limits
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioField {
    TargetLatency,
    BufferSize,
    JitterBuffer,
    EchoCancellation,
    NoiseSuppression,
    AutoGain,
}

impl AudioField {
    pub(crate) const ALL: [AudioField; 6] = [
        AudioField::TargetLatency,
        AudioField::BufferSize,
        AudioField::JitterBuffer,
        AudioField::EchoCancellation,
        AudioField::NoiseSuppression,
        AudioField::AutoGain,
    ];

    #[must_use]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::TargetLatency => "Target latency (ms)",
            Self::BufferSize => "Buffer size (ms)",
            Self::JitterBuffer => "Jitter buffer (ms)",
            Self::EchoCancellation => "Echo cancellation",
            Self::NoiseSuppression => "Noise suppression",
            Self::AutoGain => "Auto gain control",
        }
    }

    /// The step of left/right and the allowed range, for the numeric fields.
    #[must_use]
    pub(crate) fn numeric(self) -> Option<(u32, RangeInclusive<u32>)> {
        match self {
            Self::TargetLatency => Some((5, TARGET_LATENCY_MS)),
            Self::BufferSize => Some((5, BUFFER_SIZE_MS)),
            Self::JitterBuffer => Some((10, JITTER_BUFFER_MS)),
            Self::EchoCancellation | Self::NoiseSuppression | Self::AutoGain => None,
        }
    }
}

/// Where the editor's starting values came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProfileSource {
    /// The room's metadata holds a profile.
    Room,
    /// The room has none; the configured default is shown.
    Default,
    /// The room's metadata could not be read as JSON with a profile; the default is shown.
    Unreadable(String),
}

/// Edits the audio profile written into one room's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioEditor {
    pub(crate) server: String,
    pub(crate) room: String,
    pub(crate) profile: AudioProfile,
    pub(crate) source: ProfileSource,
    pub(crate) selected: usize,
    pub(crate) typing: Option<String>,
}

impl AudioEditor {
    /// Starts from the room's own profile, else `default`.
    #[must_use]
    pub(crate) fn new(server: String, room: String, metadata: &str, default: AudioProfile) -> Self {
        let (profile, source) = match audio::read_profile(metadata) {
            Ok(Some(profile)) => (profile, ProfileSource::Room),
            Ok(None) => (default, ProfileSource::Default),
            Err(err) => (default, ProfileSource::Unreadable(err.to_string())),
        };
        Self {
            server,
            room,
            profile,
            source,
            selected: 0,
            typing: None,
        }
    }

    #[must_use]
    pub(crate) fn field(&self) -> AudioField {
        AudioField::ALL[self.selected.min(AudioField::ALL.len() - 1)]
    }

    fn slot(&mut self, field: AudioField) -> Option<&mut u32> {
        match field {
            AudioField::TargetLatency => Some(&mut self.profile.target_latency_ms),
            AudioField::BufferSize => Some(&mut self.profile.buffer_size_ms),
            AudioField::JitterBuffer => Some(&mut self.profile.jitter_buffer_ms),
            _ => None,
        }
    }

    fn flag(&mut self, field: AudioField) -> Option<&mut bool> {
        match field {
            AudioField::EchoCancellation => Some(&mut self.profile.echo_cancellation),
            AudioField::NoiseSuppression => Some(&mut self.profile.noise_suppression),
            AudioField::AutoGain => Some(&mut self.profile.auto_gain_control),
            _ => None,
        }
    }

    /// Left/right: a step of the field (times `multiple`), or a toggle.
    pub(crate) fn step(&mut self, direction: i64, multiple: u32) {
        self.commit_typing();
        let field = self.field();
        if let Some(flag) = self.flag(field) {
            *flag = !*flag;
            return;
        }
        if let Some((step, range)) = field.numeric()
            && let Some(slot) = self.slot(field)
        {
            let next = i64::from(*slot) + direction * i64::from(step * multiple);
            let next = next.clamp(i64::from(*range.start()), i64::from(*range.end()));
            *slot = u32::try_from(next).unwrap_or(*range.start());
        }
    }

    pub(crate) fn type_digit(&mut self, digit: char) {
        if self.field().numeric().is_some() {
            let typing = self.typing.get_or_insert_with(String::new);
            if typing.len() < 10 {
                typing.push(digit);
            }
        }
    }

    pub(crate) fn backspace(&mut self) {
        if let Some(typing) = &mut self.typing {
            typing.pop();
            if typing.is_empty() {
                self.typing = None;
            }
        }
    }

    pub(crate) fn commit_typing(&mut self) {
        if let Some(typing) = self.typing.take() {
            let field = self.field();
            match typing.parse::<u32>() {
                Ok(value) => {
                    if let Some(slot) = self.slot(field) {
                        *slot = value;
                    }
                }
                Err(_) => self.typing = Some(typing),
            }
        }
    }

    pub(crate) fn select(&mut self, delta: isize) {
        self.commit_typing();
        if self.typing.is_none() {
            self.selected = self
                .selected
                .saturating_add_signed(delta)
                .min(AudioField::ALL.len() - 1);
        }
    }

    /// The profile to send, typed digits included.
    #[must_use]
    pub(crate) fn candidate(&self) -> AudioProfile {
        let mut editor = self.clone();
        editor.commit_typing();
        editor.profile
    }

    /// Why the profile as edited would be refused.
    #[must_use]
    pub(crate) fn problem(&self) -> Option<String> {
        if let Some(typing) = &self.typing
            && typing.parse::<u32>().is_err()
        {
            return Some(format!("{typing} is not a number"));
        }
        audio::check_profile(&self.candidate())
            .err()
            .map(|problem| problem.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dispatch_prompt_reads_the_agent_name_then_its_metadata() {
        let mut input = TextInput {
            title: String::new(),
            server: "s".into(),
            value: "   ".into(),
            purpose: InputPurpose::DispatchAgent { room: "r".into() },
        };
        assert!(input.problem().is_some_and(|p| p.contains("agent's name")));
        assert_eq!(input.command(), None);
        input.value = r#" note-taker  {"lang": "en"} "#.into();
        assert_eq!(
            input.command(),
            Some(Command::CreateDispatch {
                server: "s".into(),
                room: "r".into(),
                agent_name: "note-taker".into(),
                metadata: r#"{"lang": "en"}"#.into(),
            })
        );
        input.value = "support-bot".into();
        assert!(matches!(
            input.command(),
            Some(Command::CreateDispatch { metadata, .. }) if metadata.is_empty()
        ));
    }

    #[test]
    fn a_room_value_inherits_until_set_and_again_after_backspace() {
        let mut editor =
            LimitsEditor::new(LimitsScope::Room("r".into()), RoomLimitsConfig::default());
        assert_eq!(editor.value(LimitField::Participants), (50, true));
        editor.step(-1);
        assert_eq!(editor.value(LimitField::Participants), (49, false));
        assert_eq!(editor.candidate().overrides["r"].max_participants, Some(49));
        editor.backspace();
        assert_eq!(editor.value(LimitField::Participants), (50, true));
        assert!(editor.candidate().overrides.is_empty());
    }

    #[test]
    fn typed_values_are_validated_live() {
        let mut editor = LimitsEditor::new(LimitsScope::Global, RoomLimitsConfig::default());
        editor.type_digit('0');
        let problems = editor.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("max_concurrent_rooms"), "{problems:?}");
        editor.backspace();
        assert!(editor.problems().is_empty());
    }

    #[test]
    fn audio_buffer_longer_than_target_is_explained() {
        let mut editor = AudioEditor::new("s".into(), "r".into(), "", AudioProfile::default());
        assert_eq!(editor.source, ProfileSource::Default);
        editor.selected = 1;
        editor.type_digit('9');
        editor.type_digit('0');
        assert!(editor.problem().is_some());
        editor.backspace();
        editor.backspace();
        assert_eq!(editor.problem(), None);
    }
}
