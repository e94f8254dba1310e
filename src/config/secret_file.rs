//! A file holding secrets that other users can read: lktop's configuration file and `lk`'s
//! `cli-config.yaml` are judged by the same rule and warned about in the same words.

use std::path::Path;

/// The warning for `path`, holding a secret, when its group or others may read it;
/// `other_fix` is what else would do besides `chmod 600` (" or move …"), or empty.
#[cfg(unix)]
pub(crate) fn readable_by_others_warning(path: &Path, other_fix: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds a secret and can be read by other users (mode {mode:o}); \
             run `chmod 600 {}`{other_fix}",
            path.display(),
            path.display()
        )
    })
}

#[cfg(not(unix))]
pub(crate) fn readable_by_others_warning(_path: &Path, _other_fix: &str) -> Option<String> {
    None
}
