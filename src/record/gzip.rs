//! A recording is gzip-compressed when its name ends in `.gz`.

use std::path::Path;

pub(super) fn is_gz_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gz"))
}
