//! Live configuration: the file is watched, and each change is loaded and validated again with
//! the same environment and flag overrides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::error::ConfigError;
use super::load::{ConfigSources, LoadedConfig, load};

/// Editors save in bursts (truncate, write, rename); one reload per burst.
const SETTLE: Duration = Duration::from_millis(200);

/// The outcome of reading the file again after it changed.
#[derive(Debug)]
pub(crate) enum Reload {
    Applied(Box<LoadedConfig>),
    /// The file no longer validates; the running configuration stays as it is.
    Rejected(ConfigError),
}

/// Watches `sources.file` until the returned receiver is dropped.
///
/// The directory is watched rather than the file: editors that save by renaming a new file
/// over the old one would otherwise end the watch after the first save.
///
/// # Errors
/// There is no file to watch, or the operating system refuses the watch.
pub(crate) fn watch(
    sources: ConfigSources,
) -> Result<(mpsc::Receiver<Reload>, ConfigWatcher), String> {
    let file = sources
        .file
        .clone()
        .ok_or_else(|| "no configuration file to watch".to_owned())?;
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    let directory = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let (touched_tx, mut touched_rx) = mpsc::channel::<()>(1);
    let target = file.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        if event
            .paths
            .iter()
            .any(|path| path == &target || path.file_name() == target.file_name())
        {
            // A full channel already holds a pending reload; one is enough.
            let _ = touched_tx.try_send(());
        }
    })
    .map_err(|err| format!("cannot watch {}: {err}", file.display()))?;
    watcher
        .watch(&directory, RecursiveMode::NonRecursive)
        .map_err(|err| format!("cannot watch {}: {err}", directory.display()))?;

    let (reload_tx, reload_rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while touched_rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while touched_rx.try_recv().is_ok() {}
            let outcome = match load(&sources) {
                Ok(loaded) => Reload::Applied(Box::new(loaded)),
                Err(err) => Reload::Rejected(err),
            };
            if reload_tx.send(outcome).await.is_err() {
                return;
            }
        }
    });
    Ok((reload_rx, ConfigWatcher { _watcher: watcher }))
}

/// Keeps the watch alive; dropping it ends the watch.
pub(crate) struct ConfigWatcher {
    _watcher: RecommendedWatcher,
}

impl std::fmt::Debug for ConfigWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigWatcher")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(reloads: &mut mpsc::Receiver<Reload>) -> Reload {
        tokio::time::timeout(Duration::from_secs(10), reloads.recv())
            .await
            .expect("a reload within 10 s")
            .expect("the watch is alive")
    }

    #[tokio::test]
    async fn a_valid_change_is_applied_and_an_invalid_one_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("performance.yaml");
        std::fs::write(&path, "connection_pool:\n  pool_size: 2\n").unwrap();
        let (mut reloads, _watcher) = watch(ConfigSources {
            file: Some(path.clone()),
            overrides: Vec::new(),
            lk_projects: Vec::new(),
        })
        .unwrap();

        std::fs::write(&path, "connection_pool:\n  pool_size: 3\n").unwrap();
        match next(&mut reloads).await {
            Reload::Applied(loaded) => assert_eq!(loaded.config.connection_pool.pool_size, 3),
            Reload::Rejected(err) => panic!("{err}"),
        }

        std::fs::write(&path, "connection_pool:\n  pool_size: 0\n").unwrap();
        match next(&mut reloads).await {
            Reload::Rejected(err) => {
                assert!(
                    err.to_string().contains("connection_pool.pool_size"),
                    "{err}"
                );
            }
            Reload::Applied(_) => panic!("pool_size 0 must be rejected"),
        }

        // Saved the way many editors do: a new file renamed over the old one.
        let staged = dir.path().join("performance.yaml.tmp");
        std::fs::write(&staged, "connection_pool:\n  pool_size: 4\n").unwrap();
        std::fs::rename(&staged, &path).unwrap();
        match next(&mut reloads).await {
            Reload::Applied(loaded) => assert_eq!(loaded.config.connection_pool.pool_size, 4),
            Reload::Rejected(err) => panic!("{err}"),
        }
    }
}
