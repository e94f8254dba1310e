//! Carrying out user commands; every command ends in exactly one `Command` event with its
//! outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, watch};

use super::api::MeasuredRoomService;
use super::server::LatestSnapshot;
use crate::api::{CreateRoomOptions, RoomApi};
use crate::audio::{self, AudioProfiles};
use secrecy::ExposeSecret;

use crate::config::{
    AudioProfile, Config, ConfigSources, EnforcementMode, RoomLimitsConfig, ServerConfig, load,
};
use crate::events::{Command, EventBus, EventKind, LiveSettings, Outcome, ReplacedLimits, now_ms};
use crate::limits;

/// livekit-server's default `limit.max_metadata_size`; a metadata write above it would be
/// refused by the server anyway, so lktop refuses first with a clearer message.
pub(crate) const MAX_METADATA_SIZE: usize = 512 * 1024;

/// Carries out the user's commands against the engine's servers and settings.
pub(crate) struct CommandRunner {
    pub(crate) servers: HashMap<String, (MeasuredRoomService, LatestSnapshot)>,
    /// Per server: wakes its jobs watcher after a command changed a job, so the change is
    /// read back at once rather than at the next interval.
    pub(crate) jobs_refresh: HashMap<String, Arc<Notify>>,
    /// Where the room limits in force came from, so a reload keeps limits set in the
    /// dashboard unless the file changed its own.
    pub(crate) limits: Mutex<LimitsOrigin>,
    pub(crate) settings: watch::Sender<Arc<Config>>,
    /// Read by every server worker before each poll.
    pub(crate) polling_paused: watch::Sender<bool>,
    pub(crate) sources: Option<ConfigSources>,
    pub(crate) audio: Arc<Mutex<AudioProfiles>>,
    pub(crate) bus: EventBus,
    /// The only server is the built-in sandbox the engine was started with.
    pub(crate) builtin_sandbox: bool,
}

impl CommandRunner {
    pub(crate) async fn handle(&self, id: u64, command: Command) {
        let outcome = match self.run(&command).await {
            Ok(detail) => Outcome::Done { detail },
            Err(reason) => Outcome::Failed { reason },
        };
        self.bus.emit(EventKind::Command {
            id,
            command,
            outcome,
        });
    }

