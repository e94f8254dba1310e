use std::io::IsTerminal;
use std::process::ExitCode;

use color_eyre::config::{HookBuilder, Theme};

/// mimalloc, not the system allocator: a poll of 10,000 rooms allocates and frees some
/// millions of small strings and buffers across the runtime's threads, and glibc's malloc spent
/// a third of lktop's CPU on them (`cargo bench --bench cost`, docs/benchmarks.md) and kept
/// freed memory in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // First, so any later failure is reported with color-eyre's context; in colour only where
    // a terminal shows it, not as escape codes in a log file or a pipe.
    let hooks = if std::io::stderr().is_terminal() {
        HookBuilder::default()
    } else {
        HookBuilder::default().theme(Theme::new())
    };
    if let Err(err) = hooks.install() {
        eprintln!("warning: error reporting is degraded: {err}");
    }
    match lktop::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("error: {report:?}");
            ExitCode::FAILURE
        }
    }
}
