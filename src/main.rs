use std::process::ExitCode;

fn main() -> ExitCode {
    // First, so any later failure is reported with color-eyre's context.
    if let Err(err) = color_eyre::install() {
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
