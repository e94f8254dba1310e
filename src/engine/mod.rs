//! The engine: one pool and one worker per configured server, a command runner, the live
//! configuration, and optional Prometheus metrics — all reporting through one stream of
//! [`EngineEvent`](crate::events::EngineEvent)s. It never imports the TUI; `lktop watch` and the
//! dashboard both run it.

mod api;
mod budget_watch;
mod commands;
mod drift;
mod enforcement;
mod job_commands;
mod jobs_watcher;
mod node_watcher;
mod server;
mod server_state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guarded_listener::ListenerLimits;
use secrecy::SecretString;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use api::MeasuredRoomService;

use crate::api::{LiveKitRoomApi, TokenCache};
use crate::audio::AudioProfiles;
use crate::config::{Config, ConfigDuration, ConfigSources, MetricsConfig, Reload, ServerConfig};
use crate::events::{Command, EngineEvent, EventBus, EventKind, LiveSettings};
use crate::metrics::Metrics;
use crate::nodes::NodeReader;
use crate::pool::{Pool, PoolOptions};
use crate::reconnect::{Backoff, ReconnectBudget};
use crate::webhooks::{Arrival, Rejections, Route};

/// Events waiting for a slow consumer before new ones are dropped (and counted).
const EVENT_CAPACITY: usize = 4096;
/// Pool events waiting for the server worker.
const POOL_EVENT_CAPACITY: usize = 1024;
const COMMAND_CAPACITY: usize = 256;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub config: Config,
    /// Where the configuration came from; watched for changes when it names a file.
    pub sources: Option<ConfigSources>,
    pub watch_config: bool,
    /// The URL of the built-in sandbox when the engine watches it (shown by consumers).
    pub sandbox: Option<String>,
}