    pub(super) fn server(
        &self,
        name: &str,
    ) -> Result<&(MeasuredRoomService, LatestSnapshot), String> {
        self.servers.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = self.servers.keys().map(String::as_str).collect();
            known.sort_unstable();
            format!("no server named `{name}`; configured: {}", known.join(", "))
        })
    }

    async fn run(&self, command: &Command) -> Result<String, String> {
        let settings = Arc::clone(&self.settings.borrow());
        match command {
            Command::CreateRoom { server, room } => self.create_room(&settings, server, room).await,
            Command::DeleteRoom { server, room } => {
                let (api, _) = self.server(server)?;
                api.delete_room(room).await.map_err(|err| err.to_string())?;
                Ok(format!("room {room} deleted"))
            }
            Command::SetLimits { limits } => {
                let mut candidate = (*settings).clone();
                candidate.room_limits = limits.clone();
                let problems = crate::config::validate(&candidate);
                if !problems.is_empty() {
                    let list: Vec<String> = problems
                        .iter()
                        .map(|p| format!("{}: {}", p.key, p.problem))
                        .collect();
                    return Err(format!("limits not changed: {}", list.join("; ")));
                }
                self.settings.send_replace(Arc::new(candidate));
                self.limits
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .dashboard_set = Some(now_ms());
                Ok("room limits updated; they apply from the next poll".to_owned())
            }
            Command::ApplyAudioProfile {
                server,
                room,
                profile,
            } => self.apply_audio_profile(server, room, *profile).await,
            Command::RemoveParticipant {
                server,
                room,
                identity,
            } => {
                let (api, _) = self.server(server)?;
                api.remove_participant(room, identity)
                    .await
                    .map_err(|err| err.to_string())?;
                Ok(format!("{identity} removed from {room}"))
            }
            Command::MuteTrack {
                server,
                room,
                identity,
                track_sid,
                muted,
            } => {
                let (api, _) = self.server(server)?;
                let track = api
                    .mute_published_track(room, identity, track_sid, *muted)
                    .await
                    .map_err(|err| err.to_string())?;
                Ok(format!(
                    "track {} of {identity} in {room} {}",
                    track.sid,
                    if track.muted { "muted" } else { "unmuted" }
                ))
            }
            Command::StopEgress { .. }
            | Command::CreateDispatch { .. }
            | Command::DeleteDispatch { .. } => self.run_job_command(command).await,
            Command::ReloadConfig => {
                let sources = self
                    .sources
                    .as_ref()
                    .ok_or_else(|| "no configuration file to reload".to_owned())?;
                let loaded = load(sources).map_err(|err| err.to_string())?;
                let source = loaded
                    .file
                    .as_ref()
                    .map_or_else(|| "defaults".to_owned(), |file| file.display().to_string());
                let needs_restart = self.apply(loaded.config, &source)?;
                Ok(format!(
                    "configuration reloaded from {source}{}",
                    restart_hint(&needs_restart)
                ))
            }
            Command::RetryNow { server } => {
                let (api, _) = self.server(server)?;
                api.pool.retry_now();
                Ok(format!("{server}: every waiting connection retries now"))
            }
            Command::SetPolling { paused } => {
                self.polling_paused.send_replace(*paused);
                Ok(if *paused {
                    "room polling paused; connections are still checked and graded".to_owned()
                } else {
                    "room polling resumed".to_owned()
                })
            }
        }
    }

    async fn create_room(
        &self,
        settings: &Config,
        server: &str,
        room: &str,
    ) -> Result<String, String> {
        let (api, latest) = self.server(server)?;
        let open_rooms = latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |snapshot| snapshot.rooms.len());
        limits::may_create_room(open_rooms, &settings.room_limits)?;
        let enforce = settings.room_limits.enforcement == EnforcementMode::Enforce;
        let max_participants = if enforce {
            limits::limit_for(&settings.room_limits, room).max_participants
        } else {
            0
        };
        let profile = self
            .audio
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .profile_for(room);
        let metadata =
            audio::merge_profile("", &profile, MAX_METADATA_SIZE).map_err(|err| err.to_string())?;
        let created = api
            .create_room(
                room,
                CreateRoomOptions {
                    max_participants,
                    metadata,
                    ..CreateRoomOptions::default()
                },
            )
            .await
            .map_err(|err| err.to_string())?;
        let limit = if created.max_participants == 0 {
            "unlimited".to_owned()
        } else {
            created.max_participants.to_string()
        };
        Ok(format!(
            "room {} created ({}, max_participants {limit}, audio profile in metadata)",
            created.name, created.sid
        ))
    }

    async fn apply_audio_profile(
        &self,
        server: &str,
        room: &str,
        profile: Option<AudioProfile>,
    ) -> Result<String, String> {
        let (api, _) = self.server(server)?;
        let profile = {
            let mut profiles = self.audio.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(profile) = profile {
                profiles
                    .set_room(room.to_owned(), profile)
                    .map_err(|err| err.to_string())?;
                profile
            } else {
                // The default, not the room's own profile: the room's override goes too, so
                // the room follows the default from now on.
                profiles.clear_room(room);
                profiles.default_profile()
            }
        };
        let rooms = api
            .list_rooms(vec![room.to_owned()])
            .await
            .map_err(|err| err.to_string())?;
        let current = rooms
            .first()
            .ok_or_else(|| format!("room {room} does not exist"))?;
        let metadata = audio::merge_profile(&current.metadata, &profile, MAX_METADATA_SIZE)
            .map_err(|err| err.to_string())?;
        api.update_room_metadata(room, &metadata)
            .await
            .map_err(|err| err.to_string())?;
        Ok(format!(
            "audio profile written to {room}: target {} ms, buffer {} ms, jitter buffer {} ms",
            profile.target_latency_ms, profile.buffer_size_ms, profile.jitter_buffer_ms
        ))
    }

    /// Takes a reloaded configuration from `source` and announces it: limits, thresholds,
    /// intervals and the audio default apply at once; the sections that changed but need a
    /// restart (servers, pool, metrics) are returned and named in the announcement.
    ///
    /// # Errors
    /// The new audio default is outside the allowed ranges.
    pub(crate) fn apply(&self, mut config: Config, source: &str) -> Result<Vec<String>, String> {
        self.audio
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_default(config.audio_optimization)
            .map_err(|err| err.to_string())?;
        let running = Arc::clone(&self.settings.borrow());
        let mut needs_restart = Vec::new();
        // With no server in the file the engine watches the built-in sandbox it was given.
        let servers_kept = self.builtin_sandbox && config.servers.is_empty();
        if !servers_kept && !same_servers(&config.servers, &running.servers) {
            needs_restart.push("servers".to_owned());
        }
        if config.connection_pool != running.connection_pool {
            needs_restart.push("connection_pool".to_owned());
        }
        if config.metrics != running.metrics {
            needs_restart.push("metrics".to_owned());
        }
        // The listener is bound with these: a change waits for the next start.
        if config.webhooks.listen != running.webhooks.listen {
            needs_restart.push("webhooks.listen".to_owned());
        }
        if config.webhooks.max_connections != running.webhooks.max_connections {
            needs_restart.push("webhooks.max_connections".to_owned());
        }
        if config.webhooks.header_read_timeout != running.webhooks.header_read_timeout {
            needs_restart.push("webhooks.header_read_timeout".to_owned());
        }
        // Connections already hold the old servers and pool sizes; keep them consistent with
        // what is running instead of half-applying them.
        config.servers.clone_from(&running.servers);
        config.connection_pool = running.connection_pool;
        config.metrics = running.metrics;
        config.webhooks.listen = running.webhooks.listen;
        config.webhooks.max_connections = running.webhooks.max_connections;
        config.webhooks.header_read_timeout = running.webhooks.header_read_timeout;
        let limits_replaced = self
            .limits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reload(&mut config.room_limits, &running.room_limits);
        let changes = crate::config::changes(&running, &config)
            .iter()
            .map(ToString::to_string)
            .collect();
        let settings = LiveSettings::of(&config);
        self.settings.send_replace(Arc::new(config));
        self.bus.emit(EventKind::ConfigApplied {
            source: source.to_owned(),
            settings,
            changes,
            limits_replaced,
            needs_restart: needs_restart.clone(),
        });
        Ok(needs_restart)
    }
}

