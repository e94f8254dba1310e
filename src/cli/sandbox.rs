//! `lktop sandbox`: its flags, and the built-in sandbox run as a standalone server until a stop
//! signal, printing for scripts where it listens and with which credentials.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use livekit_sandbox::scenario::Scenario;
use livekit_sandbox::{Sandbox, SandboxOptions};
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
    if let Some(speed) = args.speed
        && !(speed.is_finite() && speed > 0.0)
    {
        eprintln!(
            "error: --speed {speed}: the clock speed must be a positive number, e.g. 1 or 10"
        );
        return Ok(ExitCode::from(2));
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
        return Ok(ExitCode::from(2));
    }
    let mut options = SandboxOptions::new(api_key, api_secret)
        .with_scenario(scenario)
        .with_webhooks(args.webhook_urls.clone(), api_key, api_secret);
    options.listen = SocketAddr::new(args.bind, args.port);
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
                    "error: the sandbox cannot listen on {listen}: {err}\n  help: pick another \
                     port with --port (0 picks a free one)"
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
        let signal = signals.recv().await;
        eprintln!("lktop sandbox: stopping ({})", signal.name());
        sandbox.shutdown().await;
        eprintln!("lktop sandbox: stopped");
        Ok(signal.exit_code().unwrap_or(ExitCode::SUCCESS))
    })
}