/// A running engine. Commands go in with [`Engine::send`]; everything comes out of the
/// receiver returned by [`Engine::start`].
pub struct Engine {
    commands: mpsc::Sender<(u64, Command)>,
    bus: EventBus,
    next_id: AtomicU64,
    servers: Vec<String>,
    pools: Vec<Pool<LiveKitRoomApi>>,
    /// Per server: the room open on screen, which its polls read first after changed rooms.
    focused_rooms: HashMap<String, watch::Sender<Option<String>>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("servers", &self.servers)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens a pool per server and starts the workers.
    ///
    /// # Errors
    /// A server's connections cannot be built (bad URL, empty key), the audio default is
    /// invalid, or the metrics address cannot be bound.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn start(
        options: EngineOptions,
    ) -> Result<(Self, mpsc::Receiver<EngineEvent>), String> {
        let EngineOptions {
            config,
            sources,
            watch_config,
            sandbox,
        } = options;
        let builtin_sandbox = sandbox.is_some();
        let (bus, events) = EventBus::new(EVENT_CAPACITY);
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let metrics = serve_metrics(&config.metrics, &shutdown).await?;
        let audio = Arc::new(Mutex::new(
            AudioProfiles::new(config.audio_optimization).map_err(|err| err.to_string())?,
        ));
        let (settings, _) = watch::channel(Arc::new(config.clone()));
        let (polling_paused, _) = watch::channel(false);

        let (webhooks, mut arrivals) =
            serve_webhooks(&config, &bus, metrics.as_ref(), &shutdown).await?;
        // Announced before any worker runs, so it is always the first event.
        let names: Vec<String> = config.servers.iter().map(|s| s.name.clone()).collect();
        bus.emit(EventKind::Started {
            servers: names.clone(),
            sandbox,
            webhooks: webhooks.map(|bound| bound.to_string()),
            node_sources: NodeReader::configured_by_server(&config),
            settings: LiveSettings::of(&config),
        });
        let mut servers = HashMap::new();
        let mut pools = Vec::new();
        // One for the process: a storm across every server is paced as one.
        let reconnect_budget = Arc::new(ReconnectBudget::new(
            config.connection_pool.reconnect_budget,
        ));
        let mut focused_rooms = HashMap::new();
        let mut jobs_refresh: HashMap<String, Arc<Notify>> = HashMap::new();
        for server in &config.servers {
            let (focused_room, focused_room_rx) = watch::channel(None);
            focused_rooms.insert(server.name.clone(), focused_room);
            let refresh = Arc::clone(jobs_refresh.entry(server.name.clone()).or_default());
            let (api, latest) = start_server(
                server,
                &config,
                metrics.as_ref(),
                Channels {
                    settings: &settings,
                    polling_paused: &polling_paused,
                    focused_room: focused_room_rx,
                    jobs_refresh: refresh,
                    webhooks: arrivals.remove(&server.name),
                    bus: &bus,
                },
                &shutdown,
                &tasks,
                &reconnect_budget,
            )?;
            pools.push(api.pool.clone());
            servers.insert(server.name.clone(), (api, latest));
        }

        let runner = Arc::new(commands::CommandRunner {
            servers,
            jobs_refresh,
            limits: Mutex::new(commands::LimitsOrigin::file(&config.room_limits)),
            settings,
            polling_paused,
            sources: sources.clone(),
            audio,
            bus: bus.clone(),
            builtin_sandbox,
        });
        let (commands, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        tasks.spawn(run_commands(
            Arc::clone(&runner),
            command_rx,
            shutdown.clone(),
            tasks.clone(),
        ));
        if watch_config && let Some(sources) = sources.filter(|s| s.file.is_some()) {
            watch_file(sources, runner, &bus, &shutdown, &tasks);
        }

        Ok((
            Self {
                commands,
                bus: bus.clone(),
                next_id: AtomicU64::new(1),
                servers: names,
                pools,
                focused_rooms,
                shutdown,
                tasks,
            },
            events,
        ))
    }

    /// Queues a command; its outcome arrives as a `Command` event with the returned id.
    ///
    /// # Errors
    /// The engine is shut down or has too many commands queued.
    pub fn send(&self, command: Command) -> Result<u64, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.commands
            .try_send((id, command))
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => {
                    "too many commands are waiting; try again in a moment".to_owned()
                }
                mpsc::error::TrySendError::Closed(_) => "the engine is shut down".to_owned(),
            })?;
        Ok(id)
    }

    /// Says which room of `server` is open on screen (`None`: none is); its polls then read
    /// that room's participants every time, budget permitting. Takes effect at the next poll.
    pub fn focus_room(&self, server: &str, room: Option<&str>) {
        if let Some(focused) = self.focused_rooms.get(server) {
            focused.send_if_modified(|held| {
                let changed = held.as_deref() != room;
                if changed {
                    *held = room.map(str::to_owned);
                }
                changed
            });
        }
    }

    /// A way to put events from outside the engine (the built-in sandbox's faults) into the
    /// same stream, in order with the engine's own. It keeps the stream open while it lives.
    pub(crate) fn announcer(&self) -> impl Fn(EventKind) + Send + 'static {
        let bus = self.bus.clone();
        move |kind| bus.emit(kind)
    }

    /// Stops every worker and pool and waits for them, at most `grace` for in-flight calls.
    pub async fn shutdown(self, grace: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        for pool in &self.pools {
            pool.shutdown().await;
        }
        let _ = tokio::time::timeout(grace, self.tasks.wait()).await;
    }
}

/// What a server worker listens to and reports through.
struct Channels<'a> {
    settings: &'a watch::Sender<Arc<Config>>,
    polling_paused: &'a watch::Sender<bool>,
    focused_room: watch::Receiver<Option<String>>,
    /// Rung by a command that changed one of the server's jobs.
    jobs_refresh: Arc<Notify>,
    /// The server's webhooks, when the engine takes them.
    webhooks: Option<mpsc::Receiver<Arrival>>,
    bus: &'a EventBus,
}

/// What a server's node and jobs watchers listen to and report through.
struct Watched<'a> {
    settings: &'a watch::Sender<Arc<Config>>,
    polling_paused: &'a watch::Sender<bool>,
    focused_room: watch::Receiver<Option<String>>,
    refresh: Arc<Notify>,
    bus: &'a EventBus,
    metrics: Option<&'a Metrics>,
}

/// Starts the watchers beside a server's worker: its nodes (when it has node sources) and its
/// egress, ingress and agent dispatches.
fn spawn_watchers(
    server: &ServerConfig,
    config: &Config,
    api: &MeasuredRoomService,
    latest: &server::LatestSnapshot,
    watched: Watched<'_>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> Result<(), String> {
    let timeout = config.connection_pool.connection_timeout.get();
    if let Some(reader) = NodeReader::new(server, timeout)? {
        let nodes = node_watcher::NodeWatcher {
            server: server.name.clone(),
            reader,
            backoff: Backoff::from_config(&config.connection_pool),
            settings: watched.settings.subscribe(),
            api: Arc::clone(latest),
            bus: watched.bus.clone(),
            metrics: watched.metrics.cloned(),
            shutdown: shutdown.clone(),
        };
        tasks.spawn(nodes.run());
    }
    tasks.spawn(
        jobs_watcher::JobsWatcher {
            server: server.name.clone(),
            api: api.clone(),
            settings: watched.settings.subscribe(),
            polling_paused: watched.polling_paused.subscribe(),
            latest: Arc::clone(latest),
            focused_room: watched.focused_room,
            refresh: watched.refresh,
            bus: watched.bus.clone(),
            metrics: watched.metrics.cloned(),
            shutdown: shutdown.clone(),
        }
        .run(),
    );
    Ok(())
}

