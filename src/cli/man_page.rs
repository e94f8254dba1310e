//! `lktop man [COMMAND]`: the roff man page `clap_mangen` renders from the command the parser
//! uses ([`super::command`]). `clap_mangen` makes a page per command, so `lktop man` is
//! lktop(1), whose SUBCOMMANDS section names lktop-watch(1) and the others, each printed by
//! `lktop man watch` and so on; lktop(1) adds ENVIRONMENT, FILES and EXIT STATUS.

use std::ffi::OsStr;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

/// Prints the man page of `page` (a subcommand's name), or of lktop itself, to stdout.
///
/// # Errors
/// The page cannot be rendered or stdout cannot be written.
pub(super) fn run(page: Option<&str>) -> color_eyre::Result<ExitCode> {
    let mut command = super::command();
    // As clap_mangen does for its own pages: `help` is no command of its own here.
    command = command.disable_help_subcommand(true);
    // Building names the subcommands `lktop-watch` and gives them the global options.
    command.build();
    let source = format!("lktop {}", command.get_version().unwrap_or_default());
    let mut roff = Vec::new();
    match page.and_then(|name| command.find_subcommand(name)) {
        Some(subcommand) => Man::new(subcommand.clone())
            .source(source)
            .render(&mut roff)?,
        None => render_main(command, &mut roff)?,
    }
    super::print_stdout(&once_preamble(&String::from_utf8_lossy(&roff)))?;
    Ok(ExitCode::SUCCESS)
}

/// `roff` opens every piece it writes with the same two lines defining the apostrophe; a page
/// written a section at a time needs them once, at the top.
fn once_preamble(page: &str) -> String {
    let preamble: String = page.split_inclusive('\n').take(2).collect();
    if preamble.starts_with(".ie ") {
        format!("{preamble}{}", page.replace(&preamble, ""))
    } else {
        page.to_owned()
    }
}

/// lktop(1): `clap_mangen`'s sections, with ENVIRONMENT, FILES and EXIT STATUS before VERSION.
fn render_main(command: clap::Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let man = Man::new(command);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    extra_sections().to_writer(out)?;
    man.render_version_section(out)
}

/// A `.TP` entry: the tag, then its paragraph.
fn entry(roff: &mut Roff, tag: Vec<Inline>, text: &str) {
    roff.control("TP", []);
    roff.text(tag);
    roff.text([roman(text)]);
}

fn extra_sections() -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "Environment variables are read after the configuration file and before the flags, \
         which win over them.",
    )]);
    for (name, text) in ENVIRONMENT {
        entry(&mut roff, vec![bold(*name)], text);
    }
    entry(
        &mut roff,
        vec![bold("LKTOP_"), italic("SECTION"), bold("__"), italic("KEY")],
        "Sets any configuration key, sections and keys joined by two underscores: \
         LKTOP_CONNECTION_POOL__POOL_SIZE=8, LKTOP_SERVERS__0__URL=... (like --set).",
    );

    roff.control("SH", ["FILES"]);
    for (name, text) in FILES {
        entry(&mut roff, vec![italic(*name)], text);
    }

    roff.control("SH", ["EXIT STATUS"]);
    for (status, text) in EXIT_STATUS {
        entry(&mut roff, vec![bold(*status)], text);
    }
    roff
}

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "LIVEKIT_URL",
        "URL of the LiveKit server to watch: fills the first server (as --url), or makes one.",
    ),
    (
        "LIVEKIT_API_KEY",
        "API key of that server (as --api-key). Not read by lktop sandbox.",
    ),
    (
        "LIVEKIT_API_SECRET",
        "API secret of that server (as --api-secret, which shows up in ps). Not read by lktop \
         sandbox.",
    ),
    (
        "LIVEKIT_METRICS_URL",
        "The first server's metrics_url (livekit-server's Prometheus metrics).",
    ),
    (
        "LIVEKIT_PROJECT",
        "Watch this project of lk, from ~/.livekit/cli-config.yaml (as --project).",
    ),
    ("LKTOP_CONFIG", "The configuration file (as --config)."),
    (
        "LKTOP_SANDBOX_METRICS_PASSWORD",
        "lktop sandbox: the basic auth password of its metrics (as --metrics-password).",
    ),
    (
        "LKTOP_LOG_FILE",
        "Where the dashboard writes its log instead of ~/.local/state/lktop/lktop.log.",
    ),
    (
        "LKTOP_LOG",
        "What is logged, as a tracing filter (e.g. lktop=debug).",
    ),
    (
        "NO_COLOR",
        "When set and not empty, the dashboard draws without colour (selection and states \
         stay visible by reverse and bold).",
    ),
    (
        "XDG_CONFIG_HOME",
        "Where the user's configuration directory is (default ~/.config).",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "./config/performance.yaml",
        "The configuration file when --config is not given; lktop print-config-template \
         prints a commented one.",
    ),
    (
        "$XDG_CONFIG_HOME/lktop/performance.yaml",
        "The configuration file when --config is not given and there is none in the working \
         directory.",
    ),
    (
        "~/.livekit/cli-config.yaml",
        "lk's projects, read for --project, --all-projects and LIVEKIT_PROJECT, and listed \
         by lktop check-config.",
    ),
    (
        "~/.local/state/lktop/lktop.log",
        "The dashboard's log (see LKTOP_LOG_FILE); nothing is logged to the screen.",
    ),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success, --help and --version included."),
    (
        "1",
        "A configuration problem (every one is listed) or a failure of the command, such as \
         a replay file that is missing or no recording.",
    ),
    (
        "2",
        "A usage error: an unknown command or flag, a bad value, or an option the command \
         does not take.",
    ),
    (
        "128+N",
        "Stopped by signal N (130 after Ctrl-C, 143 after SIGTERM).",
    ),
];

/// The value parser of `lktop man`'s COMMAND: a subcommand's name. The names are looked up
/// only when needed, from [`super::command`], which holds this parser itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageName;

impl PageName {
    fn names() -> Vec<String> {
        super::command()
            .get_subcommands()
            .filter(|subcommand| !subcommand.is_hide_set())
            .map(|subcommand| subcommand.get_name().to_owned())
            .collect()
    }
}

impl TypedValueParser for PageName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        PossibleValuesParser::new(Self::names()).parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(Self::names().into_iter().map(PossibleValue::new)))
    }
}
