//! One run of lktop, the same for the dashboard and `lktop watch`: the built-in sandbox when no
//! server is configured (its faults announced in the event stream), the engine, and the
//! recording, written off the consumer's loop; stopped in the reverse order, the recording
//! finished last so it is complete and, gzip or not, readable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use livekit_sandbox::disruptions::{DisruptionNotice, DisruptionOrigin, NoticePhase};
use livekit_sandbox::faults::{Disruption, Faults};
use livekit_sandbox::redis_server::RedisServer;
use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::twirp_error::TwirpCode;
use livekit_sandbox::{NodeOptions, Sandbox, SandboxControl, SandboxOptions};
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::SecretString;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::config::{Config, ConfigSources, MetricsUrls, RedisUrl, ServerConfig};
use crate::engine::{Engine, EngineOptions};
use crate::events::{EngineEvent, EventKind, FaultOrigin, FaultPhase};
use crate::record::{RecordError, Recorder};

/// Name of the server entry the engine gets for its own sandbox.
pub const SANDBOX_SERVER: &str = "sandbox";
/// Events the consumer may fall behind by before the engine drops (and counts) them.
const CONSUMER_CAPACITY: usize = 4096;
/// Characters of the demo sandbox's random API secret.
const DEMO_SECRET_LENGTH: usize = 40;
/// In-flight calls get this long when the session stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct SessionOptions {
    pub config: Config,
    pub sources: Option<ConfigSources>,
    /// Record every event to this file (gzip when it ends in `.gz`).
    pub record: Option<PathBuf>,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot record: {0}")]
    Recording(#[from] RecordError),
    #[error("cannot start the built-in sandbox: {0}")]
    Sandbox(std::io::Error),
    #[error("{0}")]
    Engine(String),
}

/// How a session ended, for the closing words on stderr.
#[derive(Debug)]
pub struct SessionReport {
    /// The recording's file and its events, or why it could not be finished.
    pub recording: Option<Result<(PathBuf, u64), RecordError>>,
}

/// A running session.
pub struct Session {
    engine: Engine,
    sandbox: Option<Sandbox>,
    /// The demo's own `redis-server`, holding its node registry; stopped when dropped.
    demo_redis: Option<RedisServer>,
    tee: JoinHandle<Option<Result<(PathBuf, u64), RecordError>>>,
    stop_tee: CancellationToken,
    notices: Option<JoinHandle<()>>,
    recording: Option<PathBuf>,
}

impl Session {
    /// Starts the sandbox (when no server is configured), the engine and the recording.
    /// Events come out of the returned receiver, the recording's already written.
    ///
    /// # Errors
    /// The recording cannot be created, the sandbox cannot bind, or the engine cannot start.
    pub async fn start(
        options: SessionOptions,
    ) -> Result<(Self, mpsc::Receiver<EngineEvent>), SessionError> {
        // First: a recording that cannot be created is the user's mistake to fix before
        // anything starts.
        let recorder = options
            .record
            .as_deref()
            .map(Recorder::create)
            .transpose()?;
        let recording = recorder.as_ref().map(|r| r.path().to_path_buf());
        let mut config = options.config;
        let mut sandbox = None;
        let mut demo_redis = None;
        if config.servers.is_empty() {
            // The demo shows webhooks too: the sandbox sends them to a listener of the
            // engine's own, unless the configuration names one.
            let listen = match config.webhooks.listen {
                Some(listen) => listen,
                None => free_loopback_port().map_err(SessionError::Sandbox)?,
            };
            config.webhooks.listen = Some(listen);
            let (started, server, redis) = start_demo_sandbox(Some(listen))
                .await
                .map_err(SessionError::Sandbox)?;
            demo_redis = redis;
            tracing::info!(url = %started.url(), "no server configured; running the demo sandbox");
            config.servers.push(server);
            sandbox = Some(started);
        }
        // Subscribed before the engine starts, so no fault of the schedule goes unannounced.
        let notices = sandbox.as_ref().map(Sandbox::subscribe_disruptions);
        let (engine, events) = Engine::start(EngineOptions {
            config,
            sources: options.sources,
            watch_config: true,
            sandbox: sandbox.as_ref().map(Sandbox::url),
        })
        .await
        .map_err(SessionError::Engine)?;
        let notices =
            notices.map(|notices| tokio::spawn(announce_faults(notices, engine.announcer())));
        let (to_consumer, for_consumer) = mpsc::channel(CONSUMER_CAPACITY);
        let stop_tee = CancellationToken::new();
        let tee = tokio::spawn(tee(events, to_consumer, recorder, stop_tee.clone()));
        Ok((
            Self {
                engine,
                sandbox,
                demo_redis,
                tee,
                stop_tee,
                notices,
                recording,
            },
            for_consumer,
        ))
    }

    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The built-in sandbox's URL, when the session runs one.
    #[must_use]
    pub fn sandbox_url(&self) -> Option<String> {
        self.sandbox.as_ref().map(Sandbox::url)
    }

