//! `lktop sandbox`: its flags, and the built-in sandbox run as a standalone server until a stop
//! signal, printing for scripts where it listens and with which credentials.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::{NodeOptions, Sandbox, SandboxOptions};
use secrecy::{ExposeSecret, SecretString};

/// The flags of `lktop sandbox`; the key and secret come from the global `--api-key` and
/// `--api-secret` (see `cli::command`).
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 7880)]
    pub port: u16,
    /// Address to listen on; keep loopback unless other machines must reach it
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Scenario: a YAML file, `demo` (the built-in demo) or `none` (no simulated rooms)
    #[arg(long, default_value = "demo", value_name = "FILE|demo|none")]
    pub scenario: String,
    /// Seed of every random choice (overrides the scenario's)
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated seconds per real second (overrides the scenario's)
    #[arg(long)]
    pub speed: Option<f64>,
    /// Send LiveKit webhooks of every change to URL, as livekit-server does (repeatable;
    /// signed with --api-key)
    #[arg(long = "webhook-url", value_name = "URL")]
    pub webhook_urls: Vec<String>,
    /// Serve livekit-server's Prometheus metrics on this port of --bind, at /metrics (0 picks
    /// a free one)
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Basic auth user name for the metrics (livekit's prometheus.username); needs
    /// --metrics-password
    #[arg(long, value_name = "USER", requires = "metrics_password")]
    pub metrics_username: Option<String>,
    /// Basic auth password for the metrics (livekit's prometheus.password); never printed
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "LKTOP_SANDBOX_METRICS_PASSWORD",
        hide_env_values = true,
        requires = "metrics_username"
    )]
    pub metrics_password: Option<SecretString>,
    /// Register the sandbox as a livekit-server node in this Redis (redis:// or rediss://),
    /// in the `nodes` hash as multi-node livekit-server does
    #[arg(long = "redis", value_name = "URL")]
    pub redis_url: Option<SecretString>,
    /// The node's id (`ND_` and 12 random letters and digits by default)
    #[arg(long, value_name = "ID")]
    pub node_id: Option<String>,
    /// The node's region, as livekit-server's `region`
    #[arg(long, value_name = "REGION", default_value = "")]
    pub region: String,
    /// Connections held open at once (API and metrics listener each); one more is closed as
    /// soon as it is accepted
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4096,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_connections: u32,
    /// How long a request's headers may take to arrive (and a kept-alive connection may sit
    /// idle) before the connection is closed, 1s..=5m
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = header_timeout)]
    pub header_timeout: Duration,
}

/// `--header-timeout`: a duration (`10s`, `1500ms`) within 1 s and 5 min.
fn header_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text)
        .map_err(|err| format!("{err}; write a duration such as 10s or 1500ms"))?;
    if (Duration::from_secs(1)..=Duration::from_secs(300)).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(format!("{text} is out of range; allowed 1s..=5m"))
    }
}

