use std::ffi::OsString;
use std::process::ExitCode;

use color_eyre::config::{HookBuilder, Theme};
use lktop::color::ColorChoice;

/// mimalloc, not the system allocator: a poll of 10,000 rooms allocates and frees some
/// millions of small strings and buffers across the runtime's threads, and glibc's malloc spent
/// a third of lktop's CPU on them (`cargo bench --bench cost`, docs/benchmarks.md) and kept
/// freed memory in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    lktop::color::set(ColorChoice::from_args(&args));
    // First, so a panic is reported with color-eyre's context; in colour only where `--color`
    // and `NO_COLOR` allow it (by default on a terminal, not as escape codes in a log or a pipe).
    let hooks = if lktop::color::on_stderr() {
        HookBuilder::default()
    } else {
        HookBuilder::default().theme(Theme::new())
    };
    if let Err(err) = hooks.install() {
        eprintln!("warning: error reporting is degraded: {err}");
    }
    match lktop::cli::run(args) {
        Ok(code) => code,
        Err(report) if backtrace_wanted() => {
            eprintln!("error: {report:?}");
            ExitCode::FAILURE
        }
        Err(report) => {
            // One line, the causes after the error; the full report (sections, location,
            // backtrace) is for RUST_BACKTRACE, as with a panic.
            eprintln!("error: {report:#}");
            ExitCode::FAILURE
        }
    }
}

/// `RUST_LIB_BACKTRACE`, else `RUST_BACKTRACE`, set to anything but `0`: what asks for error
/// backtraces, as the standard library and color-eyre read them.
fn backtrace_wanted() -> bool {
    std::env::var_os("RUST_LIB_BACKTRACE")
        .or_else(|| std::env::var_os("RUST_BACKTRACE"))
        .is_some_and(|value| value != "0")
}