/// The room limits the file last gave, and whether the dashboard has changed them since.
#[derive(Debug)]
pub(crate) struct LimitsOrigin {
    file: RoomLimitsConfig,
    /// When a `SetLimits` command last changed them (Unix ms).
    dashboard_set: Option<i64>,
}

impl LimitsOrigin {
    #[must_use]
    pub(crate) fn file(limits: &RoomLimitsConfig) -> Self {
        Self {
            file: limits.clone(),
            dashboard_set: None,
        }
    }

    /// A reload brings `reloaded` from the file. Limits set in the dashboard stay when the
    /// file's own limits did not change; when they did, the file wins and the dashboard's
    /// limits are returned so the reload can say they were replaced.
    fn reload(
        &mut self,
        reloaded: &mut RoomLimitsConfig,
        running: &RoomLimitsConfig,
    ) -> Option<ReplacedLimits> {
        let file_changed = *reloaded != self.file;
        self.file = reloaded.clone();
        let set_at_ms = self.dashboard_set?;
        if !file_changed {
            reloaded.clone_from(running);
            return None;
        }
        self.dashboard_set = None;
        Some(ReplacedLimits {
            set_at_ms,
            limits: running.clone(),
        })
    }
}

/// Whether two server lists would build the same pools: names, URLs, keys and secrets.
fn same_servers(a: &[ServerConfig], b: &[ServerConfig]) -> bool {
    let secret = |server: &ServerConfig| server.api_secret().map(|s| s.expose_secret().to_owned());
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.name == b.name && a.url == b.url && a.api_key == b.api_key && secret(a) == secret(b)
        })
}

/// "; restart lktop to apply the changed servers, metrics", or nothing.
#[must_use]
pub(crate) fn restart_hint(needs_restart: &[String]) -> String {
    if needs_restart.is_empty() {
        String::new()
    } else {
        format!(
            "; restart lktop to apply the changed {}",
            needs_restart.join(", ")
        )
    }
}
