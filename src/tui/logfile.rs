//! The dashboard logs to a file, never to the screen it draws on: `LKTOP_LOG_FILE`, else
//! `$XDG_STATE_HOME/lktop/lktop.log`, else `~/.local/state/lktop/lktop.log`, else the temporary
//! directory. `LKTOP_LOG` takes a tracing filter as for the headless commands.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;

use color_eyre::eyre::WrapErr;

/// Where the log goes.
#[must_use]
pub(crate) fn path() -> PathBuf {
    if let Some(file) = std::env::var_os("LKTOP_LOG_FILE").filter(|v| !v.is_empty()) {
        return PathBuf::from(file);
    }
    let state_dir = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state_dir.join("lktop").join("lktop.log")
}

/// Opens the log (appending) and installs the logger.
///
/// # Errors
/// The file or its directory cannot be created; the message names the path and
/// `LKTOP_LOG_FILE` as the way out.
pub(crate) fn init() -> color_eyre::Result<PathBuf> {
    let path = path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).wrap_err_with(|| {
            format!(
                "cannot create the log directory {}; set LKTOP_LOG_FILE to a writable file",
                dir.display()
            )
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .wrap_err_with(|| {
            format!(
                "cannot open the log file {}; set LKTOP_LOG_FILE to a writable file",
                path.display()
            )
        })?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("LKTOP_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(crate::logging::default_filter("info"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(path)
}