/// The Prometheus endpoint, when `metrics.listen` asks for one.
async fn serve_metrics(
    config: &MetricsConfig,
    shutdown: &CancellationToken,
) -> Result<Option<Metrics>, String> {
    let Some(listen) = config.listen else {
        return Ok(None);
    };
    let metrics = Metrics::new();
    let limits = listener_limits(config.max_connections, config.header_read_timeout);
    let bound = metrics
        .serve(listen, limits, shutdown.clone())
        .await
        .map_err(|err| format!("metrics.listen {listen}: {err}"))?;
    tracing::info!(%bound, "serving Prometheus metrics at /metrics");
    Ok(Some(metrics))
}

/// A listener's limits from its configuration; each server sets its own body limit (none
/// until then).
fn listener_limits(max_connections: u32, header_read_timeout: ConfigDuration) -> ListenerLimits {
    ListenerLimits::new(0, usize::try_from(max_connections).unwrap_or(usize::MAX))
        .with_header_read_timeout(header_read_timeout.get())
}

/// Webhooks a server's worker has not taken yet before the listener waits (and so makes
/// livekit-server wait) for room.
const WEBHOOK_CAPACITY: usize = 4096;

/// The webhook listener, when `webhooks.listen` asks for one: its address and each server's
/// receiver of the webhooks signed with its key.
async fn serve_webhooks(
    config: &Config,
    bus: &EventBus,
    metrics: Option<&Metrics>,
    shutdown: &CancellationToken,
) -> Result<(Option<SocketAddr>, HashMap<String, mpsc::Receiver<Arrival>>), String> {
    let Some(listen) = config.webhooks.listen else {
        return Ok((None, HashMap::new()));
    };
    let mut receivers = HashMap::new();
    let mut routes = Vec::new();
    for server in &config.servers {
        let Some(secret) = server.api_secret() else {
            continue;
        };
        let (arrivals, receiver) = mpsc::channel(WEBHOOK_CAPACITY);
        receivers.insert(server.name.clone(), receiver);
        routes.push(Route {
            server: server.name.clone(),
            api_key: server.api_key.clone(),
            api_secret: secret.clone(),
            arrivals,
        });
    }
    let refused = bus.clone();
    let counted = metrics.cloned();
    let rejections = Arc::new(Rejections::new(move |rejection, status, first| {
        if let Some(metrics) = &counted {
            metrics.count_webhook_refused(rejection.cause());
        }
        if first {
            refused.emit(EventKind::WebhookRefused {
                cause: rejection.cause().to_owned(),
                status: status.as_u16(),
                reason: rejection.to_string(),
            });
        }
    }));
    let limits = listener_limits(
        config.webhooks.max_connections,
        config.webhooks.header_read_timeout,
    );
    let bound = crate::webhooks::serve(listen, limits, routes, rejections, shutdown.clone())
        .await
        .map_err(|err| format!("webhooks.listen {listen}: {err}"))?;
    tracing::info!(%bound, "taking LiveKit webhooks");
    Ok((Some(bound), receivers))
}

/// Reloads the configuration whenever its file changes; when the file cannot be watched, the
/// log says that live reload is off.
fn watch_file(
    sources: ConfigSources,
    runner: Arc<commands::CommandRunner>,
    bus: &EventBus,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) {
    match crate::config::watch(sources) {
        Ok((reloads, watcher)) => {
            tasks.spawn(run_reloads(runner, reloads, watcher, shutdown.clone()));
        }
        Err(err) => bus.emit(EventKind::ConfigRejected {
            error: format!("live reload is off: {err}"),
        }),
    }
}

