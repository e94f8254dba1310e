//! The command line: flags, subcommands, and turning them into configuration overrides.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueHint};
use secrecy::{ExposeSecret, SecretString};

use crate::color::ColorChoice;
use crate::config::{
    self, ConfigError, ConfigIssue, ConfigSources, KeyPath, LkProject, LoadedConfig, Origin,
    Override,
};

mod completions;
mod lk_projects;
mod man_page;
mod sandbox;

use lk_projects::{LkProjectsUse, ProjectFlags};

pub use sandbox::SandboxArgs;

// clap prints these doc comments as --help text, where markdown backticks would show literally.
#[expect(clippy::doc_markdown, reason = "doc comments are --help text")]
#[derive(Debug, Parser)]
#[command(
    name = "lktop",
    version,
    about = "htop for LiveKit: watch and steer LiveKit servers from the terminal",
    long_about = "htop for LiveKit: watch and steer LiveKit servers from the terminal.\n\n\
        Settings come from lk projects asked for with --project or --all-projects (beneath \
        the file's server of the same name), config/performance.yaml (or --config), then the \
        environment (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_METRICS_URL, \
        LKTOP_<SECTION>__<KEY>), then flags."
)]
pub(crate) struct Cli {
    /// Configuration file [default: ./config/performance.yaml, else
    /// $XDG_CONFIG_HOME/lktop/performance.yaml, else built-in defaults]
    #[arg(
        long,
        short = 'c',
        env = "LKTOP_CONFIG",
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
        global = true
    )]
    pub(crate) config: Option<PathBuf>,

    /// URL of the LiveKit server to watch (fills the first server)
    #[arg(
        long,
        env = "LIVEKIT_URL",
        value_name = "URL",
        value_hint = ValueHint::Url,
        global = true
    )]
    pub(crate) url: Option<String>,

    /// API key of that server
    #[arg(long, env = "LIVEKIT_API_KEY", value_name = "KEY", global = true)]
    pub(crate) api_key: Option<String>,

    /// API secret of that server; prefer the environment variable, flags show up in `ps`
    #[arg(
        long,
        env = "LIVEKIT_API_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        value_parser = parse_secret,
        global = true
    )]
    pub(crate) api_secret: Option<SecretString>,

    /// Watch this project of `lk` (from ~/.livekit/cli-config.yaml) as a server named after
    /// it; lktop's own file, the LIVEKIT_* variables and flags still win over its values
    #[arg(long, env = "LIVEKIT_PROJECT", value_name = "NAME", global = true)]
    pub(crate) project: Option<String>,

    /// Watch every project of `lk` (from ~/.livekit/cli-config.yaml), each as a server named
    /// after it
    #[arg(long, global = true)]
    pub(crate) all_projects: bool,

    /// Set any configuration key, e.g. --set connection_pool.pool_size=8 (repeatable)
    #[arg(
        long = "set",
        value_name = "KEY=VALUE",
        global = true,
        value_parser = completions::SetAssignment,
        hide_possible_values = true
    )]
    pub(crate) set: Vec<String>,

    /// Record the dashboard's engine events to FILE (NDJSON; gzip when it ends in .gz) for
    /// `lktop replay`
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub(crate) record: Option<PathBuf>,

    /// When to colour the dashboard, help, usage errors, error reports and logs; always and
    /// never win over NO_COLOR, which auto obeys
    #[arg(long, value_enum, value_name = "WHEN", default_value_t, global = true)]
    pub(crate) color: ColorChoice,

    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the configuration and print it as lktop will use it, secrets masked
    CheckConfig {
        /// File to check instead of the default one (same as --config)
        #[arg(value_hint = ValueHint::FilePath)]
        file: Option<PathBuf>,
    },
    /// Print the commented default configuration file
    PrintConfigTemplate,
    /// Run the built-in LiveKit-compatible sandbox server until interrupted
    ///
    /// It serves LiveKit's RoomService (Twirp, protobuf and JSON) with JWT auth, simulates
    /// rooms, participants and tracks from a scenario, and injects scheduled faults. Any LiveKit
    /// SDK or `lk` can talk to it. Key and secret default to devkey / secret (set them with
    /// --api-key and --api-secret; LIVEKIT_* variables are not used here, so your real
    /// credentials are never printed).
    Sandbox(SandboxArgs),
    /// Run the engine without a screen and print its events as JSON lines (or --summary)
    ///
    /// With no server configured it watches the built-in sandbox and says so on stderr.
    Watch(crate::watch::WatchArgs),
    /// Play a recording (from --record or `lktop watch`) back in the dashboard
    ///
    /// No server is needed and nothing can be changed: for post-mortems, bug reports and
    /// demos. Key bindings come from the configuration as usual; p pauses playback.
    Replay(ReplayArgs),
    /// Print the completion script of SHELL for lktop
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page of lktop, or of one of its commands, as roff (lktop man | man -l -)
    Man {
        /// The command whose page to print (lktop-COMMAND(1)) instead of lktop(1)
        #[arg(value_name = "COMMAND", value_parser = man_page::PageName)]
        command: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// The recording (NDJSON of engine events, optionally gzip-compressed)
    #[arg(value_hint = ValueHint::FilePath)]
    pub(crate) file: PathBuf,
    /// Recording seconds per real second
    #[arg(long, default_value = "1", value_parser = crate::record::parse_speed)]
    pub(crate) speed: f64,
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "clap's value_parser wants a Result"
)]
fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text))
}