    /// The demo's fault controls, when the session runs the built-in sandbox.
    #[must_use]
    pub fn demo(&self) -> Option<DemoControl> {
        self.sandbox.as_ref().map(|sandbox| DemoControl {
            sandbox: sandbox.control(),
        })
    }

    /// The file being recorded to.
    #[must_use]
    pub fn recording(&self) -> Option<&Path> {
        self.recording.as_deref()
    }

    /// Stops the engine, then the sandbox, then finishes the recording with every event
    /// the engine had sent.
    pub async fn shutdown(self) -> SessionReport {
        self.engine.shutdown(SHUTDOWN_GRACE).await;
        if let Some(notices) = self.notices {
            notices.abort();
            let _ = notices.await;
        }
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
        // After the sandbox, which takes its node out of the registry on the way out.
        drop(self.demo_redis);
        self.stop_tee.cancel();
        let recording = match self.tee.await {
            Ok(recording) => recording,
            Err(err) => {
                tracing::error!(%err, "the recording task failed");
                self.recording.map(|path| {
                    Err(RecordError::Write {
                        path,
                        source: std::io::Error::other(err.to_string()),
                    })
                })
            }
        };
        SessionReport { recording }
    }
}

/// Writes every event to the recording, then hands it to the consumer. A recording that
/// fails stops (announced in the stream) and the session goes on.
async fn tee(
    mut events: mpsc::Receiver<EngineEvent>,
    consumer: mpsc::Sender<EngineEvent>,
    mut recorder: Option<Recorder>,
    stop: CancellationToken,
) -> Option<Result<(PathBuf, u64), RecordError>> {
    let mut consumer = Some(consumer);
    loop {
        let event = tokio::select! {
            biased;
            next = events.recv() => next,
            // Stopping: what the engine sent is still taken, nothing more is waited for (a
            // straggling task may hold the stream open).
            () = stop.cancelled() => events.try_recv().ok(),
        };
        let Some(event) = event else { break };
        if let Some(active) = &mut recorder
            && let Err(err) = active.write(&event)
        {
            let stopped = EngineEvent {
                at_ms: event.at_ms,
                kind: EventKind::RecordingStopped {
                    path: active.path().display().to_string(),
                    events: active.events(),
                    reason: err.to_string(),
                },
            };
            recorder = None;
            forward(&mut consumer, stopped).await;
        }
        forward(&mut consumer, event).await;
    }
    let recorder = recorder?;
    let path = recorder.path().to_path_buf();
    Some(recorder.finish().map(|events| (path, events)))
}

/// Hands an event on; once the consumer has gone (dropped its receiver), the recording still
/// gets every event. A consumer that stops reading must drop its receiver, or the session
/// cannot finish.
async fn forward(consumer: &mut Option<mpsc::Sender<EngineEvent>>, event: EngineEvent) {
    if let Some(sender) = consumer
        && sender.send(event).await.is_err()
    {
        *consumer = None;
    }
}