/// Opens a server's pool and starts its worker and the watchers beside it.
fn start_server(
    server: &ServerConfig,
    config: &Config,
    metrics: Option<&Metrics>,
    channels: Channels<'_>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
    reconnect_budget: &Arc<ReconnectBudget>,
) -> Result<(MeasuredRoomService, server::LatestSnapshot), String> {
    let (pool_events_tx, pool_events) = mpsc::channel(POOL_EVENT_CAPACITY);
    let url = server.url.clone();
    let key = server.api_key.clone();
    let secret: SecretString = server
        .api_secret()
        .cloned()
        .ok_or_else(|| format!("{}: api_secret is missing", server.name))?;
    let timeout = config.connection_pool.connection_timeout.get();
    // One cache for the server's connections: a room's token is signed once, not per connection.
    let tokens = Arc::new(TokenCache::new());
    let pool = Pool::start(
        PoolOptions::new(server.name.clone(), config.connection_pool, pool_events_tx)
            .with_budget(Arc::clone(reconnect_budget)),
        move || LiveKitRoomApi::sharing_tokens(&url, &key, &secret, timeout, Arc::clone(&tokens)),
    )
    .map_err(|err| err.to_string())?;
    let api = MeasuredRoomService::new(
        server.name.clone(),
        crate::api::server_base_url(&server.url)
            .map_or_else(|_| server.url.clone(), |url| url.to_string()),
        pool,
        config.quality_monitoring,
        metrics.cloned(),
    );
    let latest = Arc::new(Mutex::new(None));
    tasks.spawn(
        server::ServerWorker {
            api: api.clone(),
            pool_events,
            settings: channels.settings.subscribe(),
            polling_paused: channels.polling_paused.subscribe(),
            focused_room: channels.focused_room.clone(),
            webhooks: channels.webhooks,
            bus: channels.bus.clone(),
            latest: Arc::clone(&latest),
            shutdown: shutdown.clone(),
        }
        .run(),
    );
    spawn_watchers(
        server,
        config,
        &api,
        &latest,
        Watched {
            settings: channels.settings,
            polling_paused: channels.polling_paused,
            focused_room: channels.focused_room,
            refresh: channels.jobs_refresh,
            bus: channels.bus,
            metrics,
        },
        shutdown,
        tasks,
    )?;
    Ok((api, latest))
}

async fn run_commands(
    runner: Arc<commands::CommandRunner>,
    mut commands: mpsc::Receiver<(u64, Command)>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
) {
    loop {
        let (id, command) = tokio::select! {
            () = shutdown.cancelled() => return,
            next = commands.recv() => match next {
                Some(next) => next,
                None => return,
            },
        };
        // Each command runs on its own, so a slow one never holds up the next.
        let runner = Arc::clone(&runner);
        tasks.spawn(async move { runner.handle(id, command).await });
    }
}

async fn run_reloads(
    runner: Arc<commands::CommandRunner>,
    mut reloads: mpsc::Receiver<Reload>,
    watcher: crate::config::ConfigWatcher,
    shutdown: CancellationToken,
) {
    loop {
        let reload = tokio::select! {
            () = shutdown.cancelled() => break,
            next = reloads.recv() => match next {
                Some(reload) => reload,
                None => break,
            },
        };
        match reload {
            Reload::Applied(loaded) => {
                let source = loaded
                    .file
                    .as_ref()
                    .map_or_else(|| "defaults".to_owned(), |file| file.display().to_string());
                if let Err(error) = runner.apply(loaded.config, &source) {
                    runner.bus.emit(EventKind::ConfigRejected { error });
                }
            }
            Reload::Rejected(err) => runner.bus.emit(EventKind::ConfigRejected {
                error: rejection_text(&err),
            }),
        }
    }
    drop(watcher);
}

/// A rejected reload for the event log: each problem on its own line, then what happens
/// instead.
fn rejection_text(err: &crate::config::ConfigError) -> String {
    let mut lines: Vec<String> = err
        .issues
        .iter()
        .map(crate::config::ConfigIssue::one_line)
        .collect();
    lines.push("the running configuration is kept".to_owned());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn a_rejected_reload_lists_one_problem_per_line_and_keeps_the_configuration() {
        let text =
            "connection_pool:\n  pool_size: 0\nroom_limits:\n  max_participants_per_room: 0\n";
        let err = crate::config::load_text(Some(Path::new("perf.yaml")), Some(text), &[])
            .expect_err("two values out of range");
        assert_eq!(
            super::rejection_text(&err),
            "perf.yaml:2:14: connection_pool.pool_size: 0 is out of range; allowed 1..=256\n\
             perf.yaml:4:30: room_limits.max_participants_per_room: 0 is out of range; allowed \
             1..=1000000\n\
             the running configuration is kept"
        );
    }
}