/// The global options that describe a server to watch, by clap id and flag.
const SERVER_OPTIONS: [(&str, &str); 6] = [
    ("url", "--url"),
    ("api_key", "--api-key"),
    ("api_secret", "--api-secret"),
    ("set", "--set"),
    ("project", "--project"),
    ("all_projects", "--all-projects"),
];

/// [`Cli`]'s command with per-subcommand versions of the global server options.
///
/// clap copies a global option into a subcommand only when the subcommand has none of that
/// id, so a subcommand's own copy replaces it there: `sandbox` gets --api-key and
/// --api-secret without their LIVEKIT_* variables (it never reads them) and hides --url,
/// --set, --project and --all-projects; `print-config-template` hides them all. Hidden options still parse, so that
/// [`refused_server_options`] can name them instead of clap's "unexpected argument".
#[must_use]
pub(crate) fn command() -> clap::Command {
    let cli = Cli::command();
    let global = |id: &'static str| {
        cli.get_arguments()
            .find(|arg| arg.get_id() == id)
            .cloned()
            // A fresh display order: the copies are listed after the subcommand's own options.
            .map_or_else(
                || Arg::new(id),
                |arg| arg.global(false).display_order(None::<usize>),
            )
    };
    let hidden = |id: &'static str| global(id).env(None::<&str>).hide(true);
    let sandbox_key = global("api_key")
        .env(None::<&str>)
        .help("API key the sandbox accepts [default: devkey]");
    let sandbox_secret = global("api_secret")
        .env(None::<&str>)
        .help("Secret of that key, printed on stdout for your SDK [default: secret]");
    let template_options: Vec<Arg> = SERVER_OPTIONS.iter().map(|(id, _)| hidden(id)).collect();
    let sandbox_options = [
        hidden("url"),
        hidden("set"),
        hidden("project"),
        hidden("all_projects"),
        sandbox_key,
        sandbox_secret,
    ];
    cli.clone()
        .mut_subcommand("sandbox", |sandbox| sandbox.args(sandbox_options))
        .mut_subcommand("print-config-template", |template| {
            template.args(template_options)
        })
}

