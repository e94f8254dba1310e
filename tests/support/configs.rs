//! The settings lktop's tests run with, written once. `TestConfig` builds an engine's
//! configuration (servers, pool, polling, grading), a pool's alone, or the same as a file;
//! `TestSandbox` starts the built-in sandbox with the credentials every test configuration
//! carries. Each test file includes this with `#[path]` and sets only the knobs its story
//! needs, so what a test changes from the common settings is visible where it is written.

#![allow(
    dead_code,
    reason = "each test file that includes the builder uses only a part of it"
)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use livekit_sandbox::faults::Faults;
use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::twirp_error::TwirpCode;
use livekit_sandbox::{Sandbox, SandboxOptions};
use lktop::api::LiveKitRoomApi;
use lktop::config::{Config, ConfigDuration, PoolConfig, ServerConfig};
use secrecy::{ExposeSecret, SecretString};

/// The API key of every test server and configuration.
pub const KEY: &str = "devkey";
/// The API secret of every test server and configuration; tests that check lktop never
/// prints a secret look for this text.
pub const SECRET: &str = "lktop-test-secret-never-printed-0123456789";

/// An engine's (or a pool's) configuration for a test.
#[derive(Clone)]
pub struct TestConfig {
    config: Config,
}

impl Default for TestConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TestConfig {
    /// No server yet, and settings under which lktop reacts within a second: polls and grades
    /// every 100 ms; a pool of 2 connections growing to 4, each checked every 200 ms; requests
    /// and waits for a free connection time out after 500 ms; reconnection backs off from
    /// 20 ms to 200 ms, 5 attempts before a connection is Failed (then retried every 400 ms);
    /// connections above the pool size close after a minute idle.
    pub fn new() -> Self {
        let mut config = Config::default();
        config.polling.interval = ConfigDuration::from_millis(100);
        // Every room every poll, so a test sees each change at the next poll; the budget's
        // own tests set one with `polling_budget`.
        config.polling.max_requests_per_second = 0;
        config.quality_monitoring.monitoring_interval = ConfigDuration::from_millis(100);
        config.connection_pool = PoolConfig {
            pool_size: 2,
            max_pool_size: 4,
            health_check_interval: ConfigDuration::from_millis(200),
            connection_timeout: ConfigDuration::from_millis(500),
            max_reconnect_attempts: 5,
            reconnect_base_delay: ConfigDuration::from_millis(20),
            reconnect_max_delay: ConfigDuration::from_millis(200),
            idle_timeout: ConfigDuration::from_secs(60),
            // The backoff above is fifty times faster than lktop's default (1 s to 30 s), so
            // is the budget (20 attempts a second by default).
            reconnect_budget: 1_000,
        };
        Self { config }
    }

    /// Adds a server at `url` with the test key and secret.
    #[must_use]
    pub fn server(self, name: &str, url: &str) -> Self {
        self.server_with_secret(name, url, SECRET)
    }

    /// Adds a server at `url` with the test key and `secret`.
    #[must_use]
    pub fn server_with_secret(mut self, name: &str, url: &str, secret: &str) -> Self {
        self.config.servers.push(ServerConfig {
            name: name.into(),
            url: url.into(),
            api_key: KEY.into(),
            api_secret: Some(SecretString::from(secret)),
            ..ServerConfig::default()
        });
        self
    }

    /// `polling.interval`: how often rooms are polled.
    #[must_use]
    pub fn polling_interval(mut self, every: Duration) -> Self {
        self.config.polling.interval = ConfigDuration::new(every);
        self
    }

    /// `polling.max_requests_per_second` and `polling.max_staleness`.
    #[must_use]
    pub fn polling_budget(mut self, per_second: u32, max_staleness: Duration) -> Self {
        self.config.polling.max_requests_per_second = per_second;
        self.config.polling.max_staleness = ConfigDuration::new(max_staleness);
        self
    }

    /// `webhooks.listen` and `webhooks.drift_after`.
    #[must_use]
    pub fn webhooks(mut self, listen: SocketAddr, drift_after: Option<Duration>) -> Self {
        self.config.webhooks.listen = Some(listen);
        self.config.webhooks.drift_after = drift_after.map(ConfigDuration::new);
        self
    }

    /// `quality_monitoring.monitoring_interval`: how often the server is graded.
    #[must_use]
    pub fn monitoring_interval(mut self, every: Duration) -> Self {
        self.config.quality_monitoring.monitoring_interval = ConfigDuration::new(every);
        self
    }

    /// `connection_pool.pool_size` and `max_pool_size`.
    #[must_use]
    pub fn pool_size(mut self, size: u32, max: u32) -> Self {
        self.config.connection_pool.pool_size = size;
        self.config.connection_pool.max_pool_size = max;
        self
    }

    /// `connection_pool.connection_timeout`: each request's timeout, and the longest wait for
    /// a free connection.
    #[must_use]
    pub fn connection_timeout(mut self, after: Duration) -> Self {
        self.config.connection_pool.connection_timeout = ConfigDuration::new(after);
        self
    }

    /// `connection_pool.health_check_interval`.
    #[must_use]
    pub fn health_check_interval(mut self, every: Duration) -> Self {
        self.config.connection_pool.health_check_interval = ConfigDuration::new(every);
        self
    }

    /// `connection_pool.reconnect_base_delay` and `reconnect_max_delay`.
    #[must_use]
    pub fn reconnect_delays(mut self, base: Duration, max: Duration) -> Self {
        self.config.connection_pool.reconnect_base_delay = ConfigDuration::new(base);
        self.config.connection_pool.reconnect_max_delay = ConfigDuration::new(max);
        self
    }

