//! The sandbox as a Rust value: start it, point clients at its URL, control its faults, stop it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guarded_listener::ListenerLimits;
use livekit_protocol as proto;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::admin::{JoinRequest, join_room};
use super::auth::ApiKeys;
use super::clock::SimClock;
use super::disruptions::{DisruptionNotice, DisruptionOrigin};
use super::faults::{Disruption, Faults};
use super::media::live::keep_advancing;
use super::metrics::{self, MetricsOptions};
use super::node::registry;
use super::node::{NodeIdentity, NodeOptions};
use super::rooms::{RoomStore, ServerLimits};
use super::scenario::Scenario;
use super::server::{MAX_CONNECTIONS, MAX_REQUEST_BODY, Shared, run_listener};
use super::simulation::ScheduledDisruption;
use super::simulation::Simulation;
use super::twirp_error::TwirpError;
use super::webhooks::{WebhookOptions, WebhookTally};

/// How the sandbox is started.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Loopback by default; port 0 picks a free port.
    pub listen: SocketAddr,
    pub keys: ApiKeys,
    pub scenario: Scenario,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's clock speed.
    pub speed: Option<f64>,
    pub limits: ServerLimits,
    /// Where to send webhooks of every change, as livekit-server does; none by default.
    pub webhooks: Option<WebhookOptions>,
    /// Where to serve livekit-server's Prometheus `/metrics`; nowhere by default.
    pub metrics: Option<MetricsOptions>,
    /// The sandbox as a livekit-server node: its id (labelling the metrics), region, and
    /// the Redis node registry it writes itself to (none by default).
    pub node: NodeOptions,
    /// What the API listener allows a client (the metrics listener takes the same header
    /// timeout and cap): [`SandboxOptions::DEFAULT_LISTENER_LIMITS`] unless changed.
    pub listener: ListenerLimits,
}

impl SandboxOptions {
    /// A 10 s header timeout, 100 headers, livekit-server's 10 MiB body limit and 4096 open
    /// connections.
    pub const DEFAULT_LISTENER_LIMITS: ListenerLimits =
        ListenerLimits::new(MAX_REQUEST_BODY, MAX_CONNECTIONS);

    /// An empty sandbox (no simulated rooms) on a free loopback port accepting one key.
    #[must_use]
    pub fn new(api_key: &str, api_secret: &SecretString) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            keys: ApiKeys::new([(api_key.to_owned(), api_secret.clone())]),
            scenario: Scenario::empty(),
            seed: None,
            speed: None,
            limits: ServerLimits::default(),
            webhooks: None,
            metrics: None,
            node: NodeOptions::default(),
            listener: Self::DEFAULT_LISTENER_LIMITS,
        }
    }

    /// Serves livekit-server's Prometheus metrics at `addr` (port 0 picks a free port; any
    /// path answers, `/metrics` by convention), behind basic auth when `auth` is given, as
    /// livekit-server's `prometheus: {port, username, password}`.
    #[must_use]
    pub fn with_metrics(mut self, addr: SocketAddr, auth: Option<(String, SecretString)>) -> Self {
        self.metrics = Some(MetricsOptions { listen: addr, auth });
        self
    }

    /// Who the sandbox is as a node, and the Redis node registry it registers in.
    #[must_use]
    pub fn with_node(mut self, node: NodeOptions) -> Self {
        self.node = node;
        self
    }

    /// Sends webhooks of every change to `urls`, signed with `api_key` (which must be one
    /// of the sandbox's keys for a receiver that checks against it).
    #[must_use]
    pub fn with_webhooks(
        mut self,
        urls: Vec<String>,
        api_key: &str,
        api_secret: &SecretString,
    ) -> Self {
        self.webhooks = (!urls.is_empty()).then(|| WebhookOptions {
            urls,
            api_key: api_key.to_owned(),
            api_secret: api_secret.clone(),
        });
        self
    }

    #[must_use]
    pub fn with_scenario(mut self, scenario: Scenario) -> Self {
        self.scenario = scenario;
        self
    }
}

/// A running sandbox. Dropping it stops nothing: call [`Sandbox::shutdown`].
pub struct Sandbox {
    pub(crate) shared: Arc<Shared>,
    tasks: TaskTracker,
    addr: SocketAddr,
}

/// Starts disruptions in a running sandbox and hears about them; cheap to clone.
#[derive(Clone)]
pub struct SandboxControl {
    shared: Arc<Shared>,
    tasks: TaskTracker,
}

impl SandboxControl {
    /// Starts a disruption for `origin` and returns its number and a receiver for the
    /// sentence that says how it went, sent once it has taken effect. It completes on the
    /// sandbox's side whether or not anyone waits.
    #[must_use]
    pub fn begin_disruption(
        &self,
        disruption: Disruption,
        origin: DisruptionOrigin,
    ) -> (u64, tokio::sync::oneshot::Receiver<Result<String, String>>) {
        self.shared
            .begin_disruption(disruption, origin, None, &self.tasks)
    }
}