/// Why `command` refuses the server options given to it on the command line, if it does.
/// Values from the environment are not the user's doing here and are not refused.
fn refused_server_options(command: &Command, matches: &ArgMatches) -> Option<String> {
    let given = |refused: &[&str]| -> Vec<&'static str> {
        SERVER_OPTIONS
            .iter()
            .filter(|(id, _)| refused.contains(id))
            .filter(|(id, _)| matches.value_source(id) == Some(ValueSource::CommandLine))
            .map(|(_, flag)| *flag)
            .collect()
    };
    match command {
        Command::PrintConfigTemplate => {
            let given = given(&[
                "url",
                "api_key",
                "api_secret",
                "set",
                "project",
                "all_projects",
            ]);
            (!given.is_empty()).then(|| {
                format!(
                    "print-config-template takes no server options ({} given): it prints the \
                     same commented defaults whatever is configured; give them to `lktop \
                     check-config` to see the configuration they make",
                    given.join(", ")
                )
            })
        }
        Command::Sandbox(_) => {
            let given = given(&["url", "set", "project", "all_projects"]);
            (!given.is_empty()).then(|| {
                format!(
                    "lktop sandbox does not take {}: it is a server itself, listening on --bind \
                     and --port with the key and secret of --api-key and --api-secret",
                    given.join(" or ")
                )
            })
        }
        _ => None,
    }
}

