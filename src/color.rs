//! Whether lktop colours what it prints: `--color auto|always|never`, then `NO_COLOR`.
//!
//! `--color always` and `--color never` win over `NO_COLOR`; `auto` (the default) is `NO_COLOR`'s
//! word (set and not empty: no colour, as no-color.org has it), then, for what goes to stderr,
//! whether stderr is a terminal. One choice for the whole process, set once the command line is
//! read: the dashboard's theme, clap's usage errors and help, error reports and the headless
//! commands' logs all follow it.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

/// The `--color` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set
    #[default]
    Auto,
    /// Colour even in a pipe or a file, and even with `NO_COLOR` set
    Always,
    /// No colour anywhere, as with `NO_COLOR`
    Never,
}

impl ColorChoice {
    /// The choice `args` (the program name first) ask for, read before clap parses them, so that
    /// clap's own usage errors and the error reports follow it; [`Self::Auto`] when there is no
    /// `--color` or its value is not one of the three (clap then says so). Nothing after `--` is an
    /// option.
    #[must_use]
    pub fn from_args(args: &[OsString]) -> Self {
        let mut choice = Self::Auto;
        let mut words = args.iter().skip(1).map(|arg| arg.to_str());
        while let Some(word) = words.next() {
            let value = match word {
                Some("--") => break,
                Some("--color") => words.next().flatten(),
                Some(other) => other.strip_prefix("--color="),
                None => None,
            };
            if let Some(value) = value {
                choice = <Self as clap::ValueEnum>::from_str(value, false).unwrap_or(Self::Auto);
            }
        }
        choice
    }

    /// clap's own setting for the same choice.
    #[must_use]
    pub fn for_clap(self) -> clap::ColorChoice {
        match self {
            Self::Auto if no_color_env() => clap::ColorChoice::Never,
            Self::Auto => clap::ColorChoice::Auto,
            Self::Always => clap::ColorChoice::Always,
            Self::Never => clap::ColorChoice::Never,
        }
    }
}

const AUTO: u8 = 0;
const ALWAYS: u8 = 1;
const NEVER: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(AUTO);

/// Sets the process's choice (the command line's `--color`).
pub fn set(choice: ColorChoice) {
    let value = match choice {
        ColorChoice::Auto => AUTO,
        ColorChoice::Always => ALWAYS,
        ColorChoice::Never => NEVER,
    };
    CHOICE.store(value, Ordering::Relaxed);
}

/// The process's choice; [`ColorChoice::Auto`] until [`set`].
#[must_use]
pub fn choice() -> ColorChoice {
    match CHOICE.load(Ordering::Relaxed) {
        ALWAYS => ColorChoice::Always,
        NEVER => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// `NO_COLOR` set to anything but the empty string (no-color.org).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// Colour in what goes to stderr: error reports and logs.
#[must_use]
pub fn on_stderr() -> bool {
    match choice() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color_env() && std::io::stderr().is_terminal(),
    }
}

/// Colour in the dashboard, which draws on a terminal anyway: only `--color never`, or
/// `NO_COLOR` under `auto`, turns it off.
#[must_use]
pub fn in_dashboard() -> bool {
    match choice() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color_env(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        std::iter::once("lktop")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_flag_is_read_in_both_spellings_and_the_last_one_wins() {
        for (words, expected) in [
            (&[][..], ColorChoice::Auto),
            (&["--color", "never"][..], ColorChoice::Never),
            (&["check-config", "--color=always"][..], ColorChoice::Always),
            (
                &["--color", "never", "--color", "always"][..],
                ColorChoice::Always,
            ),
            (&["--color", "bogus"][..], ColorChoice::Auto),
            (&["--color"][..], ColorChoice::Auto),
            (&["--", "--color", "never"][..], ColorChoice::Auto),
        ] {
            assert_eq!(ColorChoice::from_args(&args(words)), expected, "{words:?}");
        }
    }
}