/// Runs the sandbox until SIGINT (Ctrl-C), SIGTERM or SIGHUP; exits with 128 + its number.
///
/// # Errors
/// The runtime cannot start or the port cannot be bound.
pub fn run(
    args: &SandboxArgs,
    credentials: &(String, SecretString),
) -> color_eyre::Result<ExitCode> {
    let (api_key, api_secret) = credentials;
    let (scenario, scenario_label) = match args.scenario.as_str() {
        "demo" => (Scenario::demo(), "built-in demo".to_owned()),
        "none" => (Scenario::empty(), "none (no simulated rooms)".to_owned()),
        path => match Scenario::load(Path::new(path)) {
            Ok(scenario) => (scenario, path.to_owned()),
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::FAILURE);
            }
        },
    };
    if let Some(refused) = refuse_bad_flags(args) {
        return Ok(refused);
    }
    let mut options = SandboxOptions::new(api_key, api_secret)
        .with_scenario(scenario)
        .with_webhooks(args.webhook_urls.clone(), api_key, api_secret)
        .with_node(NodeOptions {
            redis_url: args.redis_url.clone(),
            node_id: args.node_id.clone(),
            region: args.region.clone(),
            ..NodeOptions::default()
        });
    if let Some(port) = args.metrics_port {
        let auth = args
            .metrics_username
            .clone()
            .zip(args.metrics_password.clone());
        options = options.with_metrics(SocketAddr::new(args.bind, port), auth);
    }
    options.listen = SocketAddr::new(args.bind, args.port);
    options.listener = SandboxOptions::DEFAULT_LISTENER_LIMITS
        .with_max_connections(usize::try_from(args.max_connections).unwrap_or(usize::MAX))
        .with_header_read_timeout(args.header_timeout);
    options.seed = args.seed;
    options.speed = args.speed;

    crate::logging::init_stderr("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut signals = crate::signals::Signals::stop()?;
        let random_seed = options.seed.unwrap_or(options.scenario.seed);
        let clock_speed = options.speed.unwrap_or(options.scenario.speed);
        let listen = options.listen;
        let sandbox = match Sandbox::start(options).await {
            Ok(sandbox) => sandbox,
            Err(err) => {
                eprintln!(
                    "error: the sandbox cannot start on {listen}: {err}\n  help: pick other \
                     ports with --port and --metrics-port (0 picks a free one)"
                );
                return Ok(ExitCode::FAILURE);
            }
        };
        let url = sandbox.url();
        let secret = api_secret.expose_secret();
        // stdout is for scripts: the first line is the URL, then the credentials.
        let mut out = std::io::stdout().lock();
        writeln!(out, "LIVEKIT_URL={url}")?;
        writeln!(out, "LIVEKIT_API_KEY={api_key}")?;
        writeln!(out, "LIVEKIT_API_SECRET={secret}")?;
        writeln!(
            out,
            "export LIVEKIT_URL={url} LIVEKIT_API_KEY={api_key} LIVEKIT_API_SECRET={secret}"
        )?;
        print_monitoring(&mut out, &sandbox, args)?;
        out.flush()?;
        drop(out);
        eprintln!(
            "lktop sandbox: LiveKit RoomService at {url}/twirp/livekit.RoomService/ \
             (scenario: {scenario_label}, seed {random_seed}, speed {clock_speed}x)\n\
             admin: {url}/sandbox/status (same credentials); stop with Ctrl-C"
        );
        for target in &args.webhook_urls {
            eprintln!("lktop sandbox: sending webhooks to {target}");
        }
        announce_monitoring(&sandbox, args);
        let signal = signals.recv().await;
        eprintln!("lktop sandbox: stopping ({})", signal.name());
        sandbox.shutdown().await;
        eprintln!("lktop sandbox: stopped");
        Ok(signal.exit_code().unwrap_or(ExitCode::SUCCESS))
    })
}

/// The exit code for flags that do not go together or are out of range, having said why.
fn refuse_bad_flags(args: &SandboxArgs) -> Option<ExitCode> {
    if let Some(speed) = args.speed
        && !(speed.is_finite() && speed > 0.0)
    {
        eprintln!(
            "error: --speed {speed}: the clock speed must be a positive number, e.g. 1 or 10"
        );
        return Some(ExitCode::from(2));
    }
    if let Some(bad) = args
        .webhook_urls
        .iter()
        .find(|url| reqwest::Url::parse(url).map_or(true, |url| url.scheme() != "http"))
    {
        eprintln!(
            "error: --webhook-url {bad}: not an http:// URL (the sandbox sends plain HTTP to a \
             receiver next to it)\n  help: e.g. --webhook-url http://127.0.0.1:8090/ (where \
             lktop's webhooks.listen is)"
        );
        return Some(ExitCode::from(2));
    }
    if args.metrics_username.is_some() && args.metrics_port.is_none() {
        eprintln!(
            "error: --metrics-username and --metrics-password protect the metrics, which only \
             --metrics-port serves\n  help: add --metrics-port 0 (a free port) or a port of \
             your choice"
        );
        return Some(ExitCode::from(2));
    }
    None
}

/// For scripts, after the credentials: where Prometheus scrapes the sandbox and its node id.
fn print_monitoring(
    out: &mut impl Write,
    sandbox: &Sandbox,
    args: &SandboxArgs,
) -> std::io::Result<()> {
    // When served, where Prometheus scrapes it (the password is never printed).
    if let Some(metrics_url) = sandbox.metrics_url() {
        writeln!(out, "LIVEKIT_METRICS_URL={metrics_url}")?;
        if let Some(username) = &args.metrics_username {
            writeln!(out, "LIVEKIT_METRICS_USERNAME={username}")?;
        }
    }
    if args.metrics_port.is_some() || args.redis_url.is_some() {
        writeln!(out, "LIVEKIT_NODE_ID={}", sandbox.node_id())?;
    }
    Ok(())
}

/// For people: the metrics' address and the node's registration.
fn announce_monitoring(sandbox: &Sandbox, args: &SandboxArgs) {
    if let Some(metrics_url) = sandbox.metrics_url() {
        let auth = args
            .metrics_username
            .as_ref()
            .map_or_else(String::new, |user| {
                format!(" (basic auth as {user}, password from --metrics-password)")
            });
        eprintln!("lktop sandbox: Prometheus metrics at {metrics_url}{auth}");
    }
    if args.redis_url.is_some() {
        eprintln!(
            "lktop sandbox: registering as node {} (region \"{}\") in the Redis `nodes` \
             hash every 2 s",
            sandbox.node_id(),
            args.region
        );
    }
}
