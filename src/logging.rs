//! Logs of the headless commands (`lktop sandbox`, `lktop watch`): to stderr, so stdout stays
//! machine-readable. `LKTOP_LOG` takes a tracing filter, e.g. `LKTOP_LOG=debug`.

/// The filter when `LKTOP_LOG` is not set: `level` for lktop and for the sandbox it embeds (a
/// crate of its own, so a target of its own), nothing from the libraries below.
#[must_use]
pub(crate) fn default_filter(level: &str) -> String {
    format!("lktop={level},livekit_sandbox={level}")
}

/// Installs the stderr logger at `level` (see [`default_filter`]) unless `LKTOP_LOG` says
/// otherwise; colour as `--color` and `NO_COLOR` say ([`crate::color::on_stderr`]).
pub(crate) fn init_stderr(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LKTOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter(level)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::color::on_stderr())
        .with_target(false)
        .try_init();
}