/// The sandbox's disruption notices as engine events.
async fn announce_faults(
    mut notices: broadcast::Receiver<DisruptionNotice>,
    announce: impl Fn(EventKind) + Send,
) {
    loop {
        match notices.recv().await {
            Ok(notice) => announce(fault_event(notice)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "sandbox fault notices were missed");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn fault_event(notice: DisruptionNotice) -> EventKind {
    let description = match &notice.name {
        Some(name) => format!("{name}: {}", notice.description),
        None => notice.description,
    };
    EventKind::SandboxFault {
        id: notice.id,
        origin: match notice.origin {
            DisruptionOrigin::Admin => FaultOrigin::Api,
            DisruptionOrigin::Scheduled => FaultOrigin::Scheduled,
            DisruptionOrigin::Interactive => FaultOrigin::Key,
        },
        phase: match notice.phase {
            NoticePhase::Began => FaultPhase::Began,
            NoticePhase::Ended => FaultPhase::Ended,
            NoticePhase::Refused => FaultPhase::Refused,
        },
        description,
        detail: notice.detail,
    }
}

/// A loopback address with a port free now, for the demo's webhook listener.
fn free_loopback_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// The built-in sandbox with the demo scenario, on a free loopback port with a fresh secret,
/// sending webhooks to `webhooks_to` when given.
///
/// # Errors
/// No loopback port could be bound.
pub async fn start_demo_sandbox(
    webhooks_to: Option<SocketAddr>,
) -> std::io::Result<(Sandbox, ServerConfig, Option<RedisServer>)> {
    // Written into a buffer of its final size, cleared when dropped: collecting into a
    // growing `String` would leave uncleared copies of its start behind.
    let mut secret = Zeroizing::new(String::with_capacity(DEMO_SECRET_LENGTH));
    secret.extend(
        rand::rng()
            .sample_iter(Alphanumeric)
            .take(DEMO_SECRET_LENGTH)
            .map(char::from),
    );
    let secret = SecretString::from(secret.as_str());
    let urls = webhooks_to
        .map(|listen| vec![format!("http://{listen}/")])
        .unwrap_or_default();
    // The Nodes screen comes alive with both sources: the sandbox serves livekit-server's
    // metrics, and registers in a registry of its own when redis-server is installed.
    let redis = match RedisServer::start().await {
        Ok(redis) => Some(redis),
        Err(err) => {
            tracing::info!(%err, "the demo's node registry is off");
            None
        }
    };
    let mut options = SandboxOptions::new("lktop-demo", &secret)
        .with_scenario(Scenario::demo())
        .with_webhooks(urls, "lktop-demo", &secret)
        .with_metrics(SocketAddr::from(([127, 0, 0, 1], 0)), None);
    if let Some(redis) = &redis {
        options = options.with_node(NodeOptions {
            redis_url: Some(SecretString::from(redis.url())),
            region: "demo".to_owned(),
            ..NodeOptions::default()
        });
    }
    let sandbox = Sandbox::start(options).await?;
    let server = ServerConfig {
        name: SANDBOX_SERVER.to_owned(),
        url: sandbox.url(),
        api_key: "lktop-demo".to_owned(),
        api_secret: Some(secret),
        metrics_url: MetricsUrls(sandbox.metrics_url().into_iter().collect()),
        redis_url: redis.as_ref().map(|redis| RedisUrl::new(&redis.url())),
        ..ServerConfig::default()
    };
    Ok((sandbox, server, redis))
}

/// Faults the demo keys inject into the built-in sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFault {
    /// Every answer 300–500 ms late for 20 s.
    LatencySpike,
    /// Half the requests answered `unavailable` for 15 s.
    ErrorBurst,
    /// The media plane degrades for 30 s: 8 % loss, RTT 250 ms, jitter 40 ms (the Nodes
    /// screen shows it; the API does not).
    MediaFault,
    /// The server goes away for 5 s and comes back with its rooms.
    Restart,
    /// Every request fault off.
    Clear,
}

impl DemoFault {
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::LatencySpike => "latency spike: +300–500 ms for 20 s",
            Self::ErrorBurst => "error burst: 50 % unavailable for 15 s",
            Self::MediaFault => "media fault: 8 % loss, RTT 250 ms, jitter 40 ms for 30 s",
            Self::Restart => "server restart: down for 5 s, rooms kept",
            Self::Clear => "faults cleared",
        }
    }

    fn disruption(self) -> Disruption {
        match self {
            Self::LatencySpike => Disruption::Faults {
                faults: Faults {
                    latency_ms: 300,
                    jitter_ms: 200,
                    ..Faults::default()
                },
                duration: Some(Duration::from_secs(20)),
            },
            Self::ErrorBurst => Disruption::Faults {
                faults: Faults {
                    error_rate: 0.5,
                    error_code: TwirpCode::Unavailable,
                    ..Faults::default()
                },
                duration: Some(Duration::from_secs(15)),
            },
            Self::MediaFault => Disruption::Faults {
                faults: Faults {
                    media: Some(livekit_sandbox::faults::MediaFault {
                        loss_pct: Some(8.0),
                        rtt_ms: Some(250.0),
                        jitter_ms: Some(40.0),
                    }),
                    ..Faults::default()
                },
                duration: Some(Duration::from_secs(30)),
            },
            Self::Restart => Disruption::Restart {
                keep_state: true,
                downtime: Some(Duration::from_secs(5)),
            },
            Self::Clear => Disruption::Clear,
        }
    }
}

/// The demo keys' way into the built-in sandbox; the dashboard knows nothing else of it.
#[derive(Clone)]
pub struct DemoControl {
    sandbox: SandboxControl,
}

impl DemoControl {
    /// Starts the fault at once and resolves with how it went once it has taken effect (a
    /// restart: once the server is back). It completes in the sandbox even if nobody waits.
    ///
    /// # Errors
    /// The sandbox refused the fault, or shut down first.
    pub fn inject(
        &self,
        fault: DemoFault,
    ) -> impl Future<Output = Result<String, String>> + Send + 'static {
        let (_, done) = self
            .sandbox
            .begin_disruption(fault.disruption(), DisruptionOrigin::Interactive);
        async move {
            done.await
                .unwrap_or_else(|_| Err("the built-in sandbox shut down".to_owned()))
        }
    }
}