impl Sandbox {
    /// Binds the listener (so the port is known when this returns) and starts the server and
    /// the simulation.
    ///
    /// # Errors
    /// The listen or metrics address cannot be bound, the clock speed is not positive, or the
    /// node registry URL is not a `redis://` or `rediss://` URL.
    pub async fn start(options: SandboxOptions) -> io::Result<Self> {
        let clock_speed = options.speed.unwrap_or(options.scenario.speed);
        if !(clock_speed.is_finite() && clock_speed > 0.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("clock speed {clock_speed} must be a positive number"),
            ));
        }
        let seed = options.seed.unwrap_or(options.scenario.seed);
        let registry = options
            .node
            .redis_url
            .as_ref()
            .map(registry::open)
            .transpose()
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let listener = guarded_listener::bind(options.listen, "sandbox").await?;
        let addr = listener.local_addr()?;
        let metrics_listener = match &options.metrics {
            Some(metrics) => Some(metrics::bind(metrics.listen).await?),
            None => None,
        };
        let clock = SimClock::new(clock_speed);
        let mut store = RoomStore::new(options.limits, ChaCha8Rng::seed_from_u64(seed));
        store.ingress.set_host(&addr.ip().to_string());
        let node = NodeIdentity::new(&options.node, addr.ip().to_string());
        let shared = Arc::new(Shared::new(options.keys, store, clock, seed, node));
        let tasks = TaskTracker::new();
        keep_advancing(&shared, &tasks);
        if let (Some(listener), Some(metrics)) = (metrics_listener, options.metrics) {
            let _ = shared.metrics_addr.set(listener.local_addr()?);
            metrics::serve(&shared, listener, metrics.auth, options.listener, &tasks);
        }
        if let Some(registry) = registry {
            let node = &options.node;
            let intervals = (node.update_interval, node.rate_interval);
            registry::start(&shared, registry, intervals, &tasks);
        }
        if let Some(webhooks) = options.webhooks {
            let faults_of = Arc::clone(&shared);
            let (queue, counts) = super::webhooks::start(
                webhooks,
                Arc::new(move || faults_of.faults()),
                seed,
                shared.shutdown.clone(),
                &tasks,
            );
            let _ = shared.webhooks.set(counts);
            shared
                .store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .send_webhooks(queue);
        }

        tasks.spawn(run_listener(
            Arc::clone(&shared),
            listener,
            addr,
            options.listener,
            tasks.clone(),
        ));

        let (disruptions, scheduled) = mpsc::channel::<ScheduledDisruption>(16);
        let mut scenario = options.scenario;
        scenario.seed = seed;
        let simulation = Simulation::new(scenario, clock);
        tasks.spawn(simulation.run(
            Arc::clone(&shared.store),
            disruptions,
            shared.shutdown.clone(),
        ));
        apply_scheduled(&shared, scheduled, &tasks);

        let sandbox = Self {
            shared,
            tasks,
            addr,
        };
        sandbox.shared.listener_reached_up().await;
        Ok(sandbox)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, what `LIVEKIT_URL` should be.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where livekit-server's Prometheus metrics are served, when they are.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.shared.metrics_addr.get().copied()
    }

    /// `http://127.0.0.1:PORT/metrics`, when metrics are served.
    #[must_use]
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr()
            .map(|addr| format!("http://{addr}/metrics"))
    }

    /// The node's id: the `node_id` label of every metric and its field in the registry.
    #[must_use]
    pub fn node_id(&self) -> String {
        self.shared.node.id.clone()
    }

    /// `SERVING`, or `SHUTTING_DOWN` while drained.
    #[must_use]
    pub fn node_state(&self) -> proto::NodeState {
        self.shared.node.state()
    }

    /// The node announces it is shutting down (`SHUTTING_DOWN`, written to the registry at
    /// once); it goes on serving.
    pub async fn drain(&self) {
        // Draining cannot fail.
        let _ = self.disrupt(Disruption::Drain).await;
    }

    /// The node is `SERVING` again.
    pub async fn serve(&self) {
        let _ = self.disrupt(Disruption::Serve).await;
    }

    /// The rooms, for tests that set up or inspect state directly.
    #[must_use]
    pub fn rooms(&self) -> Arc<Mutex<RoomStore>> {
        Arc::clone(&self.shared.store)
    }

    /// Twirp requests received for RoomService `method` since the sandbox started, whatever
    /// became of them: what its clients cost it, by its own count (`/sandbox/status` has the
    /// same figures). Any other name counts every request for a method it does not list.
    #[must_use]
    pub fn requests_received(&self, method: &str) -> u64 {
        self.shared.counts.received_for(method)
    }

    /// What became of the webhooks so far; `None` when the sandbox sends none.
    #[must_use]
    pub fn webhooks(&self) -> Option<WebhookTally> {
        self.shared.webhooks.get().map(|counts| counts.tally())
    }

    #[must_use]
    pub fn clock(&self) -> SimClock {
        self.shared.clock
    }

    #[must_use]
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Gives `key` a new secret (or adds the key) while the sandbox runs: a secret rotation.
    /// Tokens signed with the old secret are refused as `unauthenticated` from the next
    /// request on, also on connections already open.
    pub fn set_api_secret(&self, key: &str, secret: SecretString) {
        self.shared.set_api_secret(key, secret);
    }

    /// Sets request faults until changed.
    ///
    /// # Errors
    /// A rate outside 0..=1.
    pub async fn set_faults(&self, faults: Faults) -> Result<(), String> {
        self.disrupt(Disruption::Faults {
            faults,
            duration: None,
        })
        .await
    }

    pub async fn clear_faults(&self) {
        // Clearing cannot fail.
        let _ = self.disrupt(Disruption::Clear).await;
    }

    /// Closes the listener and every open connection; new connections are refused.
    pub async fn listener_down(&self) {
        let _ = self
            .disrupt(Disruption::ListenerDown { duration: None })
            .await;
    }

    /// Binds the same port again.
    pub async fn listener_up(&self) {
        let _ = self.disrupt(Disruption::ListenerUp).await;
    }

    /// Down for `downtime` (simulated), then up; rooms are kept or lost.
    pub async fn restart(&self, keep_state: bool, downtime: Duration) {
        let _ = self
            .disrupt(Disruption::Restart {
                keep_state,
                downtime: Some(downtime),
            })
            .await;
    }

    /// Applies any disruption and returns once it has taken effect (a restart: once the
    /// listener is back; a timed one is undone later by the sandbox itself). It runs on the
    /// sandbox's own task: dropping this future does not stop it halfway.
    ///
    /// # Errors
    /// Fault rates outside 0..=1.
    pub async fn disrupt(&self, disruption: Disruption) -> Result<(), String> {
        self.shared.disrupt(disruption, &self.tasks).await.map(drop)
    }

    /// Notices of every disruption from now on: scheduled ones, the admin endpoint's, and
    /// those begun through [`SandboxControl::begin_disruption`] or [`Sandbox::disrupt`].
    #[must_use]
    pub fn subscribe_disruptions(&self) -> tokio::sync::broadcast::Receiver<DisruptionNotice> {
        self.shared.subscribe_notices()
    }

    /// A handle that starts disruptions and hears about them, for whoever needs to outlive a
    /// borrow of the sandbox (a task, a dashboard).
    #[must_use]
    pub fn control(&self) -> SandboxControl {
        SandboxControl {
            shared: Arc::clone(&self.shared),
            tasks: self.tasks.clone(),
        }
    }

    /// A simulated participant joins `room` (created if needed) and publishes `join.tracks`.
    ///
    /// # Errors
    /// The room is full, the identity is taken, or a track description is invalid.
    pub fn join(
        &self,
        room: &str,
        join: &JoinRequest,
    ) -> Result<proto::ParticipantInfo, TwirpError> {
        join_room(&self.shared, room, join)
    }

    /// Stops accepting, closes every connection, ends the simulation, and waits for all of it.
    pub async fn shutdown(self) {
        self.shared.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Applies the scenario's scheduled disruptions as they come due.
fn apply_scheduled(
    shared: &Arc<Shared>,
    mut scheduled: mpsc::Receiver<ScheduledDisruption>,
    tasks: &TaskTracker,
) {
    let worker = Arc::clone(shared);
    let worker_tasks = tasks.clone();
    tasks.spawn(async move {
        loop {
            let due = tokio::select! {
                next = scheduled.recv() => match next {
                    Some(due) => due,
                    None => return,
                },
                () = worker.shutdown.cancelled() => return,
            };
            // One after another, as the schedule has them: a restart is back up before
            // the next scheduled fault applies.
            let (_, done) = worker.begin_disruption(
                due.disruption,
                DisruptionOrigin::Scheduled,
                due.name,
                &worker_tasks,
            );
            if let Ok(Err(err)) = done.await {
                tracing::warn!(%err, "scheduled disruption refused");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use livekit_api::access_token::{AccessToken, VideoGrants};

    use super::*;

    fn bearer(secret: &str) -> String {
        let jwt = AccessToken::with_api_key("devkey", secret)
            .with_grants(VideoGrants {
                room_list: true,
                ..VideoGrants::default()
            })
            .to_jwt()
            .unwrap();
        format!("Bearer {jwt}")
    }

    #[tokio::test]
    async fn a_rotated_secret_refuses_the_old_one_and_accepts_the_new() {
        let old = "rotation-test-old-secret-0123456789";
        let new = "rotation-test-new-secret-9876543210";
        let sandbox = Sandbox::start(SandboxOptions::new("devkey", &SecretString::from(old)))
            .await
            .unwrap();
        assert!(sandbox.shared.verify(Some(&bearer(old))).is_ok());

        sandbox.set_api_secret("devkey", SecretString::from(new));

        let err = sandbox.shared.verify(Some(&bearer(old))).unwrap_err();
        assert!(err.msg.contains("signature is invalid"), "{}", err.msg);
        assert!(sandbox.shared.verify(Some(&bearer(new))).is_ok());
        sandbox.shutdown().await;
    }
}