/// Parses `args` (the program name first) and runs the chosen command.
///
/// # Errors
/// Failures that are not configuration problems (those are printed and give exit code 1).
pub fn run<I, T>(args: I) -> color_eyre::Result<ExitCode>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Before clap parses, so that its own usage errors follow --color too.
    let color = ColorChoice::from_args(&args);
    crate::color::set(color);
    let matches = match command().color(color.for_clap()).try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            // Help and version are "errors" to clap; it knows how and where to print them.
            err.print()?;
            return Ok(if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            });
        }
    };
    let cli = Cli::from_arg_matches(&matches)?;
    crate::color::set(cli.color);
    let env: Vec<(String, String)> = std::env::vars().collect();
    if let Some(command) = &cli.command
        && let Some(refusal) = refused_server_options(command, &matches)
    {
        eprintln!("error: {refusal}");
        return Ok(ExitCode::from(2));
    }

    match &cli.command {
        Some(Command::PrintConfigTemplate) => {
            print_stdout(config::TEMPLATE)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Completions { shell }) => completions::run(*shell),
        Some(Command::Man { command }) => man_page::run(command.as_deref()),
        Some(Command::Sandbox(args)) => sandbox::run(args, &sandbox_credentials(&cli, &matches)),
        Some(Command::Watch(args)) => {
            match load_with_projects(&cli, &matches, cli.config.clone(), &env, false) {
                Ok((loaded, sources, _)) => {
                    print_warnings(&loaded);
                    crate::watch::run(args, loaded, sources)
                }
                Err(err) => {
                    eprint!("error: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Some(Command::CheckConfig { file }) => {
            let file = file.clone().or_else(|| cli.config.clone());
            match load_with_projects(&cli, &matches, file, &env, true) {
                Ok((loaded, _, lk_projects)) => {
                    print_warnings(&loaded);
                    for note in &loaded.notes {
                        eprintln!("note: {note}");
                    }
                    print_stdout(&describe(&loaded, lk_projects.listing().as_deref()))?;
                    eprintln!("configuration OK");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprint!("error: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Some(Command::Replay(args)) => {
            // Before the terminal is checked or taken: a file that is missing or not a
            // recording is one sentence, not a report.
            if let Err(err) = crate::record::Replay::check(&args.file) {
                eprintln!("error: {err}");
                return Ok(ExitCode::FAILURE);
            }
            match load_config(&cli, &matches, cli.config.clone(), &env) {
                Ok(loaded) => {
                    print_warnings(&loaded);
                    let keymap = crate::tui::keys::Keymap::with_overrides(&loaded.config.keys)
                        .unwrap_or_default();
                    crate::tui::run_replay(&args.file, args.speed, keymap)
                }
                Err(err) => {
                    eprint!("error: {err}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        None => match load_with_projects(&cli, &matches, cli.config.clone(), &env, false) {
            Ok((loaded, sources, _)) => {
                print_warnings(&loaded);
                crate::tui::run_live(loaded, sources, cli.record.as_deref())
            }
            Err(err) => {
                eprint!("error: {err}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

/// The sandbox's key and secret: from the command line only, else `devkey` / `secret` like
/// `livekit-server --dev`. Credentials from the environment belong to a real server and would be
/// printed by the sandbox, so they are not used.
fn sandbox_credentials(cli: &Cli, matches: &ArgMatches) -> (String, SecretString) {
    let from_flag = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let key = cli
        .api_key
        .clone()
        .filter(|_| from_flag("api_key"))
        .unwrap_or_else(|| "devkey".to_owned());
    let secret = cli
        .api_secret
        .clone()
        .filter(|_| from_flag("api_secret"))
        .unwrap_or_else(|| SecretString::from("secret"));
    (key, secret)
}

/// Resolves the file and the overrides from flags and environment, then loads; `lk`'s
/// projects are not read (a replay watches no server).
///
/// # Errors
/// Every configuration problem found.
pub(crate) fn load_config(
    cli: &Cli,
    matches: &ArgMatches,
    explicit_file: Option<PathBuf>,
    env: &[(String, String)],
) -> Result<LoadedConfig, ConfigError> {
    load_sources(&config_sources(
        cli,
        matches,
        explicit_file,
        env,
        Vec::new(),
    )?)
}

/// [`load_config`] with the `lk` projects the command line asks for (`listed`: read `lk`'s
/// file for `check-config`'s list even when none is asked for); `lk`'s warnings join the
/// configuration's.
///
/// # Errors
/// Every configuration problem found, and a project that cannot be had.
fn load_with_projects(
    cli: &Cli,
    matches: &ArgMatches,
    explicit_file: Option<PathBuf>,
    env: &[(String, String)],
    listed: bool,
) -> Result<(LoadedConfig, ConfigSources, LkProjectsUse), ConfigError> {
    let home = env_value(env, "HOME").map(Path::new);
    let flags = ProjectFlags {
        project: cli.project.as_deref(),
        all_projects: cli.all_projects,
    };
    let lk_projects = LkProjectsUse::resolve(&flags, matches, home, listed)?;
    let sources = config_sources(cli, matches, explicit_file, env, lk_projects.chosen.clone())?;
    let mut loaded = load_sources(&sources)?;
    loaded.warnings.extend(lk_projects.warnings.iter().cloned());
    Ok((loaded, sources, lk_projects))
}

fn env_value<'e>(env: &'e [(String, String)], name: &str) -> Option<&'e str> {
    env.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Loads and validates the configuration, the dashboard's `keys:` section included: the
/// configuration keeps it as text, so it is checked here, with the dashboard's key map, for
/// every command alike (a file `check-config` accepts is one every command starts with).
///
/// # Errors
/// Every configuration problem found.
fn load_sources(sources: &ConfigSources) -> Result<LoadedConfig, ConfigError> {
    config::load_checked(sources, crate::tui::keys::key_section_problems)
}

/// Where the configuration comes from: the file to read, the `lk` projects beneath its values
/// and the overrides on top of it.
///
/// # Errors
/// A malformed `--set`.
pub(crate) fn config_sources(
    cli: &Cli,
    matches: &ArgMatches,
    explicit_file: Option<PathBuf>,
    env: &[(String, String)],
    lk_projects: Vec<LkProject>,
) -> Result<ConfigSources, ConfigError> {
    let file = explicit_file.or_else(|| {
        let home = env_value(env, "HOME").map(Path::new);
        let user_dir = config::user_config_dir(env_value(env, "XDG_CONFIG_HOME"), home);
        let working_dir = std::env::current_dir().unwrap_or_default();
        config::find_default_file(&working_dir, user_dir.as_deref())
    });
    let overrides = overrides(cli, matches, env)?;
    Ok(ConfigSources {
        file,
        overrides,
        lk_projects,
    })
}

/// Environment first, flags last, so flags win.
fn overrides(
    cli: &Cli,
    matches: &ArgMatches,
    env: &[(String, String)],
) -> Result<Vec<Override>, ConfigError> {
    let first_server = || KeyPath::root().key("servers").index(0);
    let origin = |id: &str, flag: &str, var: &str| match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => Origin::Env(var.to_owned()),
        _ => Origin::Flag(flag.to_owned()),
    };

    let mut credentials = Vec::new();
    if let Some(url) = &cli.url {
        credentials.push(Override::text(
            first_server().key("url"),
            url,
            origin("url", "--url", "LIVEKIT_URL"),
        ));
    }
    if let Some(key) = &cli.api_key {
        credentials.push(Override::text(
            first_server().key("api_key"),
            key,
            origin("api_key", "--api-key", "LIVEKIT_API_KEY"),
        ));
    }
    if let Some(secret) = &cli.api_secret {
        credentials.push(Override::text(
            first_server().key("api_secret"),
            secret.expose_secret(),
            origin("api_secret", "--api-secret", "LIVEKIT_API_SECRET"),
        ));
    }
    // Only from the environment, like the SDKs' LIVEKIT_* variables; any other key of a
    // server is set with --set or LKTOP_SERVERS__0__….
    if let Some((_, metrics_url)) = env.iter().find(|(name, _)| name == "LIVEKIT_METRICS_URL") {
        credentials.push(Override::text(
            first_server().key("metrics_url"),
            metrics_url,
            Origin::Env("LIVEKIT_METRICS_URL".to_owned()),
        ));
    }
    let (from_env, from_flags): (Vec<_>, Vec<_>) = credentials
        .into_iter()
        .partition(|entry| matches!(entry.origin, Origin::Env(_)));

    let mut all = config::env_overrides(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    all.extend(from_env);
    all.extend(from_flags);

    let mut problems = Vec::new();
    for assignment in &cli.set {
        match parse_set(assignment) {
            Ok(entry) => all.push(entry),
            Err(issue) => problems.push(*issue),
        }
    }
    if problems.is_empty() {
        Ok(all)
    } else {
        Err(ConfigError { issues: problems })
    }
}

fn parse_set(assignment: &str) -> Result<Override, Box<ConfigIssue>> {
    let origin = Origin::Flag(format!(
        "--set {}",
        assignment.split('=').next().unwrap_or("")
    ));
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(Box::new(ConfigIssue {
            key: Some(KeyPath::root()),
            origin,
            problem: format!("`{assignment}` has no `=`"),
            help: Some(
                "write --set section.key=value, e.g. --set connection_pool.pool_size=8".to_owned(),
            ),
        }));
    };
    let key: KeyPath = key.trim().parse().map_err(|problem| {
        Box::new(ConfigIssue {
            key: Some(KeyPath::root()),
            origin: origin.clone(),
            problem,
            help: None,
        })
    })?;
    Ok(if config::is_secret_key(&key) {
        Override::text(key, value, origin)
    } else {
        Override::yaml(key, value, origin)
    })
}

fn print_warnings(loaded: &LoadedConfig) {
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
}

/// The effective configuration as YAML, headed by comments saying where it came from and, when
/// `lk`'s file was read, its projects.
#[must_use]
pub(crate) fn describe(loaded: &LoadedConfig, lk_projects: Option<&str>) -> String {
    let mut text = String::new();
    match &loaded.file {
        Some(file) => _ = writeln!(text, "# file: {}", file.display()),
        None => text.push_str("# file: none (built-in defaults)\n"),
    }
    for entry in config::winning_overrides(&loaded.applied) {
        _ = writeln!(text, "# override: {entry}");
    }
    if let Some(listing) = lk_projects {
        text.push_str(listing);
    }
    if loaded.config.servers.is_empty() {
        text.push_str("# no server configured: the dashboard will run the built-in sandbox\n");
    }
    text.push_str(&config::render_masked(&loaded.config));
    text
}

fn print_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `lktop check-config | head` closes the pipe early; that is not a failure.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