    /// `connection_pool.max_reconnect_attempts`.
    #[must_use]
    pub fn max_reconnect_attempts(mut self, attempts: u32) -> Self {
        self.config.connection_pool.max_reconnect_attempts = attempts;
        self
    }

    /// `connection_pool.reconnect_budget`.
    #[must_use]
    pub fn reconnect_budget(mut self, per_second: u32) -> Self {
        self.config.connection_pool.reconnect_budget = per_second;
        self
    }

    /// `connection_pool.idle_timeout`.
    #[must_use]
    pub fn idle_timeout(mut self, after: Duration) -> Self {
        self.config.connection_pool.idle_timeout = ConfigDuration::new(after);
        self
    }

    /// The engine's configuration; the rest (limits, audio profile, keys) is lktop's default.
    pub fn build(self) -> Config {
        self.config
    }

    /// The pool's part alone, for tests of the pool without an engine.
    pub fn pool(&self) -> PoolConfig {
        self.config.connection_pool
    }

    /// The configuration as a file: the servers and every setting this builder holds, so
    /// loading it gives what `build` gives.
    pub fn yaml(&self) -> String {
        let pool = &self.config.connection_pool;
        format!(
            "{}connection_pool:\n  pool_size: {}\n  max_pool_size: {}\n  \
             health_check_interval: {}\n  connection_timeout: {}\n  max_reconnect_attempts: {}\n  \
             reconnect_base_delay: {}\n  reconnect_max_delay: {}\n  idle_timeout: {}\n  \
             reconnect_budget: {}\n\
             polling:\n  interval: {}\n  max_requests_per_second: {}\n  max_staleness: {}\n\
             quality_monitoring:\n  monitoring_interval: {}\n",
            self.servers_yaml(),
            pool.pool_size,
            pool.max_pool_size,
            pool.health_check_interval,
            pool.connection_timeout,
            pool.max_reconnect_attempts,
            pool.reconnect_base_delay,
            pool.reconnect_max_delay,
            pool.idle_timeout,
            pool.reconnect_budget,
            self.config.polling.interval,
            self.config.polling.max_requests_per_second,
            self.config.polling.max_staleness,
            self.config.quality_monitoring.monitoring_interval,
        )
    }

    /// The `servers:` section alone, for a test that writes the sections it is about after it
    /// and leaves everything else at lktop's defaults.
    pub fn servers_yaml(&self) -> String {
        let mut yaml = String::from("servers:\n");
        for server in &self.config.servers {
            let secret = server
                .api_secret
                .as_ref()
                .map_or("", |secret| secret.expose_secret());
            writeln!(
                yaml,
                "  - name: {}\n    url: {}\n    api_key: {}\n    api_secret: {secret}",
                server.name, server.url, server.api_key
            )
            .expect("writing to a string never fails");
        }
        yaml
    }
}

/// The built-in sandbox for a test: it accepts the test key and secret.
pub struct TestSandbox {
    options: SandboxOptions,
}

impl Default for TestSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl TestSandbox {
    /// Empty (no simulated rooms), on a free loopback port.
    pub fn new() -> Self {
        Self {
            options: SandboxOptions::new(KEY, &SecretString::from(SECRET)),
        }
    }

    /// On `addr` instead of a free port.
    #[must_use]
    pub fn listening_on(mut self, addr: SocketAddr) -> Self {
        self.options.listen = addr;
        self
    }

    /// Simulating `scenario`, its clock `speed` times faster than real time.
    #[must_use]
    pub fn running(mut self, scenario: Scenario, speed: f64) -> Self {
        self.options = self.options.with_scenario(scenario);
        self.options.speed = Some(speed);
        self
    }

    /// Sending webhooks of every change to `url`, signed with the test key.
    #[must_use]
    pub fn sending_webhooks_to(mut self, url: &str) -> Self {
        self.options =
            self.options
                .with_webhooks(vec![url.to_owned()], KEY, &SecretString::from(SECRET));
        self
    }

    pub async fn start(self) -> Sandbox {
        Sandbox::start(self.options)
            .await
            .expect("the sandbox starts on loopback")
    }
}

/// Faults under which the sandbox adds `by` to every answer.
pub fn slow_answers(by: Duration) -> Faults {
    Faults {
        latency_ms: u64::try_from(by.as_millis()).expect("a test's latency fits in u64 ms"),
        ..Faults::default()
    }
}

/// Faults under which the sandbox accepts every request and never answers it.
pub fn hung_requests() -> Faults {
    Faults {
        hang_rate: 1.0,
        ..Faults::default()
    }
}

/// Faults under which the sandbox cuts every answer off mid-body and closes the connection.
pub fn cut_answers() -> Faults {
    Faults {
        drop_rate: 1.0,
        ..Faults::default()
    }
}

/// Faults under which the sandbox answers `rate` (0..=1) of the requests with Twirp's
/// `unavailable` (HTTP 503).
pub fn unavailable(rate: f64) -> Faults {
    Faults {
        error_rate: rate,
        error_code: TwirpCode::Unavailable,
        ..Faults::default()
    }
}

/// An empty sandbox on a free loopback port: `TestSandbox::new().start()`.
pub async fn sandbox() -> Sandbox {
    TestSandbox::new().start().await
}

/// A client of the server at `url` with the test credentials, outside any engine or pool.
pub fn room_api(url: &str, timeout: Duration) -> LiveKitRoomApi {
    LiveKitRoomApi::new(url, KEY, &SecretString::from(SECRET), timeout)
        .expect("a valid URL and credentials")
}
