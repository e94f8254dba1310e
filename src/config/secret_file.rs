//! A file holding secrets: lktop's configuration file and `lk`'s `cli-config.yaml` are read
//! into a buffer that is cleared when dropped, and judged by the same rule about who else may
//! read them, warned about in the same words.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

/// The whole text of `path`, in a buffer zeroed when it is dropped.
///
/// The buffer is sized from the file's length before reading: a `String` that grows while it
/// reads moves its text to a larger allocation and frees the old one without clearing it, so
/// `std::fs::read_to_string` would leave copies of the secret's prefix behind.
///
/// # Errors
/// The file cannot be opened or read, or is not UTF-8.
pub(crate) fn read_secret_text(path: &Path) -> std::io::Result<Zeroizing<String>> {
    let mut file = std::fs::File::open(path)?;
    let length = file
        .metadata()
        .ok()
        .and_then(|metadata| usize::try_from(metadata.len()).ok())
        .unwrap_or(0);
    // One byte more than the file: reading to the end needs room to see that nothing follows.
    let mut text = Zeroizing::new(String::with_capacity(length.saturating_add(1)));
    file.read_to_string(&mut text)?;
    Ok(text)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_read_whole_without_growing_its_buffer() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("performance.yaml");
        let written = "servers:\n  - api_secret: \"ünïcode-secret-0123456789\"\n".repeat(300);
        std::fs::write(&path, &written).expect("the file is written");
        let text = read_secret_text(&path).expect("the file is read");
        assert_eq!(text.as_str(), written);
        // Sized once, before reading: no smaller buffer was left behind uncleared.
        assert_eq!(text.capacity(), written.len() + 1);
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("performance.yaml");
        std::fs::write(&path, b"api_secret: \xff\xfe\n").expect("the file is written");
        let err = read_secret_text(&path).expect_err("not UTF-8");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }
}
